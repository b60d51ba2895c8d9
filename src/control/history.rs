//! Time travel: going back to any earlier point of a run, bit for bit as it was.
//!
//! A run is deterministic, so the history keeps only checkpoints and replays forward from the
//! nearest one. The first checkpoint is the whole state at the start; the others are light
//! (the parameters and the position at an example's start, [`Session::light_checkpoint`]),
//! every `every` examples, the spacing chosen from the model's size so that a whole run's
//! fit the budget. A replay runs whole examples on the fast kernels up to the example before
//! the point asked for, and micro-steps from there: the point's screen (which shows what the
//! example before left) is then the micro-steps' own. When the checkpoints outgrow their
//! budget anyway, every other one is dropped and the spacing doubles.

use crate::engine::Backward;
use crate::session::{Checkpoint, Examples, Phase, Ran, Session};

use super::goal::Spot;

/// The checkpoints of one run and the choices of backward version made along it.
#[derive(Clone)]
pub struct History {
    checkpoints: Vec<Checkpoint>,
    /// Examples between checkpoints.
    every: usize,
    /// Bytes the checkpoints may hold (the first one always stays).
    budget: usize,
    /// Bytes they hold (kept as they come and go: summing them at every example would cost
    /// as much as the example).
    bytes: usize,
    /// (steps, version): `a` pressed when the session had taken that many steps.
    toggles: Vec<(u64, Backward)>,
}

impl History {
    /// 64 MiB of checkpoints by default.
    pub const BUDGET: usize = 64 << 20;

    /// The history of a run that starts at `session`.
    pub fn new(session: &Session, budget: usize) -> History {
        let first = session.checkpoint();
        let every = spacing(session, budget.saturating_sub(first.bytes()));
        History { bytes: first.bytes(), checkpoints: vec![first], every, budget, toggles: Vec::new() }
    }

    /// Whether [`History::observe`] keeps a checkpoint of `s` (the fast path then hands the
    /// parameters back to the session first).
    pub fn due(&self, s: &Session) -> bool {
        s.phase() == Phase::Forward
            && s.index() == 0
            && s.examples_begun().is_multiple_of(self.every)
            && self.checkpoints.last().is_none_or(|c| c.steps() < s.steps())
    }

    /// Called after every step (and every example run whole): keeps a checkpoint at the start
    /// of every `every`-th example.
    pub fn observe(&mut self, s: &Session) {
        if !self.due(s) {
            return;
        }
        let c = s.light_checkpoint();
        self.bytes += c.bytes();
        self.checkpoints.push(c);
        while self.bytes > self.budget && self.checkpoints.len() > 2 {
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
            self.bytes = self.checkpoints.iter().map(Checkpoint::bytes).sum();
        }
    }

    /// Chooses the backward version for the next backward phase, remembered for replays.
    pub fn set_algorithm(&mut self, s: &mut Session, algorithm: Backward) {
        self.toggles.push((s.steps(), algorithm));
        s.set_algorithm(algorithm);
    }

    /// Bytes the checkpoints hold.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn checkpoints(&self) -> usize {
        self.checkpoints.len()
    }

    /// Examples between checkpoints now.
    pub fn spacing(&self) -> usize {
        self.every
    }

    /// Puts `s` back to the point where it had taken `steps` micro-steps (at most its steps
    /// now), exactly as it was then: from the nearest checkpoint that serves it, replaying.
    /// What came after that point is forgotten (a new timeline starts there).
    pub fn rewind(&mut self, s: &mut Session, steps: u64) {
        let steps = steps.min(s.steps());
        let example = example_at(s, steps);
        let at = self
            .checkpoints
            .iter()
            .rposition(|c| c.steps() <= steps && (!c.is_light() || c.examples_begun(s.examples_per_epoch()) < example))
            .unwrap_or(0);
        s.restore(&self.checkpoints[at]);
        self.replay(s, steps, example);
        self.checkpoints.retain(|c| c.steps() <= steps);
        self.bytes = self.checkpoints.iter().map(Checkpoint::bytes).sum();
        self.toggles.retain(|&(t, _)| t < steps);
    }

    /// Puts `s` back to where it had taken `steps` micro-steps, as [`History::rewind`], but
    /// keeps a choice of version made at exactly that point: the same point computed again
    /// (the worker's exact replay of what the fast path ran), not a going back.
    pub fn recompute(&mut self, s: &mut Session, steps: u64) {
        let chosen: Vec<Backward> = self.toggles.iter().filter(|&&(t, _)| t == steps).map(|&(_, v)| v).collect();
        self.rewind(s, steps);
        for v in chosen {
            self.set_algorithm(s, v);
        }
    }

    /// Steps `s` on to `steps`: examples before the one before `example` whole, on the fast
    /// kernels (but one with a choice of version in it), the rest in micro-steps.
    fn replay(&self, s: &mut Session, steps: u64, example: usize) {
        let per_example = steps_per_example(s);
        let mut fast = Examples::new(s);
        while s.steps() < steps {
            self.apply_toggles(s);
            if let Some(f) = fast.as_mut() {
                let ahead = s.examples_begun() + 1 < example && !self.toggled_within(s.steps(), per_example);
                if ahead && f.example(s) == Ran::Whole {
                    continue;
                }
                if s.phase() == Phase::Evaluate && s.steps() < steps && f.evaluate(s).is_some() {
                    continue;
                }
                f.store(s);
            }
            s.step();
        }
        if let Some(f) = fast.as_mut() {
            f.store(s);
        }
    }

    /// Whether `a` was pressed within the `n` steps from `from` on.
    fn toggled_within(&self, from: u64, n: u64) -> bool {
        self.toggles.iter().any(|&(t, _)| t >= from && t < from + n)
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

/// Micro-steps one example takes: its forward, backward and update steps (the same in every
/// example, and in both versions).
fn steps_per_example(s: &Session) -> u64 {
    let g = s.graph();
    (g.forward_order().len() + g.backward_order().len() + g.params().len()) as u64
}

/// Examples begun when the run had taken `steps` micro-steps (an epoch's evaluation counts
/// as its last example's), so that a replay knows which example's leftovers it shows.
pub(super) fn example_at(s: &Session, steps: u64) -> usize {
    let (per_example, n) = (steps_per_example(s), s.examples_per_epoch() as u64);
    if per_example == 0 || s.model().train_data().is_none() {
        return 0;
    }
    let per_epoch = n * per_example + 1;
    let (epoch, within) = (steps / per_epoch, steps % per_epoch);
    (epoch * n + (within / per_example).min(n)) as usize
}

/// The steps count at `spot`, for a run with training data (`None` without: then there is no
/// fixed count of steps per example to go by).
pub fn steps_at(s: &Session, spot: Spot) -> Option<u64> {
    s.model().train_data()?;
    let g = s.graph();
    let (f, b) = (g.forward_order().len() as u64, g.backward_order().len() as u64);
    let (per_example, n) = (steps_per_example(s), s.examples_per_epoch() as u64);
    let epoch = (spot.epoch as u64).checked_sub(1)? * (n * per_example + 1);
    let index = spot.index as u64;
    let within = match spot.phase {
        0 => spot.example as u64 * per_example + index,
        1 => spot.example as u64 * per_example + f + index,
        2 => spot.example as u64 * per_example + f + b + index,
        3 => n * per_example + index,
        _ => return None,
    };
    Some(epoch + within)
}

/// Examples between checkpoints for `s`'s run: as many light checkpoints as the budget holds
/// over the whole run, so that a replay from the nearest one runs as few examples as the
/// memory allows (on an MNIST-sized network one every 1,300 examples, about 70 ms at worst);
/// but never so close that copying a checkpoint costs more than the examples between two.
fn spacing(s: &Session, budget: usize) -> usize {
    let bytes = s.light_checkpoint_bytes().max(1);
    let run = s.epochs().saturating_mul(s.examples_per_epoch()).max(1);
    let room = (budget / bytes).max(1);
    let cheap = CHECKPOINT_EVERY_NUMBERS.div_ceil(bytes / 8 + 1).min(CHECKPOINT_EVERY_AT_MOST);
    run.div_ceil(room).max(cheap).max(1)
}

/// The floor above never spaces checkpoints wider than this: on a network of a few dozen
/// numbers an example's cost is the nodes', not the parameters', and 4,096 of them replay in
/// under 50 ms (two_hidden's, the slowest bundled per example), where the floor alone would
/// space them 43,000 apart (half a second).
const CHECKPOINT_EVERY_AT_MOST: usize = 4096;

/// A checkpoint copies the parameters (and the fast path writes back and takes again the ones
/// it keeps transposed): the examples between two checkpoints times the numbers a checkpoint
/// holds are at least this many. On the homework network that is one every 3,700 examples,
/// replayed in under 10 ms.
const CHECKPOINT_EVERY_NUMBERS: usize = 1 << 21;
