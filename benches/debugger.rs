//! The debugger's coarse commands against `run` (issue 22), headless through
//! `bptui::control`: `run --epochs 1` (`Session::run_fast`, in process, without loading the
//! files), `E`, `R` over 2 epochs, `c` to a condition breakpoint late in the run, going back to
//! the middle of the first epoch after `E`, and to 20 points of a 2-epoch history; with the
//! history's bytes and the peak memory (VmHWM) of a process that loads the model, runs `R` and
//! goes back, as a student's session does.
//!
//! Two networks: the homework network (`models/hw_network.yaml` as bundled) on the 9,000
//! letters of `../shared/data/ocr/large_train.csv` (skipped when absent), and an MNIST-sized
//! network (784 → 256 sigmoid → 128 relu → 10 softmax) on 20,000 rows of 784 sparse integer
//! features the bench writes itself (deterministic). Each network is measured in a process of
//! its own, so that each peak is its own.
//!
//! `cargo bench --bench debugger` prints the table; the targets: E, R and c within 2× `run`
//! of the same examples, going to any point ≤ 100 ms, history ≤ 64 MiB, peak ≤ 256 MB.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bptui::control::breakpoints::Measure;
use bptui::control::worker::Watchers;
use bptui::control::{Breakpoints, Condition, Debugger, Ended, Finish, Goal, History, Job, Spot, Travel};
use bptui::engine::rules::Kind;
use bptui::engine::Backward;
use bptui::model::{DataOverride, Model};
use bptui::session::Session;

/// Timed repetitions of each figure (the best is kept).
const REPEAT: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--net") {
        let net = args.get(i + 1).map(String::as_str).unwrap_or("");
        let model = match net {
            "hw" => homework(),
            _ => mnist_sized(),
        };
        let peak_only = args.iter().any(|a| a == "--peak");
        match model {
            Some(m) if peak_only => student(m),
            Some(m) => measure(net, m),
            None => println!("| homework network | skipped: ../shared/data/ocr/large_train.csv is absent | | |"),
        }
        return;
    }
    println!("| network | figure | time | ratio to run of the same examples |");
    println!("|---|---|---|---|");
    let me = std::env::current_exe().expect("the bench's own path");
    for net in ["hw", "mnist"] {
        for extra in [None, Some("--peak")] {
            let status = Command::new(&me).args(["--net", net]).args(extra).status().expect("the bench runs itself");
            assert!(status.success(), "the {net} part failed");
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled homework network on the 9,000 letters, 2 epochs.
fn homework() -> Option<Model> {
    let ocr = root().join("../shared/data/ocr");
    let (train, test) = (ocr.join("large_train.csv"), ocr.join("large_validation.csv"));
    if !train.exists() {
        return None;
    }
    let data = DataOverride { train: Some(train), test: Some(test) };
    let mut model = Model::load_with(&root().join("models/hw_network.yaml"), &data, Default::default()).ok()?;
    model.set_epochs(2);
    Some(model)
}

/// The MNIST-sized network, its data written into a temporary directory.
fn mnist_sized() -> Option<Model> {
    let dir = std::env::temp_dir().join(format!("bptui-debugger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    write_rows(&dir.join("train.csv"), 20_000, 1);
    write_rows(&dir.join("validation.csv"), 2_000, 2);
    let path = dir.join("mnist_sized.yaml");
    std::fs::write(&path, MNIST_SIZED).expect("model written");
    let model = Model::load(&path).expect("the MNIST-sized model loads");
    let _ = std::fs::remove_dir_all(&dir);
    Some(model)
}

const MNIST_SIZED: &str = "name: mnist_sized
about: \"An MNIST-sized network on generated data (benches/debugger.rs)\"
network:
  inputs: 784
  layers:
    - {op: linear, name: a, weights: alpha, units: 256, init: {numpy_uniform: [-0.1, 0.1]}}
    - {op: sigmoid, name: z}
    - {op: linear, name: b, weights: beta, units: 128, init: {numpy_uniform: [-0.1, 0.1]}}
    - {op: relu, name: h}
    - {op: linear, name: c, weights: gamma, units: 10, init: {numpy_uniform: [-0.1, 0.1]}}
    - {op: softmax, name: y_hat}
  loss: {op: cross_entropy, name: J}
data:
  train: {csv: train.csv}
  validation: {csv: validation.csv}
train: {learning_rate: 0.001, epochs: 2, shuffle: numpy_epoch}
";

/// `rows` rows of a label and 784 integer pixels, about 19 % of them nonzero (0–255), denser
/// in a band of 78 pixels that the label picks; the same for the same `seed`.
pub fn write_rows(path: &Path, rows: usize, seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11
    };
    let mut text = String::with_capacity(rows * 1100);
    for r in 0..rows {
        let label = r % 10;
        text.push_str(&label.to_string());
        for p in 0..784 {
            let band = p / 78 == label;
            let odds = if band { 45 } else { 16 };
            let v = if next() % 100 < odds { 1 + next() % 255 } else { 0 };
            text.push(',');
            text.push_str(&v.to_string());
        }
        text.push('\n');
    }
    std::fs::write(path, text).expect("data written");
}

/// The best of [`REPEAT`] runs of `f`, in seconds, with what the last one returned.
fn best<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..REPEAT {
        let t = Instant::now();
        let out = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(out);
    }
    (best, last.expect("one run"))
}

fn with_epochs(model: &Model, epochs: usize) -> Model {
    let mut m = model.clone();
    m.set_epochs(epochs);
    m
}

/// `run` over the model's epochs: `Session::run_fast` from a fresh session.
fn run(model: &Model) -> (f64, Session) {
    best(|| {
        let mut s = Session::new(model.clone(), Backward::B);
        s.run_fast(|_| {});
        s
    })
}

/// A coarse command from a fresh debugger, with `breakpoints`.
fn command(model: &Model, finish: Finish, breakpoints: &Breakpoints) -> (f64, Debugger) {
    best(|| {
        let mut d = Debugger::new(Session::new(model.clone(), Backward::B));
        *d.breakpoints_mut() = breakpoints.clone();
        assert!(d.start(finish));
        let ended = d.wait();
        assert!(matches!(ended, Some(Ended::Done(_) | Ended::Breakpoint(_))), "{ended:?}");
        d
    })
}

/// `J < limit` holding first as late as the run allows: just above the run's latest record
/// low of the loss. Returns the condition and the example (counted from the run's start,
/// from 1) at which it first holds.
fn late_breakpoint(s: &Session) -> (Condition, usize) {
    let losses = s.losses();
    let mut low = f64::INFINITY;
    let mut record = (0, f64::INFINITY, f64::INFINITY);
    for (k, l) in losses.iter().enumerate() {
        if l.loss < low {
            record = (k, l.loss, low);
            low = l.loss;
        }
    }
    let (k, loss, before) = record;
    let limit = if before.is_finite() { loss + (before - loss) / 2.0 } else { loss * 2.0 };
    let node = s.graph().loss();
    (Condition::Threshold { node, kind: Kind::Value, measure: Measure::Entry, above: false, limit }, k + 1)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn row(net: &str, figure: &str, secs: f64, run: Option<f64>) {
    let ratio = run.map_or(String::new(), |r| format!("{:.2}×", secs / r));
    println!("| {net} | {figure} | {:.1} ms | {ratio} |", secs * 1e3);
}

fn measure(net: &str, model: Model) {
    let name = match net {
        "hw" => "homework 128 → 4 → 10, 9,000 letters",
        _ => "MNIST-sized 784 → 256 → 128 → 10, 20,000 rows",
    };
    let n = model.train_data().map_or(0, |d| d.len());
    let (run1, _) = run(&with_epochs(&model, 1));
    let (run2, ran) = run(&model);
    assert!(ran.first_non_finite().is_none(), "the run stays finite");
    row(name, "`run --epochs 1` (run_fast, in process)", run1, None);
    row(name, "`run --epochs 2`", run2, None);

    let nan_only = Breakpoints::default();
    let (e, mut after_e) = command(&model, Finish::Epoch, &nan_only);
    row(name, "E (epoch 1)", e, Some(run1));
    let (r, _) = command(&model, Finish::Run, &nan_only);
    row(name, "R (2 epochs)", r, Some(run2));

    let (condition, at) = late_breakpoint(&ran);
    let mut late = Breakpoints::default();
    late.toggle(condition.clone());
    let (c, stopped) = command(&model, Finish::Continue, &late);
    let s = stopped.session();
    let figure = format!(
        "c to `{}` (first holds in example {at} of {}; stopped in e {} x {})",
        condition.describe(s.graph(), bptui::numfmt::Digits::Short),
        2 * n,
        s.epoch(),
        s.position().example
    );
    assert_eq!(
        (s.epoch() - 1) * n + s.position().example,
        at,
        "c stops in the example where the condition first holds"
    );
    // `run` of the examples up to there: the 2-epoch run's time pro rata (its evaluations included).
    row(name, &figure, c, Some(run2 * at as f64 / (2 * n) as f64));

    // Going back to the middle of epoch 1 after E, as the TUI does: resolved, then rewound.
    let middle = Spot { epoch: 1, example: n / 2, phase: 0, index: 0 };
    let t = Instant::now();
    let Travel::Back(steps) = after_e.go(middle) else { panic!("the middle of epoch 1 is behind") };
    after_e.rewind(steps);
    row(name, &format!("going back to e 1 x {} after E", n / 2), t.elapsed().as_secs_f64(), None);

    // Any point: 20 points spread over a 2-epoch history, each from the run's end.
    let s = Session::new(model.clone(), Backward::B);
    let history = History::new(&s, History::BUDGET);
    let goal = Goal::from(&s, Finish::Run, None);
    let job = Job::start(&s, history, goal, 2 * n, None, Watchers::default());
    let done = job.take(true).expect("the worker's result");
    let (end, history) = (done.session, done.history);
    let (mut worst, mut sum, points) = (0.0f64, 0.0, 20);
    for i in 0..points {
        let target = end.steps() * (2 * i + 1) / (2 * points);
        let (mut s, mut h) = (end.clone(), history.clone());
        let t = Instant::now();
        h.rewind(&mut s, target);
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(s.steps(), target);
        worst = worst.max(secs);
        sum += secs;
    }
    row(name, &format!("going back to {points} points of 2 epochs: mean"), sum / points as f64, None);
    row(name, "... worst", worst, None);
    let spacing = history.spacing();
    let kept = history.checkpoints();
    println!(
        "| {name} | history after 2 epochs | {:.1} MiB | {kept} checkpoints, one every {spacing} examples |",
        mib(history.bytes())
    );
}

/// A student's session in a process of its own: the model loaded, `R`, back to the middle of
/// epoch 1; its peak memory.
fn student(model: Model) {
    let n = model.train_data().map_or(0, |d| d.len());
    let mut d = Debugger::new(Session::new(model, Backward::B));
    assert!(d.start(Finish::Run));
    d.wait();
    if let Travel::Back(steps) = d.go(Spot { epoch: 1, example: n / 2, phase: 0, index: 0 }) {
        d.rewind(steps);
    }
    println!("| | process peak (VmHWM): the model loaded, R, back to e 1 x {} | {} | |", n / 2, peak());
}

/// The process's peak resident memory, as /proc/self/status gives it.
fn peak() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
