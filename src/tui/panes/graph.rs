//! The graph pane: every node in topological order with its op, shape and equation, marks for
//! "value computed", "adjoint computed" and "the next step acts on this node", and for small
//! graphs a drawing of the DAG, inputs on the left and J on the right.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::engine::{Graph, NodeId, Op};
use crate::notation::shape_str;
use crate::session::{Phase, Session};

use crate::engine::rules::sym;
use crate::tui::app::{App, Pane};

/// Graphs up to this many nodes are also drawn.
pub const MAX_DRAWN: usize = 12;

/// How a leaf is described in the equation column.
pub fn describe(graph: &Graph, id: NodeId) -> String {
    let node = graph.node(id);
    match node.op {
        Op::Param => format!("{} (trainable)", sym(graph, id)),
        Op::Features => format!("{} (example's features)", node.name),
        Op::Label => format!("{} (example's label)", node.name),
        Op::Input => format!("{} (given input)", node.name),
        Op::Const(_) => "constant".to_string(),
        _ => node.equation.clone(),
    }
}

/// Adjoint mark: ∂ final, ~ partly accumulated (Version B), · not yet, blank when J does not
/// depend on the node.
fn adjoint_mark(s: &Session, id: NodeId) -> char {
    if !s.graph().needs_grad(id) {
        ' '
    } else if s.adjoint_ready(id) {
        '∂'
    } else if s.backward_version() == crate::engine::Backward::B && pushes_done(s, id) > 0 {
        '~'
    } else {
        '·'
    }
}

/// How many of `id`'s consumers have done their backward step in this example.
pub fn pushes_done(s: &Session, id: NodeId) -> usize {
    s.graph().consumers(id).iter().filter(|&&(u, _)| visited_backward(s, u)).count()
}

/// Whether node `u`'s backward step has been done in this example.
pub fn visited_backward(s: &Session, u: NodeId) -> bool {
    match s.phase() {
        Phase::Backward => s.graph().backward_position(u).is_some_and(|p| p < s.index()),
        Phase::Update | Phase::Evaluate | Phase::Finished => s.graph().needs_grad(u),
        Phase::Forward => false,
    }
}

/// Rows the pane would like (borders included) at inner width `width`.
pub fn wanted_height(app: &App, width: u16) -> u16 {
    let graph = app.session().graph();
    let n = graph.len() as u16;
    let drawing = dag(graph, app.session().next_node())
        .filter(|d| d.width <= width as usize)
        .map(|d| d.rows.len() as u16 + 1)
        .unwrap_or(0);
    n + 1 + drawing + 2
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let s = app.session();
    let n = s.graph().len();
    let rows = list_rows(n, area.height.saturating_sub(2) as usize);
    let offset = list_offset(n, rows, app.view.selected);
    let block = super::pane_block(app, Pane::Graph, title(app, offset, rows));
    let inner = block.inner(area);
    block.render(area, buf);
    let width = inner.width as usize;
    let mut lines = node_list(app, offset, rows, width);
    if let Some(d) = dag(s.graph(), s.next_node()) {
        let room = (inner.height as usize).saturating_sub(lines.len() + 1);
        lines.extend(drawing(app, &d, width, room));
    }
    Paragraph::new(lines).render(inner, buf);
}

/// The pane's title, with how many nodes the list cannot show above and below it (↑↓ bring
/// them in).
fn title(app: &App, offset: usize, rows: usize) -> Line<'static> {
    let theme = &app.theme;
    let n = app.session().graph().len();
    let (above, below) = (offset, n.saturating_sub(offset + rows));
    let mut more = String::new();
    if above > 0 {
        more += &format!("▲{above} ");
    }
    if below > 0 {
        more += &format!("▼{below} ");
    }
    Line::from(vec![
        Span::styled(" Graph ", theme.heading()),
        Span::styled(more, theme.current()),
        Span::raw("(↑↓ select · . follow) "),
    ])
}

/// The legend, then `rows` nodes from `offset`: marks, name, op, shape and equation.
fn node_list(app: &App, offset: usize, rows: usize, width: usize) -> Vec<Line<'static>> {
    let s = app.session();
    let graph = s.graph();
    let theme = &app.theme;
    let n = graph.len();
    let next = s.next_node();
    let mut lines = vec![Line::from(Span::styled("▶ next step  v value  ∂ adjoint  ~ partial", theme.dim()))];
    let name_w = graph.nodes().iter().map(|x| x.name.chars().count()).max().unwrap_or(1).min(14);
    let op_w = graph.nodes().iter().map(|x| x.op.name().len()).max().unwrap_or(1);
    let shape_w = graph.nodes().iter().map(|x| shape_str(&x.shape).chars().count()).max().unwrap_or(1);
    let eq_w = (0..n).map(|id| describe(graph, id).chars().count()).max().unwrap_or(0);
    // The op column only when the equations still fit whole (they say the same, in symbols).
    let show_op = width >= 6 + name_w + op_w + shape_w + eq_w + 2;
    for id in offset..offset + rows {
        let node = graph.node(id);
        let selected = id == app.view.selected;
        let mark_sel = if selected { '>' } else { ' ' };
        let mark_next = if Some(id) == next { '▶' } else { ' ' };
        let v = if s.value_ready(id) { 'v' } else { '·' };
        let d = adjoint_mark(s, id);
        let name: String = node.name.chars().take(name_w).collect();
        let mut spans = vec![
            Span::raw(format!("{mark_sel}{mark_next}")),
            Span::styled(format!("{v}{d} "), theme.done()),
            Span::styled(format!("{name:<name_w$}"), if Some(id) == next { theme.current() } else { Style::default() }),
        ];
        if show_op {
            spans.push(Span::styled(format!(" {:<op_w$}", node.op.name()), theme.dim()));
        }
        spans.push(Span::raw(format!(" {:<shape_w$} ", shape_str(&node.shape))));
        spans.push(Span::raw(describe(graph, id)));
        let mut line = Line::from(spans);
        if selected {
            line = line.style(theme.selected());
        }
        lines.push(line);
    }
    lines
}

/// The drawing under the list when it fits `width` × `room`, its labels coloured; else a line
/// that says where it went rather than leave the space blank.
fn drawing(app: &App, d: &Dag, width: usize, room: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let next = app.session().next_node();
    let mut lines = Vec::new();
    if (d.width > width || d.rows.len() > room) && room >= 1 {
        let how = if app.overlay.zoom { "a larger terminal shows it" } else { "Enter zooms" };
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("(drawing: {} × {} characters; {how})", d.width, d.rows.len()), theme.dim()));
    } else if d.width <= width && d.rows.len() <= room {
        lines.push(Line::raw(""));
        for (r, row) in d.rows.iter().enumerate() {
            let mut spans = Vec::new();
            let mut x = 0;
            for &(id, start, len) in d.labels.iter().filter(|l| d.label_row[l.0] == r) {
                spans.push(Span::styled(row[x..start].iter().collect::<String>(), theme.dim()));
                let style = if Some(id) == next {
                    theme.current()
                } else if id == app.view.selected {
                    theme.selected()
                } else {
                    theme.heading()
                };
                spans.push(Span::styled(row[start..start + len].iter().collect::<String>(), style));
                x = start + len;
            }
            spans.push(Span::styled(row[x..].iter().collect::<String>(), theme.dim()));
            lines.push(Line::from(spans));
        }
    }
    lines
}

/// A drawing of a small graph: one column per depth, one row per node.
pub struct Dag {
    pub width: usize,
    pub rows: Vec<Vec<char>>,
    /// (node, first column, length) of each node's label.
    pub labels: Vec<(NodeId, usize, usize)>,
    pub label_row: Vec<usize>,
}

const N: u8 = 1;
const S: u8 = 2;
const E: u8 = 4;
const W: u8 = 8;

fn box_char(mask: u8) -> char {
    match mask {
        0 => ' ',
        m if m == N | S => '│',
        m if m == E | W || m == E || m == W => '─',
        m if m == N || m == S => '│',
        m if m == S | E => '┌',
        m if m == S | W => '┐',
        m if m == N | E => '└',
        m if m == N | W => '┘',
        m if m == N | S | E => '├',
        m if m == N | S | W => '┤',
        m if m == E | W | S => '┬',
        m if m == E | W | N => '┴',
        _ => '┼',
    }
}

/// Draws the graph if it has at most [`MAX_DRAWN`] nodes; `current` is bracketed.
pub fn dag(graph: &Graph, current: Option<NodeId>) -> Option<Dag> {
    let n = graph.len();
    if n == 0 || n > MAX_DRAWN {
        return None;
    }
    let nodes = graph.nodes();
    let depth = depths(graph);
    let label = |id: NodeId| {
        if Some(id) == current {
            format!("[{}]", nodes[id].name)
        } else {
            format!(" {} ", nodes[id].name)
        }
    };
    let (col_x, width) = column_starts(graph, &depth, &label);
    let (mask, arrows) = wires(graph, &depth, &col_x, &label, width);
    let mut rows: Vec<Vec<char>> = mask.iter().map(|r| r.iter().map(|&m| box_char(m)).collect()).collect();
    for (u, x) in arrows {
        rows[u][x] = '▶';
    }
    let mut labels = Vec::new();
    for id in 0..n {
        let text: Vec<char> = label(id).chars().collect();
        let x = col_x[depth[id]];
        for (i, ch) in text.iter().enumerate() {
            rows[id][x + i] = *ch;
        }
        labels.push((id, x, text.len()));
    }
    Some(Dag { width, rows, labels, label_row: (0..n).collect() })
}

/// Each node's column: one more than its deepest input; a leaf just left of its first
/// consumer, not in column 0 with the inputs.
fn depths(graph: &Graph) -> Vec<usize> {
    let nodes = graph.nodes();
    let mut depth = vec![0usize; nodes.len()];
    for (id, node) in nodes.iter().enumerate() {
        depth[id] = node.inputs.iter().map(|&i| depth[i] + 1).max().unwrap_or(0);
    }
    for (id, node) in nodes.iter().enumerate() {
        if node.inputs.is_empty() {
            let first = nodes.iter().enumerate().filter(|(_, u)| u.inputs.contains(&id)).map(|(u, _)| depth[u]).min();
            if let Some(d) = first {
                depth[id] = d - 1;
            }
        }
    }
    depth
}

/// Where each column starts: after the widest label of the one before, and room for a bus
/// (a vertical wire) per node of this column that has inputs; and the drawing's width.
fn column_starts(graph: &Graph, depth: &[usize], label: &dyn Fn(NodeId) -> String) -> (Vec<usize>, usize) {
    let nodes = graph.nodes();
    let cols = depth.iter().max().copied().unwrap_or(0) + 1;
    let mut colw = vec![0usize; cols];
    let mut busses = vec![0usize; cols];
    for id in 0..nodes.len() {
        colw[depth[id]] = colw[depth[id]].max(label(id).chars().count());
        if !nodes[id].inputs.is_empty() {
            busses[depth[id]] += 1;
        }
    }
    let mut col_x = vec![0usize; cols];
    for c in 1..cols {
        col_x[c] = col_x[c - 1] + colw[c - 1] + busses[c] + 2;
    }
    let width = col_x[cols - 1] + colw[cols - 1];
    (col_x, width)
}

/// The wires as box-drawing masks, one row per node: from each input's label along its row
/// to the consumer's bus, down (or up) the bus to the consumer's row, and into its label; and
/// where each arrow head goes.
fn wires(
    graph: &Graph,
    depth: &[usize],
    col_x: &[usize],
    label: &dyn Fn(NodeId) -> String,
    width: usize,
) -> (Vec<Vec<u8>>, Vec<(NodeId, usize)>) {
    let nodes = graph.nodes();
    let n = nodes.len();
    let mut mask = vec![vec![0u8; width]; n];
    let mut arrows = Vec::new();
    let mut seen = vec![0usize; col_x.len()];
    for u in 0..n {
        if nodes[u].inputs.is_empty() {
            continue;
        }
        let c = depth[u];
        let bus = col_x[c] - 2 - seen[c];
        seen[c] += 1;
        let mut inputs = nodes[u].inputs.clone();
        inputs.dedup();
        for &v in &inputs {
            let start = col_x[depth[v]] + label(v).chars().count();
            hline(&mut mask[v], start, bus);
            for (r, row) in mask.iter_mut().enumerate().take(u + 1).skip(v) {
                if r > v {
                    row[bus] |= N;
                }
                if r < u {
                    row[bus] |= S;
                }
            }
        }
        hline(&mut mask[u], bus, col_x[c] - 1);
        arrows.push((u, col_x[c] - 1));
    }
    (mask, arrows)
}

fn hline(row: &mut [u8], x0: usize, x1: usize) {
    for (x, cell) in row.iter_mut().enumerate().take(x1 + 1).skip(x0) {
        if x > x0 {
            *cell |= W;
        }
        if x < x1 {
            *cell |= E;
        }
    }
    if x0 == x1 {
        row[x0] |= E;
    }
}

/// Node rows the graph pane lists in `inner_height` rows (one is its header).
pub fn list_rows(n: usize, inner_height: usize) -> usize {
    n.min(inner_height.saturating_sub(1))
}

/// First node row shown, so that the selection is visible in `rows` rows.
pub fn list_offset(n: usize, rows: usize, selected: NodeId) -> usize {
    if n <= rows || rows == 0 {
        0
    } else {
        selected.saturating_sub(rows - 1).min(n - rows)
    }
}
