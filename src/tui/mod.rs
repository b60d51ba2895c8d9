//! The interactive debugger: `bptui MODEL.yaml`.
//!
//! The state lives in [`App`]; [`update`] is the only code that drives the
//! [`Session`]; [`keys::action_for`] maps keys to actions; drawing is
//! `impl Widget for &App`, one module per pane, laid out here. [`run_loop`] is generic over
//! the ratatui backend so that tests run the real loop under `TestBackend`.

pub mod adjoints_pane;
pub mod against;
pub mod app;
pub mod chart;
pub mod commands;
pub mod graph_pane;
pub mod grid;
pub mod help;
pub mod keys;
pub mod overlays;
pub mod prompt;
pub mod status;
pub mod theme;
pub mod travel;
pub mod updates_pane;
pub mod values_pane;

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders, Clear, Gauge, Paragraph, Widget, Wrap};
use ratatui::Terminal;

use crate::diff::Theirs;
use crate::engine::{Backward, NodeId};
use crate::model::Model;
use crate::session::Session;

pub use app::{update, Action, App, Mode, Pane};
pub use keys::{action_for, mouse_action};
pub use theme::Theme;

/// The smallest terminal the debugger draws into.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Opens the debugger on `model` in the real terminal; restores the terminal when it ends,
/// also on panic.
/// `against`: another implementation's trace to show beside bptui's numbers, compared
/// within `tol` (absolute + relative).
pub fn run(model: Model, backward: Backward, against: Option<Theirs>, tol: f64) -> io::Result<()> {
    let session = Session::new(model, backward);
    let mut app = App::new(session, Theme::from_env());
    app.compare.theirs = against.map(std::sync::Arc::new);
    app.compare.tol = tol;
    let mut terminal = ratatui::try_init()?;
    crate::signals::set_tui_active(Some(restore_terminal));
    // ratatui's hook restores raw mode and the main screen; mouse capture is ours to undo.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(io::stdout(), DisableMouseCapture);
        hook(info);
    }));
    let result = execute!(io::stdout(), EnableMouseCapture).and_then(|_| {
        run_loop(&mut terminal, &mut app, |timeout| {
            if let Some(text) = CLIPBOARD.with(|c| c.take()) {
                let _ = osc52(&text);
            }
            // Waits in short slices so that a signal ending the process is seen promptly.
            let start = Instant::now();
            loop {
                if let Some(sig) = crate::signals::pending() {
                    return Err(io::Error::other(format!("ended by signal {sig}")));
                }
                let left = timeout.saturating_sub(start.elapsed());
                if event::poll(left.min(Duration::from_millis(20)))? {
                    return event::read().map(Some);
                }
                if left.is_zero() {
                    return Ok(None);
                }
            }
        })
    });
    restore_terminal();
    crate::signals::set_tui_active(None);
    if let Some(sig) = crate::signals::pending() {
        crate::signals::die(sig);
    }
    result
}

thread_local! {
    /// Text the app asked to put on the clipboard, handed from the loop to the terminal.
    static CLIPBOARD: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Puts `text` on the terminal's clipboard with the OSC 52 escape sequence (terminals that do
/// not support it ignore it).
fn osc52(text: &str) -> io::Result<()> {
    use std::io::Write as _;
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                encoded.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                encoded.push('=');
            }
        }
    }
    let mut out = io::stdout();
    write!(out, "\x1b]52;c;{encoded}\x07")?;
    out.flush()
}

/// Leaves the debugger's terminal modes: mouse capture off, raw mode off, the main screen
/// back, the cursor shown (what `q` does on the way out).
pub fn restore_terminal() {
    let _ = execute!(io::stdout(), DisableMouseCapture, ratatui::crossterm::cursor::Show);
    ratatui::restore();
}

/// Maps a terminal event to an action.
pub fn action_for_event(ev: &Event, mode: Mode) -> Option<Action> {
    match ev {
        Event::Key(key) => action_for(*key, mode),
        Event::Mouse(m) => mouse_action(*m),
        _ => None,
    }
}

/// The event loop: draw, wait for an event (at most `timeout`), update. While a coarse command
/// runs on its worker thread, input is polled in short waits and the worker asked for its
/// result between them, and a frame (the gauge) is drawn about every 33 ms; a command that
/// ends within that time shows no gauge. Ends when the app asks to quit or the event source
/// ends (`Err`).
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut next_event: impl FnMut(Duration) -> io::Result<Option<Event>>,
) -> io::Result<()> {
    let frame_error = |e: B::Error| io::Error::other(e.to_string());
    // Keys typed while a command runs (say `n` right after `f`) wait for it instead of being lost.
    let mut typed_ahead: VecDeque<Event> = VecDeque::new();
    loop {
        let size = terminal.size().map_err(frame_error)?;
        app.area = Rect::new(0, 0, size.width, size.height);
        terminal.draw(|f| f.render_widget(&*app, f.area())).map_err(frame_error)?;
        if app.outbox.quit {
            return Ok(());
        }
        if app.job.is_none() {
            let ev = match typed_ahead.pop_front() {
                Some(ev) => Some(ev),
                None => next_event(Duration::from_millis(250))?,
            };
            if let Some(a) = ev.as_ref().and_then(|ev| action_for_event(ev, app.mode())) {
                update(app, a);
            }
            if let Some(text) = app.outbox.clipboard.take() {
                CLIPBOARD.with(|c| *c.borrow_mut() = Some(text));
            }
        }
        // A command running (or just started): keys and the worker's result until the next frame.
        let frame = Instant::now();
        while app.job.is_some() && !app.outbox.quit && frame.elapsed() < Duration::from_millis(33) {
            match next_event(Duration::from_millis(2))? {
                Some(ev) => match action_for_event(&ev, app.mode()) {
                    Some(a) => {
                        if a == Action::Cancel {
                            typed_ahead.clear();
                        }
                        update(app, a);
                    }
                    None if action_for_event(&ev, Mode::Normal).is_some() => typed_ahead.push_back(ev),
                    None => {}
                },
                None => update(app, Action::Tick),
            }
        }
    }
}

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    pub too_small: bool,
    pub status: Rect,
    pub graph: Option<Rect>,
    pub values: Option<Rect>,
    pub adjoints: Option<Rect>,
    pub updates: Option<Rect>,
    pub chart: Option<Rect>,
    pub watches: Option<Rect>,
}

impl Areas {
    pub fn of(&self, pane: Pane) -> Option<Rect> {
        match pane {
            Pane::Graph => self.graph,
            Pane::Values => self.values,
            Pane::Adjoints => self.adjoints,
            Pane::Updates => self.updates,
        }
    }

    /// The pane under a screen position.
    pub fn pane_at(&self, column: u16, row: u16) -> Option<Pane> {
        let p = ratatui::layout::Position::new(column, row);
        Pane::ALL.into_iter().find(|&pane| self.of(pane).is_some_and(|r| r.contains(p)))
    }

    /// The node listed at a screen position, if the graph pane shows one there.
    pub fn node_at(&self, app: &App, column: u16, row: u16) -> Option<NodeId> {
        let r = self.graph?;
        let inner = Rect::new(r.x + 1, r.y + 1, r.width.saturating_sub(2), r.height.saturating_sub(2));
        if !inner.contains(ratatui::layout::Position::new(column, row)) || row == inner.y {
            return None;
        }
        let n = app.session.graph().len();
        let rows = list_rows(n, inner.height as usize);
        let i = (row - inner.y - 1) as usize;
        (i < rows).then(|| list_offset(n, rows, app.view.selected) + i).filter(|&id| id < n)
    }
}

/// Node rows the graph pane lists in `inner_height` rows (one is its header).
pub(crate) fn list_rows(n: usize, inner_height: usize) -> usize {
    n.min(inner_height.saturating_sub(1))
}

/// First node row shown, so that the selection is visible in `rows` rows.
pub(crate) fn list_offset(n: usize, rows: usize, selected: NodeId) -> usize {
    if n <= rows || rows == 0 {
        0
    } else {
        selected.saturating_sub(rows - 1).min(n - rows)
    }
}

/// Lays the screen out: panes reflow from 60×16 up; a zoomed pane or the chart takes the
/// whole area above the status bar.
pub fn layout(area: Rect, app: &App) -> Areas {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return Areas { too_small: true, ..Areas::default() };
    }
    // The status keeps its four lines at every size: position, next step, last step, epochs.
    let status_h = 4;
    let watch_h = overlays::watch_rows(app);
    let [main, watches, status] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(watch_h), Constraint::Length(status_h)]).areas(area);
    let mut areas = Areas { status, watches: (watch_h > 0).then_some(watches), ..Areas::default() };
    if app.overlay.chart {
        areas.chart = Some(main);
        return areas;
    }
    if app.overlay.zoom {
        match app.view.focus {
            Pane::Graph => areas.graph = Some(main),
            Pane::Values => areas.values = Some(main),
            Pane::Adjoints => areas.adjoints = Some(main),
            Pane::Updates => areas.updates = Some(main),
        }
        return areas;
    }
    let left_w = if main.width >= 120 { main.width * 2 / 5 } else { (main.width * 9 / 20).max(30) };
    let [left, right] = Layout::horizontal([Constraint::Length(left_w), Constraint::Min(1)]).areas(main);
    let want = graph_pane::wanted_height(app, left.width.saturating_sub(2));
    let graph_h = want.clamp(left.height / 2, (left.height * 2 / 3).max(left.height / 2));
    let [graph, updates] = Layout::vertical([Constraint::Length(graph_h), Constraint::Min(1)]).areas(left);
    let [values, adjoints] = Layout::vertical([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(right);
    areas.graph = Some(graph);
    areas.updates = Some(updates);
    areas.values = Some(values);
    areas.adjoints = Some(adjoints);
    areas
}

/// A pane's frame: its title, bold when focused.
pub fn pane_block(app: &App, pane: Pane, title: Line<'static>) -> Block<'static> {
    let focused = app.view.focus == pane;
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Plain })
        .border_style(app.theme.border(focused))
        .title(title)
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        // A zoomed pane has the room for every digit.
        crate::numfmt::set_full_precision(self.view.full_precision || self.overlay.zoom);
        let areas = layout(area, self);
        if areas.too_small {
            let msg = format!(
                "The terminal is {}×{}; bptui needs at least {}×{}. Enlarge it, or press q to quit.",
                area.width, area.height, MIN_WIDTH, MIN_HEIGHT
            );
            Paragraph::new(msg).wrap(Wrap { trim: true }).render(area, buf);
            return;
        }
        if let Some(r) = areas.graph {
            graph_pane::render(self, r, buf);
        }
        if let Some(r) = areas.values {
            values_pane::render(self, r, buf);
        }
        if let Some(r) = areas.adjoints {
            adjoints_pane::render(self, r, buf);
        }
        if let Some(r) = areas.updates {
            updates_pane::render(self, r, buf);
        }
        if let Some(r) = areas.chart {
            chart::render(self, r, buf);
        }
        // Only a zoomed pane shows every digit on its own; the status keeps the chosen precision.
        crate::numfmt::set_full_precision(self.view.full_precision);
        status::render(self, areas.status, buf);
        if let Some(r) = areas.watches {
            overlays::watches(self, r, buf);
        }
        if let Some(job) = &self.job {
            let w = area.width.min(70);
            let r = Rect::new(area.x + (area.width - w) / 2, area.y + area.height / 2 - 2, w, 3);
            let done = job.examples_done();
            let total = job.examples_total.max(1);
            Clear.render(r, buf);
            Gauge::default()
                .block(Block::bordered().title(format!(" {} — Esc cancels ", job.finish.label())))
                .gauge_style(self.theme.key())
                .ratio((done as f64 / total as f64).clamp(0.0, 1.0))
                .label(format!("{done} / {} examples", job.examples_total))
                .render(r, buf);
        }
        // The window, over everything (the gauge too).
        if let Some(w) = &self.overlay.window {
            overlays::window(self, w, area, buf);
        }
    }
}
