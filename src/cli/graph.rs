//! `bptui graph`: the computation graph as a table (also the end of `check`'s report) or as
//! Graphviz DOT.

use super::{emit, load, DataArgs, GraphArgs, GraphFormat};
use crate::engine::Op;
use crate::error::Result;
use crate::limits::Limits;
use crate::model::Model;
use crate::notation::shape_str;

pub(super) fn graph(args: GraphArgs, limits: Limits) -> Result<i32> {
    let (model, _) = load(&args.model, &DataArgs::default(), &[], limits)?;
    match args.format {
        GraphFormat::Text => emit(&graph_text(&model))?,
        GraphFormat::Dot => emit(&graph_dot(&model))?,
    }
    Ok(0)
}

/// The graph as a table: nodes in topological order with op, inputs, shape and equation.
pub fn graph_text(model: &Model) -> String {
    let g = &model.graph();
    let mut out = format!("graph: {} nodes in topological order; the output is {}\n", g.len(), g.node(g.loss()).name);
    let name_w = g.nodes().iter().map(|n| n.name.chars().count()).max().unwrap_or(4).clamp(4, 28);
    out += &format!("  {:>3}  {:<name_w$}  {:<20}  {:<14}  {}\n", "id", "node", "op", "shape", "equation / inputs");
    for (id, n) in g.nodes().iter().enumerate() {
        let inputs: Vec<String> = n.inputs.iter().map(|&i| g.node(i).name.clone()).collect();
        let detail = if n.op.is_leaf() {
            match n.op {
                Op::Param => "trainable parameter".to_string(),
                Op::Features => "each example's features".to_string(),
                Op::Label => "each example's label".to_string(),
                Op::Input => "given input".to_string(),
                _ => "constant".to_string(),
            }
        } else {
            format!("{}    ← {}", n.equation, inputs.join(", "))
        };
        out += &format!(
            "  {:>3}  {:<name_w$}  {:<20}  {:<14}  {}\n",
            id,
            n.name,
            n.op.name(),
            shape_str(&n.shape),
            detail
        );
    }
    out
}

/// The graph in Graphviz DOT, inputs on the left and J on the right.
pub fn graph_dot(model: &Model) -> String {
    let g = &model.graph();
    let mut out =
        format!("digraph \"{}\" {{\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n", model.name().replace('"', "'"));
    for (id, n) in g.nodes().iter().enumerate() {
        let shape = match n.op {
            Op::Param => "box",
            Op::Features | Op::Label | Op::Input | Op::Const(_) => "ellipse",
            _ if id == g.loss() => "doublecircle",
            _ => "circle",
        };
        let label = format!("{}\\n{}\\n{}", n.name, n.op.name(), shape_str(&n.shape)).replace('"', "'");
        out += &format!("  n{id} [label=\"{label}\", shape={shape}];\n");
    }
    for (id, n) in g.nodes().iter().enumerate() {
        for &i in &n.inputs {
            out += &format!("  n{i} -> n{id};\n");
        }
    }
    out += "}\n";
    out
}
