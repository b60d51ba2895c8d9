//! A checkpoint: the session's state at one step, to go back to it (time travel replays from
//! the nearest one). A full checkpoint is the session's own [`State`] (everything a step
//! changes) with the lengths of the loss and metric histories, which only grow and are cut
//! back to them; the model is shared and the epoch's order is rebuilt from the epoch.
//!
//! A light checkpoint, taken at the start of an example, keeps only what the run goes on from:
//! the parameters (and Adagrad's sums), the position and the histories' lengths. What the
//! screen shows of the example before (its values, adjoints, the parameters before its
//! update) is not in it, so it serves only points from the example after it on, which a replay
//! reaches by micro-stepping the example before them.

use ndarray::ArrayD;

use crate::engine::optim::Optimizer;
use crate::engine::Workspace;

use super::{Session, State};

/// The session as it was at one step.
#[derive(Clone)]
pub struct Checkpoint {
    state: State,
    light: bool,
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

    /// Whether it holds only what the run goes on from (see the module's notes).
    pub fn is_light(&self) -> bool {
        self.light
    }

    /// Memory it holds, in bytes.
    pub fn bytes(&self) -> usize {
        let arrays = |v: &[ArrayD<f64>]| v.iter().map(|a| a.len() * 8).sum::<usize>();
        let s = &self.state;
        arrays(&s.ws.values) + arrays(&s.ws.adjoints) + arrays(&s.optimizer_state) + arrays(&s.param_before)
    }
}

impl Session {
    /// The session's state now.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { state: self.now.clone(), light: false, metrics: self.metrics.len(), losses: self.losses.len() }
    }

    /// Whether the optimizer keeps a state of its own (Adagrad's sums; SGD's stays 0).
    fn optimizer_keeps_state(&self) -> bool {
        matches!(self.model.config().optimizer, Optimizer::Adagrad { .. })
    }

    /// The bytes a light checkpoint of this session holds (for spacing them).
    pub fn light_checkpoint_bytes(&self) -> usize {
        let params: usize = self.graph().params().iter().map(|&p| self.now.ws.values[p].len() * 8).sum();
        if self.optimizer_keeps_state() {
            2 * params
        } else {
            params
        }
    }

    /// What the run goes on from, at the start of an example (see the module's notes).
    pub fn light_checkpoint(&self) -> Checkpoint {
        let graph = self.graph();
        let empty = || ArrayD::zeros(ndarray::IxDyn(&[0]));
        let mut values: Vec<ArrayD<f64>> = (0..graph.len()).map(|_| empty()).collect();
        for &p in graph.params() {
            values[p] = self.now.ws.values[p].clone();
        }
        let state = State {
            ws: Workspace { values, adjoints: Vec::new() },
            optimizer_state: if self.optimizer_keeps_state() { self.now.optimizer_state.clone() } else { Vec::new() },
            param_before: Vec::new(),
            first_non_finite: self.now.first_non_finite.clone(),
            ..self.now.shallow()
        };
        Checkpoint { state, light: true, metrics: self.metrics.len(), losses: self.losses.len() }
    }

    /// Puts the session back to a checkpoint taken earlier in this same run. After a light one
    /// only the parameters, the optimizer's state and the position are as they were.
    pub fn restore(&mut self, c: &Checkpoint) {
        if self.now.epoch != c.state.epoch || self.order.is_empty() {
            self.order = self.epoch_order(c.state.epoch);
        }
        if c.light {
            // The position from the checkpoint; the arrays stay, the parameters taken back.
            let mut now = c.state.shallow();
            now.first_non_finite.clone_from(&c.state.first_non_finite);
            now.ws = std::mem::replace(&mut self.now.ws, Workspace { values: Vec::new(), adjoints: Vec::new() });
            now.optimizer_state = std::mem::take(&mut self.now.optimizer_state);
            now.param_before = std::mem::take(&mut self.now.param_before);
            self.now = now;
            for &p in self.model.graph().params() {
                self.now.ws.values[p].assign(&c.state.ws.values[p]);
            }
            if !c.state.optimizer_state.is_empty() {
                self.now.optimizer_state.clone_from(&c.state.optimizer_state);
            }
        } else {
            self.now.clone_from(&c.state);
        }
        self.metrics.truncate(c.metrics);
        self.losses.truncate(c.losses);
    }

    /// Examples begun since the run started (the current one included), for spacing checkpoints.
    pub fn examples_begun(&self) -> usize {
        (self.now.epoch - 1) * self.examples_per_epoch + self.now.example
    }
}

impl State {
    /// The position and the versions, with no arrays (to be filled in).
    fn shallow(&self) -> State {
        State {
            ws: Workspace { values: Vec::new(), adjoints: Vec::new() },
            algorithm: self.algorithm,
            next_algorithm: self.next_algorithm,
            optimizer_state: Vec::new(),
            param_before: Vec::new(),
            epoch: self.epoch,
            example: self.example,
            phase: self.phase,
            index: self.index,
            first_non_finite: None,
            steps: self.steps,
        }
    }
}
