//! Windows over the panes: the prompt line, the breakpoint list, a node's gradient check, a
//! yes/no question (and, from [`super::help`], the help); and the watches strip above the
//! status bar.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use crate::engine::Op;
use crate::notation::unravel;

use crate::session::nodecheck::NodeCheck;

use super::grid::health;
use crate::tui::app::{App, Confirm, Window};
use crate::tui::prompt::Prompt;

/// The open window, drawn over everything else.
pub fn window(app: &App, window: &Window, area: Rect, buf: &mut Buffer) {
    match window {
        Window::Help { scroll } => super::help::render(app, *scroll, area, buf),
        Window::Prompt(p) => prompt(app, p, area, buf),
        Window::Breakpoints { at } => breakpoints(app, *at, area, buf),
        Window::Check(c) => check(app, c, area, buf),
        Window::Confirm(q) => confirm(app, *q, area, buf),
    }
}

/// A box of `w` × `h` centred in `area`.
fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

/// The prompt, on the bottom lines of the screen.
pub fn prompt(app: &App, p: &Prompt, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    let h = if p.message.is_some() { 2 } else { 1 };
    let r = Rect::new(area.x, area.y + area.height.saturating_sub(h), area.width, h);
    Clear.render(r, buf);
    let mut lines = Vec::new();
    if let Some(m) = &p.message {
        lines.push(Line::styled(format!(" {m}"), theme.dim()));
    }
    lines.push(Line::from(vec![
        Span::styled(": ", theme.key()),
        Span::raw(p.text.clone()),
        Span::styled("█", theme.key()),
        Span::styled("   Enter runs · Tab completes · ↑↓ history · Esc", theme.dim()),
    ]));
    Paragraph::new(lines).style(theme.bar()).render(r, buf);
}

/// The breakpoint list (`B`).
pub fn breakpoints(app: &App, at: usize, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    let graph = app.session().graph();
    let mut lines: Vec<Line> = app
        .debugger()
        .breakpoints()
        .list
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mark = if i == at { ">" } else { " " };
            let on = if b.enabled { "[on] " } else { "[off]" };
            let style = if i == at { theme.key() } else { theme.text() };
            Line::styled(format!("{mark} {on} {}", b.condition.describe(graph, app.digits())), style)
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled("  no breakpoints: b on a node, or g then break …", theme.dim()));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(" ↑↓ move · space on/off · x delete · Esc closes", theme.dim()));
    // The forms, with this model's own names.
    let out = &graph.node(graph.loss()).name;
    let one_word = |id: usize| !graph.node(id).name.contains(char::is_whitespace);
    let node = (0..graph.len())
        .find(|&id| !graph.node(id).op.is_leaf() && one_word(id))
        .map_or(out.as_str(), |id| &graph.node(id).name);
    let mut forms = vec!["nan".to_string(), "diverge".into(), format!("|d{out}/d{node}| > 10"), format!("{out} > 2")];
    if let Some(&p) = graph.params().first() {
        forms.push(format!("ratio {} > 0.1", graph.node(p).name));
    }
    if let Some(id) = (0..graph.len()).find(|&id| graph.node(id).op == Op::Sigmoid && one_word(id)) {
        forms.push(format!("saturated {} > 0.99", graph.node(id).name));
    }
    lines.push(Line::styled(format!(" add: b (selected node) or g break {}", forms.join(" | ")), theme.dim()));
    let inner_w = area.width.min(84).saturating_sub(2).max(1) as usize;
    let height: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner_w)).sum();
    let r = centred(area, 84, height as u16 + 2);
    Clear.render(r, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::bordered().border_type(BorderType::Double).title(" Breakpoints — c continues to the next "))
        .render(r, buf);
}

/// Whether the backprop column is the adjoint the panes show, or one `G` computed ahead of
/// the backward pass (which has not reached the node on this example yet).
fn ahead_note(app: &App, c: &NodeCheck, out: &str, name: &str) -> Option<String> {
    let s = app.session();
    let here = s.epoch() == c.epoch && s.position().example == c.example;
    (here && !s.adjoint_ready(c.node))
        .then(|| format!(" backprop d{out}/d{name} computed ahead: the backward pass has not reached {name} yet"))
}

/// `G`: backprop's derivative beside central differences, worst entries first.
pub fn check(app: &App, c: &NodeCheck, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    let short = |x: f64| app.digits().number(x);
    let graph = app.session().graph();
    let out = &graph.node(graph.loss()).name;
    let name = &graph.node(c.node).name;
    let r = centred(area, 84, area.height.saturating_sub(2));
    let rows = (r.height as usize).saturating_sub(8);
    let verdict = if c.agrees() {
        Line::styled(
            format!(
                " agree: worst relative error {} ≤ {} — backprop's d{out}/d{name} is right here",
                short(c.worst()),
                short(c.tol)
            ),
            theme.done(),
        )
    } else {
        Line::styled(
            format!(
                " DIFFER: worst relative error {} > {} — backprop's d{out}/d{name} disagrees with J's slope",
                short(c.worst()),
                short(c.tol)
            ),
            theme.bad(),
        )
    };
    let mut lines = vec![
        Line::styled(
            format!(" epoch {} example {}: {out}(v + ε) − {out}(v − ε) over 2ε, ε = {},", c.epoch, c.example, c.eps),
            theme.dim(),
        ),
        Line::styled(format!("   with everything before {name} held fixed"), theme.dim()),
        verdict,
        Line::styled(
            format!(
                " {:<10} {:>22} {:>22} {:>12}",
                "entry",
                format!("backprop d{out}/d{name}"),
                "numeric",
                "rel. error"
            ),
            theme.heading(),
        ),
    ];
    if let Some(note) = ahead_note(app, c, out, name) {
        lines.insert(3, Line::styled(note, theme.dim()));
    }
    for e in c.entries.iter().take(rows) {
        let idx = unravel(&c.shape, e.index);
        let at = if idx.is_empty() { "(scalar)".to_string() } else { crate::notation::index_str(&idx) };
        let style = if e.relative <= c.tol { theme.text() } else { theme.bad() };
        lines.push(Line::styled(
            format!(" {at:<10} {:>22} {:>22} {:>12}", short(e.backprop), short(e.numeric), short(e.relative)),
            style,
        ));
    }
    if c.entries.len() > rows {
        lines.push(Line::styled(
            format!(" … {} more entries, all with smaller errors", c.entries.len() - rows),
            theme.dim(),
        ));
    }
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(Block::bordered().border_type(BorderType::Double).title(format!(" G: check {name} — Esc closes ")))
        .render(r, buf);
}

/// A question, in a small box.
fn confirm(app: &App, q: Confirm, area: Rect, buf: &mut Buffer) {
    let text = match q {
        Confirm::Restart => format!(
            "Restart from the beginning? {} example(s) done so far (they can be reached again with g). y / n",
            app.session().losses().len()
        ),
    };
    let r = centred(area, 64, 4);
    Clear.render(r, buf);
    Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .block(Block::bordered().border_type(BorderType::Double).title(" Restart? "))
        .render(r, buf);
}

/// Rows the watches take.
pub fn watch_rows(app: &App) -> u16 {
    app.tools.watches.len().min(4) as u16
}

/// The watches: each watched node's health line (and a parameter's ‖g‖ and ‖Δθ‖/‖θ‖).
pub fn watches(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    let s = app.session();
    let graph = s.graph();
    let ws = s.workspace();
    let digits = app.digits();
    let short = |x: f64| digits.number(x);
    let lines: Vec<Line> = app
        .tools
        .watches
        .iter()
        .take(area.height as usize)
        .map(|&id| {
            let n = graph.node(id);
            let mut spans = vec![Span::styled(format!(" w {:<6}", n.name), theme.key())];
            let room = (area.width as usize).saturating_sub(9);
            spans.extend(health(&ws.values[id], room, digits, theme).spans);
            if let Some(p) = graph.param_index(id) {
                let norm = |a: &ndarray::ArrayD<f64>| a.iter().map(|v| v * v).sum::<f64>().sqrt();
                let before = s.param_before(p);
                let step = norm(&(&ws.values[id] - before));
                spans.push(Span::styled(
                    format!("  ‖g‖ {}  ‖Δθ‖/‖θ‖ {}", short(norm(&ws.adjoints[id])), short(step / norm(before))),
                    theme.dim(),
                ));
            }
            Line::from(spans)
        })
        .collect();
    Paragraph::new(lines).style(theme.bar()).render(area, buf);
}
