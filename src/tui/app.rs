//! The debugger's state ([`App`]) and what the user can ask of it ([`Action`]).
//!
//! Every key press, click and timer tick becomes an [`Action`]; [`update`](super::update::update)
//! applies it, and is the only code that changes an `App`. Drawing reads it and changes nothing.
//! The run itself, and its control, is the [`Debugger`]'s.

use std::cell::Cell;
use std::sync::Arc;

use ndarray::ArrayD;
use ratatui::layout::Rect;

use crate::control::Debugger;
use crate::diff::Theirs;
use crate::engine::NodeId;
use crate::numfmt::Digits;
use crate::session::nodecheck::NodeCheck;
use crate::session::Session;

use super::prompt::Prompt;
use super::theme::Theme;

pub use crate::control::Finish;

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

    pub fn index(self) -> usize {
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

/// Everything the user can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// One micro-step.
    Step,
    /// Start a coarse command (stepped on a worker thread; see [`Job`](crate::control::Job)).
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
    /// One line up or down (the help window; a pane scrolls by pages).
    LineUp,
    LineDown,
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
/// is scrolled and the precision; and what the last step did. Set by [`update`](super::update::update), read by
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

/// What the user has set up to look at the run with: watched nodes and the commands typed
/// before (breakpoints are run control's: [`Debugger::breakpoints`]).
#[derive(Debug, Clone, Default)]
pub struct Tools {
    /// Nodes whose health line stays on screen.
    pub watches: Vec<NodeId>,
    /// Commands entered at the prompt, oldest first.
    pub prompt_history: Vec<String>,
}

/// What [`update`](super::update::update) asks of the event loop.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    /// Text for the terminal's clipboard (OSC 52).
    pub clipboard: Option<String>,
    /// End the debugger.
    pub quit: bool,
}

/// The whole state of the debugger, grouped by what it is about.
pub struct App {
    /// The run being debugged and its run control: stepping, coarse commands on the worker,
    /// the history, breakpoints, the comparison with THEIRS. Changed only by [`update`](super::update::update).
    pub(super) debugger: Debugger,
    /// What the panes show.
    pub(crate) view: View,
    /// What covers the panes: zoom, chart, a window.
    pub(crate) overlay: Overlay,
    /// Watches, the prompt's history.
    pub(crate) tools: Tools,
    /// Requests to the event loop: the clipboard, quitting.
    pub(crate) outbox: Outbox,
    pub(crate) theme: Theme,
    /// The screen area of the last frame, for mouse hit-testing (set by the event loop).
    pub(crate) area: Rect,
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
            debugger: Debugger::new(session),
            view,
            overlay: Overlay::default(),
            tools: Tools::default(),
            outbox: Outbox::default(),
            theme,
            area: Rect::new(0, 0, 80, 24),
        }
    }

    /// Compares with `theirs` within `tol` (`--against`).
    pub fn set_against(&mut self, theirs: Option<Arc<Theirs>>, tol: f64) {
        self.debugger.set_against(theirs, tol);
    }

    /// What the panes show.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// What covers the panes.
    pub fn overlay(&self) -> &Overlay {
        &self.overlay
    }

    /// Watches and the prompt's history.
    pub fn tools(&self) -> &Tools {
        &self.tools
    }

    /// What the last update asked of the event loop.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The screen area the next frame is drawn in (the event loop's, and a test's, to set: the
    /// mouse is hit-tested against it).
    pub fn set_area(&mut self, area: Rect) {
        self.area = area;
    }

    /// The screen area of the last frame.
    pub fn area(&self) -> Rect {
        self.area
    }

    /// The run shown.
    pub fn session(&self) -> &Session {
        self.debugger.session()
    }

    /// Run control, to read (what runs, the breakpoints, THEIRS).
    pub fn debugger(&self) -> &Debugger {
        &self.debugger
    }

    /// Run control, to drive: for [`update`](super::update::update) and the handlers it calls.
    pub(super) fn debugger_mut(&mut self) -> &mut Debugger {
        &mut self.debugger
    }

    /// Whether a coarse command runs on the worker.
    pub fn running(&self) -> bool {
        self.debugger.job().is_some()
    }

    /// How keys are to be read now: by the running command, else by the open window.
    pub fn mode(&self) -> Mode {
        if self.running() {
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

    /// Shows `id` in the value and adjoint panes, from their tops when it is another node.
    pub(super) fn select(&mut self, id: NodeId) {
        if id != self.view.selected {
            self.view.selected = id;
            self.view.scroll[Pane::Values.index()] = Scroll::default();
            self.view.scroll[Pane::Adjoints.index()] = Scroll::default();
        }
    }
}

impl App {
    /// The digits of the status, the watches, the windows and the messages: the precision `=`
    /// chose.
    pub fn digits(&self) -> Digits {
        Digits::of(self.view.full_precision)
    }

    /// Whether the model has trainable parameters, and so an updates pane.
    pub fn has_updates(&self) -> bool {
        !self.session().graph().params().is_empty()
    }

    /// The digits of the panes: a zoomed pane has the room for every digit.
    pub fn pane_digits(&self) -> Digits {
        Digits::of(self.view.full_precision || self.overlay.zoom)
    }

    /// After a coarse command ends: follow the next node.
    pub(super) fn after_coarse(&mut self) {
        if self.view.follow {
            if let Some(id) = self.session().next_node() {
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
