//! The adjoints pane: dJ/d(node) for the selected node in the node's shape (denominator
//! layout), the local rule of each consumer with the numbers substituted, and each consumer's
//! contribution to the chain rule's sum, in the order of the chosen algorithm (Version A pulls,
//! Version B pushes).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::engine::{Backward, NodeId};
use crate::numfmt::Digits;
use crate::session::Phase;

use super::against::Beside;
use super::graph::{pushes_done, visited_backward};
use super::grid::{health, scrolled, wrapped, Viewport};
use crate::engine::rules::{d_of, generic_letters, out, partial, substituted, symbolic, term};
use crate::tui::app::{App, Kind, Pane};

/// Entries written out in a rule before an array is shown by its name: as many as about two
/// lines of the pane hold.
fn inline_max(width: usize) -> usize {
    (2 * width / 10).clamp(6, 40)
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let graph = app.session().graph();
    let theme = &app.theme;
    let v = app.view.selected;
    let title = Line::from(vec![
        Span::styled(" Adjoint ", theme.heading()),
        Span::raw(format!("{} (shape of {}) ", d_of(graph, v), graph.node(v).name)),
    ]);
    let block = super::pane_block(app, Pane::Adjoints, title);
    let inner = block.inner(area);
    block.render(area, buf);
    let width = inner.width as usize;
    let mut text = standing(app, v, width);
    if !graph.needs_grad(v) {
        app.set_limit(Pane::Adjoints, Default::default());
        Paragraph::new(text).render(inner, buf);
        return;
    }
    text.extend(chain_rule(app, v, width));
    text.extend(own_pushes(app, v, width));
    adjoint(app, v, text, inner, buf);
}

/// 1. Where this adjoint stands.
fn standing(app: &App, v: NodeId, width: usize) -> Vec<Line<'static>> {
    let s = app.session();
    let graph = s.graph();
    let theme = &app.theme;
    let algorithm = s.backward_version();
    let version = format!("Version {}", algorithm.letter());
    let ready = s.adjoint_ready(v);
    let name = &graph.node(v).name;
    let status = if !graph.needs_grad(v) {
        format!("no adjoint: {} does not depend on {name} through anything differentiable", out(graph))
    } else if s.phase() == Phase::Forward {
        format!("not computed yet: the backward pass ({version}) comes after the forward pass")
    } else if ready {
        format!("final for this example ({version})")
    } else if algorithm == Backward::B {
        let consumers = graph.consumers(v).len();
        format!("partial ({version}): {} of {consumers} consumers have pushed into it so far", pushes_done(s, v))
    } else {
        format!("not computed yet: {version} computes it when the backward pass visits {name}")
    };
    wrapped(&status, width, 2, if ready { theme.done() } else { theme.text() })
}

/// 2. How it is built: the chain rule's sum over consumers.
fn chain_rule(app: &App, v: NodeId, width: usize) -> Vec<Line<'static>> {
    let s = app.session();
    let graph = s.graph();
    let theme = &app.theme;
    if v == graph.loss() {
        let start = format!("{} = 1: the backward pass starts here", d_of(graph, v));
        return wrapped(&start, width, 2, theme.heading());
    }
    let ws = s.workspace();
    let algorithm = s.backward_version();
    let inline = inline_max(width);
    let digits = app.pane_digits();
    let consumers = graph.consumers(v);
    let names: Vec<String> = consumers.iter().map(|&(u, _)| graph.node(u).name.clone()).collect();
    // A generic letter for "a consumer" that is none of the model's names.
    let (c, _) = generic_letters(graph);
    let o = out(graph);
    let head = match algorithm {
        Backward::A => format!(
            "Version A pulls: {} = Σ_{c} d{o}/d{c} · ∂{c}/∂{} over consumers {c} ∈ {{{}}}",
            d_of(graph, v),
            crate::engine::rules::sym(graph, v),
            names.join(", ")
        ),
        Backward::B => format!(
            "Version B: each consumer {c} ∈ {{{}}} pushes d{o}/d{c} · ∂{c}/∂{} into {}",
            names.join(", "),
            crate::engine::rules::sym(graph, v),
            d_of(graph, v)
        ),
    };
    let mut text = wrapped(&head, width, 2, theme.heading());
    for &(u, k) in consumers {
        let toks = term(graph, u, k, digits);
        let rule = format!(
            "• {}:  {} · {} = {}",
            graph.node(u).name,
            d_of(graph, u),
            partial(graph, u, v),
            symbolic(graph, &toks)
        );
        text.extend(wrapped(&rule, width, 4, theme.text()));
        if visited_backward(s, u) && term_current(s, u, k) {
            text.extend(wrapped(
                &format!("  = {}", substituted(graph, ws, &toks, inline, digits)),
                width,
                4,
                theme.dim(),
            ));
            let c = digits.preview(&ws.contribution(graph, u, k), inline);
            let line = match algorithm {
                Backward::A => format!("  term from {}: {c}", graph.node(u).name),
                Backward::B => format!("  {} added {c} to {}", graph.node(u).name, d_of(graph, v)),
            };
            text.extend(wrapped(&line, width, 4, theme.changed()));
        } else if visited_backward(s, u) {
            text.extend(wrapped(
                "  (its numbers were the backward pass's; the parameters have been updated since)",
                width,
                4,
                theme.dim(),
            ));
        } else {
            let when = match algorithm {
                Backward::A => format!("  waits for {} (visited before {})", d_of(graph, u), graph.node(v).name),
                Backward::B => format!("  {} has not pushed yet", graph.node(u).name),
            };
            text.extend(wrapped(&when, width, 4, theme.dim()));
        }
    }
    text.extend(sum_and_identities(app, v, width));
    text
}

/// The end of 2: the chain rule's sum written out, the softmax-cross-entropy identity, and a
/// big array's rule for the entry on show.
fn sum_and_identities(app: &App, v: NodeId, width: usize) -> Vec<Line<'static>> {
    let s = app.session();
    let graph = s.graph();
    let ws = s.workspace();
    let theme = &app.theme;
    let inline = inline_max(width);
    let digits = app.pane_digits();
    let consumers = graph.consumers(v);
    let ready = s.adjoint_ready(v);
    let mut text = Vec::new();
    if consumers.len() > 1 && ready && numbers_current(s, v) {
        // The chain rule's sum written out, with its result.
        let terms: Vec<String> = consumers
            .iter()
            .map(|&(u, k)| digits.inline(&ws.contribution(graph, u, k), inline))
            .collect::<Option<Vec<String>>>()
            .unwrap_or_default()
            .into_iter()
            .map(|t| if t.starts_with('-') { format!("({t})") } else { t })
            .collect();
        let sum = match digits.inline(&ws.adjoints[v], inline) {
            Some(total) if terms.len() == consumers.len() => {
                format!("Σ of the {} terms: {} = {} = {total}", consumers.len(), d_of(graph, v), terms.join(" + "))
            }
            _ => format!("Σ of the {} terms = {} shown below", consumers.len(), d_of(graph, v)),
        };
        text.extend(wrapped(&sum, width, 2, theme.dim()));
    }
    if let Some(identity) = softmax_cross_entropy(app, v, inline) {
        text.extend(wrapped(&identity, width, 2, theme.heading()));
    }
    // A big array's rule for one entry, the first one on show, as a scalar computation.
    let a = &ws.adjoints[v];
    if ready && a.len() > inline && consumers.len() == 1 && numbers_current(s, v) {
        let entry = app.scroll_of(Pane::Adjoints).row.min(a.len() - 1);
        if let Some(story) = entry_story(app, v, entry) {
            text.extend(wrapped(&story, width, 4, theme.text()));
        }
    }
    text
}

/// 3. Version B: what this node's own backward step pushes into its inputs.
fn own_pushes(app: &App, v: NodeId, width: usize) -> Vec<Line<'static>> {
    let s = app.session();
    let graph = s.graph();
    let theme = &app.theme;
    let outs: Vec<(usize, NodeId)> = graph.pushes(v).collect();
    if s.backward_version() != Backward::B || outs.is_empty() {
        return Vec::new();
    }
    let inline = inline_max(width);
    let digits = app.pane_digits();
    let heading = format!("When visited, {} pushes into its inputs:", graph.node(v).name);
    let mut text = wrapped(&heading, width, 2, theme.heading());
    for (k, w) in outs {
        let toks = term(graph, v, k, digits);
        let rule = format!(
            "• into {}:  {} · {} = {}",
            d_of(graph, w),
            d_of(graph, v),
            partial(graph, v, w),
            symbolic(graph, &toks)
        );
        text.extend(wrapped(&rule, width, 4, theme.text()));
        if visited_backward(s, v) && term_current(s, v, k) {
            let c = digits.preview(&s.workspace().contribution(graph, v, k), inline);
            text.extend(wrapped(&format!("  added {c}"), width, 4, theme.changed()));
        }
    }
    text
}

/// Parameters updated since this example's backward pass: a rule that reads one, recomputed
/// now, would not give the numbers the backward pass used (the adjoints shown stay its own).
fn updated_params(s: &crate::session::Session) -> &[NodeId] {
    let params = s.graph().params();
    match s.phase() {
        Phase::Update => &params[..s.index().min(params.len())],
        Phase::Evaluate | Phase::Finished => params,
        _ => &[],
    }
}

/// Whether every number of the term consumer `u` adds for its input `k` is the backward pass's.
fn term_current(s: &crate::session::Session, u: NodeId, k: usize) -> bool {
    use crate::engine::rules::Tok;
    let updated = updated_params(s);
    // Only the term's operands matter here, not how its numbers are written.
    term(s.graph(), u, k, Digits::Short).iter().all(|t| match t {
        Tok::Val(id, _) | Tok::Local { of: id, .. } | Tok::WithOne(id) => !updated.contains(id),
        Tok::Text(_) => true,
    })
}

/// Whether every term into `v`'s adjoint is still the backward pass's.
fn numbers_current(s: &crate::session::Session, v: NodeId) -> bool {
    s.graph().consumers(v).iter().all(|&(u, k)| term_current(s, u, k))
}

/// 4. The adjoint itself, in the node's shape, under the rules (`text`).
fn adjoint(app: &App, v: NodeId, text: Vec<Line<'static>>, inner: Rect, buf: &mut Buffer) {
    let s = app.session();
    let theme = &app.theme;
    let width = inner.width as usize;
    let digits = app.pane_digits();
    // Version B before any consumer has pushed: nothing is computed yet (no grid of zeros).
    let show = s.phase() != Phase::Forward
        && (s.adjoint_ready(v) || (s.backward_version() == Backward::B && pushes_done(s, v) > 0));
    let a = &s.workspace().adjoints[v];
    let cmp = if show { super::against::beside(app, Kind::Adjoint, v, a, width) } else { None };
    if let Some(cmp) = cmp {
        return beside_theirs(app, v, cmp, text, inner, buf);
    }
    let rows_left = (inner.height as usize).saturating_sub(text.len());
    let mut lines = Vec::new();
    if show {
        let grid_h = rows_left.saturating_sub(1).max(2);
        let scroll = app.scroll_of(Pane::Adjoints);
        lines.push(health(a, width, digits, theme));
        let view = Viewport::new(scroll, width, grid_h);
        let g = scrolled(a, app.before(v, Kind::Adjoint), None, view, digits, theme);
        app.set_limit(Pane::Adjoints, g.limit);
        lines.extend(g.lines);
    } else {
        app.set_limit(Pane::Adjoints, Default::default());
    }
    // The rules come first; the array takes the rest of the pane (zoom with Enter for more).
    let text_h = (text.len() as u16).min(inner.height.saturating_sub(lines.len().min(3) as u16));
    let text = super::grid::clip_with_marker(text, text_h as usize, app.overlay.zoom, theme);
    Paragraph::new(text).render(Rect::new(inner.x, inner.y, inner.width, text_h), buf);
    let rest = Rect::new(inner.x, inner.y + text_h, inner.width, inner.height - text_h);
    Paragraph::new(lines).render(rest, buf);
}

/// 4 with THEIRS: the verdict (and a divergence's diagnosis) and both arrays get up to three
/// quarters of the pane; the rules above take the rest.
fn beside_theirs(app: &App, v: NodeId, cmp: Beside, text: Vec<Line<'static>>, inner: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    let width = inner.width as usize;
    let a = &app.session().workspace().adjoints[v];
    let h = inner.height as usize;
    let digits = app.pane_digits();
    let mut lines = vec![health(a, width, digits, theme)];
    lines.extend(cmp.lines);
    let diagnosed = !cmp.diagnosis.is_empty();
    lines.extend(cmp.diagnosis);
    let natural = match a.ndim() {
        0 => 2,
        1 => a.len() + 1,
        _ => a.shape()[0] + 2,
    };
    let want = lines.len() + natural + 1;
    // At a divergence `d` landed on, its diagnosis may push the rules out but for one line.
    let cap = if diagnosed { h.saturating_sub(1) } else { h * 3 / 4 };
    let text_h = text.len().min(h.saturating_sub(want.min(cap)));
    let grid_h = h.saturating_sub(text_h + lines.len() + 1).max(2);
    let scroll = app.scroll_of(Pane::Adjoints);
    let before = app.before(v, Kind::Adjoint);
    let theirs = cmp.theirs.as_ref().map(|t| (t, cmp.mismatch.as_slice()));
    let g = scrolled(a, before, theirs, Viewport::new(scroll, width, grid_h), digits, theme);
    app.set_limit(Pane::Adjoints, g.limit);
    lines.extend(g.lines);
    let text = super::grid::clip_with_marker(text, text_h, app.overlay.zoom, theme);
    let text_h = text_h as u16;
    Paragraph::new(text).render(Rect::new(inner.x, inner.y, inner.width, text_h), buf);
    let rest = Rect::new(inner.x, inner.y + text_h, inner.width, inner.height - text_h);
    Paragraph::new(lines).render(rest, buf);
}

/// For b feeding a softmax whose output a cross-entropy reads: the identity dJ/db = ŷ − onehot(y*),
/// with its numbers once dJ/db is final.
fn softmax_cross_entropy(app: &App, v: NodeId, inline: usize) -> Option<String> {
    let s = app.session();
    let graph = s.graph();
    let (softmax, loss) = graph.softmax_cross_entropy(v)?;
    let y = crate::engine::rules::sym(graph, softmax);
    let label = graph.node(loss).inputs[1];
    let mut text = format!(
        "softmax then cross-entropy: {} = {y} − onehot(y*), the two local rules multiplied out",
        d_of(graph, v)
    );
    if s.adjoint_ready(v) {
        let star = s.workspace().values[label].iter().next().copied().unwrap_or(0.0);
        let digits = app.pane_digits();
        if let Some(values) = digits.inline(&s.workspace().adjoints[v], inline) {
            text += &format!(" = {values} (y* = {})", digits.number(star));
        }
    }
    Some(text)
}

/// `dJ/db[2] = ŷ[2] − [y* = 2] = 0.1109 − 0 = 0.1109` for softmax then cross-entropy, else the
/// consumer's element-wise rule for that entry.
fn entry_story(app: &App, v: NodeId, entry: usize) -> Option<String> {
    let s = app.session();
    let graph = s.graph();
    let ws = s.workspace();
    let a = &ws.adjoints[v];
    let digits = app.pane_digits();
    let result = digits.number(a.iter().nth(entry).copied()?);
    if let Some((softmax, loss)) = graph.softmax_cross_entropy(v) {
        let label = ws.values[graph.node(loss).inputs[1]].iter().next().copied()? as usize;
        let y = ws.values[softmax].iter().nth(entry).copied()?;
        let hot = u8::from(label == entry);
        let ys = crate::engine::rules::sym(graph, softmax);
        return Some(format!(
            "{}[{entry}] = {ys}[{entry}] − [y* = {entry}] = {} − {hot} = {result}",
            d_of(graph, v),
            digits.number(y)
        ));
    }
    let &(u, k) = graph.consumers(v).first()?;
    let (symbols, numbers) = crate::engine::rules::term_entry(graph, ws, u, k, entry, a.len(), digits)?;
    Some(format!("{}[{entry}] = {symbols} = {numbers} = {result}", d_of(graph, v)))
}
