//! Checking backprop at one node: dJ/d(node) by the backward pass beside central differences,
//! (J(v + ε) − J(v − ε)) / 2ε with everything upstream of the node held fixed, on the current
//! example and the current parameters (nothing of the session changes).

use crate::engine::check::{central_difference, relative_error};
use crate::engine::{Backward, NodeId, Op, Workspace};

use super::{Phase, Session};

/// One entry: its flat position, backprop's derivative, the numeric one, their relative error.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryCheck {
    pub index: usize,
    pub backprop: f64,
    pub numeric: f64,
    pub relative: f64,
}

/// The check of a node, worst entry first.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeCheck {
    pub node: NodeId,
    /// Epoch and example (from 1) it was computed on.
    pub epoch: usize,
    pub example: usize,
    pub eps: f64,
    pub tol: f64,
    pub shape: Vec<usize>,
    pub entries: Vec<EntryCheck>,
}

impl NodeCheck {
    pub fn worst(&self) -> f64 {
        self.entries.first().map(|e| e.relative).unwrap_or(0.0)
    }

    pub fn agrees(&self) -> bool {
        self.worst() <= self.tol
    }
}

impl Session {
    /// Central differences for `node` on the current example (the one in progress, or the next
    /// one at an example's start). `Err` says why there is nothing to check.
    pub fn check_node(&self, node: NodeId, eps: f64, tol: f64) -> Result<NodeCheck, String> {
        let graph = self.graph();
        let n = graph.node(node);
        if matches!(self.now.phase, Phase::Evaluate | Phase::Finished) {
            return Err("no example is in progress (the epoch is being evaluated or the run is over)".into());
        }
        if matches!(n.op, Op::Label | Op::Const(_)) || graph.backward_position(node).is_none() {
            return Err(format!(
                "{} has no derivative: {} does not depend on it through anything differentiable",
                n.name,
                graph.node(graph.loss()).name
            ));
        }
        // The example with the current parameters: leaves loaded, then every node computed.
        let mut ws = self.now.ws.clone();
        self.load_example(&mut ws);
        let recompute = |ws: &mut Workspace, from: NodeId| {
            for id in from..graph.len() {
                if !graph.node(id).op.is_leaf() {
                    ws.forward_node(graph, id);
                }
            }
        };
        recompute(&mut ws, 0);
        let mut back = ws.clone();
        back.begin_backward(graph, Backward::A);
        back.backward_all(graph, Backward::A);
        let backprop = back.adjoints[node].clone();
        let through_probabilities = graph.consumers(node).iter().find_map(|&(u, k)| {
            let logit = matches!(
                graph.node(u).op,
                Op::CrossEntropy { logit: Some(_) } | Op::BinaryCrossEntropy { logit: Some(_) }
            );
            (k == 0 && logit && u == graph.loss()).then_some(u)
        });
        // The loss reads the logits, so a change of the probabilities it was given is measured
        // with the lecture's formula instead.
        let loss = |ws: &Workspace| match through_probabilities {
            Some(loss) => probability_loss(graph, ws, loss).unwrap_or(f64::NAN),
            None => ws.loss_value(graph),
        };
        let mut entries = Vec::with_capacity(backprop.len());
        let mut probe = ws.clone();
        for (i, &b) in backprop.iter().enumerate() {
            let numeric = central_difference(graph, &mut probe, node, i, eps, loss);
            entries.push(EntryCheck { index: i, backprop: b, numeric, relative: relative_error(b, numeric) });
        }
        entries.sort_by(|a, b| b.relative.total_cmp(&a.relative));
        Ok(NodeCheck {
            node,
            epoch: self.now.epoch,
            example: self.position().example,
            eps,
            tol,
            shape: n.shape.clone(),
            entries,
        })
    }

    /// Writes the current example's features and label into `ws`.
    fn load_example(&self, ws: &mut Workspace) {
        let graph = self.graph();
        let Some(data) = self.model.train_data() else { return };
        super::load_row(graph, ws, data, self.row());
    }
}

/// The loss from its probability input: −log ŷ[y*], or −[y* log y + (1 − y*) log(1 − y)].
fn probability_loss(graph: &crate::engine::Graph, ws: &Workspace, loss: NodeId) -> Option<f64> {
    let n = graph.node(loss);
    let p = &ws.values[n.inputs[0]];
    let label = ws.values[n.inputs[1]].iter().next().copied()?;
    match n.op {
        Op::CrossEntropy { .. } => Some(-p.iter().nth(label as usize)?.ln()),
        Op::BinaryCrossEntropy { .. } => {
            let y = p.iter().next().copied()?;
            Some(-(label * y.ln() + (1.0 - label) * (1.0 - y).ln()))
        }
        _ => None,
    }
}
