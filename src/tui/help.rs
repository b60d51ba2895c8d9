//! The help overlay (`?`): every key, and what the marks on screen mean.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use super::app::App;
use super::keys::KEYS;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    let w = area.width.saturating_sub(4).min(84);
    let h = area.height.saturating_sub(2).min(KEYS.len() as u16 + 9);
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h);
    Clear.render(r, buf);
    let key_w = KEYS.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(1) + 2;
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| Line::from(vec![Span::styled(format!(" {k:<key_w$}"), theme.key()), Span::raw(*what)]))
        .collect();
    let notes = [
        "",
        " Marks: ▶ next step's node · v value · ∂ adjoint · ~ partial · > selected",
        " Highlighted: changed by the last step · ≠ yours differs (--against)",
        " Version A: visiting v pulls dJ/dv = Σ_u dJ/du·∂u/∂v from its consumers u.",
        " Version B: visiting u pushes dJ/du·∂u/∂v into each of its inputs v.",
    ];
    let room = (h as usize).saturating_sub(2 + lines.len());
    for n in notes.iter().take(room) {
        lines.push(Line::styled(*n, theme.dim()));
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::bordered().border_type(BorderType::Double).title(" Keys — ? or Esc closes "))
        .render(r, buf);
}
