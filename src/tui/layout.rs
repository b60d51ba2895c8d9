//! Where each part of the screen goes ([`layout`]) and what is under a screen position
//! ([`Areas::pane_at`], [`Areas::node_at`]): drawing and the mouse use the same layout.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::engine::NodeId;

use super::app::{App, Pane};
use super::panes::{graph, overlays};
use super::{MIN_HEIGHT, MIN_WIDTH};

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
        let n = app.session().graph().len();
        let rows = graph::list_rows(n, inner.height as usize);
        let i = (row - inner.y - 1) as usize;
        (i < rows).then(|| graph::list_offset(n, rows, app.view.selected) + i).filter(|&id| id < n)
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
    let [values, adjoints] = Layout::vertical([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(right);
    // A graph without trainable parameters has no updates to show: the graph takes the column.
    if app.has_updates() {
        let want = graph::wanted_height(app, left.width.saturating_sub(2));
        let graph_h = want.clamp(left.height / 2, (left.height * 2 / 3).max(left.height / 2));
        let [graph, updates] = Layout::vertical([Constraint::Length(graph_h), Constraint::Min(1)]).areas(left);
        areas.graph = Some(graph);
        areas.updates = Some(updates);
    } else {
        areas.graph = Some(left);
    }
    areas.values = Some(values);
    areas.adjoints = Some(adjoints);
    areas
}
