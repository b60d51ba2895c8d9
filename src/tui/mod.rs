//! The interactive debugger: `bptui MODEL.yaml`. This file is the terminal and its event loop.
//!
//! The state lives in [`App`] (`app.rs`); [`keys::action_for`] maps a key to an [`Action`]
//! through the binding table; [`update`] (`update.rs`, with `run.rs` and `commands.rs`) is the
//! only code that changes the state, and it drives the run through run control
//! ([`crate::control::Debugger`]); drawing is `impl Widget for &App` (`draw.rs`), laid out by
//! `layout.rs`, each pane in `panes/`. [`run_loop`] is generic over the ratatui backend so
//! that tests run the real loop under `TestBackend`.

pub mod app;
pub mod commands;
pub mod draw;
pub mod keys;
pub mod layout;
pub mod panes;
pub mod prompt;
pub mod run;
pub mod theme;
pub mod update;

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use ratatui::backend::Backend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;
use ratatui::Terminal;

use crate::diff::Theirs;
use crate::engine::Backward;
use crate::model::Model;
use crate::session::Session;

pub use app::{Action, App, Mode, Pane};
pub use keys::{action_for, mouse_action};
pub use theme::Theme;
pub use update::update;

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
    app.set_against(against.map(std::sync::Arc::new), tol);
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
        if !app.running() {
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
        while app.running() && !app.outbox.quit && frame.elapsed() < Duration::from_millis(33) {
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
