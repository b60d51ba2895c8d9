//! Where a coarse command stops: a [`Spot`] in the run, and the [`Goal`] of `f`, `X`, `E`, `R`,
//! `c`, `d` and go-to, checked after every step the worker takes.

use crate::diff::{Divergence, Section};
use crate::session::{Event, Phase, Session};

/// A coarse command that may take many steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Phase,
    Example,
    Epoch,
    Run,
    /// Until the value `d` found to differ from THEIRS has just been computed.
    Divergence,
    /// `c`: until a breakpoint's condition holds.
    Continue,
    /// To a point the prompt named (`g e 2 x 17`).
    Goto,
}

impl Finish {
    pub fn label(self) -> &'static str {
        match self {
            Finish::Phase => "finishing the phase",
            Finish::Example => "finishing the example",
            Finish::Epoch => "finishing the epoch",
            Finish::Run => "running to the end",
            Finish::Divergence => "running to the divergence",
            Finish::Continue => "continuing to a breakpoint",
            Finish::Goto => "going there",
        }
    }

    /// Examples the command will complete from `s`, for its gauge.
    pub fn examples_to_go(self, s: &Session) -> usize {
        let n = s.examples_per_epoch();
        let in_epoch = if matches!(s.phase(), Phase::Evaluate | Phase::Finished) { 0 } else { n - s.example() };
        match self {
            Finish::Phase | Finish::Example => in_epoch.min(1),
            Finish::Epoch => in_epoch,
            // `c` counts the evaluation of the current epoch as one more example's worth.
            Finish::Continue => n * (s.epochs() - s.epoch() + 1) - s.example(),
            Finish::Run | Finish::Divergence | Finish::Goto => in_epoch + (s.epochs() - s.epoch()) * n,
        }
    }
}

/// Where a coarse command stops: the position it started from and what it finishes.
#[derive(Debug, Clone, Copy)]
pub struct Goal {
    finish: Finish,
    epoch: usize,
    example: usize,
    phase: Phase,
    /// For [`Finish::Divergence`] and [`Finish::Goto`]: the spot to reach.
    target: Option<Spot>,
}

impl Goal {
    pub fn from(s: &Session, finish: Finish, target: Option<Spot>) -> Goal {
        Goal { finish, epoch: s.epoch(), example: s.example(), phase: s.phase(), target }
    }

    pub fn finish(&self) -> Finish {
        self.finish
    }

    /// The start of the last example the micro-steps must run before the goal (where the
    /// command stops, the screen shows what that example left: its values, adjoints and the
    /// parameters before its update); the examples before it may run whole on the fast
    /// kernels. `None` when none may.
    pub fn fast_until(&self, s: &Session) -> Option<Spot> {
        let n = s.examples_per_epoch();
        let start = |epoch, example| Spot { epoch, example, phase: 0, index: 0 };
        match self.finish {
            Finish::Phase | Finish::Example => None,
            Finish::Epoch if self.phase == Phase::Evaluate => None,
            Finish::Epoch => Some(start(self.epoch, n.checked_sub(1)?)),
            Finish::Run | Finish::Continue => Some(start(s.epochs(), n.checked_sub(1)?)),
            Finish::Divergence | Finish::Goto => {
                let t = self.target?;
                match (t.example, t.epoch) {
                    (0, 1) => None,
                    (0, e) => Some(start(e - 1, n.checked_sub(1)?)),
                    (x, e) => Some(start(e, x - 1)),
                }
            }
        }
    }

    /// Whether the coarse command is complete after a step that produced `event`.
    pub fn done(&self, s: &Session, event: Event) -> bool {
        if s.phase() == Phase::Finished {
            return true;
        }
        let moved = s.epoch() != self.epoch || s.example() != self.example;
        match self.finish {
            Finish::Phase => s.phase() != self.phase || moved,
            Finish::Example if self.phase == Phase::Evaluate => s.phase() != self.phase || moved,
            Finish::Example => moved || s.phase() == Phase::Evaluate,
            Finish::Epoch => matches!(event, Event::Evaluated { .. }),
            Finish::Run => false,
            Finish::Divergence | Finish::Goto => self.target.is_none_or(|spot| Spot::of(s) >= spot),
            Finish::Continue => false,
        }
    }
}

/// A position in the run, ordered as the steps go: epoch, example (from 0), phase, and the
/// steps done in that phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Spot {
    pub epoch: usize,
    pub example: usize,
    pub phase: u8,
    pub index: usize,
}

impl Spot {
    /// Where the session stands.
    pub fn of(s: &Session) -> Spot {
        let phase = match s.phase() {
            Phase::Forward => 0,
            Phase::Backward => 1,
            Phase::Update => 2,
            Phase::Evaluate => 3,
            Phase::Finished => {
                return Spot { epoch: usize::MAX, example: usize::MAX, phase: u8::MAX, index: usize::MAX }
            }
        };
        Spot { epoch: s.epoch(), example: s.example(), phase, index: s.index() }
    }

    /// The spot right after the step that computes the value `d` found to differ: the node's
    /// forward step, its backward step, or the parameter's update (the start of the example
    /// for a data-order divergence, the end of the epoch for an epoch metric).
    pub fn after(d: &Divergence, s: &Session) -> Spot {
        let g = s.graph();
        let Some(example) = d.example else {
            return Spot { epoch: d.epoch, example: s.examples_per_epoch().saturating_sub(1), phase: 3, index: 1 };
        };
        let after = |p: Option<usize>| p.map_or(0, |p| p + 1);
        let (phase, index) = match d.value().map(|(section, name)| (section, g.find(name))) {
            None | Some((_, None)) => (0, 0),
            Some((Section::Forward, Some(id))) => (0, after(g.forward_position(id))),
            Some((Section::Adjoint, Some(id))) => {
                // Where the adjoint is final (Version B: after its last consumer's push).
                let this_example = d.epoch == s.epoch() && example == s.position().example;
                let version = if this_example { s.backward_version() } else { s.next_algorithm() };
                (1, g.adjoint_final_after(id, version).unwrap_or(0))
            }
            Some((Section::Param, Some(id))) => (2, after(g.param_index(id))),
        };
        Spot { epoch: d.epoch, example: example - 1, phase, index }
    }

    /// Examples from `self` to `target`, for a gauge.
    pub fn examples_to(self, target: Spot, per_epoch: usize) -> usize {
        (target.epoch.saturating_sub(self.epoch) * per_epoch + target.example).saturating_sub(self.example)
    }
}
