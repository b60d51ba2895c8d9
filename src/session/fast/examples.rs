//! The fast path one example at a time, for the debugger's coarse commands (`E`, `R`, `c`,
//! going ahead, the replay of going back): between two examples the caller decides whether the
//! next one runs here or in micro-steps (the last one before its goal, one a checkpoint is taken
//! after, one a breakpoint must watch).
//!
//! An example run here leaves the parameters, optimizer state, losses, metrics, step count and
//! first NaN/Inf as the micro-steps would, but not the workspace's intermediate values and
//! adjoints nor [`Session::param_before`] (see the fast path's notes): the caller micro-steps
//! the example whose leftovers are shown or kept.

use std::sync::Arc;

use crate::model::Model;
use crate::session::{Event, Phase, Session};

use super::{Buffers, FusedState, Outcome, Plan, Scorer};

/// What [`Examples::example`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// Nothing: the session is not at an example's start, or a number is not finite (the
    /// micro-steps then find where).
    No,
    /// The example, whole; the session stands at the next one's start (or the evaluation).
    Whole,
    /// The example met a number that is not finite, or one a bound cannot rule out: the
    /// session stands inside it where the micro-steps take over, exactly as they would stand.
    Handed,
}

/// The fast path's plan and its running state for one session, kept across examples (loading
/// it transposes the weight matrices the features feed).
pub struct Examples {
    model: Arc<Model>,
    plan: Plan,
    states: Vec<FusedState>,
    buf: Buffers,
    /// Whether `states` holds the session's parameters (false after the micro-steps moved them).
    loaded: bool,
}

impl Examples {
    /// The fast path for `s`; `None` for a model without training data (nothing to run fast).
    pub fn new(s: &Session) -> Option<Examples> {
        s.model.train_data()?;
        let plan = Plan::new(s);
        Some(Examples { model: s.model.clone(), plan, states: Vec::new(), buf: Buffers::default(), loaded: false })
    }

    /// Whether the fast path may run the session's next step: its parameters and every
    /// number so far are finite. While the fast path holds the parameters they were finite
    /// when it took them, and an update that made one not finite set the first NaN/Inf, so
    /// they are not read again (235,000 of them on an MNIST-sized network cost as much as an
    /// example).
    fn may_run(&self, s: &Session) -> bool {
        s.now.first_non_finite.is_none() && (self.loaded || s.params_finite())
    }

    fn load(&mut self, s: &Session) {
        if !self.loaded {
            self.states = self.plan.load(s);
            self.loaded = true;
        }
    }

    /// Hands the parameters back to the session (before it is micro-stepped or read).
    pub fn store(&mut self, s: &mut Session) {
        if self.loaded {
            self.plan.store(&self.states, s);
            self.loaded = false;
        }
    }

    /// Runs the example the session stands at the start of, whole.
    pub fn example(&mut self, s: &mut Session) -> Ran {
        if s.now.phase != Phase::Forward || s.now.index != 0 || !self.may_run(s) {
            return Ran::No;
        }
        self.load(s);
        match s.fast_example(&self.model, &self.plan, &mut self.states, &mut self.buf) {
            Outcome::Done => Ran::Whole,
            outcome => {
                self.store(s);
                s.hand_over(outcome);
                Ran::Handed
            }
        }
    }

    /// The epoch's evaluation, with `run`'s scorer (the same metrics as the micro-step's),
    /// when the session stands at it and its parameters are finite.
    pub fn evaluate(&mut self, s: &mut Session) -> Option<Event> {
        if s.now.phase != Phase::Evaluate || !self.may_run(s) {
            return None;
        }
        self.load(s);
        self.plan.store(&self.states, s);
        // The rows shared between two threads, as `run`'s last evaluation: the same means.
        let (train, test) = Scorer::new(s, &self.plan, &self.states).score_split();
        let event = s.finish_evaluation(train, test);
        s.now.steps += 1;
        s.skip_empty_phases();
        Some(event)
    }
}
