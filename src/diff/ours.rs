//! bptui's side of a comparison, as the comparison and the diagnoses both need it: the entry a
//! gradient of theirs may carry, and the parameters nothing of theirs has verified yet.

use std::collections::HashSet;

use crate::engine::{NodeId, Op};
use crate::session::Session;

use super::Section;

/// The adjoint of the 1 prepended to `id` when a folded-bias linear map u = W·[1; v] is the one
/// consumer of the vector v: W[:, 0]ᵀ·dJ/du, which their dJ/dv carries when computed as Wᵀ·dJ/du
/// with the whole W (W as the forward pass used it).
pub fn carried_adjoint(session: &Session, section: Section, id: NodeId) -> Option<f64> {
    let graph = session.graph();
    if section != Section::Adjoint || graph.node(id).shape.len() != 1 {
        return None;
    }
    let consumers: Vec<(NodeId, usize)> =
        graph.consumers(id).iter().copied().filter(|&(u, k)| graph.node(u).op.differentiable_input(k)).collect();
    let &[(u, 1)] = consumers.as_slice() else { return None };
    let node = graph.node(u);
    if node.op != Op::Linear {
        return None;
    }
    let w = session.param_before(graph.param_index(node.inputs[0])?);
    let w = w.view().into_dimensionality::<ndarray::Ix2>().ok()?;
    let g = &session.workspace().adjoints[u];
    Some(w.column(0).iter().zip(g.iter()).map(|(w, g)| w * g).sum())
}

/// Parameters that feed `id` along paths through no value they recorded and agreed on:
/// values whose correctness nothing in their trace has shown yet.
pub fn unverified_params(session: &Session, id: NodeId, agreed: &[(Section, NodeId)]) -> Vec<NodeId> {
    let graph = session.graph();
    let shield: HashSet<NodeId> = agreed.iter().filter(|(s, _)| *s == Section::Forward).map(|&(_, n)| n).collect();
    let mut out = Vec::new();
    let mut stack = vec![id];
    let mut seen = HashSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) || (n != id && shield.contains(&n)) {
            continue;
        }
        if graph.node(n).op == Op::Param {
            out.push(n);
            continue;
        }
        stack.extend(graph.node(n).inputs.iter().copied());
    }
    out.sort_unstable();
    out
}
