//! The debugger's gdb habits: going back (bit for bit, screen for screen), going to, breakpoints
//! (NaN/Inf on by default), watches, the node's gradient check, full precision.

use std::path::{Path, PathBuf};

use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::Session;
use bptui::tui::{update, App, Mode, Theme};

use crate::screen::{press, screen};
use proptest::prelude::*;

const MODELS: [&str; 7] = [
    "simple.yaml",
    "quiz1.yaml",
    "logistic_regression.yaml",
    "two_layer.yaml",
    "two_hidden.yaml",
    "ocr_letters.yaml",
    "hw_network.yaml",
];

fn model_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(name)
}

fn app_of(path: &Path) -> App {
    let model = Model::load(path).expect("model loads");
    App::new(Session::new(model, Backward::B), Theme { color: false })
}

fn app(name: &str) -> App {
    app_of(&model_path(name))
}

/// Every number and position of the session, bit for bit.
fn state(s: &Session) -> Vec<u64> {
    let ws = s.workspace();
    let mut out: Vec<u64> = vec![s.steps(), s.epoch() as u64, s.example() as u64, s.index() as u64, s.phase() as u64];
    for a in ws.values.iter().chain(ws.adjoints.iter()) {
        out.extend(a.iter().map(|v| v.to_bits()));
    }
    for p in 0..s.graph().params().len() {
        out.extend(s.param_before(p).iter().map(|v| v.to_bits()));
        out.extend(s.optimizer_state(p).iter().map(|v| v.to_bits()));
    }
    out.extend(s.losses().iter().map(|l| l.loss.to_bits()));
    for m in s.metrics() {
        out.extend(m.train.iter().chain(m.test.iter()).map(|x| x.loss.to_bits()));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// From any point, k steps forward then k back: the same session, bit for bit, and the
    /// same screen, across example and epoch boundaries.
    #[test]
    fn k_forward_then_k_back_is_where_it_was(model in 0..MODELS.len(), start in 0usize..120, k in 1usize..90) {
        let mut a = app(MODELS[model]);
        for _ in 0..start {
            update(&mut a, bptui::tui::Action::Step);
        }
        let (before, shown) = (state(a.session()), screen(&mut a, 120, 40));
        let at = a.session().steps();
        for _ in 0..k {
            update(&mut a, bptui::tui::Action::Step);
        }
        let moved = a.session().steps() - at;
        for _ in 0..moved {
            press(&mut a, "p");
        }
        prop_assert_eq!(state(a.session()), before);
        prop_assert_eq!(screen(&mut a, 120, 40), shown);
    }
}

#[test]
fn twenty_steps_and_twenty_back_show_the_first_screen() {
    let mut a = app("two_layer.yaml");
    let first = screen(&mut a, 160, 45);
    press(&mut a, &"n".repeat(20));
    assert_ne!(screen(&mut a, 160, 45), first);
    press(&mut a, &"p".repeat(20));
    assert_eq!(screen(&mut a, 160, 45), first);
    press(&mut a, "p");
    assert!(a.view().last.as_deref().is_some_and(|l| l.contains("nothing to undo")));
}

#[test]
fn going_back_across_epochs_replays_the_same_numbers() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "E");
    press(&mut a, "eeee");
    let later = state(a.session());
    let steps = a.session().steps();
    // Back into epoch 1, then forward to the same point step by step.
    press(&mut a, "g");
    press(&mut a, "e 1 x 3\n");
    assert_eq!((a.session().epoch(), a.session().example() + 1), (1, 3));
    while a.session().steps() < steps {
        update(&mut a, bptui::tui::Action::Step);
    }
    assert_eq!(state(a.session()), later);
}

#[test]
fn go_to_an_example_a_node_a_row() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "ge 1 x 5\n");
    let s = a.session();
    assert_eq!((s.epoch(), s.example() + 1, s.phase(), s.index()), (1, 5, bptui::session::Phase::Forward, 0));
    press(&mut a, "gbackward a\n");
    let s = a.session();
    let pos = s.graph().backward_order().iter().position(|&n| s.graph().node(n).name == "a").unwrap();
    assert_eq!((s.example() + 1, s.phase(), s.index()), (5, bptui::session::Phase::Backward, pos + 1));
    press(&mut a, "gupdate beta\n");
    // beta is the last update: right after it the next example begins.
    assert_eq!(a.session().example() + 1, 6);
    press(&mut a, "grow 2\n");
    assert_eq!((a.session().epoch(), a.session().row()), (2, 2), "two_layer visits rows in file order");
    // Behind the current point: travels back.
    press(&mut a, "ge 1 x 2 node z\n");
    let s = a.session();
    let z = s.graph().find("z").unwrap();
    assert_eq!((s.epoch(), s.example() + 1), (1, 2));
    assert!(s.value_ready(z) && !s.value_ready(s.graph().find("b").unwrap()));
    // History and completion in the prompt.
    press(&mut a, "g");
    update(&mut a, bptui::tui::Action::PromptHistory { older: true });
    assert_eq!(a.overlay().prompt().unwrap().text, "e 1 x 2 node z");
    press(&mut a, "\x1b");
    press(&mut a, "gx 99\n");
    assert!(
        a.overlay().prompt().and_then(|p| p.message.as_deref()).is_some_and(|m| m.contains("an epoch has 16")),
        "{:?}",
        a.overlay().prompt()
    );
}

/// What the prompt suggests works on the model it is open on, and a step that never comes again
/// (at the run's end) is said so, not as an epoch the run does not have.
#[test]
fn the_prompt_suggests_what_works_here() {
    let message = |a: &bptui::tui::App| a.overlay().prompt().and_then(|p| p.message.clone()).unwrap_or_default();
    let mut a = app("two_layer.yaml");
    press(&mut a, "gfrobnicate\n");
    let m = message(&a);
    assert!(m.contains("try e 2 x 5, row 3, node J, backward a, update alpha, break nan, watch a, index 0"), "{m}");
    // Every suggestion parses and (from the start) can be reached.
    let suggested = m.split("try ").nth(1).unwrap().to_string();
    for command in suggested.split(", ") {
        press(&mut a, "\x1b");
        let mut b = app("two_layer.yaml");
        press(&mut b, &format!("g{command}\n"));
        assert!(b.overlay().prompt().is_none(), "`{command}` was refused: {}", message(&b));
    }
    let mut q = app("quiz1.yaml");
    press(&mut q, "gfrobnicate\n");
    let m = message(&q);
    assert!(m.contains("try e 1 x 1, node y") && !m.contains("row") && !m.contains("update"), "{m}");
    // A node's step gone to selects that node.
    let mut c = app("two_layer.yaml");
    press(&mut c, "gnode b\n");
    assert_eq!(c.view().selected, c.session().graph().find("b").unwrap());
    // At the run's end.
    press(&mut a, "\x1bR");
    press(&mut a, "gnode b\n");
    assert!(message(&a).contains("no later step like it: the run is at its last example"), "{}", message(&a));
}

fn nan_model(dir: &Path) -> PathBuf {
    let path = dir.join("nan.yaml");
    std::fs::write(
        &path,
        "name: nan_demo\ngraph:\n  inputs: {x: features, ystar: label}\n  params: {w: {shape: [1], init: {values: [0.5]}}}\n  compute:\n    - u = w * x\n    - v = log(u)\n    - J = squared_error(sum(v), ystar)\n  output: J\ndata:\n  train: {rows: [[1, 2.0], [0, 1.0], [1, 0.0], [0, 3.0]]}\ntrain: {learning_rate: 0.1, epochs: 2}\n",
    )
    .unwrap();
    path
}

#[test]
fn run_stops_at_the_first_infinity_and_names_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = app_of(&nan_model(dir.path()));
    press(&mut a, "R");
    let s = a.session();
    assert_eq!((s.epoch(), s.example() + 1), (1, 3));
    assert_eq!(a.view().selected, s.graph().find("v").unwrap());
    let last = a.view().last.clone().unwrap();
    assert!(last.contains("v[0] = -inf from v = log(u) with u[0] = 0"), "{last}");
    insta::assert_snapshot!("travel_nan_stop_120x40", screen(&mut a, 120, 40));
    // c runs on: the infinity was seen, so it runs to the end.
    press(&mut a, "c");
    assert_eq!(a.session().phase(), bptui::session::Phase::Finished);
}

#[test]
fn breakpoints_stop_c_and_are_listed() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "gbreak |dJ/dz| > 0.01\n");
    press(&mut a, "gbreak J > 0.7\n");
    press(&mut a, "c");
    let last = a.view().last.clone().unwrap();
    assert!(last.starts_with("stopped at breakpoint — "), "{last}");
    let s = a.session();
    let dz = s.graph().find("z").unwrap();
    let j = s.graph().find("J").unwrap();
    let norm = s.workspace().adjoints[dz].iter().map(|v| v * v).sum::<f64>().sqrt();
    let loss = s.workspace().values[j].iter().next().copied().unwrap();
    assert!(norm > 0.01 || loss > 0.7, "the condition holds where it stopped: {last}");
    // A node breakpoint (b on the selected node), then the list.
    press(&mut a, "kkk");
    press(&mut a, "b");
    press(&mut a, "B");
    assert_eq!(a.mode(), Mode::Breakpoints);
    insta::assert_snapshot!("travel_breakpoint_list_100x30", screen(&mut a, 100, 30));
    press(&mut a, " ");
    assert!(!a.debugger().breakpoints().list[0].enabled, "space switches the first (NaN) breakpoint off");
    press(&mut a, "x");
    assert_eq!(a.debugger().breakpoints().list.len(), 3);
    press(&mut a, "\x1b");
    assert_eq!(a.mode(), Mode::Normal);
}

#[test]
fn g_checks_a_node_by_central_differences() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "nnn");
    let a_node = a.session().graph().find("a").unwrap();
    while a.view().selected > a_node {
        press(&mut a, "k");
    }
    assert_eq!(a.view().selected, a_node);
    press(&mut a, "G");
    let c = a.overlay().check().cloned().expect("a check");
    assert!(c.agrees(), "worst relative error {}", c.worst());
    assert_eq!(c.entries.len(), 4);
    // Backprop's dJ/da beside J's slope, computed independently of the session's adjoints.
    for e in &c.entries {
        assert!((e.backprop - e.numeric).abs() <= 1e-7 * e.backprop.abs().max(1e-6), "{e:?}");
    }
    insta::assert_snapshot!("travel_check_a_120x40", screen(&mut a, 120, 40));
    // Nothing of the session changed.
    press(&mut a, "\x1b");
    assert_eq!(a.session().steps(), 3);
    // Through the softmax's probabilities too (the loss reads the logits).
    let mut o = app("ocr_letters.yaml");
    press(&mut o, "e");
    let y = o.session().graph().nodes().iter().position(|n| n.op == bptui::engine::Op::Softmax).unwrap();
    let c = o.session().check_node(y, 1e-6, 1e-5).unwrap();
    assert!(c.agrees(), "{:?}", c.entries.first());
}

#[test]
fn full_precision_shows_every_digit() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "nn");
    press(&mut a, "=");
    let text = screen(&mut a, 160, 45);
    let s = a.session();
    let first = s.workspace().values[s.graph().find("a").unwrap()][[0]];
    let full = bptui::numfmt::py_repr(first);
    assert!(full.trim_start_matches('-').trim_start_matches("0.").len() >= 15, "{full}");
    assert!(text.contains(&full), "{full} not on screen:\n{text}");
    insta::assert_snapshot!("travel_full_precision_160x45", text);
    press(&mut a, "=");
    let text = screen(&mut a, 160, 45);
    assert!(!text.contains(&full));
    assert!(text.contains(&bptui::numfmt::short(first)));
}

#[test]
fn watches_and_the_prompt_on_screen() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "nnnn");
    press(&mut a, "w");
    press(&mut a, "gwatch alpha\n");
    assert_eq!(a.tools().watches.len(), 2);
    press(&mut a, "gbackward al");
    update(&mut a, bptui::tui::Action::PromptComplete);
    assert_eq!(a.overlay().prompt().unwrap().text, "backward alpha ");
    insta::assert_snapshot!("travel_prompt_and_watches_120x40", screen(&mut a, 120, 40));
}

#[test]
fn restart_asks_first_when_far_along() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "nn");
    press(&mut a, "r");
    assert_eq!(a.session().steps(), 0, "not far along: no question");
    press(&mut a, "ee");
    press(&mut a, "r");
    assert_eq!(a.mode(), Mode::Confirm);
    press(&mut a, "n");
    assert!(a.session().steps() > 0);
    press(&mut a, "ry");
    assert_eq!(a.session().steps(), 0);
    // The backward version chosen with `a` is kept across a restart (a setting, not a step).
    press(&mut a, "nna");
    assert_eq!(a.session().next_algorithm(), bptui::engine::Backward::A);
    press(&mut a, "r");
    assert_eq!(a.session().steps(), 0);
    assert_eq!(a.session().next_algorithm(), bptui::engine::Backward::A, "the chosen version survives the restart");
    press(&mut a, "f");
    press(&mut a, "n");
    assert_eq!(a.session().algorithm(), bptui::engine::Backward::A, "and the first backward pass uses it");
}

#[test]
fn y_copies_a_numpy_literal_and_s_saves_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = app("two_layer.yaml");
    press(&mut a, "nnn");
    let cwd = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    press(&mut a, "y");
    press(&mut a, "s");
    std::env::set_current_dir(cwd).unwrap();
    let copied = a.outbox().clipboard.clone().expect("clipboard text");
    let z = &a.session().workspace().values[a.view().selected];
    let expected: Vec<String> = z.iter().map(|v| bptui::numfmt::py_repr(*v)).collect();
    assert_eq!(copied, format!("np.array([{}])", expected.join(", ")));
    let files: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert!(files.iter().any(|f| f == "bptui-z.py"), "{files:?}");
    assert!(files.iter().any(|f| f.starts_with("bptui-step-e1-x1-forward") && f.ends_with(".npz")), "{files:?}");
}

/// `a` after a Version B backward pass switches the next one, and leaves the finished pass
/// described as it was computed (Version B), saying what it did.
#[test]
fn switching_the_version_does_not_relabel_the_finished_pass() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "ff");
    assert_eq!(a.session().phase(), bptui::session::Phase::Update);
    press(&mut a, "a");
    let last = a.view().last.clone().unwrap_or_default();
    assert!(last.starts_with("Version A from the next backward pass"), "{last}");
    let text = screen(&mut a, 160, 45);
    assert!(text.contains("final for this example (Version B)"), "{text}");
    assert!(text.contains("B (A from next backward)"), "{text}");
}

/// A node breakpoint stops where the node's adjoint becomes final: in Version B at its last
/// consumer's push (z's own step comes later and pushes it on).
#[test]
fn a_node_breakpoint_stops_where_the_adjoint_is_final() {
    let mut a = app("two_layer.yaml");
    press(&mut a, "gbreak node z\n");
    press(&mut a, "c");
    assert_eq!(a.session().phase(), bptui::session::Phase::Forward, "first the forward step computing z");
    press(&mut a, "c");
    let s = a.session();
    let b = s.graph().find("b").unwrap();
    assert_eq!(s.phase(), bptui::session::Phase::Backward);
    assert_eq!(s.index(), s.graph().backward_position(b).unwrap() + 1, "right after b's push");
    let last = a.view().last.clone().unwrap_or_default();
    assert!(last.contains("dJ/dz final (b's push into it)"), "{last}");
}

/// `s` in the middle of an example saves what is computed so far: mid-forward, the values
/// visited and no adjoint; mid-backward (Version B), exactly the adjoints that are final. A
/// zero in the file is never an adjoint not reached yet.
#[test]
fn s_saves_only_what_is_computed() {
    let saved = |keys: &str| {
        let dir = tempfile::tempdir().unwrap();
        let mut a = app("two_layer.yaml");
        press(&mut a, keys);
        let cwd = std::env::current_dir().unwrap();
        std::env::set_current_dir(dir.path()).unwrap();
        press(&mut a, "s");
        std::env::set_current_dir(cwd).unwrap();
        let file = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "npz"));
        let records = bptui::trace::read_file(&file.expect("an .npz"), Default::default()).unwrap();
        let bptui::trace::Record::Example(e) = &records[0].record else { panic!("an example record") };
        let names = |l: &Vec<(String, ndarray::ArrayD<f64>)>| l.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        (names(&e.forward), names(&e.adjoints))
    };
    // Three forward steps: x loaded, a and z computed.
    assert_eq!(saved("nnn"), (vec!["x".into(), "a".into(), "z".into()], vec![]));
    // The forward pass and two backward steps (J, then y pushed into b): J, y final; b final
    // too, since its only consumer y has pushed.
    let (forward, adjoints) = saved("fnn");
    assert_eq!(forward, ["x", "a", "z", "b", "y", "J"]);
    assert_eq!(adjoints, ["J", "y", "b"]);
}
