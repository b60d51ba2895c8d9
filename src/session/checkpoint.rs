//! A checkpoint: the session's state at one step, to go back to it (time travel replays from
//! the nearest one). What a checkpoint holds is the session's own fields but the model, which
//! is shared, and the loss and metric histories, which only grow and are cut back to a length.

use ndarray::ArrayD;

use super::{NonFinite, Phase, Session};
use crate::engine::{Backward, Workspace};

/// Everything of a session but its model and its (append-only) loss and metric histories,
/// whose lengths are kept instead.
#[derive(Clone)]
pub struct Checkpoint {
    ws: Workspace,
    algorithm: Backward,
    next_algorithm: Backward,
    optimizer_state: Vec<ArrayD<f64>>,
    param_before: Vec<ArrayD<f64>>,
    epoch: usize,
    example: usize,
    phase: Phase,
    index: usize,
    metrics: usize,
    losses: usize,
    first_non_finite: Option<NonFinite>,
    steps: u64,
}

impl Checkpoint {
    /// Micro-steps the session had taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Examples begun when it was taken, with `per_epoch` examples to an epoch.
    pub fn examples_begun(&self, per_epoch: usize) -> usize {
        (self.epoch - 1) * per_epoch + self.example
    }

    /// Memory it holds, in bytes.
    pub fn bytes(&self) -> usize {
        let arrays = |v: &[ArrayD<f64>]| v.iter().map(|a| a.len() * 8).sum::<usize>();
        arrays(&self.ws.values) + arrays(&self.ws.adjoints) + arrays(&self.optimizer_state) + arrays(&self.param_before)
    }
}

impl Session {
    /// The session's state now.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            ws: self.ws.clone(),
            algorithm: self.algorithm,
            next_algorithm: self.next_algorithm,
            optimizer_state: self.optimizer_state.clone(),
            param_before: self.param_before.clone(),
            epoch: self.epoch,
            example: self.example,
            phase: self.phase,
            index: self.index,
            metrics: self.metrics.len(),
            losses: self.losses.len(),
            first_non_finite: self.first_non_finite.clone(),
            steps: self.steps,
        }
    }

    /// Puts the session back to a checkpoint taken earlier in this same run.
    pub fn restore(&mut self, c: &Checkpoint) {
        self.ws.clone_from(&c.ws);
        self.algorithm = c.algorithm;
        self.next_algorithm = c.next_algorithm;
        self.optimizer_state.clone_from(&c.optimizer_state);
        self.param_before.clone_from(&c.param_before);
        if self.epoch != c.epoch || self.order.is_empty() {
            self.order = self.epoch_order(c.epoch);
        }
        self.epoch = c.epoch;
        self.example = c.example;
        self.phase = c.phase;
        self.index = c.index;
        self.metrics.truncate(c.metrics);
        self.losses.truncate(c.losses);
        self.first_non_finite.clone_from(&c.first_non_finite);
        self.steps = c.steps;
    }

    /// Examples begun since the run started (the current one included), for spacing checkpoints.
    pub fn examples_begun(&self) -> usize {
        (self.epoch - 1) * self.examples_per_epoch + self.example
    }
}
