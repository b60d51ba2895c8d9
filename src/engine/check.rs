//! Central differences: a derivative measured with forward passes only,
//! (J(v + ε) − J(v − ε)) / 2ε, which backprop is held to (`bptui gradcheck` for every
//! parameter, `G` in the debugger for one node). One routine for both.

use super::{numbers_mut, Graph, NodeId, Workspace};

/// |backprop − numeric| / max(|backprop|, |numeric|, 1e-8); a NaN on either side is an
/// infinite error (it never agrees).
pub fn relative_error(backprop: f64, numeric: f64) -> f64 {
    let r = (backprop - numeric).abs() / backprop.abs().max(numeric.abs()).max(1e-8);
    if r.is_nan() {
        f64::INFINITY
    } else {
        r
    }
}

/// (J(v + ε) − J(v − ε)) / 2ε for entry `i` of node `v`: the entry moved each way and every
/// node after `v` recomputed (the nodes before it cannot depend on it: the arena is in
/// topological order), J read by `loss`. The entry is put back; the nodes after `v` are left
/// as at v − ε.
pub fn central_difference(
    graph: &Graph,
    ws: &mut Workspace,
    v: NodeId,
    i: usize,
    eps: f64,
    loss: impl Fn(&Workspace) -> f64,
) -> f64 {
    let original = numbers_mut(&mut ws.values[v])[i];
    let mut at = |x: f64| {
        numbers_mut(&mut ws.values[v])[i] = x;
        for id in v + 1..graph.len() {
            if !graph.node(id).op.is_leaf() {
                ws.forward_node(graph, id);
            }
        }
        loss(ws)
    };
    let plus = at(original + eps);
    let minus = at(original - eps);
    numbers_mut(&mut ws.values[v])[i] = original;
    (plus - minus) / (2.0 * eps)
}
