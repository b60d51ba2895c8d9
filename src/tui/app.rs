//! The debugger's state ([`App`]) and the one function that changes it ([`update`]).
//!
//! Every key press, click and timer tick becomes an [`Action`]; `update` applies it, and is the
//! only code that drives the [`Session`]. Drawing reads the `App` and changes nothing.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use ndarray::ArrayD;
use ratatui::layout::Rect;

use crate::engine::{Backward, NodeId};
use crate::session::{Event, Phase, Session};

use super::prompt::Prompt;
use super::theme::Theme;
use crate::diff::{find_divergence, Cursor, Divergence, Section, Theirs};
use crate::session::breakpoints::{Breakpoints, Stop};
use crate::session::history::History;
use crate::session::nodecheck::NodeCheck;

/// A question the debugger asks before acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    Restart,
}

/// The panes that can take the focus, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Graph,
    Values,
    Adjoints,
    Updates,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Graph, Pane::Values, Pane::Adjoints, Pane::Updates];

    fn index(self) -> usize {
        Pane::ALL.iter().position(|&p| p == self).unwrap_or(0)
    }

    /// The pane after this one in Tab order (`forward`) or before it.
    pub fn cycle(self, forward: bool) -> Pane {
        let n = Pane::ALL.len();
        let i = self.index();
        Pane::ALL[if forward { (i + 1) % n } else { (i + n - 1) % n }]
    }
}

/// What the keyboard means at the moment: keys are mapped differently under the help overlay
/// and while a long run is in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    Running,
    /// Typing a command after `g` or `:`.
    Prompt,
    /// The breakpoint list (`B`) is open.
    Breakpoints,
    /// A yes/no question (restart the run?).
    Confirm,
    /// The gradient check of a node (`G`) is shown.
    Check,
}

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
}

/// Everything the user can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// One micro-step.
    Step,
    /// Start a coarse command (stepped on a worker thread; see [`Job`]).
    Finish(Finish),
    /// See whether the running coarse command has handed its session back.
    Tick,
    /// Stop a running coarse command at the next step boundary.
    Cancel,
    /// `d`: step to the next value that differs from THEIRS (`--against`).
    NextDivergence,
    SelectPrev,
    SelectNext,
    /// Follow the node the steps act on again.
    Follow,
    FocusNext,
    FocusPrev,
    /// Enter: zoom the focused pane, or unzoom.
    ToggleZoom,
    /// Esc: close the help, the zoom or the chart (the innermost open one).
    Back,
    ScrollUp,
    ScrollDown,
    ScrollLeft,
    ScrollRight,
    ToggleAlgorithm,
    ToggleChart,
    ToggleHelp,
    Quit,
    /// `←`/`p`: undo one micro-step.
    StepBack,
    /// `P`: back to the start of the example (of the previous one when at a start).
    BackToExample,
    /// `r`: back to the start of the run (asks first when far along).
    Restart,
    /// `g`/`:`: open the prompt.
    OpenPrompt,
    /// A character typed into the prompt.
    PromptChar(char),
    PromptBackspace,
    /// Tab: complete a node name.
    PromptComplete,
    /// ↑/↓ in the prompt: earlier / later commands.
    PromptHistory {
        older: bool,
    },
    PromptSubmit,
    /// `b`: toggle a breakpoint on the selected node.
    ToggleBreakpoint,
    /// `B`: show the breakpoint list (↑↓ move, space enables/disables, x deletes).
    OpenBreakpoints,
    ListUp,
    ListDown,
    ListToggle,
    ListDelete,
    /// `w`: watch the selected node (its health line stays on screen).
    ToggleWatch,
    /// `G`: central differences for the selected node on the current example.
    CheckNode,
    /// `=`: 5 significant digits ↔ full precision.
    TogglePrecision,
    /// `y`: copy the selected value (or adjoint, in the adjoint pane) as a numpy literal.
    Copy,
    /// `s`: save the current step's values, adjoints and parameters.
    Save,
    /// Home / End: the first / last rows of the focused pane.
    ScrollHome,
    ScrollEnd,
    /// y / n to a question.
    Answer(bool),
    /// `c`: run on to the next breakpoint.
    Continue,
    /// A left click at a screen position.
    Click {
        column: u16,
        row: u16,
    },
    /// A wheel turn over a screen position.
    Wheel {
        down: bool,
        column: u16,
        row: u16,
    },
}

pub use crate::engine::rules::Kind;

/// A copy of one array as it was before the last step changed it.
#[derive(Debug, Clone)]
pub struct Touched {
    pub node: NodeId,
    pub kind: Kind,
    pub before: ArrayD<f64>,
}

/// Where a coarse command stops: the position it started from and what it finishes.
#[derive(Debug, Clone, Copy)]
pub struct Goal {
    finish: Finish,
    epoch: usize,
    example: usize,
    phase: Phase,
    /// For [`Finish::Divergence`]: the spot right after the differing value is computed.
    target: Option<Spot>,
}

impl Goal {
    pub fn from(s: &Session, finish: Finish, target: Option<Spot>) -> Goal {
        Goal { finish, epoch: s.epoch(), example: s.example(), phase: s.phase(), target }
    }

    /// Whether the coarse command is complete after a step that produced `event`.
    fn done(&self, s: &Session, event: Event) -> bool {
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

/// A coarse command in progress. A worker thread steps a copy of the session until the
/// command is complete or cancelled, then hands the copy back; meanwhile the UI draws the
/// session as it was when the command started, and the gauge reads the worker's progress.
#[derive(Debug)]
pub struct Job {
    pub finish: Finish,
    /// Examples the job will complete (for the gauge).
    pub examples_total: usize,
    pub started: Instant,
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
            Some((Section::Adjoint, Some(id))) => (1, after(g.backward_position(id))),
            Some((Section::Param, Some(id))) => (2, after(g.param_index(id))),
        };
        Spot { epoch: d.epoch, example: example - 1, phase, index }
    }
}

/// What a worker hands back when it stops.
pub struct JobResult {
    pub session: Session,
    pub history: History,
    /// The breakpoint that stopped it, if one did.
    pub stopped_by: Option<Stop>,
}

/// What a worker checks after every step besides its goal.
#[derive(Clone, Default)]
pub struct Watchers {
    /// Checked by every coarse command but `d`.
    pub breakpoints: Option<Breakpoints>,
    /// For the `diverge` breakpoint: their trace and the tolerance.
    pub against: Option<(Arc<Theirs>, f64)>,
}

impl Job {
    /// Starts stepping a copy of `session` on a worker thread until `goal` is reached or a
    /// breakpoint holds; the history records checkpoints on the way.
    fn start(
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
        Job { finish: goal.finish, examples_total, started: Instant::now(), divergence, cancel, progress, result }
    }

    /// Examples completed since the job started.
    pub fn examples_done(&self) -> usize {
        self.progress.load(Ordering::Relaxed)
    }

    /// Asks the worker to stop at the next step boundary.
    fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The worker's result once it has stopped, waiting for it if `wait`.
    fn take(&self, wait: bool) -> Option<JobResult> {
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

/// Per-pane scroll position (rows, columns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    pub row: usize,
    pub col: usize,
}

/// How far a pane's content can scroll, as found by the last frame that drew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max_row: usize,
    pub max_col: usize,
    /// Rows shown at once (one PgUp/PgDn).
    pub page: usize,
}

impl Default for Limit {
    fn default() -> Limit {
        Limit { max_row: 0, max_col: 0, page: 4 }
    }
}

/// The whole state of the debugger.
pub struct App {
    pub session: Session,
    pub theme: Theme,
    /// The node shown in the value and adjoint panes.
    pub selected: NodeId,
    /// Whether the selection follows the steps (false once the user picks a node).
    pub follow: bool,
    pub focus: Pane,
    pub zoom: bool,
    pub help: bool,
    pub chart: bool,
    pub scroll: [Scroll; 4],
    /// Scroll limits recorded by drawing (a cache: drawing sets nothing else).
    pub limits: [Cell<Limit>; 4],
    /// The arrays the last step changed, as they were before it.
    pub touched: Vec<Touched>,
    /// What the last step (or coarse command) did, for the status bar.
    pub last: Option<String>,
    pub job: Option<Job>,
    pub quit: bool,
    /// The screen area of the last frame, for mouse hit-testing.
    pub area: Rect,
    pub against: Option<Arc<Theirs>>,
    /// Tolerance of the comparison with THEIRS, absolute + relative (see [`crate::diff::Tolerance`]).
    pub tol: f64,
    /// Checkpoints of this run, for going back (with the worker while a job runs).
    pub history: Option<History>,
    pub breakpoints: Breakpoints,
    /// The breakpoint list's selected row, while it is open.
    pub breakpoint_list: Option<usize>,
    /// Nodes whose health line stays on screen.
    pub watches: Vec<NodeId>,
    /// The command being typed after `g` or `:`.
    pub prompt: Option<Prompt>,
    /// Commands entered before, oldest first.
    pub prompt_history: Vec<String>,
    /// A question waiting for y or n.
    pub confirm: Option<Confirm>,
    /// The gradient check `G` shows.
    pub check: Option<NodeCheck>,
    /// Every digit (`=`) instead of 5 significant ones.
    pub full_precision: bool,
    /// Text for the terminal's clipboard (OSC 52), written by the event loop.
    pub clipboard: Option<String>,
    /// First line of the help overlay shown.
    pub help_scroll: usize,
    /// The divergence `d` landed on last (shown while the session is at it or past it in
    /// that example).
    pub divergence: Option<Divergence>,
}

impl App {
    pub fn new(session: Session, theme: Theme) -> App {
        let selected = session.next_node().unwrap_or(0);
        App {
            session,
            theme,
            selected,
            follow: true,
            focus: Pane::Graph,
            zoom: false,
            help: false,
            chart: false,
            scroll: [Scroll::default(); 4],
            limits: Default::default(),
            touched: Vec::new(),
            last: None,
            job: None,
            quit: false,
            area: Rect::new(0, 0, 80, 24),
            against: None,
            tol: 1e-6,
            divergence: None,
            history: None,
            breakpoints: Breakpoints::default(),
            breakpoint_list: None,
            watches: Vec::new(),
            prompt: None,
            prompt_history: Vec::new(),
            confirm: None,
            check: None,
            full_precision: false,
            clipboard: None,
            help_scroll: 0,
        }
        .with_history()
    }

    fn with_history(mut self) -> App {
        self.history = Some(History::new(&self.session, History::BUDGET));
        self
    }

    /// How keys are to be read now.
    pub fn mode(&self) -> Mode {
        if self.job.is_some() {
            Mode::Running
        } else if self.confirm.is_some() {
            Mode::Confirm
        } else if self.prompt.is_some() {
            Mode::Prompt
        } else if self.breakpoint_list.is_some() {
            Mode::Breakpoints
        } else if self.check.is_some() {
            Mode::Check
        } else if self.help {
            Mode::Help
        } else {
            Mode::Normal
        }
    }

    pub fn scroll_of(&self, pane: Pane) -> Scroll {
        self.scroll[pane.index()]
    }

    /// Records how far `pane` can scroll (called while drawing it).
    pub fn set_limit(&self, pane: Pane, limit: Limit) {
        self.limits[pane.index()].set(limit);
    }

    /// The copy of `node`'s value or adjoint from before the last step, if that step changed it.
    pub fn before(&self, node: NodeId, kind: Kind) -> Option<&ArrayD<f64>> {
        self.touched.iter().find(|t| t.node == node && t.kind == kind).map(|t| &t.before)
    }

    /// Waits for the running coarse command to end and applies its result (used by tests
    /// and benches, which have no frames).
    pub fn finish_job(&mut self) {
        if let Some(job) = self.job.take() {
            let result = job.take(true);
            self.end_job(job, result);
        }
    }

    /// Takes the worker's session back when a coarse command completes: the status message,
    /// the selection, and for `d` the divergence it stopped at.
    fn end_job(&mut self, mut job: Job, result: Option<JobResult>) {
        let mut stopped_by = None;
        if let Some(r) = result {
            self.session = r.session;
            self.history = Some(r.history);
            stopped_by = r.stopped_by;
        }
        self.last = Some(match job.finish {
            Finish::Run => "ran to the end".to_string(),
            Finish::Continue if self.session.phase() == Phase::Finished => {
                "no breakpoint held: ran to the end".to_string()
            }
            Finish::Goto => "arrived".to_string(),
            f => format!("done {}", f.label().trim_start_matches("finishing ")),
        });
        if let Some(stop) = stopped_by {
            self.stop_at_breakpoint(stop);
            return;
        }
        match job.divergence.take() {
            Some(d) => self.land(*d),
            None => self.after_coarse(),
        }
    }

    /// Says which breakpoint stopped a run, and selects its node.
    fn stop_at_breakpoint(&mut self, stop: Stop) {
        self.last = Some(format!("stopped at breakpoint — {}", stop.why));
        self.chart = false;
        match stop.node {
            Some(id) => {
                self.follow = false;
                self.select(id);
            }
            None => self.after_coarse(),
        }
    }

    /// The divergence `d` landed on, while the session is in its example at or past it.
    pub fn at_divergence(&self) -> Option<&Divergence> {
        let d = self.divergence.as_ref()?;
        let s = &self.session;
        let current = d.example.is_some_and(|x| s.epoch() == d.epoch && s.example() + 1 == x);
        // The last parameter's update ends the example: the session is then at the next one.
        let is_update = matches!(d.value(), Some((Section::Param, _)));
        let just_after = (is_update || d.example.is_none())
            && s.index() == 0
            && matches!(s.phase(), Phase::Forward | Phase::Evaluate)
            && s.losses().last().is_some_and(|l| l.epoch == d.epoch && d.example.is_none_or(|x| l.example + 1 == x));
        let here = current || just_after;
        (here && Spot::after(d, s) <= Spot::of(s)).then_some(d)
    }

    /// Selects the node of the divergence just reached and says what differs.
    fn land(&mut self, d: Divergence) {
        let name = d.value().map(|(_, n)| n.to_string()).unwrap_or_default();
        if let Some(id) = self.session.graph().find(&name) {
            self.follow = false;
            self.select(id);
        }
        self.chart = false;
        let their_name = match (self.against.as_ref(), d.value()) {
            (Some(t), Some((section, _))) => t.their_name_in(section, &name).to_string(),
            _ => String::new(),
        };
        let alias =
            if !name.is_empty() && their_name != name { format!(" (your `{their_name}`)") } else { String::new() };
        let index = d.index_text();
        let at = match d.example {
            None => format!("epoch {}", d.epoch),
            Some(x) => format!("epoch {} example {x}", d.epoch),
        };
        let numbers = match (d.ours, d.theirs) {
            (Some(o), Some(t)) => format!(" (bptui {}, yours {})", crate::numfmt::short(o), crate::numfmt::short(t)),
            _ => String::new(),
        };
        let why = d.diagnosis.first().map(|l| format!(" — {l}")).unwrap_or_default();
        self.last = Some(format!("DIFFERS at {at}: {}{alias}{index}{numbers}{why}", d.what));
        self.divergence = Some(d);
    }

    fn select(&mut self, id: NodeId) {
        if id != self.selected {
            self.selected = id;
            self.scroll[Pane::Values.index()] = Scroll::default();
            self.scroll[Pane::Adjoints.index()] = Scroll::default();
        }
    }
}

/// The arrays the next step will change.
fn about_to_touch(s: &Session) -> Vec<(NodeId, Kind)> {
    let graph = s.graph();
    match (s.phase(), s.next_node()) {
        (Phase::Forward, Some(id)) | (Phase::Update, Some(id)) => vec![(id, Kind::Value)],
        (Phase::Backward, Some(id)) => match s.algorithm() {
            Backward::A => vec![(id, Kind::Adjoint)],
            Backward::B => graph.pushes(id).map(|(_, v)| (v, Kind::Adjoint)).collect(),
        },
        _ => Vec::new(),
    }
}

/// A sentence for the status bar about what a step did.
fn describe(s: &Session, event: Event) -> String {
    let g = s.graph();
    match event {
        Event::Loaded { node } => format!("loaded {}", g.node(node).name),
        Event::Forward { node } => format!("computed {}", g.node(node).equation),
        Event::Backward { node, algorithm } => {
            format!("backward at {} (Version {})", g.node(node).name, algorithm.letter())
        }
        Event::Update { node, .. } => format!("updated {}", g.node(node).name),
        Event::Evaluated { epoch } => format!("evaluated epoch {epoch}"),
        Event::Finished => "training is finished".to_string(),
    }
}

/// Examples the coarse command will complete, for its gauge.
fn examples_to_go(s: &Session, finish: Finish) -> usize {
    let n = s.examples_per_epoch();
    let in_epoch = if s.phase() == Phase::Evaluate || s.phase() == Phase::Finished { 0 } else { n - s.example() };
    match finish {
        Finish::Phase | Finish::Example => in_epoch.min(1),
        Finish::Epoch => in_epoch,
        Finish::Run | Finish::Divergence | Finish::Continue | Finish::Goto => in_epoch + (s.epochs() - s.epoch()) * n,
    }
}

/// Applies one action. The only code that steps the session or changes the state.
pub fn update(app: &mut App, action: Action) {
    match action {
        Action::Step => {
            if app.job.is_some() || app.session.phase() == Phase::Finished {
                return;
            }
            let touch = about_to_touch(&app.session);
            let ws = app.session.workspace();
            let before: Vec<Touched> = touch
                .into_iter()
                .map(|(node, kind)| {
                    let src = match kind {
                        Kind::Value => &ws.values[node],
                        Kind::Adjoint => &ws.adjoints[node],
                    };
                    Touched { node, kind, before: src.clone() }
                })
                .collect();
            let event = app.session.step();
            if let Some(h) = &mut app.history {
                h.observe(&app.session);
            }
            app.touched = before;
            app.last = Some(describe(&app.session, event));
            if app.follow {
                if let Some(id) = event.node().or(app.session.next_node()) {
                    app.select(id);
                }
            }
        }
        Action::Finish(finish) => {
            if app.job.is_some() || app.session.phase() == Phase::Finished || finish == Finish::Divergence {
                return;
            }
            let goal = Goal::from(&app.session, finish, None);
            let total = examples_to_go(&app.session, finish);
            start_job(app, goal, total, None);
        }
        Action::NextDivergence => next_divergence(app),
        Action::Tick => {
            if let Some(result) = app.job.as_ref().and_then(|job| job.take(false)) {
                let job = app.job.take().expect("a job");
                app.end_job(job, Some(result));
            }
        }
        Action::Cancel => {
            if let Some(job) = app.job.take() {
                // The worker stops at the next step boundary (it may have just completed).
                job.cancel();
                let result = job.take(true).expect("the worker's session");
                app.session = result.session;
                app.history = Some(result.history);
                app.last = Some(format!("cancelled {} after {} examples", job.finish.label(), job.examples_done()));
                app.after_coarse();
            }
        }
        // In the updates pane ↑↓ go from parameter to parameter.
        Action::SelectPrev | Action::SelectNext if app.focus == Pane::Updates => {
            let params = app.session.graph().params().to_vec();
            let at = params.iter().position(|&p| p == app.selected);
            let next = match (at, action == Action::SelectNext) {
                (Some(i), true) => params.get(i + 1).or(params.last()),
                (Some(i), false) => params.get(i.saturating_sub(1)),
                (None, _) => params.first(),
            };
            if let Some(&id) = next {
                app.follow = false;
                app.select(id);
            }
        }
        Action::SelectPrev | Action::SelectNext => {
            let n = app.session.graph().len();
            let next = if action == Action::SelectNext {
                (app.selected + 1).min(n.saturating_sub(1))
            } else {
                app.selected.saturating_sub(1)
            };
            app.follow = false;
            app.select(next);
        }
        Action::Follow => {
            app.follow = true;
            if let Some(id) = app.session.next_node() {
                app.select(id);
            }
        }
        Action::FocusNext => app.focus = app.focus.cycle(true),
        Action::FocusPrev => app.focus = app.focus.cycle(false),
        Action::ToggleZoom => app.zoom = !app.zoom,
        Action::Back => {
            if app.job.is_some() {
                update(app, Action::Cancel);
            } else if app.confirm.take().is_some() {
                app.last = Some("not restarted".into());
            } else if app.prompt.is_some() {
                app.prompt = None;
            } else if app.breakpoint_list.is_some() {
                app.breakpoint_list = None;
            } else if app.check.is_some() {
                app.check = None;
            } else if app.help {
                app.help = false;
            } else if app.zoom {
                app.zoom = false;
            } else if app.chart {
                app.chart = false;
            }
        }
        Action::ScrollUp | Action::ScrollDown if app.help => {
            app.help_scroll =
                if action == Action::ScrollUp { app.help_scroll.saturating_sub(1) } else { app.help_scroll + 1 };
        }
        Action::ScrollUp | Action::ScrollDown | Action::ScrollLeft | Action::ScrollRight => {
            let pane = app.focus;
            scroll(app, pane, action);
        }
        Action::ToggleAlgorithm => {
            let next = app.session.next_algorithm().toggled();
            match &mut app.history {
                Some(h) => h.set_algorithm(&mut app.session, next),
                None => app.session.set_algorithm(next),
            }
        }
        Action::ToggleChart => app.chart = !app.chart,
        Action::ToggleHelp => {
            app.help = !app.help;
            app.help_scroll = 0;
        }
        Action::Quit => {
            // A running worker is told to stop; the app does not wait for it.
            if let Some(job) = &app.job {
                job.cancel();
            }
            app.quit = true;
        }
        Action::Click { column, row } => {
            let areas = super::layout(app.area, app);
            if let Some(pane) = areas.pane_at(column, row) {
                app.focus = pane;
            }
            if let Some(id) = super::graph_pane::node_at(app, &areas, column, row) {
                app.follow = false;
                app.select(id);
            }
        }
        Action::Continue => super::commands::continue_run(app),
        Action::StepBack
        | Action::BackToExample
        | Action::Restart
        | Action::Answer(_)
        | Action::OpenPrompt
        | Action::PromptChar(_)
        | Action::PromptBackspace
        | Action::PromptComplete
        | Action::PromptHistory { .. }
        | Action::PromptSubmit
        | Action::ToggleBreakpoint
        | Action::OpenBreakpoints
        | Action::ListUp
        | Action::ListDown
        | Action::ListToggle
        | Action::ListDelete
        | Action::ToggleWatch
        | Action::CheckNode
        | Action::TogglePrecision
        | Action::Copy
        | Action::Save
        | Action::ScrollHome
        | Action::ScrollEnd => {
            if app.job.is_none() {
                super::commands::apply(app, action);
            }
        }
        Action::Wheel { down, column, row } => {
            let areas = super::layout(app.area, app);
            let pane = areas.pane_at(column, row).unwrap_or(app.focus);
            if pane == Pane::Graph {
                update(app, if down { Action::SelectNext } else { Action::SelectPrev });
            } else {
                scroll(app, pane, if down { Action::ScrollDown } else { Action::ScrollUp });
            }
        }
    }
}

/// Starts a coarse command on the worker, handing it the history (and, but for `d`, the
/// breakpoints).
pub(super) fn start_job(app: &mut App, goal: Goal, total: usize, divergence: Option<Box<Divergence>>) {
    let history = app.history.take().unwrap_or_else(|| History::new(&app.session, History::BUDGET));
    let watchers = Watchers {
        breakpoints: (goal.finish != Finish::Divergence).then(|| app.breakpoints.clone()),
        against: app.against.as_ref().map(|t| (Arc::clone(t), app.tol)),
    };
    app.job = Some(Job::start(&app.session, history, goal, total, divergence, watchers));
    app.touched.clear();
}

/// `d`: finds the next value that differs from THEIRS (from the current example on) and steps
/// the session until that value has just been computed, as a coarse command.
fn next_divergence(app: &mut App) {
    if app.job.is_some() {
        return;
    }
    let Some(theirs) = &app.against else {
        app.last = Some("d needs --against THEIRS".to_string());
        return;
    };
    let s = &app.session;
    let here = Spot::of(s);
    let from = match s.phase() {
        Phase::Evaluate | Phase::Finished => Cursor { epoch: s.epoch() + 1, example: 1, position: 0 },
        _ => Cursor { epoch: s.epoch(), example: s.example() + 1, position: 0 },
    };
    let find = |from| find_divergence(s.model(), s.algorithm(), theirs, app.tol, from);
    // Pressed again where the last `d` landed: the next differing value after it, in this
    // example or a later one.
    let from = match app.at_divergence() {
        Some(shown) if shown.example.is_some() && Spot::after(shown, s) <= here => {
            Cursor { epoch: shown.epoch, example: shown.example.unwrap_or(1), position: shown.position + 1 }
        }
        _ => from,
    };
    let found = find(from);
    let Some(d) = found else {
        app.last = Some(format!(
            "no divergence from here on: everything in THEIRS agrees within tol ({})",
            crate::numfmt::short(app.tol)
        ));
        return;
    };
    let target = Spot::after(&d, s);
    if target <= here {
        // Already computed in this example: show it without stepping.
        app.land(d);
        return;
    }
    let n = s.examples_per_epoch();
    let total = (target.epoch - here.epoch) * n + target.example - here.example;
    let goal = Goal::from(s, Finish::Divergence, Some(target));
    start_job(app, goal, total, Some(Box::new(d)));
}

fn scroll(app: &mut App, pane: Pane, action: Action) {
    if pane == Pane::Graph {
        match action {
            Action::ScrollUp => update(app, Action::SelectPrev),
            Action::ScrollDown => update(app, Action::SelectNext),
            _ => {}
        }
        return;
    }
    let limit = app.limits[pane.index()].get();
    let page = limit.page.max(1);
    let s = &mut app.scroll[pane.index()];
    s.row = s.row.min(limit.max_row);
    s.col = s.col.min(limit.max_col);
    match action {
        Action::ScrollUp => s.row = s.row.saturating_sub(page),
        Action::ScrollDown => s.row = (s.row + page).min(limit.max_row),
        Action::ScrollLeft => s.col = s.col.saturating_sub(1),
        Action::ScrollRight => s.col = (s.col + 1).min(limit.max_col),
        _ => {}
    }
}

impl App {
    /// After a coarse command ends: follow the next node.
    fn after_coarse(&mut self) {
        if self.follow {
            if let Some(id) = self.session.next_node() {
                self.select(id);
            }
        }
    }
}
