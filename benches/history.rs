//! Time travel's cost on the homework network (128 → 50 sigmoid → 10 softmax) over one
//! 9,000-example epoch of `../shared/data/ocr/large_train.csv` (the bundled 300-row OCR set when
//! that is absent): the memory the history holds beyond the model, and the time to reach
//! points of the run so far (replaying from the nearest checkpoint).
//!
//! `cargo bench --bench history` prints the figures; the targets are ≤ 64 MiB and ≤ 100 ms.

use std::path::PathBuf;
use std::time::Instant;

use bptui::control::History;
use bptui::engine::Backward;
use bptui::model::{DataOverride, Model};
use bptui::session::Session;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let large = root.join("../shared/data/ocr/large_train.csv");
    let data = if large.exists() { large } else { root.join("models/data/ocr_letters_train.csv") };
    let text = std::fs::read_to_string(root.join("models/hw_network.yaml"))
        .expect("the homework model")
        .replace("units: 4", "units: 50")
        .replace("epochs: 2", "epochs: 1")
        .replace("csv: data/", &format!("csv: {}/", root.join("models/data").display()));
    let dir = std::env::temp_dir().join(format!("bptui-history-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("hw50.yaml");
    std::fs::write(&path, text).expect("model written");
    let model = Model::load_with(&path, &DataOverride { train: Some(data.clone()), test: None }, Default::default())
        .expect("model loads");
    let examples = model.train_data().map(|d| d.len()).unwrap_or(0);

    let mut session = Session::new(model, Backward::B);
    let mut history = History::new(&session, History::BUDGET);
    let start = Instant::now();
    while session.phase() != bptui::session::Phase::Finished {
        session.step();
        history.observe(&session);
    }
    let run = start.elapsed();
    let total = session.steps();
    println!("data: {} ({examples} examples, 1 epoch, {total} micro-steps)", data.display());
    println!("stepping with checkpoints: {:.2} s", run.as_secs_f64());
    println!(
        "history: {:.1} MiB in {} checkpoints, one every {} examples (budget {} MiB)",
        history.bytes() as f64 / (1 << 20) as f64,
        history.checkpoints(),
        history.spacing(),
        History::BUDGET >> 20
    );

    // Points spread over the run, visited from the end each time (a fresh copy of the history,
    // since going back forgets what came after).
    let mut worst = 0.0f64;
    let mut sum = 0.0;
    let points = 40;
    for i in 0..points {
        let target = total * (2 * i + 1) / (2 * points);
        let mut s = session.clone();
        let mut h = history.clone();
        let t = Instant::now();
        h.rewind(&mut s, target);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        assert_eq!(s.steps(), target);
        worst = worst.max(ms);
        sum += ms;
    }
    println!(
        "going back to {points} points of the run: mean {:.1} ms, worst {:.1} ms (target ≤ 100 ms)",
        sum / points as f64,
        worst
    );
    let _ = std::fs::remove_dir_all(&dir);
}
