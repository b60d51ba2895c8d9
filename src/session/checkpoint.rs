//! A checkpoint: the session's state at one step, to go back to it (time travel replays from
//! the nearest one). It is the session's own [`State`] (everything a step changes), with the
//! lengths of the loss and metric histories, which only grow and are cut back to them; the
//! model is shared and the epoch's order is rebuilt from the epoch.

use super::{Session, State};

/// The session as it was at one step.
#[derive(Clone)]
pub struct Checkpoint {
    state: State,
    metrics: usize,
    losses: usize,
}

impl Checkpoint {
    /// Micro-steps the session had taken.
    pub fn steps(&self) -> u64 {
        self.state.steps
    }

    /// Examples begun when it was taken, with `per_epoch` examples to an epoch.
    pub fn examples_begun(&self, per_epoch: usize) -> usize {
        (self.state.epoch - 1) * per_epoch + self.state.example
    }

    /// Memory it holds, in bytes.
    pub fn bytes(&self) -> usize {
        let arrays = |v: &[ndarray::ArrayD<f64>]| v.iter().map(|a| a.len() * 8).sum::<usize>();
        let s = &self.state;
        arrays(&s.ws.values) + arrays(&s.ws.adjoints) + arrays(&s.optimizer_state) + arrays(&s.param_before)
    }
}

impl Session {
    /// The session's state now.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { state: self.now.clone(), metrics: self.metrics.len(), losses: self.losses.len() }
    }

    /// Puts the session back to a checkpoint taken earlier in this same run.
    pub fn restore(&mut self, c: &Checkpoint) {
        if self.now.epoch != c.state.epoch || self.order.is_empty() {
            self.order = self.epoch_order(c.state.epoch);
        }
        self.now.clone_from(&c.state);
        self.metrics.truncate(c.metrics);
        self.losses.truncate(c.losses);
    }

    /// Examples begun since the run started (the current one included), for spacing checkpoints.
    pub fn examples_begun(&self) -> usize {
        (self.now.epoch - 1) * self.examples_per_epoch + self.now.example
    }
}
