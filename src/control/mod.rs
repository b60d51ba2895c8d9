//! The debugger's core, without a screen (the place pdb's `Bdb` has): run control over one
//! [`Session`]. It steps, runs coarse commands on a worker ([`worker`]) until their [`Goal`]
//! or a breakpoint ([`breakpoints`]) holds, keeps the history for going back ([`history`]),
//! resolves the go-to language ([`command`]) to a [`Spot`] and finds the next divergence from
//! THEIRS. The TUI calls it and turns what it returns into words; tests drive it headless.

pub mod breakpoints;
pub mod command;
pub mod goal;
pub mod history;
pub mod worker;

use std::sync::Arc;

use crate::diff::{find_divergence, Cursor, Divergence, Section, Theirs};
use crate::engine::Backward;
use crate::session::{Event, Phase, Session};

pub use breakpoints::{Breakpoints, Condition, Stop};
pub use command::{Goto, StepOf};
pub use goal::{Finish, Goal, Spot};
pub use history::History;
pub use worker::Job;
use worker::{JobResult, Watchers};

/// How a coarse command ended.
#[derive(Debug)]
pub enum Ended {
    /// Its goal was reached (or the run's end).
    Done(Finish),
    /// A breakpoint held.
    Breakpoint(Stop),
    /// `d` reached the value that differs (now [`Debugger::landed`]).
    Divergence,
    /// Esc: stopped at a step boundary after this many examples.
    Cancelled { finish: Finish, examples: usize },
}

/// What going somewhere did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Travel {
    /// Already there.
    Here,
    /// Behind: the session is to be put back to where it had taken this many steps
    /// ([`Debugger::rewind`]; the UI re-takes the last one to show its highlights).
    Back(u64),
    /// Ahead: a job runs there.
    Ahead,
    /// Behind, but not in this run's history.
    NotInHistory,
    /// Ahead, but the run is over.
    Over,
}

/// What `d` found.
#[derive(Debug)]
pub enum NextDivergence {
    /// There is no THEIRS to compare with.
    NoTheirs,
    /// Everything from here on agrees within the tolerance.
    Agrees,
    /// Already computed where the session stands: landed on it without a step.
    Here,
    /// A job runs to it.
    Running,
}

/// Run control over one session.
pub struct Debugger {
    session: Session,
    /// Checkpoints of this run; with the worker while a job runs.
    history: Option<History>,
    job: Option<Job>,
    breakpoints: Breakpoints,
    /// Their trace and the tolerance (`--against`).
    against: Option<(Arc<Theirs>, f64)>,
    /// The divergence `d` last landed on.
    landed: Option<Divergence>,
}

impl Debugger {
    pub fn new(session: Session) -> Debugger {
        Debugger {
            history: Some(History::new(&session, History::BUDGET)),
            session,
            job: None,
            breakpoints: Breakpoints::default(),
            against: None,
            landed: None,
        }
    }

    /// Compares with `theirs` (`--against`), agreeing within `tol`.
    pub fn set_against(&mut self, theirs: Option<Arc<Theirs>>, tol: f64) {
        self.against = theirs.map(|t| (t, tol));
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn theirs(&self) -> Option<&Arc<Theirs>> {
        self.against.as_ref().map(|(t, _)| t)
    }

    /// The tolerance of the comparison (1e-6 when there is none).
    pub fn tol(&self) -> f64 {
        self.against.as_ref().map_or(1e-6, |(_, tol)| *tol)
    }

    /// The coarse command running, if any (the session shown is the one it started from).
    pub fn job(&self) -> Option<&Job> {
        self.job.as_ref()
    }

    pub fn breakpoints(&self) -> &Breakpoints {
        &self.breakpoints
    }

    pub fn breakpoints_mut(&mut self) -> &mut Breakpoints {
        &mut self.breakpoints
    }

    /// One micro-step (none while a job runs or once the run is over).
    pub fn step(&mut self) -> Option<Event> {
        if self.job.is_some() || self.session.phase() == Phase::Finished {
            return None;
        }
        let event = self.session.step();
        if let Some(h) = &mut self.history {
            h.observe(&self.session);
        }
        Some(event)
    }

    /// Starts a coarse command (`f`, `X`, `E`, `R`, `c`) on the worker; `false` when one runs
    /// already or the run is over.
    pub fn start(&mut self, finish: Finish) -> bool {
        if self.job.is_some() || self.session.phase() == Phase::Finished || finish == Finish::Divergence {
            return false;
        }
        let goal = Goal::from(&self.session, finish, None);
        let total = finish.examples_to_go(&self.session);
        self.start_job(goal, total, None);
        true
    }

    fn start_job(&mut self, goal: Goal, total: usize, divergence: Option<Box<Divergence>>) {
        let history = self.history.take().unwrap_or_else(|| History::new(&self.session, History::BUDGET));
        let watchers = Watchers {
            breakpoints: (goal.finish() != Finish::Divergence).then(|| self.breakpoints.clone()),
            against: self.against.clone(),
        };
        self.job = Some(Job::start(&self.session, history, goal, total, divergence, watchers));
    }

    /// The job's end, if it has ended (the session is then the worker's).
    pub fn poll(&mut self) -> Option<Ended> {
        let result = self.job.as_ref()?.take(false)?;
        let job = self.job.take().expect("a job");
        Some(self.end(job, result))
    }

    /// Waits for the running job to end (tests and benches, which have no frames).
    pub fn wait(&mut self) -> Option<Ended> {
        let job = self.job.take()?;
        let result = job.take(true).expect("the worker's session");
        Some(self.end(job, result))
    }

    /// Esc: stops the running job at the next step boundary (it may have just completed).
    pub fn cancel(&mut self) -> Option<Ended> {
        let job = self.job.take()?;
        job.cancel();
        let result = job.take(true).expect("the worker's session");
        self.session = result.session;
        self.history = Some(result.history);
        Some(Ended::Cancelled { finish: job.finish(), examples: job.examples_done() })
    }

    /// Quitting: the worker is told to stop; nobody waits for it.
    pub fn abandon(&self) {
        if let Some(job) = &self.job {
            job.cancel();
        }
    }

    fn end(&mut self, mut job: Job, r: JobResult) -> Ended {
        self.session = r.session;
        self.history = Some(r.history);
        if let Some(stop) = r.stopped_by {
            return Ended::Breakpoint(stop);
        }
        match job.take_divergence() {
            Some(d) => {
                self.landed = Some(d);
                Ended::Divergence
            }
            None => Ended::Done(job.finish()),
        }
    }

    /// `a`: the other backward version, from the next backward pass on (remembered by the
    /// history for replays). Returns the version chosen.
    pub fn toggle_algorithm(&mut self) -> Backward {
        let next = self.session.next_algorithm().toggled();
        self.set_algorithm(next);
        next
    }

    fn set_algorithm(&mut self, next: Backward) {
        match &mut self.history {
            Some(h) => h.set_algorithm(&mut self.session, next),
            None => self.session.set_algorithm(next),
        }
    }

    /// Puts the session back to where it had taken `steps` micro-steps, exactly as it was.
    pub fn rewind(&mut self, steps: u64) {
        if let Some(h) = &mut self.history {
            h.rewind(&mut self.session, steps);
        }
    }

    /// `r`: back to the very start, keeping the backward version chosen (a setting).
    pub fn restart(&mut self) {
        let chosen = self.session.next_algorithm();
        self.rewind(0);
        if self.session.next_algorithm() != chosen {
            self.set_algorithm(chosen);
        }
    }

    /// Goes to `target`: says how far back it is, or starts a job ahead.
    pub fn go(&mut self, target: Spot) -> Travel {
        let here = Spot::of(&self.session);
        if target == here {
            return Travel::Here;
        }
        if target < here {
            let Some(history) = self.history.as_ref() else { return Travel::NotInHistory };
            // Counted, where every example takes as many steps; else found by replaying.
            let steps = history::steps_at(&self.session, target)
                .or_else(|| history.steps_when(&self.session, |s| Spot::of(s) >= target));
            return match steps {
                Some(steps) => Travel::Back(steps),
                None => Travel::NotInHistory,
            };
        }
        if self.session.phase() == Phase::Finished || self.job.is_some() {
            return Travel::Over;
        }
        let total = here.examples_to(target, self.session.examples_per_epoch());
        let goal = Goal::from(&self.session, Finish::Goto, Some(target));
        self.start_job(goal, total, None);
        Travel::Ahead
    }

    /// `P`: the start of this example, or of the previous one when already at a start.
    pub fn example_start(&self) -> Option<Spot> {
        let s = &self.session;
        let here = Spot::of(s);
        let n = s.examples_per_epoch();
        let start = match s.phase() {
            Phase::Finished | Phase::Evaluate => {
                Spot { epoch: s.epoch(), example: n.saturating_sub(1), phase: 0, index: 0 }
            }
            _ => Spot { epoch: s.epoch(), example: s.example(), phase: 0, index: 0 },
        };
        if start < here {
            Some(start)
        } else if start.example > 0 {
            Some(Spot { example: start.example - 1, ..start })
        } else if start.epoch > 1 {
            Some(Spot { epoch: start.epoch - 1, example: n - 1, ..start })
        } else {
            None
        }
    }

    /// The spot a go-to command names, from the current position.
    pub fn resolve(&self, goto: &Goto) -> Result<Spot, String> {
        command::resolve(&self.session, goto)
    }

    /// `d`: finds the next value that differs from THEIRS (from the current example on, or
    /// after the one `d` last landed on) and runs until it has just been computed.
    pub fn next_divergence(&mut self) -> NextDivergence {
        if self.job.is_some() {
            return NextDivergence::Running;
        }
        let Some((theirs, tol)) = &self.against else { return NextDivergence::NoTheirs };
        let s = &self.session;
        let here = Spot::of(s);
        let from = match s.phase() {
            Phase::Evaluate | Phase::Finished => Cursor { epoch: s.epoch() + 1, example: 1, position: 0 },
            _ => Cursor { epoch: s.epoch(), example: s.position().example, position: 0 },
        };
        // Pressed again where the last `d` landed: the next differing value after it, in this
        // example or a later one.
        let from = match self.landed() {
            Some(shown) if shown.example.is_some() && Spot::after(shown, s) <= here => {
                Cursor { epoch: shown.epoch, example: shown.example.unwrap_or(1), position: shown.position + 1 }
            }
            _ => from,
        };
        let Some(d) = find_divergence(s.model(), s.algorithm(), theirs, *tol, from) else {
            return NextDivergence::Agrees;
        };
        let target = Spot::after(&d, s);
        if target <= here {
            self.landed = Some(d);
            return NextDivergence::Here;
        }
        let total = here.examples_to(target, s.examples_per_epoch());
        let goal = Goal::from(s, Finish::Divergence, Some(target));
        self.start_job(goal, total, Some(Box::new(d)));
        NextDivergence::Running
    }

    /// The divergence `d` landed on, while the session is in its example at or past it.
    pub fn landed(&self) -> Option<&Divergence> {
        let d = self.landed.as_ref()?;
        let s = &self.session;
        let current = d.example.is_some_and(|x| s.epoch() == d.epoch && s.position().example == x);
        // The last parameter's update ends the example: the session is then at the next one.
        let is_update = matches!(d.value(), Some((Section::Param, _)));
        let just_after = (is_update || d.example.is_none())
            && s.index() == 0
            && matches!(s.phase(), Phase::Forward | Phase::Evaluate)
            && s.losses().last().is_some_and(|l| l.epoch == d.epoch && d.example.is_none_or(|x| l.example == x));
        let here = current || just_after;
        (here && Spot::after(d, s) <= Spot::of(s)).then_some(d)
    }
}
