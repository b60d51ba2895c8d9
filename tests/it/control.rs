//! Run control without a screen: the debugger's core driven headless, as the TUI drives it.
//! Each coarse command must land on the state the micro-steps reach, bit for bit.

use std::path::PathBuf;

use bptui::control::breakpoints::Measure;
use bptui::control::command::{self, Command, Sizes};
use bptui::control::{Condition, Debugger, Ended, Finish, Spot, Travel};
use bptui::engine::rules::Kind;
use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::{Event, Phase, Session};

fn model(name: &str) -> Model {
    Model::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(name)).expect("model loads")
}

/// Every value and adjoint, and the losses so far, as bits.
fn state(s: &Session) -> (Vec<Vec<u64>>, Vec<u64>, u64) {
    let ws = s.workspace();
    let arrays = ws.values.iter().chain(&ws.adjoints).map(|a| a.iter().map(|x| x.to_bits()).collect()).collect();
    let losses = s.losses().iter().map(|l| l.loss.to_bits()).collect();
    (arrays, losses, s.steps())
}

#[test]
fn e_lands_where_the_micro_steps_finish_the_epoch() {
    let m = model("two_layer.yaml");
    let mut by_steps = Session::new(m.clone(), Backward::B);
    while !matches!(by_steps.step(), Event::Evaluated { .. }) {}
    let mut d = Debugger::new(Session::new(m, Backward::B));
    assert!(d.start(Finish::Epoch));
    assert!(!d.start(Finish::Run), "one coarse command at a time");
    assert!(matches!(d.wait(), Some(Ended::Done(Finish::Epoch))));
    assert_eq!(state(d.session()), state(&by_steps));
    assert_eq!(d.session().metrics().len(), 1);
}

#[test]
fn going_ahead_and_back_replays_the_same_bits() {
    let m = model("two_hidden.yaml");
    let mut d = Debugger::new(Session::new(m.clone(), Backward::A));
    let sizes = Sizes { epochs: d.session().epochs(), examples: d.session().examples_per_epoch() };
    let Ok(Command::Goto(goto)) = command::parse("e 2 x 3 backward z", d.session().graph(), sizes) else {
        panic!("a go-to")
    };
    let target = d.resolve(&goto).expect("in the run");
    assert_eq!((target.epoch, target.example, target.phase), (2, 2, 1));
    assert_eq!(d.go(target), Travel::Ahead);
    d.wait();
    assert_eq!(Spot::of(d.session()), target);
    let there = state(d.session());
    // Back to the first example's update, then ahead again.
    let early = Spot { epoch: 1, example: 0, phase: 2, index: 1 };
    let Travel::Back(steps) = d.go(early) else { panic!("behind") };
    d.rewind(steps);
    assert_eq!(Spot::of(d.session()), early);
    let mut fresh = Session::new(m, Backward::A);
    for _ in 0..steps {
        fresh.step();
    }
    assert_eq!(state(d.session()), state(&fresh));
    assert_eq!(d.go(target), Travel::Ahead);
    d.wait();
    assert_eq!(state(d.session()), there);
    assert_eq!(d.go(target), Travel::Here);
}

#[test]
fn c_stops_at_a_threshold_breakpoint_where_it_first_holds() {
    let m = model("two_layer.yaml");
    let mut d = Debugger::new(Session::new(m.clone(), Backward::B));
    let sizes = Sizes { epochs: 3, examples: 16 };
    let Ok(Command::Break(c)) = command::parse("break J > 0.7", d.session().graph(), sizes) else { panic!("a break") };
    assert!(d.breakpoints_mut().toggle(c.clone()));
    assert!(d.start(Finish::Continue));
    let Some(Ended::Breakpoint(stop)) = d.wait() else { panic!("stopped by the breakpoint") };
    assert!(stop.why.contains('J'), "{}", stop.why);
    // The first example whose loss is above 0.7, found by stepping a session by hand.
    let mut s = Session::new(m, Backward::B);
    let j = s.graph().find("J").unwrap();
    loop {
        let event = s.step();
        if event == (Event::Forward { node: j }) && s.workspace().values[j].iter().next().unwrap() > &0.7 {
            break;
        }
        assert_ne!(s.phase(), Phase::Finished, "J > 0.7 somewhere in the run");
    }
    assert_eq!(state(d.session()), state(&s));
    assert!(d.breakpoints().has(&c));
    assert!(d.breakpoints().has(&Condition::NonFinite), "NaN/Inf is on from the start");
}

#[test]
fn cancel_hands_back_a_session_at_a_step_boundary() {
    let m = model("ocr_letters.yaml");
    let mut d = Debugger::new(Session::new(m.clone(), Backward::B));
    assert!(d.start(Finish::Run));
    let Some(Ended::Cancelled { finish: Finish::Run, .. }) = d.cancel() else { panic!("cancelled") };
    assert!(d.job().is_none());
    let mut s = Session::new(m, Backward::B);
    for _ in 0..d.session().steps() {
        s.step();
    }
    assert_eq!(state(d.session()), state(&s));
}

#[test]
fn d_without_theirs_says_so_and_restart_keeps_the_chosen_version() {
    let mut d = Debugger::new(Session::new(model("two_layer.yaml"), Backward::B));
    assert!(matches!(d.next_divergence(), bptui::control::NextDivergence::NoTheirs));
    for _ in 0..5 {
        d.step();
    }
    assert_eq!(d.toggle_algorithm(), Backward::A);
    d.restart();
    assert_eq!(d.session().steps(), 0);
    assert_eq!(d.session().next_algorithm(), Backward::A);
}

/// Everything a step changes and the screen shows, as bits: the position, every value and
/// adjoint, each parameter before its update and its optimizer state, the losses, the metrics
/// and the first NaN/Inf.
fn everything(s: &Session) -> String {
    let bits = |a: &ndarray::ArrayD<f64>| a.iter().map(|x| format!("{:x}", x.to_bits())).collect::<Vec<_>>().join(",");
    let ws = s.workspace();
    let mut out = format!(
        "at e{} x{} {:?} {} steps {} version {:?}/{:?} nan {:?}\n",
        s.epoch(),
        s.example(),
        s.phase(),
        s.index(),
        s.steps(),
        s.algorithm(),
        s.next_algorithm(),
        s.first_non_finite()
    );
    for id in 0..s.graph().len() {
        out += &format!("{} = {} / {}\n", s.graph().node(id).name, bits(&ws.values[id]), bits(&ws.adjoints[id]));
    }
    for p in 0..s.graph().params().len() {
        out += &format!("before {} state {}\n", bits(s.param_before(p)), bits(s.optimizer_state(p)));
    }
    for l in s.losses() {
        out += &format!("loss {} {} {:x}\n", l.epoch, l.example, l.loss.to_bits());
    }
    for m in s.metrics() {
        let score = |s: Option<bptui::session::Score>| s.map(|s| (s.loss.to_bits(), s.error.map(f64::to_bits)));
        out += &format!("epoch {} {:?} {:?}\n", m.epoch, score(m.train), score(m.test));
    }
    out
}

/// A command of the debugger's, as a student gives them.
#[derive(Debug, Clone)]
enum Cmd {
    /// `n`, this many times.
    Steps(u8),
    /// `f`, `e`, `E`, `R`.
    Finish(u8),
    /// `c`.
    Continue,
    /// Go to the point this fraction of the run in (ahead or back).
    Go(f64),
    /// `a`.
    Toggle,
    /// A breakpoint on or off: NaN/Inf, `J > t`, a node's, `|dJ/dnode| > t`, `J < t`, `|J| > t`.
    Break(u8, f64),
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        (1u8..40).prop_map(Cmd::Steps),
        (0u8..4).prop_map(Cmd::Finish),
        Just(Cmd::Continue),
        (0.0f64..1.0).prop_map(Cmd::Go),
        Just(Cmd::Toggle),
        (0u8..6, prop_oneof![Just(0.1), Just(0.7), Just(2.0), Just(1e3)]).prop_map(|(k, t)| Cmd::Break(k, t)),
    ]
}

/// The micro-steps' own session after `steps` steps, with the versions chosen at their steps
/// (one chosen at `steps` too).
fn micro_stepped(model: &Model, algorithm: Backward, toggles: &[(u64, Backward)], steps: u64) -> Session {
    let mut s = Session::new(model.clone(), algorithm);
    loop {
        for &(t, v) in toggles {
            if t == s.steps() {
                s.set_algorithm(v);
            }
        }
        if s.steps() >= steps {
            return s;
        }
        s.step();
    }
}

/// The steps a coarse command takes by micro-steps alone: until its goal, or a breakpoint.
fn micro_command(mut s: Session, toggles: &[(u64, Backward)], goal: bptui::control::Goal, b: &Breakpoints) -> u64 {
    let had = s.first_non_finite().is_some();
    loop {
        for &(t, v) in toggles {
            if t == s.steps() {
                s.set_algorithm(v);
            }
        }
        let event = s.step();
        if goal.done(&s, event) || b.hit(&s, event, had, &|_, _| None).is_some() {
            return s.steps();
        }
    }
}

use bptui::control::Breakpoints;
use proptest::prelude::*;

/// Runs `cmds` in the debugger and checks, after each, that the session is bit for bit the one
/// the micro-steps reach, at the step where the micro-steps alone would have stopped.
fn agrees_with_micro_steps(model: &Model, algorithm: Backward, cmds: &[Cmd], what: &str) -> Result<(), TestCaseError> {
    let mut d = Debugger::new(Session::new(model.clone(), algorithm));
    let mut toggles: Vec<(u64, Backward)> = Vec::new();
    let total = {
        let mut s = Session::new(model.clone(), algorithm);
        s.run_to_end();
        s.steps()
    };
    for (i, c) in cmds.iter().enumerate() {
        let expected_steps = match c {
            Cmd::Steps(k) => {
                for _ in 0..*k {
                    d.step();
                }
                None
            }
            Cmd::Finish(_) | Cmd::Continue if d.session().phase() != Phase::Finished => {
                let finish = match c {
                    Cmd::Finish(0) => Finish::Phase,
                    Cmd::Finish(1) => Finish::Example,
                    Cmd::Finish(2) => Finish::Epoch,
                    Cmd::Finish(_) => Finish::Run,
                    _ => Finish::Continue,
                };
                let goal = bptui::control::Goal::from(d.session(), finish, None);
                let steps = micro_command(d.session().clone(), &toggles, goal, d.breakpoints());
                prop_assert!(d.start(finish));
                d.wait();
                Some(steps)
            }
            Cmd::Finish(_) | Cmd::Continue => None,
            Cmd::Go(at) => {
                let steps = (total as f64 * at) as u64;
                let target = Spot::of(&micro_stepped(model, algorithm, &toggles, steps));
                let goal = bptui::control::Goal::from(d.session(), Finish::Goto, Some(target));
                let ahead = micro_command(d.session().clone(), &toggles, goal, d.breakpoints());
                match d.go(target) {
                    Travel::Back(back) => {
                        d.rewind(back);
                        toggles.retain(|&(t, _)| t < back);
                        prop_assert_eq!(Spot::of(d.session()), target, "{}: command {} {:?}", what, i, c);
                        None
                    }
                    // Going ahead stops at a breakpoint on the way, as the micro-steps do.
                    Travel::Ahead => {
                        d.wait();
                        Some(ahead)
                    }
                    _ => None,
                }
            }
            Cmd::Toggle => {
                let v = d.toggle_algorithm();
                toggles.push((d.session().steps(), v));
                None
            }
            Cmd::Break(k, t) => {
                // Built as the prompt builds them (`break J > t`, `break node z`, …), not parsed:
                // a random graph's node names (`sin(u) + 3 * u`) are not all words of the prompt.
                let g = d.session().graph();
                let (loss, last) = (g.loss(), g.len() - 2);
                let threshold =
                    |node, kind, measure, above| Condition::Threshold { node, kind, measure, above, limit: *t };
                let c = match k {
                    0 => Condition::NonFinite,
                    1 => threshold(loss, Kind::Value, Measure::Entry, true),
                    2 => Condition::Node(last),
                    3 => threshold(last, Kind::Adjoint, Measure::Norm, true),
                    4 => threshold(loss, Kind::Value, Measure::Entry, false),
                    _ => threshold(loss, Kind::Value, Measure::Norm, true),
                };
                d.breakpoints_mut().toggle(c);
                None
            }
        };
        let s = d.session();
        if let Some(steps) = expected_steps {
            prop_assert_eq!(s.steps(), steps, "{}: command {} {:?} stops where the micro-steps stop", what, i, c);
        }
        let micro = micro_stepped(model, algorithm, &toggles, s.steps());
        prop_assert_eq!(everything(s), everything(&micro), "{}: after command {} {:?}", what, i, c);
    }
    Ok(())
}

proptest! {
    // PROPTEST_CASES raises the count for a longer search (500 before a change lands).
    #![proptest_config(ProptestConfig { cases: crate::proptest_cases(48), ..ProptestConfig::default() })]

    /// The coarse commands on the fast kernels land where the micro-steps land, bit for bit,
    /// on random networks (sparse and dense data, SGD and Adagrad, learning rates that
    /// overflow) with breakpoints set at random.
    #[test]
    fn coarse_commands_land_where_the_micro_steps_land(
        net in crate::fast_run::net(),
        cmds in prop::collection::vec(cmd(), 1..12),
        a in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("random.yaml");
        let yaml = net.yaml();
        std::fs::write(&path, &yaml).unwrap();
        let model = Model::load(&path).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        agrees_with_micro_steps(&model, if a { Backward::A } else { Backward::B }, &cmds, &yaml)?;
    }

    /// The same on the bundled models.
    #[test]
    fn coarse_commands_on_the_bundled_models(
        which in 0usize..5,
        cmds in prop::collection::vec(cmd(), 1..8),
    ) {
        let name = ["two_layer.yaml", "two_hidden.yaml", "logistic_regression.yaml", "quiz1.yaml", "simple.yaml"][which];
        agrees_with_micro_steps(&model(name), Backward::B, &cmds, name)?;
    }
}
