//! The forward values pane: the selected node's value as a scalar, vector or matrix with its
//! indices, a health line (shape, min, max, mean, norm, NaN/Inf count), and the entries the
//! last step changed highlighted.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::engine::Op;
use crate::session::Phase;

use super::grid::{health, scrolled, wrapped, Viewport};
use super::status::class_name;
use crate::tui::app::{App, Kind, Pane};

/// Whether `id` is the weight matrix of a folded-bias linear layer (column 0 is the bias).
/// For a weight matrix with a folded bias, the name of the input it multiplies (z for β in
/// b = β·[1; z]).
pub fn bias_input(graph: &crate::engine::Graph, id: usize) -> Option<String> {
    graph
        .nodes()
        .iter()
        .find(|u| u.op == Op::Linear && u.inputs.first() == Some(&id))
        .map(|u| crate::engine::rules::sym(graph, u.inputs[1]))
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.session();
    let graph = s.graph();
    let theme = &app.theme;
    let digits = app.pane_digits();
    let id = app.view.selected;
    let node = graph.node(id);
    // A parameter is not computed by the forward pass: it has a value.
    let kind = if node.op == Op::Param { " Value " } else { " Forward value " };
    let title = Line::from(vec![
        Span::styled(kind, theme.heading()),
        Span::raw(format!("of {} ", crate::engine::rules::sym(graph, id))),
    ]);
    let block = super::pane_block(app, Pane::Values, title);
    let inner = block.inner(area);
    block.render(area, buf);
    let a = &s.workspace().values[id];
    let width = inner.width as usize;
    let mut lines =
        wrapped(&format!("{}   ({})", super::graph::describe(graph, id), node.op.name()), width, 2, theme.heading());
    if !s.value_ready(id) {
        let pos = graph.forward_position(id).unwrap_or(0);
        let steps = pos + 1 - s.index();
        let msg = format!(
            "not computed yet for this example: the forward pass reaches {} in {} step{} (n).",
            node.name,
            steps,
            if steps == 1 { "" } else { "s" }
        );
        lines.extend(wrapped(&msg, width, 0, theme.dim()));
        Paragraph::new(lines).render(inner, buf);
        app.set_limit(Pane::Values, Default::default());
        return;
    }
    lines.push(health(a, width, digits, theme));
    // The computation of the first entry on show, with its numbers.
    let entry = app.scroll_of(Pane::Values).row.min(a.len().saturating_sub(1));
    let entry = if a.ndim() == 2 { entry * a.shape()[1] } else { entry };
    // Only where it leaves room for the numbers themselves (zoom shows it at 80×24).
    let story = (inner.height >= 10)
        .then(|| crate::engine::rules::forward_story(graph, s.workspace(), id, entry, digits))
        .flatten();
    if let Some(story) = story {
        lines.extend(wrapped(&story, width, 2, theme.text()));
    }
    let cmp = super::against::beside(app, Kind::Value, id, a, width);
    if let Some(c) = &cmp {
        lines.extend(c.lines.iter().cloned());
        lines.extend(c.diagnosis.iter().cloned());
    }
    // The homework's domain: the pixels as the image they are, class probabilities as bars.
    if let Some(view) = domain_view(app, id, width) {
        lines.extend(view);
        let lines = super::grid::clip_with_marker(lines, inner.height as usize, app.overlay.zoom, theme);
        app.set_limit(Pane::Values, Default::default());
        Paragraph::new(lines).render(inner, buf);
        return;
    }
    let before = app.before(id, Kind::Value);
    let notes = notes(app, id, before.is_some_and(|b| b != a));
    let header = lines.len() as u16;
    let reserved = header + notes.len() as u16 + 1;
    let scroll = app.scroll_of(Pane::Values);
    let height = inner.height.saturating_sub(reserved) as usize;
    let theirs = cmp.as_ref().and_then(|c| c.theirs.as_ref().map(|t| (t, c.mismatch.as_slice())));
    let g = scrolled(a, before, theirs, Viewport::new(scroll, width, height), digits, theme);
    app.set_limit(Pane::Values, g.limit);
    lines.extend(g.lines);
    for n in notes {
        lines.extend(wrapped(&n, width, 2, theme.dim()));
    }
    let lines = super::grid::clip_with_marker(lines, inner.height as usize, app.overlay.zoom, theme);
    Paragraph::new(lines).render(inner, buf);
}

/// What the grid below needs said: the bias column, what is highlighted (`changed`: the last
/// step changed the value), or that a parameter is not computed.
fn notes(app: &App, id: usize, changed: bool) -> Vec<String> {
    let s = app.session();
    let graph = s.graph();
    let mut notes = Vec::new();
    if let Some(input) = bias_input(graph, id) {
        notes.push(format!("column 0 multiplies the 1 prepended to {input}: the 1 of [1; {input}]"));
    }
    if changed {
        notes.push("highlighted: changed by the last step".to_string());
    } else if s.phase() == Phase::Forward && graph.node(id).op == Op::Param {
        notes.push("a parameter: set before training, changed only by updates".to_string());
    }
    notes
}

/// x as its image (`image:` in the model) or a softmax output as bars with the argmax and the
/// label; `None` for other nodes (and when THEIRS is shown beside: the grid lines them up).
fn domain_view(app: &App, id: usize, width: usize) -> Option<Vec<Line<'static>>> {
    if app.debugger().theirs().is_some() || app.overlay.zoom && app.view.full_precision {
        return None;
    }
    let s = app.session();
    let graph = s.graph();
    let node = graph.node(id);
    let a = &s.workspace().values[id];
    if node.op == Op::Features {
        let (rows, cols) = s.model().image()?;
        return Some(image(app, a, rows, cols));
    }
    let is_prediction = graph.prediction() == Some(id) && node.op == Op::Softmax;
    if !is_prediction {
        return None;
    }
    Some(class_bars(app, a, width))
}

/// A softmax output as one bar per class, on the scale of probability (1 fills the width, so a
/// near-uniform ŷ looks as unsure as it is), with the argmax and the class the loss reads
/// marked; then whether it is right.
fn class_bars(app: &App, a: &ndarray::ArrayD<f64>, width: usize) -> Vec<Line<'static>> {
    let s = app.session();
    let theme = &app.theme;
    let mut out = Vec::new();
    // The class the loss reads (the label, or what the model computes from it).
    let label = s.class().map(|l| l as usize);
    let what = if s.class() == s.label() { "label" } else { "class" };
    let argmax = a.iter().enumerate().fold(0, |best, (i, &v)| if v > a[[best]] { i } else { best });
    let name_w = s.model().classes().map(|c| c.iter().map(|n| n.chars().count()).max().unwrap_or(0)).unwrap_or(0);
    let bar_w = width.saturating_sub(name_w + 26).clamp(4, 40);
    for (i, &p) in a.iter().enumerate() {
        let name = class_name(s.model(), i as f64).map(|n| format!(" {n:<name_w$}")).unwrap_or_default();
        let filled = (p.clamp(0.0, 1.0) * bar_w as f64).round() as usize;
        let bar: String = "█".repeat(filled) + &" ".repeat(bar_w - filled);
        let mut mark = String::new();
        if i == argmax {
            mark.push_str(" ◀ argmax");
        }
        if Some(i) == label {
            mark.push_str(if what == "label" { " (y*)" } else { " (the class)" });
        }
        let style = if Some(i) == label {
            theme.done()
        } else if i == argmax {
            theme.key()
        } else {
            theme.text()
        };
        out.push(Line::styled(format!("[{i}]{name} {bar} {}{mark}", app.pane_digits().number(p)), style));
    }
    if let Some(l) = label {
        let right = argmax == l;
        out.push(Line::styled(
            format!(
                "prediction {argmax}{}: {}",
                class_name(s.model(), argmax as f64).map(|n| format!(" '{n}'")).unwrap_or_default(),
                if right {
                    "right".to_string()
                } else {
                    let name = class_name(s.model(), l as f64).map(|n| format!(" '{n}'")).unwrap_or_default();
                    format!("wrong (the {what} is {l}{name})")
                }
            ),
            if right { theme.done() } else { theme.bad() },
        ));
    }
    out
}

/// x as the `rows` × `cols` image it is.
fn image(app: &App, a: &ndarray::ArrayD<f64>, rows: usize, cols: usize) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled(format!("as the {rows} × {cols} image it is (█ 1, · 0):"), app.theme.dim())];
    let flat: Vec<f64> = a.iter().copied().collect();
    for r in 0..rows {
        let row: String = (0..cols)
            .map(|c| {
                let v = flat[r * cols + c];
                if v >= 0.5 {
                    "██"
                } else if v > 0.0 {
                    "▒▒"
                } else {
                    "··"
                }
            })
            .collect();
        out.push(Line::raw(format!("  {row}")));
    }
    out
}
