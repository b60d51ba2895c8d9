//! The key map: a pure function from a key press (and the current [`Mode`]) to an [`Action`].

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::app::{Action, Finish, Mode};

/// Every key the debugger knows, as the help overlay lists them: (keys, what they do).
pub const KEYS: &[(&str, &str)] = &[
    ("n  space  →", "one micro-step: one node, or one parameter update"),
    ("f", "finish the phase (forward, backward or update)"),
    ("e", "finish the example (forward, backward, update)"),
    ("E", "finish the epoch (then train/test mean loss)"),
    ("R", "run to the end of training"),
    ("d", "jump to the next divergence from THEIRS (--against)"),
    ("Esc", "cancel a running E/R/d; close help, zoom or chart"),
    ("↑ ↓  k j", "select the previous / next node"),
    (".", "selection follows the steps again"),
    ("Tab  Shift-Tab", "focus the next / previous pane"),
    ("Enter", "zoom the focused pane (again or Esc: unzoom)"),
    ("PgUp PgDn  h l", "scroll the focused pane (rows / columns)"),
    ("a", "backward Version A ↔ B (from the next backward)"),
    ("c  ?", "show / hide the loss chart / this help"),
    ("q  Ctrl-C", "quit"),
    ("mouse", "click: select node / focus pane; wheel scrolls"),
];

/// The action for a key press in a mode, if the key means anything there.
pub fn action_for(key: KeyEvent, mode: Mode) -> Option<Action> {
    if !key.is_press() {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
        return Some(Action::Quit);
    }
    if ctrl {
        return None;
    }
    match mode {
        Mode::Help => match key.code {
            KeyCode::Char('?') | KeyCode::Esc | KeyCode::Enter => Some(Action::ToggleHelp),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Mode::Running => match key.code {
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Mode::Normal => match key.code {
            KeyCode::Char('n') | KeyCode::Char(' ') | KeyCode::Right => Some(Action::Step),
            KeyCode::Char('f') => Some(Action::Finish(Finish::Phase)),
            KeyCode::Char('e') => Some(Action::Finish(Finish::Example)),
            KeyCode::Char('E') => Some(Action::Finish(Finish::Epoch)),
            KeyCode::Char('R') => Some(Action::Finish(Finish::Run)),
            KeyCode::Char('d') => Some(Action::NextDivergence),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::SelectPrev),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::SelectNext),
            KeyCode::Char('.') => Some(Action::Follow),
            KeyCode::Tab => Some(Action::FocusNext),
            KeyCode::BackTab => Some(Action::FocusPrev),
            KeyCode::Enter => Some(Action::ToggleZoom),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::PageUp => Some(Action::ScrollUp),
            KeyCode::PageDown => Some(Action::ScrollDown),
            KeyCode::Char('h') => Some(Action::ScrollLeft),
            KeyCode::Char('l') => Some(Action::ScrollRight),
            KeyCode::Char('a') => Some(Action::ToggleAlgorithm),
            KeyCode::Char('c') => Some(Action::ToggleChart),
            KeyCode::Char('?') => Some(Action::ToggleHelp),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
    }
}

/// The action for a mouse event: left clicks and the wheel.
pub fn mouse_action(m: MouseEvent) -> Option<Action> {
    let (column, row) = (m.column, m.row);
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click { column, row }),
        MouseEventKind::ScrollDown => Some(Action::Wheel { down: true, column, row }),
        MouseEventKind::ScrollUp => Some(Action::Wheel { down: false, column, row }),
        _ => None,
    }
}
