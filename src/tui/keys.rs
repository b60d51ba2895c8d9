//! The key map: a pure function from a key press (and the current [`Mode`]) to an [`Action`].

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::app::{Action, Finish, Mode};

/// One row of the key table: the keys, what they do, and the word the status line shows
/// beside the first key, if it shows one.
pub struct Key {
    pub keys: &'static str,
    pub does: &'static str,
    pub hint: Option<&'static str>,
}

const fn key(keys: &'static str, does: &'static str) -> Key {
    Key { keys, does, hint: None }
}

const fn hinted(keys: &'static str, does: &'static str, hint: &'static str) -> Key {
    Key { keys, does, hint: Some(hint) }
}

/// Every key the debugger knows, as the help overlay and the README list them; the status
/// line's hints are read from here too.
pub const KEYS: &[Key] = &[
    key("n  space  →", "one micro-step: one node, or one parameter update"),
    hinted("p  ←", "one micro-step back (exactly as it was)", "back"),
    key("P", "back to the start of the example (again: the one before)"),
    key("r", "restart the run (asks first when far along)"),
    key("f", "finish the phase (forward, backward or update)"),
    hinted("e", "finish the example (breakpoints stop it on the way)", "example"),
    hinted("E", "finish the epoch and its means (breakpoints stop it)", "epoch"),
    key("R", "run to the end of training (breakpoints stop it)"),
    hinted("c", "continue to the next breakpoint (NaN/Inf always)", "continue"),
    hinted("g  :", "go to, or a command: e E x N, row R, break NAME > T", "go to"),
    hinted("b", "breakpoint on the selected node (when it is computed)", "break"),
    key("B", "the breakpoint list: space on/off, x delete"),
    key("w", "watch the selected node (health line stays shown)"),
    key("G", "check the selected node: backprop vs central diff."),
    hinted("d", "jump to the next divergence from THEIRS (--against)", "divergence"),
    key("Esc", "cancel a running command; close a window"),
    key("↑ ↓  k j", "select the previous / next node"),
    key(".", "selection follows the steps again"),
    key("Tab  Shift-Tab", "focus the next / previous pane"),
    key("Enter", "zoom the focused pane (again or Esc: unzoom)"),
    key("PgUp PgDn  h l", "scroll the focused pane (rows / columns)"),
    key("Home End", "first / last rows of the focused pane"),
    key("=", "5 significant digits ↔ full precision"),
    key("y", "copy the selected value (or adjoint) for numpy"),
    key("s", "save this step's numbers to an .npz"),
    key("a", "backward Version A ↔ B (from the next backward)"),
    hinted("C  ?", "show / hide the loss chart / this help", "chart"),
    hinted("q  Ctrl-C", "quit", "quit"),
    key("mouse", "click: select node / focus pane; wheel scrolls"),
];

/// The status line's hints in the table's order ("p back · e example · … · ? help · q
/// quit"); with another implementation's trace (`theirs`), `d divergence` first, else
/// without it. `? help` comes from the chart's row, which is also the help key's.
/// Worked out once: the status line asks at every frame.
pub fn hints(theirs: bool) -> &'static str {
    static HINTS: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
    &HINTS.get_or_init(|| [hint_line(false), hint_line(true)])[usize::from(theirs)]
}

fn hint_line(theirs: bool) -> String {
    let mut words: Vec<(char, &str)> = Vec::new();
    for k in KEYS {
        let (Some(hint), Some(c)) = (k.hint, k.keys.chars().next()) else { continue };
        words.push((c, hint));
        if k.keys.starts_with("C  ?") {
            words.push(('?', "help"));
        }
    }
    if let Some(at) = words.iter().position(|&(c, _)| c == 'd') {
        let d = words.remove(at);
        if theirs {
            words.insert(0, d);
        }
    }
    let words: Vec<String> = words.iter().map(|(c, w)| format!("{c} {w}")).collect();
    format!("   {}", words.join(" · "))
}

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
            KeyCode::Up | KeyCode::Char('k') | KeyCode::PageUp => Some(Action::ScrollUp),
            KeyCode::Down | KeyCode::Char('j') | KeyCode::PageDown => Some(Action::ScrollDown),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Mode::Running => match key.code {
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        // Typing: every character goes into the line.
        Mode::Prompt => match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::PromptSubmit),
            KeyCode::Backspace => Some(Action::PromptBackspace),
            KeyCode::Tab => Some(Action::PromptComplete),
            KeyCode::Up => Some(Action::PromptHistory { older: true }),
            KeyCode::Down => Some(Action::PromptHistory { older: false }),
            KeyCode::Char(c) => Some(Action::PromptChar(c)),
            _ => None,
        },
        Mode::Breakpoints => match key.code {
            KeyCode::Esc | KeyCode::Char('B') => Some(Action::Back),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::ListUp),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::ListDown),
            KeyCode::Char(' ') | KeyCode::Enter => Some(Action::ListToggle),
            KeyCode::Char('x') | KeyCode::Delete => Some(Action::ListDelete),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Mode::Confirm => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => Some(Action::Answer(true)),
            _ => Some(Action::Answer(false)),
        },
        Mode::Check => match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('G') => Some(Action::Back),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Mode::Normal => match key.code {
            KeyCode::Char('n') | KeyCode::Char(' ') | KeyCode::Right => Some(Action::Step),
            KeyCode::Char('p') | KeyCode::Left => Some(Action::StepBack),
            KeyCode::Char('P') => Some(Action::BackToExample),
            KeyCode::Char('r') => Some(Action::Restart),
            KeyCode::Char('f') => Some(Action::Finish(Finish::Phase)),
            KeyCode::Char('e') => Some(Action::Finish(Finish::Example)),
            KeyCode::Char('E') => Some(Action::Finish(Finish::Epoch)),
            KeyCode::Char('R') => Some(Action::Finish(Finish::Run)),
            KeyCode::Char('c') => Some(Action::Continue),
            KeyCode::Char('g') | KeyCode::Char(':') => Some(Action::OpenPrompt),
            KeyCode::Char('b') => Some(Action::ToggleBreakpoint),
            KeyCode::Char('B') => Some(Action::OpenBreakpoints),
            KeyCode::Char('w') => Some(Action::ToggleWatch),
            KeyCode::Char('G') => Some(Action::CheckNode),
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
            KeyCode::Home => Some(Action::ScrollHome),
            KeyCode::End => Some(Action::ScrollEnd),
            KeyCode::Char('h') => Some(Action::ScrollLeft),
            KeyCode::Char('l') => Some(Action::ScrollRight),
            KeyCode::Char('=') => Some(Action::TogglePrecision),
            KeyCode::Char('y') => Some(Action::Copy),
            KeyCode::Char('s') => Some(Action::Save),
            KeyCode::Char('a') => Some(Action::ToggleAlgorithm),
            KeyCode::Char('C') => Some(Action::ToggleChart),
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
