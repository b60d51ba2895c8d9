//! Styles for every highlight the debugger uses, with and without colour.
//!
//! When the environment variable `NO_COLOR` is set and non-empty no colour is used at all:
//! highlights are then made of bold, reverse and underline only.

use ratatui::style::{Color, Modifier, Style};

/// The styles of one run of the debugger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Whether colours may be used.
    pub color: bool,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set to a non-empty value.
    pub fn from_env() -> Theme {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    /// Plain text.
    pub fn text(&self) -> Style {
        Style::default()
    }

    /// Pane borders; the focused pane's is bold (and cyan with colour).
    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::default().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            (true, false) => Style::default().add_modifier(Modifier::BOLD),
            (false, _) => Style::default(),
        }
    }

    /// Headings and labels inside a pane.
    pub fn heading(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// Secondary text: notes, units, indices.
    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    /// Entries the last step changed.
    pub fn changed(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Yellow).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }

    /// Their number where it differs from bptui's (`--against`).
    pub fn mismatch(&self) -> Style {
        if self.color {
            Style::default().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// The node the next step acts on.
    pub fn current(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// The selected node.
    pub fn selected(&self) -> Style {
        if self.color {
            Style::default().bg(Color::Blue).fg(Color::White)
        } else {
            Style::default().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
        }
    }

    /// Values that are done (value or adjoint computed).
    pub fn done(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Green)
        } else {
            Style::default()
        }
    }

    /// NaN, infinity and other alarms.
    pub fn bad(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    /// What the next key will do.
    pub fn key(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    }

    /// The status bar's background.
    pub fn bar(&self) -> Style {
        if self.color {
            Style::default().bg(Color::Rgb(30, 30, 46))
        } else {
            Style::default()
        }
    }
}
