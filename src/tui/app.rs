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
    /// Esc: cancel a running command, else close the top overlay (a window, the chart, the
    /// zoom; see [`Overlay`]).
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
            Some((Section::Adjoint, Some(id))) => {
                // Where the adjoint is final (Version B: after its last consumer's push).
                let this_example = d.epoch == s.epoch() && example == s.position().example;
                let version = if this_example { s.backward_version() } else { s.next_algorithm() };
                (1, g.adjoint_final_after(id, version).unwrap_or(0))
            }
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

/// What the panes show, besides what covers them: the selection, the focus, how far each pane
/// is scrolled and the precision; and what the last step did. Set by [`update`], read by
/// drawing (which records only the scroll limits).
pub struct View {
    /// The node shown in the value and adjoint panes.
    pub selected: NodeId,
    /// Whether the selection follows the steps (false once the user picks a node).
    pub follow: bool,
    pub focus: Pane,
    pub scroll: [Scroll; 4],
    /// Scroll limits recorded by drawing (a cache: drawing sets nothing else).
    pub limits: [Cell<Limit>; 4],
    /// Every digit (`=`) instead of 5 significant ones.
    pub full_precision: bool,
    /// The arrays the last step changed, as they were before it (highlighted).
    pub touched: Vec<Touched>,
    /// What the last step (or coarse command) did, for the status bar.
    pub last: Option<String>,
}

/// A window over the screen that takes the keys until it closes. At most one is open.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// `?`: every key, from its first line shown.
    Help { scroll: usize },
    /// `g` or `:`: the command being typed.
    Prompt(Prompt),
    /// `B`: the breakpoint list, at its selected row.
    Breakpoints { at: usize },
    /// `G`: the gradient check of a node.
    Check(NodeCheck),
    /// A question waiting for y or n.
    Confirm(Confirm),
}

/// What covers the panes, bottom to top: the focused pane zoomed to the whole screen (Enter),
/// the loss chart over it (`C`), and at most one [`Window`] over both. The top one is what
/// the user sees and what Esc closes; the window, if any, also decides what the keys mean
/// ([`App::mode`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overlay {
    pub zoom: bool,
    pub chart: bool,
    pub window: Option<Window>,
}

impl Overlay {
    /// Opens `window`, closing the one open before (there is room for one).
    pub fn open(&mut self, window: Window) {
        self.window = Some(window);
    }

    /// Esc: closes the top layer (the window, else the chart, else the zoom); hands back the
    /// window if that is what it closed.
    pub fn close_top(&mut self) -> Option<Window> {
        if self.window.is_some() {
            return self.window.take();
        }
        if self.chart {
            self.chart = false;
        } else {
            self.zoom = false;
        }
        None
    }

    /// `?`: opens the help from its first line, or closes it.
    pub fn toggle_help(&mut self) {
        self.window = match self.window {
            Some(Window::Help { .. }) => None,
            _ => Some(Window::Help { scroll: 0 }),
        };
    }

    /// The command being typed, while the prompt is open.
    pub fn prompt(&self) -> Option<&Prompt> {
        match &self.window {
            Some(Window::Prompt(p)) => Some(p),
            _ => None,
        }
    }

    pub fn prompt_mut(&mut self) -> Option<&mut Prompt> {
        match &mut self.window {
            Some(Window::Prompt(p)) => Some(p),
            _ => None,
        }
    }

    /// Closes the prompt, handing back what was typed.
    pub fn take_prompt(&mut self) -> Option<Prompt> {
        match self.window.take() {
            Some(Window::Prompt(p)) => Some(p),
            other => {
                self.window = other;
                None
            }
        }
    }

    /// Closes the question, handing it back.
    pub fn take_confirm(&mut self) -> Option<Confirm> {
        match self.window {
            Some(Window::Confirm(c)) => {
                self.window = None;
                Some(c)
            }
            _ => None,
        }
    }

    /// The gradient check shown, while it is open.
    pub fn check(&self) -> Option<&NodeCheck> {
        match &self.window {
            Some(Window::Check(c)) => Some(c),
            _ => None,
        }
    }
}

/// What the user has set up to watch the run with: breakpoints, watched nodes and the
/// commands typed before.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    pub breakpoints: Breakpoints,
    /// Nodes whose health line stays on screen.
    pub watches: Vec<NodeId>,
    /// Commands entered at the prompt, oldest first.
    pub prompt_history: Vec<String>,
}

/// `--against THEIRS`: the other implementation's trace, the tolerance and what `d` found.
#[derive(Debug, Clone)]
pub struct Compare {
    pub theirs: Option<Arc<Theirs>>,
    /// Tolerance of the comparison with THEIRS, absolute + relative (see [`crate::diff::Tolerance`]).
    pub tol: f64,
    /// The divergence `d` landed on last (shown while the session is at it or past it in
    /// that example).
    pub divergence: Option<Divergence>,
}

/// What [`update`] asks of the event loop.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    /// Text for the terminal's clipboard (OSC 52).
    pub clipboard: Option<String>,
    /// End the debugger.
    pub quit: bool,
}

/// The whole state of the debugger, grouped by what it is about.
pub struct App {
    /// The run being debugged.
    pub session: Session,
    /// Checkpoints of this run, for going back (with the worker while a job runs).
    pub history: Option<History>,
    /// The coarse command running on a worker thread, if any (the session shown is then the
    /// one it started from).
    pub job: Option<Job>,
    /// What the panes show.
    pub view: View,
    /// What covers the panes: zoom, chart, a window.
    pub overlay: Overlay,
    /// Breakpoints, watches, the prompt's history.
    pub tools: Tools,
    /// The comparison with another implementation (`--against`).
    pub compare: Compare,
    /// Requests to the event loop: the clipboard, quitting.
    pub outbox: Outbox,
    pub theme: Theme,
    /// The screen area of the last frame, for mouse hit-testing (set by the event loop).
    pub area: Rect,
}

impl App {
    pub fn new(session: Session, theme: Theme) -> App {
        let selected = session.next_node().unwrap_or(0);
        let view = View {
            selected,
            follow: true,
            focus: Pane::Graph,
            scroll: [Scroll::default(); 4],
            limits: Default::default(),
            full_precision: false,
            touched: Vec::new(),
            last: None,
        };
        App {
            history: Some(History::new(&session, History::BUDGET)),
            session,
            job: None,
            view,
            overlay: Overlay::default(),
            tools: Tools::default(),
            compare: Compare { theirs: None, tol: 1e-6, divergence: None },
            outbox: Outbox::default(),
            theme,
            area: Rect::new(0, 0, 80, 24),
        }
    }

    /// How keys are to be read now: by the running command, else by the open window.
    pub fn mode(&self) -> Mode {
        if self.job.is_some() {
            return Mode::Running;
        }
        match self.overlay.window {
            None => Mode::Normal,
            Some(Window::Help { .. }) => Mode::Help,
            Some(Window::Prompt(_)) => Mode::Prompt,
            Some(Window::Breakpoints { .. }) => Mode::Breakpoints,
            Some(Window::Check(_)) => Mode::Check,
            Some(Window::Confirm(_)) => Mode::Confirm,
        }
    }

    pub fn scroll_of(&self, pane: Pane) -> Scroll {
        self.view.scroll[pane.index()]
    }

    /// Records how far `pane` can scroll (called while drawing it).
    pub fn set_limit(&self, pane: Pane, limit: Limit) {
        self.view.limits[pane.index()].set(limit);
    }

    /// The copy of `node`'s value or adjoint from before the last step, if that step changed it.
    pub fn before(&self, node: NodeId, kind: Kind) -> Option<&ArrayD<f64>> {
        self.view.touched.iter().find(|t| t.node == node && t.kind == kind).map(|t| &t.before)
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
        self.view.last = Some(match job.finish {
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
        self.view.last = Some(format!("stopped at breakpoint — {}", stop.why));
        self.overlay.chart = false;
        match stop.node {
            Some(id) => {
                self.view.follow = false;
                self.select(id);
            }
            None => self.after_coarse(),
        }
    }

    /// The divergence `d` landed on, while the session is in its example at or past it.
    pub fn at_divergence(&self) -> Option<&Divergence> {
        let d = self.compare.divergence.as_ref()?;
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

    /// Selects the node of the divergence just reached and says what differs.
    fn land(&mut self, d: Divergence) {
        let name = d.value().map(|(_, n)| n.to_string()).unwrap_or_default();
        if let Some(id) = self.session.graph().find(&name) {
            self.view.follow = false;
            self.select(id);
        }
        self.overlay.chart = false;
        let their_name = match (self.compare.theirs.as_ref(), d.value()) {
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
        self.view.last = Some(format!("DIFFERS at {at}: {}{alias}{index}{numbers}{why}", d.what));
        self.compare.divergence = Some(d);
    }

    fn select(&mut self, id: NodeId) {
        if id != self.view.selected {
            self.view.selected = id;
            self.view.scroll[Pane::Values.index()] = Scroll::default();
            self.view.scroll[Pane::Adjoints.index()] = Scroll::default();
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
        Action::Step => step(app),
        Action::Finish(_)
        | Action::NextDivergence
        | Action::Continue
        | Action::Tick
        | Action::Cancel
        | Action::ToggleAlgorithm
        | Action::Quit => run(app, action),
        Action::SelectPrev
        | Action::SelectNext
        | Action::Follow
        | Action::FocusNext
        | Action::FocusPrev
        | Action::Click { .. } => navigate(app, action),
        Action::ToggleZoom | Action::ToggleChart | Action::ToggleHelp | Action::Back => overlay(app, action),
        Action::ScrollUp | Action::ScrollDown | Action::ScrollLeft | Action::ScrollRight | Action::Wheel { .. } => {
            scroll_action(app, action)
        }
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
    }
}

/// `n`: one micro-step, keeping a copy of what it changes for the highlights.
fn step(app: &mut App) {
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
    app.view.touched = before;
    app.view.last = Some(describe(&app.session, event));
    if app.view.follow {
        if let Some(id) = event.node().or(app.session.next_node()) {
            app.select(id);
        }
    }
}

/// The run as a whole: coarse commands on the worker (start, poll, cancel), the backward
/// version, quitting.
fn run(app: &mut App, action: Action) {
    match action {
        Action::Finish(finish) => {
            if app.job.is_some() || app.session.phase() == Phase::Finished || finish == Finish::Divergence {
                return;
            }
            let goal = Goal::from(&app.session, finish, None);
            let total = examples_to_go(&app.session, finish);
            start_job(app, goal, total, None);
        }
        Action::NextDivergence => next_divergence(app),
        Action::Continue => super::commands::continue_run(app),
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
                app.view.last =
                    Some(format!("cancelled {} after {} examples", job.finish.label(), job.examples_done()));
                app.after_coarse();
            }
        }
        Action::ToggleAlgorithm => {
            let next = app.session.next_algorithm().toggled();
            match &mut app.history {
                Some(h) => h.set_algorithm(&mut app.session, next),
                None => app.session.set_algorithm(next),
            }
            let how = match next {
                Backward::A => "a node pulls its adjoint from its consumers",
                Backward::B => "a node pushes into its inputs",
            };
            let when =
                if app.session.phase() == crate::session::Phase::Backward || app.session.backward_version() != next {
                    "from the next backward pass"
                } else {
                    "for this example's backward pass"
                };
            app.view.last = Some(format!("Version {} {when}: {how}", next.letter()));
        }
        Action::Quit => {
            // A running worker is told to stop; the app does not wait for it.
            if let Some(job) = &app.job {
                job.cancel();
            }
            app.outbox.quit = true;
        }
        _ => {}
    }
}

/// The selection and the focus: ↑↓, `.`, Tab, clicks.
fn navigate(app: &mut App, action: Action) {
    match action {
        // In the updates pane ↑↓ go from parameter to parameter.
        Action::SelectPrev | Action::SelectNext if app.view.focus == Pane::Updates => {
            let params = app.session.graph().params().to_vec();
            let at = params.iter().position(|&p| p == app.view.selected);
            let next = match (at, action == Action::SelectNext) {
                (Some(i), true) => params.get(i + 1).or(params.last()),
                (Some(i), false) => params.get(i.saturating_sub(1)),
                (None, _) => params.first(),
            };
            if let Some(&id) = next {
                app.view.follow = false;
                app.select(id);
            }
        }
        Action::SelectPrev | Action::SelectNext => {
            let n = app.session.graph().len();
            let next = if action == Action::SelectNext {
                (app.view.selected + 1).min(n.saturating_sub(1))
            } else {
                app.view.selected.saturating_sub(1)
            };
            app.view.follow = false;
            app.select(next);
        }
        Action::Follow => {
            app.view.follow = true;
            if let Some(id) = app.session.next_node() {
                app.select(id);
            }
        }
        Action::FocusNext => app.view.focus = app.view.focus.cycle(true),
        Action::FocusPrev => app.view.focus = app.view.focus.cycle(false),
        Action::Click { column, row } => {
            let areas = super::layout(app.area, app);
            if let Some(pane) = areas.pane_at(column, row) {
                app.view.focus = pane;
            }
            if let Some(id) = areas.node_at(app, column, row) {
                app.view.follow = false;
                app.select(id);
            }
        }
        _ => {}
    }
}

/// Zoom, chart and help on and off; Esc cancels a running command, else closes the top
/// overlay.
fn overlay(app: &mut App, action: Action) {
    match action {
        Action::ToggleZoom => app.overlay.zoom = !app.overlay.zoom,
        Action::ToggleChart => app.overlay.chart = !app.overlay.chart,
        Action::ToggleHelp => app.overlay.toggle_help(),
        Action::Back if app.job.is_some() => update(app, Action::Cancel),
        Action::Back => {
            if let Some(Window::Confirm(_)) = app.overlay.close_top() {
                app.view.last = Some("not restarted".into());
            }
        }
        _ => {}
    }
}

/// PgUp/PgDn, h/l and the wheel: the help when it is open, else a pane.
fn scroll_action(app: &mut App, action: Action) {
    if let (Some(Window::Help { scroll }), Action::ScrollUp | Action::ScrollDown) = (&mut app.overlay.window, action) {
        *scroll = if action == Action::ScrollUp { scroll.saturating_sub(1) } else { *scroll + 1 };
        return;
    }
    if let Action::Wheel { down, column, row } = action {
        let areas = super::layout(app.area, app);
        let pane = areas.pane_at(column, row).unwrap_or(app.view.focus);
        if pane == Pane::Graph {
            update(app, if down { Action::SelectNext } else { Action::SelectPrev });
        } else {
            scroll(app, pane, if down { Action::ScrollDown } else { Action::ScrollUp });
        }
        return;
    }
    let pane = app.view.focus;
    scroll(app, pane, action);
}

/// Starts a coarse command on the worker, handing it the history (and, but for `d`, the
/// breakpoints).
pub(super) fn start_job(app: &mut App, goal: Goal, total: usize, divergence: Option<Box<Divergence>>) {
    let history = app.history.take().unwrap_or_else(|| History::new(&app.session, History::BUDGET));
    let watchers = Watchers {
        breakpoints: (goal.finish != Finish::Divergence).then(|| app.tools.breakpoints.clone()),
        against: app.compare.theirs.as_ref().map(|t| (Arc::clone(t), app.compare.tol)),
    };
    app.job = Some(Job::start(&app.session, history, goal, total, divergence, watchers));
    app.view.touched.clear();
}

/// `d`: finds the next value that differs from THEIRS (from the current example on) and steps
/// the session until that value has just been computed, as a coarse command.
fn next_divergence(app: &mut App) {
    if app.job.is_some() {
        return;
    }
    let Some(theirs) = &app.compare.theirs else {
        app.view.last = Some("d needs --against THEIRS".to_string());
        return;
    };
    let s = &app.session;
    let here = Spot::of(s);
    let from = match s.phase() {
        Phase::Evaluate | Phase::Finished => Cursor { epoch: s.epoch() + 1, example: 1, position: 0 },
        _ => Cursor { epoch: s.epoch(), example: s.position().example, position: 0 },
    };
    let find = |from| find_divergence(s.model(), s.algorithm(), theirs, app.compare.tol, from);
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
        app.view.last = Some(format!(
            "no divergence from here on: everything in THEIRS agrees within tol ({})",
            crate::numfmt::short(app.compare.tol)
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
    let limit = app.view.limits[pane.index()].get();
    let page = limit.page.max(1);
    let s = &mut app.view.scroll[pane.index()];
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
        if self.view.follow {
            if let Some(id) = self.session.next_node() {
                self.select(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Confirm, Overlay, Window};

    /// Esc closes what is on top: the window, then the chart, then the zoom; a window closed
    /// over the zoom leaves the zoom (`?` while zoomed, then `?`, is zoomed again).
    #[test]
    fn esc_closes_the_top_overlay() {
        let mut o = Overlay { zoom: true, chart: true, window: None };
        o.toggle_help();
        assert!(matches!(o.close_top(), Some(Window::Help { scroll: 0 })));
        assert_eq!(o.close_top(), None);
        assert_eq!((o.zoom, o.chart), (true, false));
        o.toggle_help();
        o.toggle_help();
        assert_eq!(o, Overlay { zoom: true, chart: false, window: None });
        o.close_top();
        assert_eq!(o, Overlay::default());
        o.close_top();
        assert_eq!(o, Overlay::default());
    }

    /// One window at a time: opening one closes the other.
    #[test]
    fn one_window_at_a_time() {
        let mut o = Overlay::default();
        o.open(Window::Confirm(Confirm::Restart));
        o.toggle_help();
        assert_eq!(o.take_confirm(), None);
        assert_eq!(o.window, Some(Window::Help { scroll: 0 }));
        assert_eq!(o.take_prompt(), None, "the help stays open");
        assert!(o.window.is_some());
        o.open(Window::Confirm(Confirm::Restart));
        assert_eq!(o.take_confirm(), Some(Confirm::Restart));
        assert_eq!(o.window, None);
    }
}
