//! A coarse command in progress: a worker thread steps a copy of the session until the goal is
//! reached, a breakpoint holds or the command is cancelled, then hands the copy back. The UI
//! meanwhile draws the session as it was when the command started, and reads the worker's
//! progress for its gauge.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use crate::diff::{Divergence, Theirs};
use crate::session::{Event, Examples, Phase, Ran, Session};

use super::breakpoints::{Breakpoints, Condition, Stop};
use super::goal::{Finish, Goal, Spot};
use super::history::{self, History};

/// What a worker checks after every step besides its goal.
#[derive(Clone, Default)]
pub struct Watchers {
    /// Checked by every coarse command but `d`.
    pub breakpoints: Option<Breakpoints>,
    /// For the `diverge` breakpoint: their trace and the tolerance.
    pub against: Option<(Arc<Theirs>, f64)>,
}

/// What a worker hands back when it stops.
pub struct JobResult {
    pub session: Session,
    pub history: History,
    /// The breakpoint that stopped it, if one did.
    pub stopped_by: Option<Stop>,
}

/// A coarse command running on a worker thread.
#[derive(Debug)]
pub struct Job {
    finish: Finish,
    /// Examples the job will complete (for the gauge).
    examples_total: usize,
    started: Instant,
    /// For [`Finish::Divergence`]: what was found where the job stops.
    divergence: Option<Box<Divergence>>,
    /// Set to stop the worker at the next step boundary.
    cancel: Arc<AtomicBool>,
    /// Examples the worker has completed so far.
    progress: Arc<AtomicUsize>,
    /// The worker's session and history, sent once it stops.
    result: Receiver<JobResult>,
}

impl Drop for Job {
    /// A job dropped unfinished (the app quits) stops its worker.
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl Watchers {
    /// The limits on the loss that the fast path checks on each example it runs, when every
    /// breakpoint is one it can check: the NaN/Inf one (it finds a NaN or infinity itself and
    /// hands its example to the micro-steps, which stop at it) or a threshold on the loss's
    /// value (`J > 3`: the example's loss is the value the forward step at J computes). `None`
    /// when another breakpoint must watch every micro-step.
    fn fast_checks(&self, s: &Session) -> Option<Vec<Condition>> {
        let Some(b) = &self.breakpoints else { return Some(Vec::new()) };
        let mut checks = Vec::new();
        for c in b.list.iter().filter(|b| b.enabled).map(|b| &b.condition) {
            match c {
                Condition::NonFinite => {}
                c if c.on_loss(s.graph(), 0.0).is_some() => checks.push(c.clone()),
                _ => return None,
            }
        }
        Some(checks)
    }
}

/// The worker's loop: steps `s` until `goal` is reached, a breakpoint holds or `stop` is set,
/// counting the examples done in `count`. Examples nothing needs to see step by step run whole
/// on the fast kernels (the same numbers, [`Examples`]); the last one before the goal, and
/// every step a breakpoint other than NaN/Inf watches, in micro-steps.
fn work(
    mut s: Session,
    mut history: History,
    goal: Goal,
    watchers: Watchers,
    stop: &AtomicBool,
    count: &AtomicUsize,
) -> JobResult {
    let at_start = s.losses().len();
    let had_non_finite = s.first_non_finite().is_some();
    let diverged = |s: &Session, event: Event| {
        watchers.against.as_ref().and_then(|(theirs, tol)| crate::diff::step_differs(theirs, *tol, s, event))
    };
    let checks = watchers.fast_checks(&s);
    let until = if checks.is_some() { goal.fast_until(&s) } else { None };
    let checks = checks.unwrap_or_default();
    // An example whose loss meets a breakpoint is run again in micro-steps, which stop in it.
    let again = |s: &Session| {
        s.losses().last().is_some_and(|l| checks.iter().any(|c| c.on_loss(s.graph(), l.loss) == Some(true)))
    };
    let mut fast = until.and_then(|_| Examples::new(&s));
    // An example handed back to the micro-steps, run again by them from its start.
    let mut held = None;
    // The last example run whole.
    let mut ran = None;
    let mut stopped_by = None;
    while !stop.load(Ordering::Relaxed) {
        let event = match fast.as_mut().zip(until) {
            Some((f, until)) => match fast_step(f, &mut s, until, &mut history, held, &again) {
                Fast::Ran(example) => {
                    ran = Some(example);
                    count.store(s.losses().len() - at_start, Ordering::Relaxed);
                    continue;
                }
                Fast::Again => {
                    // The replay micro-stepped the example before: what the screen shows is
                    // the micro-steps' own, nothing to replay again at the stop.
                    ran = None;
                    held = Some(s.examples_begun());
                    continue;
                }
                Fast::Evaluated(event) => event,
                Fast::No => {
                    f.store(&mut s);
                    s.step()
                }
            },
            None => s.step(),
        };
        history.observe(&s);
        count.store(s.losses().len() - at_start, Ordering::Relaxed);
        if goal.done(&s, event) {
            break;
        }
        if let Some(stop) = watchers.breakpoints.as_ref().and_then(|b| b.hit(&s, event, had_non_finite, &diverged)) {
            stopped_by = Some(stop);
            break;
        }
    }
    if let Some(f) = fast.as_mut() {
        f.store(&mut s);
    }
    // Stopped (by a breakpoint, or Esc) where the screen shows what an example run whole left
    // (the example before the one the point is in): the same point again, replayed with that
    // example in micro-steps.
    if ran.is_some_and(|k| k + 1 >= history::example_at(&s, s.steps())) {
        let here = s.steps();
        history.recompute(&mut s, here);
    }
    JobResult { session: s, history, stopped_by }
}

/// What the fast path did in place of a micro-step.
enum Fast {
    /// A whole example (this one, counted from the run's start).
    Ran(usize),
    /// The example met a NaN or infinity (or a number a bound cannot rule out), or its loss a
    /// breakpoint's threshold: the session
    /// is back at its start, for the micro-steps to run it and stop where it arises. (Where
    /// the fast path hands an example over, the screen would show what the fast path left of
    /// the example before.)
    Again,
    /// The epoch's evaluation, with `run`'s scorer.
    Evaluated(Event),
    /// Nothing: the next step is a micro-step.
    No,
}

/// The next example whole, when the session stands at an example's start before `until` (and
/// it is not the `held` one), or the epoch's evaluation. An example after which `again` holds
/// is handed back to the micro-steps, as one that met a NaN.
fn fast_step(
    f: &mut Examples,
    s: &mut Session,
    until: Spot,
    history: &mut History,
    held: Option<usize>,
    again: &dyn Fn(&Session) -> bool,
) -> Fast {
    if s.phase() == Phase::Evaluate {
        return f.evaluate(s).map_or(Fast::No, Fast::Evaluated);
    }
    if s.phase() != Phase::Forward || s.index() != 0 || Spot::of(s) >= until || held == Some(s.examples_begun()) {
        return Fast::No;
    }
    let (start, example) = (s.steps(), s.examples_begun());
    match f.example(s) {
        Ran::Whole if s.first_non_finite().is_none() && !again(s) => {
            if history.due(s) {
                f.store(s);
            }
            history.observe(s);
            Fast::Ran(example)
        }
        Ran::No => Fast::No,
        Ran::Whole | Ran::Handed => {
            f.store(s);
            history.recompute(s, start);
            Fast::Again
        }
    }
}

impl Job {
    /// Starts stepping a copy of `session` on a worker thread until `goal` is reached or a
    /// breakpoint holds; the history records checkpoints on the way.
    pub fn start(
        session: &Session,
        history: History,
        goal: Goal,
        examples_total: usize,
        divergence: Option<Box<Divergence>>,
        watchers: Watchers,
    ) -> Job {
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(AtomicUsize::new(0));
        let (tx, result) = mpsc::channel();
        let s = session.clone();
        let (stop, count) = (Arc::clone(&cancel), Arc::clone(&progress));
        thread::spawn(move || {
            let r = work(s, history, goal, watchers, &stop, &count);
            // The receiver is gone if the app quit meanwhile; the session is then not needed.
            let _ = tx.send(r);
        });
        Job { finish: goal.finish(), examples_total, started: Instant::now(), divergence, cancel, progress, result }
    }

    pub fn finish(&self) -> Finish {
        self.finish
    }

    /// Examples the job will complete in all.
    pub fn examples_total(&self) -> usize {
        self.examples_total
    }

    /// When it started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Examples completed since the job started.
    pub fn examples_done(&self) -> usize {
        self.progress.load(Ordering::Relaxed)
    }

    /// The divergence `d` runs to, handed to whoever lands there.
    pub fn take_divergence(&mut self) -> Option<Divergence> {
        self.divergence.take().map(|d| *d)
    }

    /// Asks the worker to stop at the next step boundary.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The worker's result once it has stopped, waiting for it if `wait`.
    pub fn take(&self, wait: bool) -> Option<JobResult> {
        if wait {
            return Some(self.result.recv().expect("the worker hands its session back"));
        }
        match self.result.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => panic!("the worker stopped without handing its session back"),
        }
    }
}
