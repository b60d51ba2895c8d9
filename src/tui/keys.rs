//! The key map as data: a table of bindings per [`Mode`] and a pure lookup from a key press to
//! an [`Action`] (as gitui and ratatui's component template keep theirs).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::app::{Action, Finish, Mode};

/// One row of the key table: the keys as the help writes them, what they do, the word the
/// status line shows beside the first key (if it shows one), and the bindings themselves.
/// The help, the README and the key → action lookup all read this one table.
pub struct Key {
    pub keys: &'static str,
    pub does: &'static str,
    pub hint: Option<&'static str>,
    pub binds: &'static [(KeyCode, Action)],
}

const fn key(keys: &'static str, does: &'static str, binds: &'static [(KeyCode, Action)]) -> Key {
    Key { keys, does, hint: None, binds }
}

const fn hinted(
    keys: &'static str,
    does: &'static str,
    hint: &'static str,
    binds: &'static [(KeyCode, Action)],
) -> Key {
    Key { keys, does, hint: Some(hint), binds }
}

use Action as A;
use KeyCode::{Char as C, *};

/// Every key the debugger knows in its normal mode, as the help overlay and the README list
/// them; the status line's hints are read from here too. (Ctrl-C quits in every mode, and the
/// mouse is [`mouse_action`]'s.)
pub const KEYS: &[Key] = &[
    key(
        "n  space  →",
        "one micro-step: one node, or one parameter update",
        &[(C('n'), A::Step), (C(' '), A::Step), (Right, A::Step)],
    ),
    hinted("p  ←", "one micro-step back (exactly as it was)", "back", &[(C('p'), A::StepBack), (Left, A::StepBack)]),
    key("P", "back to the start of the example (again: the one before)", &[(C('P'), A::BackToExample)]),
    key("r", "restart the run (asks first when far along)", &[(C('r'), A::Restart)]),
    key("f", "finish the phase (forward, backward or update)", &[(C('f'), A::Finish(Finish::Phase))]),
    hinted(
        "e",
        "finish the example (breakpoints stop it on the way)",
        "example",
        &[(C('e'), A::Finish(Finish::Example))],
    ),
    hinted("E", "finish the epoch and its means (breakpoints stop it)", "epoch", &[(C('E'), A::Finish(Finish::Epoch))]),
    key("R", "run to the end of training (breakpoints stop it)", &[(C('R'), A::Finish(Finish::Run))]),
    hinted("c", "continue to the next breakpoint (NaN/Inf always)", "continue", &[(C('c'), A::Continue)]),
    hinted(
        "g  :",
        "go to, or a command: e E x N, row R, break NAME > T",
        "go to",
        &[(C('g'), A::OpenPrompt), (C(':'), A::OpenPrompt)],
    ),
    hinted("b", "breakpoint on the selected node (when it is computed)", "break", &[(C('b'), A::ToggleBreakpoint)]),
    key("B", "the breakpoint list: space on/off, x delete", &[(C('B'), A::OpenBreakpoints)]),
    key("w", "watch the selected node (health line stays shown)", &[(C('w'), A::ToggleWatch)]),
    key("G", "check the selected node: backprop vs central diff.", &[(C('G'), A::CheckNode)]),
    hinted("d", "jump to the next divergence from THEIRS (--against)", "divergence", &[(C('d'), A::NextDivergence)]),
    key("Esc", "cancel a running command; close a window", &[(Esc, A::Back)]),
    key(
        "↑ ↓  k j",
        "select the previous / next node",
        &[(Up, A::SelectPrev), (Down, A::SelectNext), (C('k'), A::SelectPrev), (C('j'), A::SelectNext)],
    ),
    key(".", "selection follows the steps again", &[(C('.'), A::Follow)]),
    key("Tab  Shift-Tab", "focus the next / previous pane", &[(Tab, A::FocusNext), (BackTab, A::FocusPrev)]),
    key("Enter", "zoom the focused pane (again or Esc: unzoom)", &[(Enter, A::ToggleZoom)]),
    key(
        "PgUp PgDn  h l",
        "scroll the focused pane (rows / columns)",
        &[(PageUp, A::ScrollUp), (PageDown, A::ScrollDown), (C('h'), A::ScrollLeft), (C('l'), A::ScrollRight)],
    ),
    key("Home End", "first / last rows of the focused pane", &[(Home, A::ScrollHome), (End, A::ScrollEnd)]),
    key("=", "5 significant digits ↔ full precision", &[(C('='), A::TogglePrecision)]),
    key("y", "copy the selected value (or adjoint) for numpy", &[(C('y'), A::Copy)]),
    key("s", "save this step's numbers to an .npz", &[(C('s'), A::Save)]),
    key("a", "backward Version A ↔ B (from the next backward)", &[(C('a'), A::ToggleAlgorithm)]),
    hinted(
        "C  ?",
        "show / hide the loss chart / this help",
        "chart",
        &[(C('C'), A::ToggleChart), (C('?'), A::ToggleHelp)],
    ),
    hinted("q  Ctrl-C", "quit", "quit", &[(C('q'), A::Quit)]),
    key("mouse", "click: select node / focus pane; wheel scrolls", &[]),
];

/// The keys of the help overlay.
const HELP: &[(KeyCode, Action)] = &[
    (C('?'), A::ToggleHelp),
    (Esc, A::ToggleHelp),
    (Enter, A::ToggleHelp),
    (Up, A::LineUp),
    (C('k'), A::LineUp),
    (PageUp, A::ScrollUp),
    (Down, A::LineDown),
    (C('j'), A::LineDown),
    (PageDown, A::ScrollDown),
    (Home, A::ScrollHome),
    (End, A::ScrollEnd),
    (C('q'), A::Quit),
];

/// While a coarse command runs: the rest waits for it (see the event loop).
const RUNNING: &[(KeyCode, Action)] = &[(Esc, A::Cancel), (C('q'), A::Quit)];

/// Typing after `g` or `:`; any other character goes into the line.
const PROMPT: &[(KeyCode, Action)] = &[
    (Esc, A::Back),
    (Enter, A::PromptSubmit),
    (Backspace, A::PromptBackspace),
    (Tab, A::PromptComplete),
    (Up, A::PromptHistory { older: true }),
    (Down, A::PromptHistory { older: false }),
];

/// The breakpoint list (`B`).
const BREAKPOINTS: &[(KeyCode, Action)] = &[
    (Esc, A::Back),
    (C('B'), A::Back),
    (Up, A::ListUp),
    (C('k'), A::ListUp),
    (Down, A::ListDown),
    (C('j'), A::ListDown),
    (C(' '), A::ListToggle),
    (Enter, A::ListToggle),
    (C('x'), A::ListDelete),
    (Delete, A::ListDelete),
    (C('q'), A::Quit),
];

/// A yes/no question; any other key is no.
const CONFIRM: &[(KeyCode, Action)] = &[(C('y'), A::Answer(true)), (C('Y'), A::Answer(true))];

/// The gradient check of a node (`G`).
const CHECK: &[(KeyCode, Action)] = &[(Esc, A::Back), (Enter, A::Back), (C('G'), A::Back), (C('q'), A::Quit)];

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

/// The action for a key press in a mode, if the key means anything there: looked up in the
/// mode's table.
pub fn action_for(key: KeyEvent, mode: Mode) -> Option<Action> {
    if !key.is_press() {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, C('c') | C('C')) {
        return Some(Action::Quit);
    }
    if ctrl {
        return None;
    }
    let find = |table: &[(KeyCode, Action)]| table.iter().find(|(code, _)| *code == key.code).map(|&(_, a)| a);
    match mode {
        Mode::Normal => KEYS.iter().find_map(|k| find(k.binds)),
        Mode::Help => find(HELP),
        Mode::Running => find(RUNNING),
        Mode::Prompt => find(PROMPT).or(match key.code {
            C(c) => Some(Action::PromptChar(c)),
            _ => None,
        }),
        Mode::Breakpoints => find(BREAKPOINTS),
        Mode::Confirm => find(CONFIRM).or(Some(Action::Answer(false))),
        Mode::Check => find(CHECK),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A key as the table's text writes it.
    fn name(code: KeyCode) -> String {
        match code {
            C(' ') => "space".into(),
            C(c) => c.to_string(),
            Right => "→".into(),
            Left => "←".into(),
            Up => "↑".into(),
            Down => "↓".into(),
            BackTab => "Shift-Tab".into(),
            PageUp => "PgUp".into(),
            PageDown => "PgDn".into(),
            other => format!("{other:?}"),
        }
    }

    /// The help cannot drift from the keys: each row's text names exactly the keys it binds
    /// (Ctrl-C and the mouse are bound outside the table), and no key is bound twice.
    #[test]
    fn the_text_of_each_row_names_its_bindings() {
        let mut seen = std::collections::HashSet::new();
        for k in KEYS {
            let written: Vec<&str> = k.keys.split_whitespace().filter(|w| !matches!(*w, "Ctrl-C" | "mouse")).collect();
            let bound: Vec<String> = k.binds.iter().map(|&(code, _)| name(code)).collect();
            assert_eq!(written, bound, "the row `{}`", k.keys);
            for &(code, _) in k.binds {
                assert!(seen.insert(code), "{code:?} is bound twice");
            }
        }
    }
}
