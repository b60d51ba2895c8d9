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
use crate::session::{Event, Session};

use super::breakpoints::{Breakpoints, Stop};
use super::goal::{Finish, Goal};
use super::history::History;

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

impl Job {
    /// Starts stepping a copy of `session` on a worker thread until `goal` is reached or a
    /// breakpoint holds; the history records checkpoints on the way.
    pub fn start(
        session: &Session,
        mut history: History,
        goal: Goal,
        examples_total: usize,
        divergence: Option<Box<Divergence>>,
        watchers: Watchers,
    ) -> Job {
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(AtomicUsize::new(0));
        let (tx, result) = mpsc::channel();
        let mut s = session.clone();
        let (stop, count) = (Arc::clone(&cancel), Arc::clone(&progress));
        thread::spawn(move || {
            let at_start = s.losses().len();
            let had_non_finite = s.first_non_finite().is_some();
            let diverged = |s: &Session, event: Event| {
                watchers.against.as_ref().and_then(|(theirs, tol)| crate::diff::step_differs(theirs, *tol, s, event))
            };
            let mut stopped_by = None;
            while !stop.load(Ordering::Relaxed) {
                let event = s.step();
                history.observe(&s);
                count.store(s.losses().len() - at_start, Ordering::Relaxed);
                if goal.done(&s, event) {
                    break;
                }
                if let Some(stop) =
                    watchers.breakpoints.as_ref().and_then(|b| b.hit(&s, event, had_non_finite, &diverged))
                {
                    stopped_by = Some(stop);
                    break;
                }
            }
            // The receiver is gone if the app quit meanwhile; the session is then not needed.
            let _ = tx.send(JobResult { session: s, history, stopped_by });
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
