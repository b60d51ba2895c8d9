//! The computation-graph engine: nodes in an arena, forward in index (topological) order,
//! backward in reverse index order with either of the lecture's two algorithms.
//!
//! Nothing here knows about terminals, files or YAML: a [`Graph`] is built by
//! [`GraphBuilder`], its numbers live in a [`Workspace`] that is allocated once and reused for
//! every example.

pub mod check;
pub mod exp;
pub mod kernels;
pub mod ops;
pub mod optim;
pub mod rules;

use ndarray::ArrayD;

pub use ops::Op;

/// Index of a node in its graph's arena. Inputs always have smaller ids than their consumers.
pub type NodeId = usize;

/// The lecture's two backward algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backward {
    /// Version A: visiting v, pull dJ/dv = Σ over consumers u of dJ/du · du/dv.
    A,
    /// Version B: all adjoints start at 0 and dJ/dJ = 1; visiting u, push dJ/du · du/dv into
    /// each input v.
    #[default]
    B,
}

impl Backward {
    /// "A" or "B".
    pub fn letter(self) -> &'static str {
        match self {
            Backward::A => "A",
            Backward::B => "B",
        }
    }

    /// The other version.
    pub fn toggled(self) -> Backward {
        match self {
            Backward::A => Backward::B,
            Backward::B => Backward::A,
        }
    }
}

/// One node of the graph.
#[derive(Debug, Clone)]
pub struct Node {
    /// Readable name: a layer's name, an assignment's target, or the sub-expression itself.
    pub name: String,
    pub op: Op,
    pub inputs: Vec<NodeId>,
    pub shape: Vec<usize>,
    /// The node's equation in the lecture's notation, e.g. `z = σ(a)`.
    pub equation: String,
}

/// A computation graph whose index order is a topological order.
#[derive(Debug, Clone)]
pub struct Graph {
    nodes: Vec<Node>,
    /// For each node, the (consumer, input slot) pairs that read it, ordered as Version B
    /// visits them (consumer descending, slot ascending) so that A and B add in one order.
    consumers: Vec<Vec<(NodeId, usize)>>,
    needs_grad: Vec<bool>,
    forward_order: Vec<NodeId>,
    backward_order: Vec<NodeId>,
    loss: NodeId,
    params: Vec<NodeId>,
    features: Option<NodeId>,
    label: Option<NodeId>,
    /// Each node's place in the forward order, the backward order and the parameters (stored
    /// once, instead of searching the orders).
    forward_pos: Vec<Option<usize>>,
    backward_pos: Vec<Option<usize>>,
    param_pos: Vec<Option<usize>>,
}

/// Each node's position in `order`, for `n` nodes.
fn positions(order: &[NodeId], n: usize) -> Vec<Option<usize>> {
    let mut out = vec![None; n];
    for (p, &id) in order.iter().enumerate() {
        out[id] = Some(p);
    }
    out
}

/// Appends nodes after their inputs, checking shapes as it goes.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    nodes: Vec<Node>,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a leaf (parameter, features, label, input or constant) of the given shape.
    pub fn leaf(&mut self, name: &str, op: Op, shape: Vec<usize>) -> NodeId {
        debug_assert!(op.is_leaf());
        let equation = match &op {
            Op::Const(c) => crate::numfmt::short(*c),
            _ => name.to_string(),
        };
        self.nodes.push(Node { name: name.to_string(), op, inputs: vec![], shape, equation });
        self.nodes.len() - 1
    }

    /// Adds an op node; the error says why the inputs' shapes do not fit the op.
    pub fn op(&mut self, name: &str, op: Op, inputs: Vec<NodeId>, equation: String) -> Result<NodeId, String> {
        op.check_arity(inputs.len())?;
        let shapes: Vec<&[usize]> = inputs.iter().map(|&i| self.nodes[i].shape.as_slice()).collect();
        let shape = op.output_shape(&shapes)?;
        self.nodes.push(Node { name: name.to_string(), op, inputs, shape, equation });
        Ok(self.nodes.len() - 1)
    }

    /// The nodes added so far, in the order added (a node's id is its index).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Finds a node by name.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Renames a node (an assignment names the expression it was given).
    pub fn rename(&mut self, id: NodeId, name: &str, equation: String) {
        self.nodes[id].name = name.to_string();
        self.nodes[id].equation = equation;
    }

    /// Freezes the graph with `loss` as the node J that backward differentiates.
    pub fn finish(self, loss: NodeId) -> Graph {
        let nodes = self.nodes;
        let n = nodes.len();
        let mut consumers: Vec<Vec<(NodeId, usize)>> = vec![Vec::new(); n];
        for (u, node) in nodes.iter().enumerate().rev() {
            for (k, &v) in node.inputs.iter().enumerate() {
                consumers[v].push((u, k));
            }
        }
        // depends[v]: v is, or is computed from, something J can be differentiated by.
        let mut depends = vec![false; n];
        for (v, node) in nodes.iter().enumerate() {
            depends[v] = match node.op {
                Op::Param | Op::Features | Op::Input => true,
                Op::Label | Op::Const(_) => false,
                _ => node.inputs.iter().enumerate().any(|(k, &i)| node.op.differentiable_input(k) && depends[i]),
            };
        }
        // reaches[v]: J depends on v through differentiable edges.
        let mut reaches = vec![false; n];
        reaches[loss] = true;
        for u in (0..n).rev() {
            if reaches[u] {
                for (k, &v) in nodes[u].inputs.iter().enumerate() {
                    if nodes[u].op.differentiable_input(k) {
                        reaches[v] = true;
                    }
                }
            }
        }
        let needs_grad: Vec<bool> = (0..n).map(|v| depends[v] && reaches[v]).collect();
        for list in consumers.iter_mut() {
            list.retain(|&(u, k)| needs_grad[u] && nodes[u].op.differentiable_input(k));
        }
        let forward_order: Vec<NodeId> =
            (0..n).filter(|&i| !matches!(nodes[i].op, Op::Param | Op::Const(_) | Op::Input)).collect();
        let backward_order: Vec<NodeId> = (0..n).rev().filter(|&i| needs_grad[i]).collect();
        let params: Vec<NodeId> = (0..n).filter(|&i| nodes[i].op == Op::Param).collect();
        let features = nodes.iter().position(|x| x.op == Op::Features);
        let label = nodes.iter().position(|x| x.op == Op::Label);
        let (forward_pos, backward_pos, param_pos) =
            (positions(&forward_order, n), positions(&backward_order, n), positions(&params, n));
        Graph {
            nodes,
            consumers,
            needs_grad,
            forward_order,
            backward_order,
            loss,
            params,
            features,
            label,
            forward_pos,
            backward_pos,
            param_pos,
        }
    }
}

impl Graph {
    /// A node's place in the forward order (leaves that are not loaded have none).
    pub fn forward_position(&self, id: NodeId) -> Option<usize> {
        self.forward_pos.get(id).copied().flatten()
    }

    /// A node's place in the backward order (`None` when the output does not depend on it).
    pub fn backward_position(&self, id: NodeId) -> Option<usize> {
        self.backward_pos.get(id).copied().flatten()
    }

    /// For b whose consumer ŷ = softmax(b) feeds a cross-entropy loss: (ŷ, the loss), where
    /// dJ/db = ŷ − onehot(y*) holds.
    pub fn softmax_cross_entropy(&self, b: NodeId) -> Option<(NodeId, NodeId)> {
        // dJ/db = ŷ − onehot(y*) holds only where b reaches J through these two alone: b read by
        // the softmax only, the softmax by the cross-entropy only, and the cross-entropy is J.
        let &[(softmax, _)] = self.consumers(b) else { return None };
        let &[(loss, 0)] = self.consumers(softmax) else { return None };
        (self.node(softmax).op == Op::Softmax
            && matches!(self.node(loss).op, Op::CrossEntropy { .. })
            && loss == self.loss)
            .then_some((softmax, loss))
    }

    /// After how many steps of the backward pass dJ/d(id) is final: in Version A, its own step
    /// (which pulls it); in Version B, its last consumer's (which pushes the last term in), and
    /// for the output, its own first step. `None` when the pass does not compute it.
    pub fn adjoint_final_after(&self, id: NodeId, algorithm: Backward) -> Option<usize> {
        let own = self.backward_position(id)? + 1;
        if algorithm == Backward::A {
            return Some(own);
        }
        Some(self.consumers(id).iter().filter_map(|&(u, _)| self.backward_position(u)).max().map_or(own, |p| p + 1))
    }

    /// A parameter's number in [`Graph::params`].
    pub fn param_index(&self, id: NodeId) -> Option<usize> {
        self.param_pos.get(id).copied().flatten()
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node J that backward differentiates.
    pub fn loss(&self) -> NodeId {
        self.loss
    }

    /// Trainable parameters in index order.
    pub fn params(&self) -> &[NodeId] {
        &self.params
    }

    pub fn features(&self) -> Option<NodeId> {
        self.features
    }

    pub fn label(&self) -> Option<NodeId> {
        self.label
    }

    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Nodes the forward pass visits, in topological order (parameters, constants and given
    /// inputs already hold their values and are not visited).
    pub fn forward_order(&self) -> &[NodeId] {
        &self.forward_order
    }

    /// Nodes the backward pass visits, in reverse topological order: those J depends on
    /// through something differentiable.
    pub fn backward_order(&self) -> &[NodeId] {
        &self.backward_order
    }

    /// Whether the backward pass computes dJ/d(node).
    pub fn needs_grad(&self, id: NodeId) -> bool {
        self.needs_grad[id]
    }

    /// (input slot, input) pairs of `id` that receive a share of dJ/d(id) in the backward pass:
    /// the inputs Version B pushes into.
    pub fn pushes(&self, id: NodeId) -> impl Iterator<Item = (usize, NodeId)> + '_ {
        let node = &self.nodes[id];
        node.inputs
            .iter()
            .copied()
            .enumerate()
            .filter(move |&(k, v)| self.needs_grad[v] && node.op.differentiable_input(k))
    }

    /// (consumer, input slot) pairs that read `id` and carry a derivative, in the order both
    /// algorithms add their contributions.
    pub fn consumers(&self, id: NodeId) -> &[(NodeId, usize)] {
        &self.consumers[id]
    }

    /// The node whose value a classifier's prediction is read from (y or ŷ), if J is a
    /// classification loss.
    pub fn prediction(&self) -> Option<NodeId> {
        let loss = &self.nodes[self.loss];
        loss.op.is_classifier_loss().then(|| loss.inputs[0])
    }

    /// The node holding the class the classification loss J reads (y*, or what the model
    /// computes from it, such as `t - 1`), if J is one.
    pub fn class(&self) -> Option<NodeId> {
        let loss = &self.nodes[self.loss];
        loss.op.is_classifier_loss().then(|| loss.inputs[1])
    }
}

/// A workspace array's numbers in row-major order (workspace arrays are contiguous). Loops over
/// these slices rather than `ndarray`'s iterators, which on a short array of dynamic rank take
/// longer to set up than to run.
pub fn numbers(a: &ArrayD<f64>) -> &[f64] {
    a.as_slice().expect("workspace arrays are contiguous")
}

/// [`numbers`], to write.
pub fn numbers_mut(a: &mut ArrayD<f64>) -> &mut [f64] {
    a.as_slice_mut().expect("workspace arrays are contiguous")
}

/// Sets every entry of a workspace array to `v`.
pub fn fill(a: &mut ArrayD<f64>, v: f64) {
    numbers_mut(a).fill(v);
}

/// The numbers of one evaluation of a graph: a value and an adjoint for every node.
///
/// Allocated once with every node's shape; forward and backward write into it in place.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub values: Vec<ArrayD<f64>>,
    pub adjoints: Vec<ArrayD<f64>>,
}

impl Workspace {
    /// Zero-filled buffers for every node, constants set.
    pub fn new(graph: &Graph) -> Self {
        let values: Vec<ArrayD<f64>> = graph
            .nodes
            .iter()
            .map(|n| match n.op {
                Op::Const(c) => ArrayD::from_elem(n.shape.clone(), c),
                _ => ArrayD::zeros(n.shape.clone()),
            })
            .collect();
        let adjoints = graph.nodes.iter().map(|n| ArrayD::zeros(n.shape.clone())).collect();
        Workspace { values, adjoints }
    }

    /// Computes one node's value from its inputs' (leaves are left as they are).
    pub fn forward_node(&mut self, graph: &Graph, id: NodeId) {
        let node = &graph.nodes[id];
        let (before, rest) = self.values.split_at_mut(id);
        node.op.forward(&node.inputs, before, &mut rest[0]);
    }

    /// The whole forward pass; returns J.
    pub fn forward_all(&mut self, graph: &Graph) -> f64 {
        for &id in &graph.forward_order {
            self.forward_node(graph, id);
        }
        self.values[graph.loss].iter().sum()
    }

    /// Prepares adjoints for a backward pass: every adjoint 0, and for Version B dJ/dJ = 1.
    pub fn begin_backward(&mut self, graph: &Graph, algorithm: Backward) {
        for &id in &graph.backward_order {
            fill(&mut self.adjoints[id], 0.0);
        }
        if algorithm == Backward::B {
            fill(&mut self.adjoints[graph.loss], 1.0);
        }
    }

    /// One backward step at node `id`: Version A computes dJ/d(id) from its consumers;
    /// Version B pushes dJ/d(id) · d(id)/dv into each input v.
    pub fn backward_node(&mut self, graph: &Graph, id: NodeId, algorithm: Backward) {
        match algorithm {
            Backward::A => {
                if id == graph.loss {
                    fill(&mut self.adjoints[id], 1.0);
                    return;
                }
                fill(&mut self.adjoints[id], 0.0);
                for &(u, k) in &graph.consumers[id] {
                    let node = &graph.nodes[u];
                    let (lo, hi) = self.adjoints.split_at_mut(u);
                    node.op.accumulate_vjp(k, &node.inputs, &self.values, &self.values[u], &hi[0], &mut lo[id]);
                }
            }
            Backward::B => {
                let node = &graph.nodes[id];
                for (k, v) in graph.pushes(id) {
                    let (lo, hi) = self.adjoints.split_at_mut(id);
                    node.op.accumulate_vjp(k, &node.inputs, &self.values, &self.values[id], &hi[0], &mut lo[v]);
                }
            }
        }
    }

    /// The whole backward pass.
    pub fn backward_all(&mut self, graph: &Graph, algorithm: Backward) {
        self.begin_backward(graph, algorithm);
        for &id in &graph.backward_order {
            self.backward_node(graph, id, algorithm);
        }
    }

    /// Consumer `u`'s contribution to dJ/dv through its input slot `k`:
    /// (dJ/du)·(∂u/∂v), the term of the chain rule's sum (allocates; for display).
    pub fn contribution(&self, graph: &Graph, u: NodeId, k: usize) -> ArrayD<f64> {
        let node = &graph.nodes[u];
        let v = node.inputs[k];
        let mut acc = ArrayD::zeros(graph.nodes[v].shape.clone());
        node.op.accumulate_vjp(k, &node.inputs, &self.values, &self.values[u], &self.adjoints[u], &mut acc);
        acc
    }

    /// J's value.
    pub fn loss_value(&self, graph: &Graph) -> f64 {
        numbers(&self.values[graph.loss]).iter().sum()
    }
}
