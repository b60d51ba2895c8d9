//! The debugger's screen for tests: keys pressed through the real key map, and the frame drawn
//! under `TestBackend` read back as text.

use bptui::tui::{action_for, update, App, Mode};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Terminal;

/// Presses keys through the real key map (a string of characters; `\n` Enter, `\x1b` Esc,
/// `\t` Tab) and runs coarse commands to their end.
pub fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        if let Some(a) = action_for(KeyEvent::new(code, KeyModifiers::NONE), app.mode()) {
            update(app, a);
        }
        bptui::tui::run::wait(app);
        assert_ne!(app.mode(), Mode::Running);
    }
}

/// Presses one key that has no character for [`press`] (PgDn, End, ↓) through the real key map.
pub fn press_code(app: &mut App, code: KeyCode) {
    if let Some(a) = action_for(KeyEvent::new(code, KeyModifiers::NONE), app.mode()) {
        update(app, a);
    }
    bptui::tui::run::wait(app);
}

/// The frame `app` draws at `w` × `h`.
pub fn draw(app: &mut App, w: u16, h: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    app.set_area(Rect::new(0, 0, w, h));
    terminal.draw(|f| f.render_widget(&*app, f.area())).expect("draw");
    terminal.backend().buffer().clone()
}

/// A frame as text, one line per row, trailing spaces trimmed.
pub fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The screen `app` draws at `w` × `h`, as text.
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    text(&draw(app, w, h))
}
