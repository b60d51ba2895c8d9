//! Arrays on screen: a scalar, a vector or a matrix with its row and column indices, scrolled
//! to fit a pane, with the entries the last step changed highlighted; beside it, with
//! `--against`, the other implementation's numbers with the ones that differ marked `≠`; and
//! the health line.

use ndarray::ArrayD;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::notation::shape_str;
use crate::numfmt::Digits;

use crate::tui::app::{Limit, Scroll};
use crate::tui::theme::Theme;

/// The lines of an array drawn into `width` × `height` cells from scroll position
/// (`row`, `col`), and the scroll limits it found.
pub struct Grid {
    pub lines: Vec<Line<'static>>,
    pub limit: Limit,
}

/// How an entry is highlighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Plain,
    /// Changed by the last step.
    Changed,
    /// Differs from bptui's number (their column).
    Mismatch,
}

/// Which entries differ from their copy before the last step.
fn changed(a: &ArrayD<f64>, before: Option<&ArrayD<f64>>) -> Vec<Mark> {
    match before {
        Some(b) if b.shape() == a.shape() => a
            .iter()
            .zip(b.iter())
            .map(|(x, y)| if x.to_bits() != y.to_bits() { Mark::Changed } else { Mark::Plain })
            .collect(),
        _ => vec![Mark::Plain; a.len()],
    }
}

fn number(x: f64, mark: Mark, digits: Digits, theme: &Theme) -> Span<'static> {
    let style = match mark {
        Mark::Mismatch => theme.mismatch(),
        _ if !x.is_finite() => theme.bad(),
        Mark::Changed => theme.changed(),
        Mark::Plain => theme.text(),
    };
    Span::styled(marked(&digits.cell(x, digits.cell_width() - 1), mark == Mark::Mismatch), style)
}

/// A right-aligned number with one more column in front, holding `≠` right before the number
/// when `differs`.
pub fn marked(number: &str, differs: bool) -> String {
    if !differs {
        return format!(" {number}");
    }
    let digits = number.trim_start();
    format!("{}≠{digits}", " ".repeat(number.len() - digits.len()))
}

/// Where a pane's array is scrolled to (`row`, `col`), and the `width` × `height` cells it
/// has for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    pub row: usize,
    pub col: usize,
    pub width: usize,
    pub height: usize,
}

impl Viewport {
    pub fn new(scroll: Scroll, width: usize, height: usize) -> Viewport {
        Viewport { row: scroll.row, col: scroll.col, width, height }
    }
}

/// Draws `a` (with `before`, its copy from before the last step, for highlights).
pub fn grid(a: &ArrayD<f64>, before: Option<&ArrayD<f64>>, view: Viewport, digits: Digits, theme: &Theme) -> Grid {
    draw(a, &changed(a, before), true, view, digits, theme)
}

/// A pane's array in `view`: ours alone, or with `theirs` (their numbers in our shape, and
/// which entries differ) as [`grid_pair`] lays them out; then, when it does not fit, which
/// rows and columns are on show.
pub fn scrolled(
    a: &ArrayD<f64>,
    before: Option<&ArrayD<f64>>,
    theirs: Option<(&ArrayD<f64>, &[bool])>,
    view: Viewport,
    digits: Digits,
    theme: &Theme,
) -> Grid {
    let mut g = match theirs {
        Some((t, mismatch)) => grid_pair(a, before, t, mismatch, view, digits, theme),
        None => grid(a, before, view, digits, theme),
    };
    if let Some(e) = extent(a, view, g.limit, digits.cell_width()) {
        g.lines.push(Line::styled(e, theme.dim()));
    }
    g
}

/// Ours and theirs (already in our shape; `mismatch` marks the entries that differ) together:
/// side by side under "bptui │ yours" when both fit the width and height, else theirs below
/// ours under a "yours" line, both at the same scroll position. The limits are ours.
pub fn grid_pair(
    a: &ArrayD<f64>,
    before: Option<&ArrayD<f64>>,
    theirs: &ArrayD<f64>,
    mismatch: &[bool],
    view: Viewport,
    digits: Digits,
    theme: &Theme,
) -> Grid {
    let cell_w = digits.cell_width();
    let (width, height) = (view.width, view.height.max(2));
    let marks: Vec<Mark> = mismatch.iter().map(|&m| if m { Mark::Mismatch } else { Mark::Plain }).collect();
    let ours = changed(a, before);
    let half = width.saturating_sub(3) / 2;
    let column = a.ndim() != 2 && a.len() < height;
    let rows = if a.ndim() == 2 { a.shape()[0] } else { a.len() };
    let label = crate::notation::index_str(&[rows.saturating_sub(1)]).len();
    let beside = match a.ndim() {
        0 => true,
        2 => label + a.shape()[1] * cell_w <= half,
        _ => column && label + cell_w <= half,
    };
    let dim = theme.dim();
    if beside {
        let side = Viewport { width: half, height: height - 1, ..view };
        let g1 = draw(a, &ours, true, side, digits, theme);
        let g2 = draw(theirs, &marks, false, side, digits, theme);
        let w1 = g1.lines.iter().map(Line::width).max().unwrap_or(0);
        let w2 = g2.lines.iter().map(Line::width).max().unwrap_or(0).max(5);
        let mut lines = vec![Line::from(vec![
            Span::styled(format!("{:>w1$}", "bptui"), dim),
            Span::styled(" │ ", dim),
            Span::styled(format!("{:>w2$}", "yours"), dim),
        ])];
        for (l1, l2) in g1.lines.into_iter().zip(g2.lines) {
            let pad = w1.saturating_sub(l1.width());
            let mut spans = l1.spans;
            spans.push(Span::raw(" ".repeat(pad)));
            spans.push(Span::styled(" │ ", dim));
            spans.extend(l2.spans);
            lines.push(Line::from(spans));
        }
        return Grid { lines, limit: g1.limit };
    }
    let h = ((height - 1) / 2).max(1);
    let above = Viewport { height: h, ..view };
    let g1 = draw(a, &ours, true, above, digits, theme);
    let g2 = draw(theirs, &marks, true, above, digits, theme);
    let mut lines = g1.lines;
    lines.push(Line::styled("yours (same rows and columns):", dim));
    lines.extend(g2.lines);
    Grid { lines, limit: g1.limit }
}

/// Draws `a` with a mark per entry (row-major); `labels`: with the row labels.
fn draw(a: &ArrayD<f64>, hot: &[Mark], labels: bool, view: Viewport, digits: Digits, theme: &Theme) -> Grid {
    let Viewport { row, col, width, height } = view;
    let height = height.max(1);
    let flat: Vec<f64> = a.iter().copied().collect();
    let dim = theme.dim();
    // The row labels' spans (none for their column beside ours).
    let tag = |text: String| if labels { Some(Span::styled(text, dim)) } else { None };
    let mut lines = Vec::new();
    match a.ndim() {
        0 => {
            lines.push(Line::from(vec![number(flat[0], hot[0], digits, theme)]));
            Grid { lines, limit: Limit { max_row: 0, max_col: 0, page: height } }
        }
        1 => {
            let n = flat.len();
            let label = crate::notation::index_str(&[n.saturating_sub(1)]).len();
            if n <= height {
                // A column vector, one entry a line (the lecture's denominator layout).
                for (i, &x) in flat.iter().enumerate() {
                    let mut spans: Vec<Span> =
                        tag(format!("{:>label$}", crate::notation::index_str(&[i]))).into_iter().collect();
                    spans.push(number(x, hot[i], digits, theme));
                    lines.push(Line::from(spans));
                }
                return Grid { lines, limit: Limit { max_row: 0, max_col: 0, page: height } };
            }
            // A long vector, wrapped: each line is labelled with its first index.
            let per = ((width.saturating_sub(label)) / digits.cell_width()).clamp(1, 16);
            let rows = n.div_ceil(per);
            let visible = height.saturating_sub(1).max(1);
            let max_row = rows.saturating_sub(visible);
            let row = row.min(max_row);
            let mut head: Vec<Span> = tag(" ".repeat(label)).into_iter().collect();
            for j in 0..per {
                head.push(Span::styled(format!("{:>w$}", format!("+{j}"), w = digits.cell_width()), dim));
            }
            lines.push(Line::from(head));
            for r in row..(row + visible).min(rows) {
                let mut spans: Vec<Span> =
                    tag(format!("{:>label$}", crate::notation::index_str(&[r * per]))).into_iter().collect();
                for i in r * per..((r + 1) * per).min(n) {
                    spans.push(number(flat[i], hot[i], digits, theme));
                }
                lines.push(Line::from(spans));
            }
            Grid { lines, limit: Limit { max_row, max_col: 0, page: visible } }
        }
        2 => {
            let (m, n) = (a.shape()[0], a.shape()[1]);
            let label = crate::notation::index_str(&[m.saturating_sub(1)]).len();
            let fit = ((width.saturating_sub(label)) / digits.cell_width()).max(1);
            let max_col = n.saturating_sub(fit);
            let col = col.min(max_col);
            let visible = height.saturating_sub(1).max(1);
            let max_row = m.saturating_sub(visible);
            let row = row.min(max_row);
            let cols = col..(col + fit).min(n);
            let mut head: Vec<Span> = tag(" ".repeat(label)).into_iter().collect();
            for j in cols.clone() {
                head.push(Span::styled(format!("{:>w$}", format!("[,{j}]"), w = digits.cell_width()), dim));
            }
            lines.push(Line::from(head));
            for i in row..(row + visible).min(m) {
                let mut spans: Vec<Span> =
                    tag(format!("{:>label$}", crate::notation::index_str(&[i]))).into_iter().collect();
                for j in cols.clone() {
                    spans.push(number(flat[i * n + j], hot[i * n + j], digits, theme));
                }
                lines.push(Line::from(spans));
            }
            Grid { lines, limit: Limit { max_row, max_col, page: visible } }
        }
        _ => {
            // Higher ranks are shown flat, row-major.
            let flat_a = ArrayD::from_shape_vec(vec![flat.len()], flat).expect("flat length");
            draw(&flat_a, hot, labels, view, digits, theme)
        }
    }
}

/// "rows 0–8 of 16 · cols 0–6 of 129", when the array does not fit (`cell_w` wide numbers).
fn extent(a: &ArrayD<f64>, view: Viewport, limit: Limit, cell_w: usize) -> Option<String> {
    let Viewport { row, col, width, .. } = view;
    match a.ndim() {
        1 if limit.max_row > 0 => {
            let label = crate::notation::index_str(&[a.len().saturating_sub(1)]).len();
            let per = ((width.saturating_sub(label)) / cell_w).clamp(1, 16);
            let first = row.min(limit.max_row) * per;
            let last = ((row.min(limit.max_row) + limit.page) * per).min(a.len());
            Some(format!("entries {first}–{} of {} (PgUp/PgDn)", last - 1, a.len()))
        }
        2 if limit.max_row > 0 || limit.max_col > 0 => {
            let (m, n) = (a.shape()[0], a.shape()[1]);
            let (r, c) = (row.min(limit.max_row), col.min(limit.max_col));
            let fit = n - limit.max_col;
            let rows = format!("rows {r}–{} of {m}", (r + limit.page).min(m) - 1);
            let cols = format!("cols {c}–{} of {n}", (c + fit).min(n) - 1);
            // The longest that fits, so that a count is never cut ("of 12" for 129).
            let forms: Vec<String> = match (limit.max_row > 0, limit.max_col > 0) {
                (true, true) => vec![
                    format!("{rows} (PgUp/PgDn) · {cols} (h/l)"),
                    format!("{rows} · {cols}"),
                    format!("{}×{} of {m}×{n}", (r + limit.page).min(m) - r, (c + fit).min(n) - c),
                ],
                (true, false) => vec![format!("{rows} (PgUp/PgDn)"), rows],
                _ => vec![format!("{cols} (h/l)"), cols],
            };
            let last = forms.last().cloned();
            forms.into_iter().find(|f| f.chars().count() <= width).or(last)
        }
        _ => None,
    }
}

/// Shape, min, max, mean, norm and the count of NaN/Inf of an array, as many of them as fit in
/// `width` (a number is shown whole or not at all: cut, −5.6227e-4 would read as −5).
pub fn health(a: &ArrayD<f64>, width: usize, digits: Digits, theme: &Theme) -> Line<'static> {
    let finite: Vec<f64> = a.iter().copied().filter(|x| x.is_finite()).collect();
    let nan = a.iter().filter(|x| x.is_nan()).count();
    let inf = a.iter().filter(|x| x.is_infinite()).count();
    let dim = theme.dim();
    let mut fields: Vec<Vec<Span<'static>>> = vec![vec![Span::styled(shape_str(a.shape()), theme.heading())]];
    let bad = nan + inf > 0;
    if bad {
        // A NaN or an infinity comes first: it is what the line is for.
        fields.push(vec![Span::styled(format!("  NaN {nan} Inf {inf}"), theme.bad())]);
    }
    if a.len() > 1 && !finite.is_empty() {
        let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = finite.iter().sum::<f64>() / finite.len() as f64;
        let norm = finite.iter().map(|x| x * x).sum::<f64>().sqrt();
        for (k, v) in [("min", min), ("max", max), ("mean", mean), ("‖·‖", norm)] {
            fields.push(vec![Span::styled(format!("  {k} "), dim), Span::raw(digits.number(v))]);
        }
    }
    if a.len() > 1 && !bad {
        fields.push(vec![Span::styled(format!("  NaN {nan} Inf {inf}"), dim)]);
    }
    let mut spans = Vec::new();
    let mut used = 0;
    for field in fields {
        let w: usize = field.iter().map(|s| s.content.chars().count()).sum();
        if used + w > width && !spans.is_empty() {
            break;
        }
        used += w;
        spans.extend(field);
    }
    Line::from(spans)
}

/// At most `height` lines; when some do not fit, the last one says how many more there are,
/// and how to see them: zoom the pane, or when it is `zoomed` already, a taller terminal.
pub fn clip_with_marker(
    mut lines: Vec<Line<'static>>,
    height: usize,
    zoomed: bool,
    theme: &Theme,
) -> Vec<Line<'static>> {
    if lines.len() <= height || height == 0 {
        return lines;
    }
    let hidden = lines.len() - (height - 1);
    lines.truncate(height - 1);
    let how = if zoomed { "a taller terminal shows them" } else { "Enter zooms this pane" };
    lines.push(Line::styled(format!("▼ {hidden} more line{}: {how}", if hidden == 1 { "" } else { "s" }), theme.dim()));
    lines
}

/// Breaks `text` into lines of at most `width` characters; continuation lines are indented
/// by `indent` spaces.
pub fn wrapped(text: &str, width: usize, indent: usize, style: Style) -> Vec<Line<'static>> {
    let width = width.max(indent + 8);
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut first = true;
    while start < chars.len() {
        let room = if first { width } else { width - indent };
        let mut end = (start + room).min(chars.len());
        if end < chars.len() {
            // Prefer to break after a space or comma.
            if let Some(p) = chars[start..end].iter().rposition(|&c| c == ' ' || c == ',') {
                if p > room / 2 {
                    end = start + p + 1;
                }
            }
        }
        let piece: String = chars[start..end].iter().collect();
        let pad = if first { String::new() } else { " ".repeat(indent) };
        out.push(Line::styled(format!("{pad}{piece}"), style));
        start = end;
        first = false;
    }
    if out.is_empty() {
        out.push(Line::raw(""));
    }
    out
}
