//! `run`'s fast path for the homework's network, x → a = α·[1; x] → z = σ(a) → b = β·[1; z] →
//! ŷ = softmax(b) → J = cross-entropy, α and β trained by SGD: the node-by-node fast path's
//! kernels, called in the same order on the same numbers, without looking up each node's rule,
//! shapes and inputs for every example. Every number is the node-by-node path's, bit for bit.

use super::{fused_step, left_out_finite, Fused, FusedState, Outcome, Plan};
use crate::engine::kernels::{self, Columns, Sparse};
use crate::engine::{self, Graph, NodeId, Op, Workspace};
use crate::session::predicted_class;

/// The homework's network found in a graph: its nodes, and where each stands in the forward
/// order (the position at which the micro-steps take over when a value is not finite).
#[derive(Debug)]
pub(super) struct Homework {
    /// a, z, b, ŷ, J.
    chain: [NodeId; 5],
    /// The position of α in `Graph::params` (its fused state), and β's node.
    alpha: usize,
    beta_id: NodeId,
    hidden: usize,
    classes: usize,
    /// Forward-order positions of x, y*, and of each node of `chain`.
    pos_x: usize,
    pos_label: usize,
    pos: [usize; 5],
}

/// One thread's numbers for an example: the values of a, z, b, ŷ, their adjoints, and the
/// sparse product's partial sums.
#[derive(Debug, Clone, Default)]
pub(super) struct Buffers {
    /// Also the node-by-node path's scratch.
    pub(super) acc: Columns,
    a: Vec<f64>,
    z: Vec<f64>,
    b: Vec<f64>,
    yhat: Vec<f64>,
    ga: Vec<f64>,
    gz: Vec<f64>,
    gb: Vec<f64>,
    gy: Vec<f64>,
    j: f64,
}

/// How far a forward pass got: J, or the forward-order position of the first value that is
/// not finite and how many nodes of the chain were computed before it.
type Forward = Result<f64, (usize, usize)>;

impl Homework {
    /// The homework's network in `graph`, when the graph is exactly that network and the plan
    /// fuses α (kept transposed, read with the data's nonzeros) and β.
    pub(super) fn find(graph: &Graph, plan: &Plan) -> Option<Homework> {
        let node = |id: NodeId| graph.node(id);
        let loss = graph.loss();
        let Op::CrossEntropy { logit: Some(b) } = node(loss).op else { return None };
        let [yhat, label] = node(loss).inputs[..] else { return None };
        // J = cross_entropy(ŷ, y*) with ŷ = softmax(b), b = β·[1; z], z = σ(a), a = α·[1; x].
        if node(yhat).op != Op::Softmax || node(label).op != Op::Label || node(b).op != Op::Linear {
            return None;
        }
        let (&[_, z], &[logits]) = (&node(b).inputs[..], &node(yhat).inputs[..]) else { return None };
        if logits != b {
            return None;
        }
        // An evaluation row is misclassified when ŷ's class is not the label.
        if graph.prediction() != Some(yhat) || graph.class() != Some(label) {
            return None;
        }
        let [a] = node(z).inputs[..] else { return None };
        if node(z).op != Op::Sigmoid || node(a).op != Op::Linear {
            return None;
        }
        let &[_, x] = &node(a).inputs[..] else { return None };
        let (alpha, alpha_fused) = plan.transposed(a)?;
        let beta = plan.fused_at[b]?;
        let beta_fused = plan.fused[beta].as_ref()?;
        if !plan.sparse[a] || !plan.skip[x] || beta_fused.transposed || plan.sparse[b] || plan.copy_features {
            return None;
        }
        let hidden = alpha_fused.rows;
        let classes = beta_fused.rows;
        let sizes = [(a, hidden), (z, hidden), (b, classes), (yhat, classes)];
        if beta_fused.cols != hidden + 1 || sizes.iter().any(|&(id, n)| node(id).shape.iter().product::<usize>() != n) {
            return None;
        }
        // Nothing else is computed: the forward pass is these seven nodes, and the backward
        // pass computes the adjoints of the chain, from J down, and nothing else.
        let chain = [a, z, b, yhat, loss];
        let order = graph.forward_order();
        if order.len() != 7 || ![x, label].iter().chain(&chain).all(|id| order.contains(id)) {
            return None;
        }
        let computed: Vec<NodeId> =
            graph.backward_order().iter().copied().filter(|&id| !plan.fused_node[id] && !plan.skip[id]).collect();
        if computed != [loss, yhat, b, z, a] {
            return None;
        }
        let at = |id: NodeId| order.iter().position(|&o| o == id).expect("in the forward order");
        Some(Homework {
            chain,
            alpha,
            beta_id: graph.params()[beta],
            hidden,
            classes,
            pos_x: at(x),
            pos_label: at(label),
            pos: chain.map(at),
        })
    }

    /// The forward pass of an example or an evaluation row into `buf`: α from its fused
    /// state (αᵀ), β from `ws`. With `check`, stops where the node-by-node pass would: at the
    /// first value in the forward order that is not finite.
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &self,
        states: &[FusedState],
        ws: &Workspace,
        buf: &mut Buffers,
        x: Sparse,
        finite_x: bool,
        label: f64,
        check: bool,
    ) -> Forward {
        let mut first = usize::MAX;
        if check && !finite_x {
            first = self.pos_x;
        }
        if check && !label.is_finite() {
            first = first.min(self.pos_label);
        }
        let (m, classes) = (self.hidden, self.classes);
        let wt = &states[self.alpha].wt;
        let bias = wt.column(0);
        let beta = engine::numbers(&ws.values[self.beta_id]);
        for v in [&mut buf.a, &mut buf.z] {
            v.resize(m, 0.0);
        }
        for v in [&mut buf.b, &mut buf.yhat] {
            v.resize(classes, 0.0);
        }
        // max b and Σ e^(b − max b), from the softmax for the cross-entropy.
        let mut sum = (0.0, 0.0);
        for (k, &pos) in self.pos.iter().enumerate() {
            // x comes before a, and y* before J: a leaf that is not finite stops the pass here.
            if pos > first {
                return Err((first, k));
            }
            let finite = match k {
                0 => {
                    kernels::affine_t(&mut buf.a, wt, 1, |i| bias[i], x, &mut buf.acc);
                    !check || kernels::all_finite(&buf.a)
                }
                1 => {
                    // σ of a finite a lies in [0, 1].
                    kernels::sigmoid(&buf.a, &mut buf.z);
                    true
                }
                2 => {
                    kernels::affine(&mut buf.b, beta, m + 1, 1, |i| beta[i * (m + 1)], &buf.z);
                    !check || kernels::all_finite(&buf.b)
                }
                3 => {
                    // The softmax of a finite b: the max's own term e⁰ = 1 keeps the sum at
                    // least 1, and every term lies in [0, 1].
                    sum = kernels::softmax_with_sum(&buf.b, &mut buf.yhat);
                    true
                }
                _ => {
                    buf.j = kernels::cross_entropy_from_sum(&buf.b, label as usize, sum.0, sum.1);
                    buf.j.is_finite()
                }
            };
            if check && !finite {
                return Err((pos, k + 1));
            }
        }
        Ok(buf.j)
    }

    /// The values of the first `done` nodes of the chain into `ws`.
    fn store(&self, ws: &mut Workspace, buf: &Buffers, done: usize) {
        let values = [&buf.a, &buf.z, &buf.b, &buf.yhat];
        for (&id, v) in self.chain.iter().zip(values).take(done) {
            engine::numbers_mut(&mut ws.values[id]).copy_from_slice(v);
        }
        if done == 5 {
            engine::fill(&mut ws.values[self.chain[4]], buf.j);
        }
    }

    /// An evaluation row: J, and the class ŷ predicts (the label is the class).
    pub(super) fn evaluate(
        &self,
        states: &[FusedState],
        ws: &Workspace,
        buf: &mut Buffers,
        x: Sparse,
        label: f64,
    ) -> (f64, usize) {
        let j = self.forward(states, ws, buf, x, true, label, false).expect("no check, no stop");
        (j, predicted_class(&buf.yhat))
    }

    /// Forward and backward of a training example, and the bounds that show the adjoints left
    /// out finite; `Some` when the micro-steps must take over (the forward values they need
    /// are then in `ws`). J is left in `ws`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn passes(
        &self,
        plan: &Plan,
        states: &mut [FusedState],
        ws: &mut Workspace,
        buf: &mut Buffers,
        x: Sparse,
        x_max: f64,
        label: f64,
    ) -> Option<Outcome> {
        let j = match self.forward(states, ws, buf, x, !x_max.is_nan(), label, true) {
            Ok(j) => j,
            Err((pos, done)) => {
                self.store(ws, buf, done);
                return Some(Outcome::Forward(pos));
            }
        };
        engine::fill(&mut ws.values[self.chain[4]], j);
        let (m, classes) = (self.hidden, self.classes);
        let label = label as usize;
        let zeros = |v: &mut Vec<f64>, n: usize| {
            v.clear();
            v.resize(n, 0.0);
        };
        // Backward, as Version B pushes: dJ/dŷ, dJ/db, dJ/dz, dJ/da, each from +0.
        zeros(&mut buf.gy, classes);
        zeros(&mut buf.gb, classes);
        zeros(&mut buf.gz, m);
        zeros(&mut buf.ga, m);
        let finite = label < classes && {
            kernels::cross_entropy_vjp(&mut buf.gy, 1.0, buf.yhat[label], label);
            kernels::softmax_vjp(&mut buf.gb, &buf.gy, &buf.yhat);
            let beta = engine::numbers(&ws.values[self.beta_id]);
            kernels::add_wt_g(&mut buf.gz, beta, m + 1, 1, &buf.gb);
            kernels::sigmoid_vjp(&mut buf.ga, &buf.gz, &buf.z);
            // dJ/dŷ is 0 but at the label. dJ/db = ŷ ⊙ (g − g·ŷ) is finite where that entry
            // is (ŷ lies in [0, 1], and g·ŷ is −1 within a rounding), and dJ/da = dJ/dz ⊙
            // z(1 − z) where dJ/dz is (z lies in [0, 1]).
            buf.gy[label].is_finite() && kernels::all_finite(&buf.gz)
        };
        if !finite {
            self.store(ws, buf, 5);
            return Some(Outcome::Backward);
        }
        // The adjoints left out (dJ/dα, dJ/dx, dJ/dβ) are finite: max(1, max|x|) is the
        // row's, and max(1, max|z|) is 1 for z = σ(a) in [0, 1].
        for (k, (f, state)) in plan.fused.iter().zip(states.iter_mut()).enumerate() {
            let Some(f) = f else { continue };
            let alpha = k == self.alpha;
            debug_assert_eq!(f.node, self.chain[if alpha { 0 } else { 2 }]);
            let g = if alpha { &buf.ga } else { &buf.gb };
            state.gmax = kernels::max_abs(g);
            state.xmax = if alpha { x_max.max(1.0) } else { 1.0 };
            if !left_out_finite(state, g.len(), alpha) {
                self.store(ws, buf, 5);
                return Some(Outcome::Backward);
            }
        }
        None
    }

    /// The SGD step of α or β (`f`) after [`Homework::passes`]; whether every entry is finite.
    pub(super) fn update(
        &self,
        f: &Fused,
        state: &mut FusedState,
        ws: &mut Workspace,
        buf: &Buffers,
        x: Sparse,
        lr: f64,
    ) -> bool {
        if f.node == self.chain[0] {
            fused_step(f, state, None, &buf.ga, x, &[], true, lr)
        } else {
            let theta = engine::numbers_mut(&mut ws.values[self.beta_id]);
            fused_step(f, state, Some(theta), &buf.gb, x, &buf.z, false, lr)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Plan;
    use super::*;
    use crate::engine::Backward;
    use crate::model::{DataOverride, Model};
    use crate::session::Session;

    /// A homework network whose β is given, and one training row (label 1).
    fn session(beta: &str) -> Session {
        let source = format!(
            "name: h\nnetwork:\n  inputs: 2\n  layers:\n    - {{op: linear, name: a, weights: alpha, units: 2, init: {{values: [[0.1, 0.2, -0.3], [0.0, 0.5, 0.4]]}}}}\n    - {{op: sigmoid, name: z}}\n    - {{op: linear, name: b, weights: beta, units: 3, init: {{values: {beta}}}}}\n    - {{op: softmax, name: y_hat}}\n  loss: {{op: cross_entropy, name: J}}\ndata:\n  train: {{rows: [[1, 1.0, 0.0]]}}\ntrain: {{learning_rate: 0.1, epochs: 1}}\n"
        );
        let model =
            Model::from_source(std::path::Path::new("h.yaml"), &source, &DataOverride::default(), Default::default())
                .unwrap();
        Session::new(model, Backward::B)
    }

    /// Where the loop hands an example to the micro-steps, the workspace holds what their
    /// forward pass would hold up to that point: they go on from it.
    #[test]
    fn a_handed_over_example_leaves_the_micro_steps_forward_values() {
        // ŷ₁ = e^−1034 is 0, so dJ/dŷ₁ = −1/0: the backward pass is handed over, after all
        // of the forward pass. β·[1; z] overflows: the forward pass stops at b, after x, a and z.
        for (beta, outcome) in [
            ("[[0, 900, 0], [0, -900, 0], [0, 0, 1]]", "Backward"),
            ("[[0, 1.7e308, 1.7e308], [0, 0, 0], [0, 0, 1]]", "Forward(3)"),
        ] {
            let mut fast = session(beta);
            let plan = Plan::new(&fast);
            let hw = plan.homework.as_ref().expect("the homework's network");
            let mut states = plan.load(&fast);
            let mut buf = Buffers::default();
            let data = fast.model.train_data().cloned().unwrap();
            let got = hw.passes(
                &plan,
                &mut states,
                &mut fast.now.ws,
                &mut buf,
                data.row(0),
                data.row_max_abs(0),
                data.labels[0],
            );
            assert_eq!(format!("{:?}", got.expect("handed over")), outcome, "{beta}");
            let mut slow = session(beta);
            let order = slow.graph().forward_order().to_vec();
            let done = match outcome {
                "Backward" => order.len(),
                _ => 3,
            };
            for _ in 0..done {
                slow.step();
            }
            // The caller loads x and y* (`load_current_example`).
            for &id in order[..done].iter().filter(|id| hw.chain.contains(id)) {
                let (f, s) = (engine::numbers(&fast.now.ws.values[id]), engine::numbers(&slow.now.ws.values[id]));
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(f), bits(s), "{beta}: node {}", slow.graph().node(id).name);
            }
        }
    }
}
