//! Run control without a screen: the debugger's core driven headless, as the TUI drives it.
//! Each coarse command must land on the state the micro-steps reach, bit for bit.

use std::path::PathBuf;

use bptui::control::command::{self, Command, Sizes};
use bptui::control::{Condition, Debugger, Ended, Finish, Spot, Travel};
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
