//! The debugger with `--against THEIRS`: their numbers beside ours, and `d`, which steps to the
//! next value that differs. THEIRS is a trace bptui itself records of models/two_layer.yaml,
//! with numbers changed on purpose.

use std::path::{Path, PathBuf};

use bptui::diff::Theirs;
use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::record_run;
use bptui::session::{Phase, Session};
use bptui::trace::{write_file, ExampleRecord, Record};
use bptui::tui::{action_for, update, Action, App, Mode, Theme};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;

fn model() -> Model {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join("two_layer.yaml");
    Model::load(&path).expect("model loads")
}

/// bptui's own records of the whole run.
fn own_records() -> Vec<Record> {
    let mut session = Session::new(model(), Backward::B);
    let mut records = Vec::new();
    record_run(&mut session, None, |r| {
        records.push(r);
        Ok(())
    })
    .expect("records");
    records
}

/// bptui's own trace of the whole run, with `edit` applied, loaded as THEIRS.
fn theirs(dir: &Path, edit: impl FnOnce(&mut [Record])) -> Theirs {
    let m = model();
    let mut records = own_records();
    edit(&mut records);
    let path = dir.join("theirs.jsonl");
    write_file(&path, &records).expect("writes the trace");
    Theirs::load(&path, m.graph(), &[], Default::default()).expect("loads the trace")
}

/// Their record of an example (epoch and example from 1).
fn example(records: &mut [Record], epoch: usize, example: usize) -> &mut ExampleRecord {
    records
        .iter_mut()
        .find_map(|r| match r {
            Record::Example(x) if x.epoch == epoch && x.example == example => Some(x),
            _ => None,
        })
        .expect("the example is recorded")
}

fn set(list: &mut [(String, ndarray::ArrayD<f64>)], name: &str, value: ndarray::ArrayD<f64>) {
    list.iter_mut().find(|(n, _)| n == name).expect("the name is recorded").1 = value;
}

fn get(list: &[(String, ndarray::ArrayD<f64>)], name: &str) -> ndarray::ArrayD<f64> {
    list.iter().find(|(n, _)| n == name).expect("the name is recorded").1.clone()
}

/// Their dJ/da of epoch 1 example 3 is bptui's dJ/dz: the sigmoid's derivative left out.
fn missing_sigmoid_derivative(records: &mut [Record]) {
    let x = example(records, 1, 3);
    let dz = get(&x.adjoints, "z");
    set(&mut x.adjoints, "a", dz);
}

fn app_against(theirs: Option<Theirs>) -> App {
    let mut app = App::new(Session::new(model(), Backward::B), Theme { color: false });
    app.set_against(theirs.map(std::sync::Arc::new), 1e-6);
    app
}

fn press_d(app: &mut App) {
    let key = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE);
    let action = action_for(key, app.mode()).expect("d means something");
    update(app, action);
    bptui::tui::run::wait(app);
    assert_eq!(app.mode(), Mode::Normal);
}

fn last(app: &App) -> String {
    app.view().last.clone().unwrap_or_default()
}

fn node(app: &App, name: &str) -> usize {
    app.session().graph().find(name).expect("a node")
}

#[test]
fn d_is_a_key_in_normal_mode_only() {
    let d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE);
    assert_eq!(action_for(d, Mode::Normal), Some(Action::NextDivergence));
    assert_eq!(action_for(d, Mode::Running), None);
    assert_eq!(action_for(d, Mode::Help), None);
}

#[test]
fn d_without_against_says_what_it_needs() {
    let mut a = app_against(None);
    press_d(&mut a);
    assert_eq!(last(&a), "d needs --against THEIRS");
    assert_eq!(a.session().steps(), 0);
}

#[test]
fn d_lands_on_the_changed_adjoint_then_finds_nothing_more() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = app_against(Some(theirs(dir.path(), missing_sigmoid_derivative)));
    press_d(&mut a);
    let s = a.session();
    assert_eq!((s.epoch(), s.example() + 1, s.phase()), (1, 3, Phase::Backward));
    // Just after the step that made dJ/da final: in Version B, z's push into it (the step
    // before a's own, which would already push the wrong dJ/da on into alpha).
    let pos = s.graph().backward_order().iter().position(|&n| n == node(&a, "z")).unwrap();
    assert_eq!(s.index(), pos + 1);
    assert_eq!(a.view().selected, node(&a, "a"));
    assert!(!a.view().follow, "the selection is pinned to the divergence");
    let msg = last(&a);
    assert!(msg.contains("epoch 1 example 3") && msg.contains("dJ/da"), "{msg}");
    assert!(msg.contains("missing local-derivative factor"), "{msg}");
    assert!(a.debugger().landed().is_some_and(|d| d.value().is_some_and(|(_, n)| n == "a")));
    // Nothing else differs: d again says so and does not move.
    let steps = a.session().steps();
    press_d(&mut a);
    assert!(last(&a).starts_with("no divergence from here on"), "{}", last(&a));
    assert_eq!(a.session().steps(), steps);
}

#[test]
fn an_unmodified_trace_has_no_divergence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = app_against(Some(theirs(dir.path(), |_| {})));
    press_d(&mut a);
    let msg = last(&a);
    assert!(msg.starts_with("no divergence from here on: everything in THEIRS agrees within tol"), "{msg}");
    assert_eq!(a.session().steps(), 0);
    assert!(a.debugger().landed().is_none());
}

#[test]
fn d_stops_right_after_a_forward_value_and_after_an_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = theirs(dir.path(), |r| {
        let x = example(r, 2, 5);
        let z = get(&x.forward, "z").mapv(|v| v + 0.01);
        set(&mut x.forward, "z", z);
        let x = example(r, 3, 2);
        let beta = get(&x.params, "beta").mapv(|v| 2.0 * v);
        set(&mut x.params, "beta", beta);
    });
    let mut a = app_against(Some(t));
    press_d(&mut a);
    let s = a.session();
    let pos = s.graph().forward_order().iter().position(|&n| n == node(&a, "z")).unwrap();
    assert_eq!((s.epoch(), s.example() + 1, s.phase(), s.index()), (2, 5, Phase::Forward, pos + 1));
    assert_eq!(a.view().selected, node(&a, "z"));
    assert!(last(&a).contains("forward value z"), "{}", last(&a));
    // beta is the last parameter: its update ends the example, so the session stands at the
    // start of the next one, with the divergence still on show.
    press_d(&mut a);
    let s = a.session();
    assert_eq!((s.epoch(), s.example() + 1, s.phase(), s.index()), (3, 3, Phase::Forward, 0));
    assert_eq!(a.view().selected, node(&a, "beta"));
    assert!(last(&a).contains("parameter beta after the update"), "{}", last(&a));
    assert!(a.debugger().landed().is_some_and(|d| d.value().is_some_and(|(_, n)| n == "beta")));
    press_d(&mut a);
    assert!(last(&a).starts_with("no divergence from here on"), "{}", last(&a));
}

#[test]
fn d_past_the_divergence_in_its_example_shows_it_without_stepping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = app_against(Some(theirs(dir.path(), missing_sigmoid_derivative)));
    // To example 3's update phase by hand: past the backward step at a.
    for _ in 0..2 {
        update(&mut a, Action::Finish(bptui::tui::app::Finish::Example));
        bptui::tui::run::wait(&mut a);
    }
    update(&mut a, Action::Finish(bptui::tui::app::Finish::Phase));
    bptui::tui::run::wait(&mut a);
    update(&mut a, Action::Finish(bptui::tui::app::Finish::Phase));
    bptui::tui::run::wait(&mut a);
    assert_eq!((a.session().example() + 1, a.session().phase()), (3, Phase::Update));
    let steps = a.session().steps();
    press_d(&mut a);
    assert_eq!(a.session().steps(), steps);
    assert_eq!(a.view().selected, node(&a, "a"));
    assert!(last(&a).contains("dJ/da"), "{}", last(&a));
}

#[test]
fn a_long_way_to_the_divergence_is_chunked_and_esc_cancels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = theirs(dir.path(), |r| {
        let x = example(r, 3, 16);
        let j = get(&x.forward, "J").mapv(|v| v + 1.0);
        set(&mut x.forward, "J", j);
    });
    let mut a = app_against(Some(t));
    update(&mut a, Action::NextDivergence);
    assert_eq!(a.mode(), Mode::Running);
    update(&mut a, Action::Cancel);
    assert_eq!(a.mode(), Mode::Normal);
    assert!(last(&a).starts_with("cancelled running to the divergence"), "{}", last(&a));
    assert!(a.debugger().landed().is_none());
    press_d(&mut a);
    assert_eq!((a.session().epoch(), a.session().example() + 1, a.session().phase()), (3, 16, Phase::Backward));
    assert_eq!(a.view().selected, node(&a, "J"));
}

/// The screen as text, one line per row, trailing spaces trimmed.
fn screen(app: &mut App, w: u16, h: u16) -> (String, ratatui::buffer::Buffer) {
    let buf = crate::screen::draw(app, w, h);
    (crate::screen::text(&buf), buf)
}

#[test]
fn snapshot_at_a_divergence_120x40() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = app_against(Some(theirs(dir.path(), missing_sigmoid_derivative)));
    press_d(&mut a);
    let (text, buf) = screen(&mut a, 120, 40);
    assert!(text.contains("yours: DIFFERS at"), "{text}");
    // Every entry of their dJ/da is marked, and drawn in the mismatch style (reverse + bold
    // without colour).
    let marks: Vec<_> = buf.content().iter().filter(|c| c.symbol() == "≠").collect();
    assert_eq!(marks.len(), 4, "{text}");
    assert!(marks.iter().all(|c| c.modifier.contains(Modifier::REVERSED | Modifier::BOLD)));
    insta::assert_snapshot!("tui_against_divergence_120x40", text);
}

#[test]
fn their_values_agree_beside_ours_while_stepping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = app_against(Some(theirs(dir.path(), |_| {})));
    // Before the value is computed nothing of theirs is shown.
    let (text, _) = screen(&mut a, 120, 40);
    assert!(!text.contains("yours"), "{text}");
    for _ in 0..2 {
        update(&mut a, Action::Step);
    }
    let (text, _) = screen(&mut a, 120, 40);
    assert!(text.contains("yours: agrees (max |Δ| 0)"), "{text}");
    assert!(!text.contains('≠'), "{text}");
}

#[test]
fn d_again_goes_to_the_next_differing_value_in_the_same_example() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = theirs(dir.path(), |r| {
        let x = example(r, 2, 5);
        let z = get(&x.forward, "z").mapv(|v| v + 0.01);
        set(&mut x.forward, "z", z);
        let j = get(&x.forward, "J").mapv(|v| v + 0.5);
        set(&mut x.forward, "J", j);
    });
    let mut a = app_against(Some(t));
    press_d(&mut a);
    assert_eq!(a.view().selected, node(&a, "z"));
    press_d(&mut a);
    // J is the last forward value: right after it the backward pass is next.
    let s = a.session();
    assert_eq!((s.epoch(), s.example() + 1, s.phase(), s.index()), (2, 5, Phase::Backward, 0));
    assert_eq!(a.view().selected, node(&a, "J"));
    assert!(last(&a).contains("epoch 2 example 5: forward value J"), "{}", last(&a));
    press_d(&mut a);
    assert!(last(&a).starts_with("no divergence from here on"), "{}", last(&a));
}

/// The debugger reads `--against` streaming (one record at a time, from the file): every value
/// of every example is the one the whole trace held in memory gives, in JSON Lines and .npz,
/// asked for in any order.
#[test]
fn a_streamed_trace_gives_every_value_the_whole_trace_gives() {
    use bptui::diff::Section;
    let dir = tempfile::tempdir().unwrap();
    let m = model();
    let records = own_records();
    for name in ["theirs.jsonl", "theirs.npz"] {
        let path = dir.path().join(name);
        write_file(&path, &records).unwrap();
        let whole = Theirs::load(&path, m.graph(), &[], Default::default()).unwrap();
        let streamed = Theirs::load_streaming(&path, m.graph(), &[], Default::default()).unwrap();
        let mut asked = 0;
        // Backwards through the examples, so that the reader seeks.
        let places: Vec<(usize, usize)> = whole.examples().map(|(at, _, _)| at).collect();
        for &(epoch, example) in places.iter().rev() {
            let r = whole.example(epoch, example).unwrap();
            for section in [Section::Forward, Section::Adjoint, Section::Param] {
                for (node, value) in section.of(r) {
                    let got = streamed.value(epoch, example, section, node).unwrap().expect("a streamed value");
                    assert_eq!(got.as_ref(), value, "{name}: epoch {epoch} example {example} {node}");
                    asked += 1;
                }
            }
        }
        assert!(asked > 100, "{name}: {asked} values compared");
        assert!(
            streamed.value(1, places.len() + 99, Section::Forward, "a").unwrap().is_none(),
            "{name}: no such example"
        );
        // The file cut short after it was read: its records cannot be read again, and that is
        // said (not "they did not record it").
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
        let again = Theirs::load_streaming(&path, m.graph(), &[], Default::default());
        assert!(again.is_err(), "{name}: a cut trace is refused when it is read");
        let (epoch, example) = places[places.len() - 1];
        let why = streamed.value(epoch, example, Section::Forward, "a").unwrap_err();
        assert!(why.contains("was the file changed?"), "{name}: {why}");
    }
}
