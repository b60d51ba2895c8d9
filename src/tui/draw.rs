//! Drawing the whole screen: `impl Widget for &App` lays it out and has each pane, the status,
//! the gauge of a running command and the open window draw themselves. Reads the state only.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Clear, Gauge, Paragraph, Widget, Wrap};

use super::app::App;
use super::layout::layout;
use super::panes::{adjoints, chart, graph, overlays, status, updates, values};
use super::{MIN_HEIGHT, MIN_WIDTH};

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
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
            graph::render(self, r, buf);
        }
        if let Some(r) = areas.values {
            values::render(self, r, buf);
        }
        if let Some(r) = areas.adjoints {
            adjoints::render(self, r, buf);
        }
        if let Some(r) = areas.updates {
            updates::render(self, r, buf);
        }
        if let Some(r) = areas.chart {
            chart::render(self, r, buf);
        }
        status::render(self, areas.status, buf);
        if let Some(r) = areas.watches {
            overlays::watches(self, r, buf);
        }
        if let Some(job) = self.debugger().job() {
            let w = area.width.min(70);
            let r = Rect::new(area.x + (area.width - w) / 2, area.y + area.height / 2 - 2, w, 3);
            let done = job.examples_done();
            let total = job.examples_total().max(1);
            Clear.render(r, buf);
            Gauge::default()
                .block(Block::bordered().title(format!(" {} — Esc cancels ", job.finish().label())))
                .gauge_style(self.theme.key())
                .ratio((done as f64 / total as f64).clamp(0.0, 1.0))
                .label(format!("{done} / {} examples", job.examples_total()))
                .render(r, buf);
        }
        // The window, over everything (the gauge too).
        if let Some(w) = &self.overlay.window {
            overlays::window(self, w, area, buf);
        }
    }
}
