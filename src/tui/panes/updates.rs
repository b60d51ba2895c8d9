//! The parameter updates pane: per parameter θ its value before the update, the gradient g
//! (its adjoint), the learning rate η and the value after (θ − η g for SGD), with the step's
//! size ‖Δθ‖ and ‖Δθ‖/‖θ‖, under the optimizer's rule.

use ndarray::ArrayD;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::session::{Phase, Session};

use crate::engine::NodeId;

use super::against::Beside;
use super::grid::Viewport;
use crate::engine::rules::sym;
use crate::tui::app::{App, Kind, Limit, Pane};

/// Where parameter number `p` stands in its update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateState {
    /// No update yet in this run.
    None,
    /// This example's backward pass is recomputing g; the last update's numbers are shown.
    Recomputing,
    /// g is final and the update is still to come (`next`: the next step does it).
    Pending { next: bool },
    /// Updated (in this example, or the last one).
    Done,
}

pub fn state(s: &Session, p: usize) -> UpdateState {
    let any_done = !s.losses().is_empty();
    match s.phase() {
        Phase::Update if s.index() > p => UpdateState::Done,
        Phase::Update => UpdateState::Pending { next: s.index() == p },
        // Its adjoint is final before the backward pass ends (as the adjoint pane says).
        Phase::Backward if s.adjoint_ready(s.graph().params()[p]) => UpdateState::Pending { next: false },
        Phase::Backward if any_done => UpdateState::Recomputing,
        Phase::Backward => UpdateState::None,
        _ if any_done => UpdateState::Done,
        _ => UpdateState::None,
    }
}

fn norm(a: impl Iterator<Item = f64>) -> f64 {
    a.map(|x| x * x).sum::<f64>().sqrt()
}

/// The parameter shown in detail: the selected node if it is one, else the one the update
/// phase is at, else the first.
fn detail_param(app: &App) -> Option<usize> {
    let s = app.session();
    let params = s.graph().params();
    if let Some(p) = params.iter().position(|&id| id == app.view.selected) {
        return Some(p);
    }
    if s.phase() == Phase::Update {
        return Some(s.index().min(params.len().saturating_sub(1)));
    }
    (!params.is_empty()).then_some(0)
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.session();
    let theme = &app.theme;
    let config = &s.model().config();
    let rule = format!("{}  η = {} ", config.optimizer.rule(), app.pane_digits().number(config.learning_rate));
    // A narrow pane keeps the rule and η's value, and shortens its name.
    let name = if 20 + rule.chars().count() + 2 <= area.width as usize { " Parameter updates " } else { " Updates " };
    let title = Line::from(vec![Span::styled(name, theme.heading()), Span::raw(rule)]);
    let block = super::pane_block(app, Pane::Updates, title);
    let inner = block.inner(area);
    block.render(area, buf);
    let width = inner.width as usize;
    let mut lines = summary(app, width);
    let Some(p) = detail_param(app) else { return };
    let d = Detail::of(app, p, width);
    lines.extend(super::grid::wrapped(&note(app, &d), width, 2, theme.dim()));
    if let Some(c) = &d.cmp {
        lines.extend(c.lines.iter().cloned());
    }
    let theirs = d.cmp.as_ref().and_then(|c| c.theirs.as_ref());
    if theirs.is_none() && d.before.ndim() == 2 {
        if let Some(matrix) = matrix(app, &d, lines.len(), width, inner.height as usize) {
            lines.extend(matrix);
            app.set_limit(Pane::Updates, Limit::default());
            Paragraph::new(lines).render(inner, buf);
            return;
        }
    }
    table(app, &d, &mut lines, inner);
    Paragraph::new(lines).render(inner, buf);
}

/// One line per parameter: where its update stands, and the step's size once done.
fn summary(app: &App, width: usize) -> Vec<Line<'static>> {
    let s = app.session();
    let graph = s.graph();
    let theme = &app.theme;
    let ws = s.workspace();
    let params = graph.params();
    let digits = app.pane_digits();
    let name_w = params.iter().map(|&id| graph.node(id).name.chars().count()).max().unwrap_or(1);
    let mut lines = Vec::new();
    for (p, &id) in params.iter().enumerate() {
        let st = state(s, p);
        let (before, after) = (s.param_before(p), &ws.values[id]);
        let mut spans = vec![
            Span::raw(if Some(p) == detail_param(app) { "> " } else { "  " }),
            Span::styled(format!("{:<name_w$}", graph.node(id).name), theme.heading()),
        ];
        match st {
            UpdateState::None => spans.push(Span::styled(" not updated yet", theme.dim())),
            UpdateState::Pending { next } => spans.push(Span::styled(
                if next { " ▶ next step updates it" } else { " waiting (g is final)" },
                if next { theme.current() } else { theme.dim() },
            )),
            UpdateState::Done | UpdateState::Recomputing => {
                let d = norm(after.iter().zip(before.iter()).map(|(a, b)| a - b));
                let t = norm(before.iter().copied());
                spans.push(Span::styled(if st == UpdateState::Done { " ✓" } else { " ↺" }, theme.done()));
                // In a narrow pane the ratio (the step's relative size) stays, the norm goes.
                if width >= name_w + 44 {
                    spans.push(Span::styled(" ‖Δθ‖ ", theme.dim()));
                    spans.push(Span::raw(digits.number(d)));
                }
                spans.push(Span::styled(" ‖Δθ‖/‖θ‖ ", theme.dim()));
                spans.push(Span::raw(if t > 0.0 { digits.number(d / t) } else { "—".to_string() }));
            }
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// The parameter shown in detail, at its update.
struct Detail<'a> {
    id: NodeId,
    state: UpdateState,
    /// θ before the update (θ itself while the update is still to come).
    before: &'a ArrayD<f64>,
    after: Option<&'a ArrayD<f64>>,
    grad: Option<&'a ArrayD<f64>>,
    /// The input whose bias column is column 0, if θ has one.
    bias_of: Option<String>,
    /// With THEIRS: their θ after the same update, beside ours.
    cmp: Option<Beside>,
}

impl<'a> Detail<'a> {
    fn of(app: &'a App, p: usize, width: usize) -> Detail<'a> {
        let s = app.session();
        let ws = s.workspace();
        let id = s.graph().params()[p];
        let st = state(s, p);
        let g_valid = !matches!(st, UpdateState::Recomputing | UpdateState::None);
        let before = if matches!(st, UpdateState::Pending { .. }) { &ws.values[id] } else { s.param_before(p) };
        let after = matches!(st, UpdateState::Done | UpdateState::Recomputing).then(|| &ws.values[id]);
        let grad = g_valid.then(|| &ws.adjoints[id]);
        let bias_of = super::values::bias_input(s.graph(), id);
        let cmp = after.and_then(|a| super::against::beside(app, Kind::Value, id, a, width));
        Detail { id, state: st, before, after, grad, bias_of, cmp }
    }
}

/// What the numbers below mean at this point of the update.
fn note(app: &App, d: &Detail) -> String {
    let graph = app.session().graph();
    match d.state {
        UpdateState::None => "no update yet: the first comes after the first backward pass".to_string(),
        UpdateState::Recomputing => "last update shown; backward is computing this example's g".to_string(),
        UpdateState::Pending { .. } => {
            format!("g = {} is final; after: once updated", crate::engine::rules::d_of(graph, d.id))
        }
        UpdateState::Done => format!("{} after = {} before − η·g", sym(graph, d.id), sym(graph, d.id)),
    }
}

/// A matrix that fits (below `used` lines of `height`) laid out as one: θ before, g, then θ
/// after (entries the update changed highlighted), each in its rows and columns, so that
/// θ − η·g can be checked entry by entry; `None` when it does not fit (the table then shows the
/// three side by side).
fn matrix(app: &App, d: &Detail, used: usize, width: usize, height: usize) -> Option<Vec<Line<'static>>> {
    let graph = app.session().graph();
    let theme = &app.theme;
    let digits = app.pane_digits();
    let (r, c) = (d.before.shape()[0], d.before.shape()[1]);
    let blocks = if d.after.is_some() { 3 } else { 2 };
    if 6 + c * digits.cell_width() > width || used + blocks * (r + 2) + 1 > height {
        return None;
    }
    let view = Viewport { row: 0, col: 0, width, height: r + 1 };
    let label = if d.after.is_some() { "θ before the update" } else { "θ (before this example's update)" };
    let mut lines = vec![Line::styled(label, theme.dim())];
    lines.extend(super::grid::grid(d.before, None, view, digits, theme).lines);
    match d.grad {
        Some(g) => {
            lines.push(Line::styled(format!("g = {}", crate::engine::rules::d_of(graph, d.id)), theme.dim()));
            lines.extend(super::grid::grid(g, None, view, digits, theme).lines);
        }
        None => lines.push(Line::styled("g: not computed yet for this example", theme.dim())),
    }
    if let Some(after) = d.after {
        lines.push(Line::styled("θ after (highlighted: changed by the update)", theme.dim()));
        lines.extend(super::grid::grid(after, Some(d.before), view, digits, theme).lines);
    }
    if let Some(input) = &d.bias_of {
        lines
            .push(Line::styled(format!("column 0 is the bias column (multiplies the 1 of [1; {input}])"), theme.dim()));
    }
    Some(lines)
}

/// Entry by entry, the columns that fit: θ after and g always, θ before when there is room,
/// theirs with THEIRS; scrolled, with the rows shown below.
fn table(app: &App, d: &Detail, lines: &mut Vec<Line<'static>>, inner: Rect) {
    let graph = app.session().graph();
    let theme = &app.theme;
    let digits = app.pane_digits();
    let cell_w = digits.cell_width();
    let shape = d.before.shape().to_vec();
    let idx_w = shape.iter().map(|d| d.to_string().len() + 1).sum::<usize>() + 2;
    let width = inner.width as usize;
    let flat_t: Option<Vec<f64>> = d.cmp.as_ref().and_then(|c| c.theirs.as_ref()).map(|t| t.iter().copied().collect());
    let columns = if flat_t.is_some() { 3 } else { 2 };
    // θ before, g and θ after side by side, so that θ − η·g can be checked: the numbers get
    // fewer digits before a column goes (at 11 characters, 5 significant digits; zoomed, every
    // digit).
    let fit = width.saturating_sub(idx_w) / (columns + 1);
    let show_before = fit >= 11;
    let w = if show_before { fit.min(cell_w + 2) } else { width.saturating_sub(idx_w) / columns }.clamp(4, cell_w + 2);
    let mut head = vec![Span::styled(format!("{:<idx_w$}", "entry"), theme.dim())];
    if show_before {
        head.push(Span::styled(format!("{:>w$}", "θ before"), theme.dim()));
    }
    head.push(Span::styled(format!("{:>w$}", format!("g = d{}/dθ", crate::engine::rules::out(graph))), theme.dim()));
    head.push(Span::styled(format!("{:>w$}", "θ after"), theme.dim()));
    if flat_t.is_some() {
        head.push(Span::styled(format!("{:>w$}", "yours"), theme.dim()));
    }
    lines.push(Line::from(head));
    let header = lines.len();
    let rows = (inner.height as usize).saturating_sub(header + 1).max(1);
    let n = d.before.len();
    let max_row = n.saturating_sub(rows);
    let start = app.scroll_of(Pane::Updates).row.min(max_row);
    app.set_limit(Pane::Updates, Limit { max_row, max_col: 0, page: rows });
    let bias = d.bias_of.is_some();
    let flat_b: Vec<f64> = d.before.iter().copied().collect();
    let flat_g: Option<Vec<f64>> = d.grad.map(|g| g.iter().copied().collect());
    let flat_a: Option<Vec<f64>> = d.after.map(|a| a.iter().copied().collect());
    for i in start..(start + rows).min(n) {
        let index = crate::notation::unravel(&shape, i);
        let label = format!(
            "{}{}",
            crate::notation::index_str(&index),
            if bias && index.last() == Some(&0) { "*" } else { "" }
        );
        let num = |x: Option<f64>| match x {
            Some(x) => format!("{:>w$}", digits.cell(x, w - 1)),
            None => format!("{:>w$}", "—"),
        };
        let changed = flat_a.as_ref().is_some_and(|a| a[i].to_bits() != flat_b[i].to_bits());
        let mut row = vec![Span::styled(format!("{label:<idx_w$}"), theme.dim())];
        if show_before {
            row.push(Span::raw(num(Some(flat_b[i]))));
        }
        row.push(Span::raw(num(flat_g.as_ref().map(|g| g[i]))));
        row.push(Span::styled(
            num(flat_a.as_ref().map(|a| a[i])),
            if changed { theme.changed() } else { theme.text() },
        ));
        if let (Some(t), Some(c)) = (&flat_t, &d.cmp) {
            let differs = c.mismatch.get(i).copied().unwrap_or(false);
            let text = super::grid::marked(&digits.cell(t[i], w - 1), differs);
            row.push(Span::styled(text, if differs { theme.mismatch() } else { theme.text() }));
        }
        lines.push(Line::from(row));
    }
    lines.extend(footer(d, (start, rows, n), show_before, theme));
}

/// Below the table: the entries shown (and where the rest are), or what the bias column is.
fn footer(
    d: &Detail,
    (start, rows, n): (usize, usize, usize),
    show_before: bool,
    theme: &crate::tui::Theme,
) -> Option<Line<'static>> {
    let bias = d.bias_of.is_some();
    if n > rows {
        Some(Line::styled(
            format!(
                "{}{}–{} of {n}{}{}",
                // A narrow pane says first where its missing column is, before the line is cut.
                if show_before { "entries " } else { "" },
                start,
                (start + rows).min(n) - 1,
                if show_before { " (PgUp/PgDn)" } else { "; Enter: θ before; PgDn" },
                if bias { "; * bias column" } else { "" }
            ),
            theme.dim(),
        ))
    } else if bias {
        let input = d.bias_of.clone().unwrap_or_default();
        Some(Line::styled(format!("* bias column (multiplies the 1 of [1; {input}])"), theme.dim()))
    } else {
        None
    }
}
