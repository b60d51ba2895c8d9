//! The panes and windows, each drawing itself from `&App` into its area (one file each), and
//! what they share: a pane's frame ([`pane_block`]), number grids ([`grid`]), the comparison
//! with THEIRS beside a value ([`against`]).

pub mod adjoints;
pub mod against;
pub mod chart;
pub mod graph;
pub mod grid;
pub mod help;
pub mod overlays;
pub mod status;
pub mod updates;
pub mod values;

use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders};

use crate::tui::app::{App, Pane};

/// A pane's frame: its title, bold when focused.
pub fn pane_block(app: &App, pane: Pane, title: Line<'static>) -> Block<'static> {
    let focused = app.view.focus == pane;
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Plain })
        .border_style(app.theme.border(focused))
        .title(title)
}
