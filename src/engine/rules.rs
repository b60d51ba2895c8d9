//! Each op's local derivative rule in the lecture's notation, as a template whose named
//! quantities can be shown as symbols or with their current numbers substituted: the debugger
//! shows them, and `diff` quotes the rule that produced a wrong adjoint.
//!
//! The rules mirror the comments on `Op::accumulate_vjp` in `engine/ops.rs`; the numbers
//! substituted are the workspace's, and the results shown come from
//! [`Workspace::contribution`](crate::engine::Workspace::contribution).

use crate::engine::{Graph, NodeId, Op, Workspace};
use crate::model::greek;
use crate::numfmt::inline;

/// Whether a number belongs to a node's value or to its adjoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Value,
    Adjoint,
}

/// A piece of a rule: fixed text, or a node's value or adjoint.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Text(String),
    Val(NodeId, Kind),
}

/// How a node is written in a formula: α for alpha, parentheses around expressions.
pub fn sym(graph: &Graph, id: NodeId) -> String {
    let name = &graph.node(id).name;
    let g = greek(name);
    if g.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '*') {
        g
    } else {
        format!("({g})")
    }
}

/// dJ/dv in the lecture's notation.
pub fn d_of(graph: &Graph, id: NodeId) -> String {
    format!("dJ/d{}", sym(graph, id))
}

/// The term consumer `u` adds to the adjoint of its input `k`: (dJ/du)·(∂u/∂v_k).
pub fn term(graph: &Graph, u: NodeId, k: usize) -> Vec<Tok> {
    let node = graph.node(u);
    let t = |s: &str| Tok::Text(s.to_string());
    let g = Tok::Val(u, Kind::Adjoint);
    let uv = Tok::Val(u, Kind::Value);
    let x = |j: usize| Tok::Val(node.inputs[j], Kind::Value);
    match (&node.op, k) {
        (Op::Add, _) | (Op::Sub, 0) | (Op::Affine, 2) => vec![g],
        (Op::Sub, _) | (Op::Neg, _) => vec![t("−"), g],
        (Op::Mul, _) => vec![g, t(" ⊙ "), x(1 - k)],
        (Op::Div, 0) => vec![g, t(" ⊙ 1/"), x(1)],
        (Op::Div, _) => vec![g, t(" ⊙ (−"), x(0), t("/"), x(1), t("²)")],
        (Op::Pow(c), _) => {
            vec![
                g,
                t(&format!(" ⊙ {}·", crate::numfmt::short(*c))),
                x(0),
                t(&format!("^{}", crate::numfmt::short(c - 1.0))),
            ]
        }
        (Op::Exp, _) => vec![g, t(" ⊙ "), uv],
        (Op::Log, _) => vec![g, t(" ⊙ 1/"), x(0)],
        (Op::Sin, _) => vec![g, t(" ⊙ cos("), x(0), t(")")],
        (Op::Cos, _) => vec![g, t(" ⊙ (−sin("), x(0), t("))")],
        (Op::Tanh, _) => vec![g, t(" ⊙ (1 − "), uv, t("²)")],
        (Op::Sigmoid, _) => vec![g, t(" ⊙ "), uv.clone(), t("(1 − "), uv, t(")")],
        (Op::Relu, _) => vec![g, t(" ⊙ ["), x(0), t(" > 0]")],
        (Op::Sqrt, _) => vec![g, t(" ⊙ 1/(2·"), uv, t(")")],
        (Op::Sum, _) => vec![g, t(" (added to every entry)")],
        (Op::Dot, _) => vec![g, t(" · "), x(1 - k)],
        (Op::MatMul, 0) => vec![g, t(" · "), x(1), t("ᵀ")],
        (Op::MatMul, _) => vec![x(0), t("ᵀ · "), g],
        (Op::Softmax, _) => vec![uv.clone(), t(" ⊙ ("), g.clone(), t(" − "), g, t("·"), uv, t(")")],
        (Op::Prepend1, _) => vec![t("("), g, t(")[1:]  (the entry of the 1 is dropped)")],
        (Op::Linear, 0) => vec![g, t(" · [1; "), x(1), t("]ᵀ")],
        (Op::Linear, _) => vec![x(0), t("[:,1:]ᵀ · "), g],
        (Op::Affine, 0) => vec![g, t(" · "), x(1), t("ᵀ")],
        (Op::Affine, _) => vec![x(0), t("ᵀ · "), g],
        (Op::BinaryCrossEntropy { .. }, 0) => {
            vec![g, t(" · (−"), x(1), t("/"), x(0), t(" + (1 − "), x(1), t(")/(1 − "), x(0), t("))")]
        }
        (Op::BinaryCrossEntropy { .. }, _) => vec![g, t(" · (log(1 − "), x(0), t(") − log "), x(0), t(")")],
        (Op::CrossEntropy { .. }, _) => {
            vec![g, t(" · (−1/"), x(0), t("[y*]) at entry y* = "), x(1), t(", 0 elsewhere")]
        }
        (Op::SquaredError, 0) => vec![g, t(" · ("), x(0), t(" − "), x(1), t(")")],
        (Op::SquaredError, _) => vec![t("−"), g, t(" · ("), x(0), t(" − "), x(1), t(")")],
        (Op::Param | Op::Features | Op::Label | Op::Input | Op::Const(_), _) => vec![t("0")],
    }
}

/// The rule with symbols: `dJ/dz ⊙ z(1 − z)`.
pub fn symbolic(graph: &Graph, toks: &[Tok]) -> String {
    toks.iter()
        .map(|tok| match tok {
            Tok::Text(s) => s.clone(),
            Tok::Val(id, Kind::Value) => sym(graph, *id),
            Tok::Val(id, Kind::Adjoint) => d_of(graph, *id),
        })
        .collect()
}

/// The rule with numbers: arrays of at most `max` entries are written out, bigger ones keep
/// their symbol.
pub fn substituted(graph: &Graph, ws: &Workspace, toks: &[Tok], max: usize) -> String {
    toks.iter()
        .map(|tok| match tok {
            Tok::Text(s) => s.clone(),
            Tok::Val(id, kind) => {
                let a = match kind {
                    Kind::Value => &ws.values[*id],
                    Kind::Adjoint => &ws.adjoints[*id],
                };
                match inline(a, max) {
                    Some(s) => s,
                    None => match kind {
                        Kind::Value => sym(graph, *id),
                        Kind::Adjoint => d_of(graph, *id),
                    },
                }
            }
        })
        .collect()
}

/// `∂z/∂a`: the local derivative's name.
pub fn partial(graph: &Graph, u: NodeId, v: NodeId) -> String {
    format!("∂{}/∂{}", sym(graph, u), sym(graph, v))
}
