//! Time travel: going back to any earlier point of a run, bit for bit as it was.
//!
//! A run is deterministic, so the history keeps only checkpoints (the session's state without
//! its model, every `every` examples) and replays forward from the nearest one. When the
//! checkpoints outgrow their budget, every other one is dropped and the spacing doubles, so
//! memory stays bounded on any run while a replay stays a few examples long.

use crate::engine::Backward;
use crate::session::{Checkpoint, Phase, Session};

/// The checkpoints of one run and the choices of backward version made along it.
#[derive(Clone)]
pub struct History {
    checkpoints: Vec<Checkpoint>,
    /// Examples between checkpoints.
    every: usize,
    /// Bytes the checkpoints may hold (the first one always stays).
    budget: usize,
    /// (steps, version): `a` pressed when the session had taken that many steps.
    toggles: Vec<(u64, Backward)>,
}

impl History {
    /// 64 MiB of checkpoints by default.
    pub const BUDGET: usize = 64 << 20;

    /// The history of a run that starts at `session`.
    pub fn new(session: &Session, budget: usize) -> History {
        History { checkpoints: vec![session.checkpoint()], every: 1, budget, toggles: Vec::new() }
    }

    /// Called after every step: keeps a checkpoint at the start of every `every`-th example.
    pub fn observe(&mut self, s: &Session) {
        if s.phase() != Phase::Forward || s.index() != 0 || !s.examples_begun().is_multiple_of(self.every) {
            return;
        }
        if self.checkpoints.last().is_some_and(|c| c.steps() >= s.steps()) {
            return;
        }
        self.checkpoints.push(s.checkpoint());
        while self.bytes() > self.budget && self.checkpoints.len() > 2 {
            self.every *= 2;
            let every = self.every;
            let mut kept = Vec::with_capacity(self.checkpoints.len() / 2 + 1);
            for (i, c) in std::mem::take(&mut self.checkpoints).into_iter().enumerate() {
                let begun = c.examples_begun(s.examples_per_epoch());
                if i == 0 || begun.is_multiple_of(every) {
                    kept.push(c);
                }
            }
            self.checkpoints = kept;
        }
    }

    /// Chooses the backward version for the next backward phase, remembered for replays.
    pub fn set_algorithm(&mut self, s: &mut Session, algorithm: Backward) {
        self.toggles.push((s.steps(), algorithm));
        s.set_algorithm(algorithm);
    }

    /// Bytes the checkpoints hold.
    pub fn bytes(&self) -> usize {
        self.checkpoints.iter().map(Checkpoint::bytes).sum()
    }

    pub fn checkpoints(&self) -> usize {
        self.checkpoints.len()
    }

    /// Examples between checkpoints now.
    pub fn spacing(&self) -> usize {
        self.every
    }

    /// Puts `s` back to the point where it had taken `steps` micro-steps (at most its steps
    /// now), exactly as it was then: from the nearest checkpoint, replaying. What came after
    /// that point is forgotten (a new timeline starts there).
    pub fn rewind(&mut self, s: &mut Session, steps: u64) {
        let steps = steps.min(s.steps());
        let at = self.checkpoints.iter().rposition(|c| c.steps() <= steps).unwrap_or(0);
        s.restore(&self.checkpoints[at]);
        while s.steps() < steps {
            self.apply_toggles(s);
            s.step();
        }
        self.checkpoints.retain(|c| c.steps() <= steps);
        self.toggles.retain(|&(t, _)| t < steps);
    }

    /// Replays a choice of version made at this many steps.
    fn apply_toggles(&self, s: &mut Session) {
        for &(t, algorithm) in &self.toggles {
            if t == s.steps() {
                s.set_algorithm(algorithm);
            }
        }
    }

    /// The steps count at which `done` first holds, replaying from the latest checkpoint at
    /// which it does not (`None` when it holds at none of the run so far, up to `s`'s steps).
    pub fn steps_when(&self, s: &Session, done: impl Fn(&Session) -> bool) -> Option<u64> {
        let mut probe = s.clone();
        let Some(first) = self.checkpoints.iter().rposition(|c| {
            probe.restore(c);
            !done(&probe)
        }) else {
            // It holds from the very start.
            return Some(self.checkpoints.first()?.steps());
        };
        probe.restore(&self.checkpoints[first]);
        while probe.steps() < s.steps() {
            self.apply_toggles(&mut probe);
            probe.step();
            if done(&probe) {
                return Some(probe.steps());
            }
        }
        None
    }
}
