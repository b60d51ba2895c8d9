//! The help overlay (`?`): every key, and what the marks on screen mean.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget};

use crate::tui::app::App;
use crate::tui::keys::KEYS;

/// The window's place in `area` for `count` lines (centred, at most 84 columns, as tall as its
/// lines), the rows it shows at once, and the last line it can scroll to.
fn window(area: Rect, count: usize) -> (Rect, usize, usize) {
    let w = area.width.saturating_sub(4).min(84);
    let h = area.height.saturating_sub(2).min(count as u16 + 2);
    let rows = (h as usize).saturating_sub(2);
    (Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h), rows, count.saturating_sub(rows))
}

/// The rows the help shows at once in `area`, and the last line it can scroll to.
pub fn extent(app: &App, area: Rect) -> (usize, usize) {
    let (_, rows, max) = window(area, lines(app).len());
    (rows, max)
}

/// The help window, from line `scroll` (kept within the lines there are).
pub fn render(app: &App, scroll: usize, area: Rect, buf: &mut Buffer) {
    let lines = lines(app);
    let (r, rows, max) = window(area, lines.len());
    Clear.render(r, buf);
    // Scrolls when it does not fit, with a visible marker.
    let top = scroll.min(max);
    let title = match (top > 0, top < max) {
        (false, false) => " Keys — ? or Esc closes ".to_string(),
        (_, true) => format!(" Keys — ↓ {} more lines (↑↓ PgDn End) — ? or Esc closes ", max - top),
        (true, false) => " Keys — ↑ PgUp Home scroll back — ? or Esc closes ".to_string(),
    };
    let shown: Vec<Line> = lines.into_iter().skip(top).take(rows).collect();
    Paragraph::new(shown).block(Block::bordered().border_type(BorderType::Double).title(title)).render(r, buf);
}

/// Every line of the help: the key table, then what the marks and the notation mean.
fn lines(app: &App) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let key_w = KEYS.iter().map(|k| k.keys.chars().count()).max().unwrap_or(1) + 2;
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|k| Line::from(vec![Span::styled(format!(" {:<key_w$}", k.keys), theme.key()), Span::raw(k.does)]))
        .collect();
    // Generic letters that are none of the model's own names.
    let graph = app.session().graph();
    let (u, v) = crate::engine::rules::generic_letters(graph);
    let j = crate::engine::rules::out(graph);
    let notes = [
        String::new(),
        " Marks: ▶ next step's node · v value · ∂ adjoint · ~ partial · > selected".to_string(),
        " Highlighted: changed by the last step · ≠ yours differs (--against)".to_string(),
        format!(" Version A: visiting {v} pulls d{j}/d{v} = Σ_{u} d{j}/d{u}·∂{u}/∂{v} from its consumers {u}."),
        format!(" Version B: visiting {u} pushes d{j}/d{u}·∂{u}/∂{v} into each of its inputs {v}."),
        " η is the learning rate.".to_string(),
    ];
    for n in notes {
        lines.push(Line::styled(n, theme.dim()));
    }
    lines
}
