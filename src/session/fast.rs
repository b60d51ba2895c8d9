//! `run`'s fast path: whole examples at a time, with the same numbers as the micro-steps.
//!
//! [`Session::run_fast`] ends where [`Session::run_to_end`] ends, with bit for bit the same
//! parameters, per-example losses, epoch metrics and first NaN/Inf; it leaves out only what
//! `run` never shows:
//! - a parameter read by one linear map (folded bias or W x + b) and trained by SGD is updated
//!   straight from dJ/du and the input, θ_ij ← θ_ij − γ(0 + g_i x_j), without materialising
//!   its gradient; entries where x_j is an exact zero are left as they are, as the micro-steps
//!   leave them (θ − γ(0 + g_i·0) = θ − 0 = θ when g_i is finite);
//! - the product of such a map with the data visits only the data's nonzero entries, in the
//!   same order of additions ([`kernels::dot8_sparse`]; W is finite), and keeps W transposed
//!   so that each nonzero adds one contiguous column;
//! - dJ/dx of the data is not computed when a bound shows it is finite (nothing shows it);
//! - NaN/Inf detection checks each node's value or adjoint at the step the micro-steps check
//!   it, and the updated parameters by a running bound of |θ|; when a number is not finite,
//!   or a bound cannot rule it out, the example is handed to the micro-steps from where it
//!   stands (forward values are theirs; the backward pass is redone), and they locate the
//!   origin exactly. After the first NaN/Inf the rest of the run is micro-stepped.
//!
//! After `run_fast` the workspace's adjoints and intermediate values, and
//! [`Session::param_before`], are not those of the last example.

// Additions are spelled `s = s + t`, as in the ndarray code they reproduce (`+=` is the same).
#![allow(clippy::assign_op_pattern)]

use std::cell::{Cell, RefCell};

use crate::data::Dataset;
use crate::engine::kernels::{self, Sparse};
use crate::engine::optim::Optimizer;
use crate::engine::{NodeId, Op, Workspace};

use super::{predicted_label, NonFinite, Phase, Score, Session};

/// Far enough below overflow (1.8e308) that a bound under it, with its roundings, proves
/// the numbers it bounds finite.
const SAFE: f64 = 1e300;

/// Whether a bound is below [`SAFE`] (false for NaN).
fn safe(bound: f64) -> bool {
    bound < SAFE
}

/// A parameter updated straight from its only consumer's adjoint.
#[derive(Debug)]
struct Fused {
    /// The linear map u = W[1; x] (or W x + b) that reads the parameter.
    node: NodeId,
    /// 1 for the folded bias (column 0), 0 for W x + b.
    off: usize,
    rows: usize,
    cols: usize,
    /// An upper bound of |θ| over every entry.
    bound: Cell<f64>,
    /// max|dJ/du| and max(1, max|x|) of the current example, from the backward pass.
    gmax: Cell<f64>,
    xmax: Cell<f64>,
    /// θᵀ, column by column, when the map reads the features: the fast path keeps θ here
    /// and writes it back to the workspace when the workspace is read ([`Plan::store`]).
    wt: Option<RefCell<Vec<f64>>>,
}

/// The nonzero entries of every row of a dataset, and whether the row is finite.
struct Nonzeros {
    index: Vec<u32>,
    value: Vec<f64>,
    start: Vec<usize>,
    finite: Vec<bool>,
    len: usize,
}

impl Nonzeros {
    fn of(data: &Dataset) -> Nonzeros {
        let mut z = Nonzeros { index: vec![], value: vec![], start: vec![0], finite: vec![], len: data.width() };
        for r in data.features.rows() {
            let r = r.to_vec();
            kernels::nonzeros(&r, &mut z.index, &mut z.value);
            z.start.push(z.index.len());
            z.finite.push(r.iter().all(|v| v.is_finite()));
        }
        z
    }

    fn row(&self, i: usize) -> Sparse<'_> {
        let (a, b) = (self.start[i], self.start[i + 1]);
        Sparse { index: &self.index[a..b], value: &self.value[a..b], len: self.len }
    }
}

/// What the fast path does at each node, decided once per run.
struct Plan {
    /// Per node: a linear map of a parameter and the features, computed from the nonzeros.
    sparse: Vec<bool>,
    /// Per parameter (in `Graph::params` order): its fused update.
    fused: Vec<Option<Fused>>,
    /// Per node: the fused parameter (its position) the node reads as weights; its push into
    /// slot 0 is left out.
    fused_at: Vec<Option<usize>>,
    /// Per node: a fused parameter, whose adjoint is not computed.
    fused_node: Vec<bool>,
    /// Per node: the features, when their adjoint is not computed (bounded instead).
    skip: Vec<bool>,
    /// Whether a rule reads the features' value from the workspace (other than a sparse map's
    /// forward and fused update).
    copy_features: bool,
    train_nz: Option<Nonzeros>,
    test_nz: Option<Nonzeros>,
    /// Scratch for [`kernels::affine_t`].
    acc: RefCell<Vec<f64>>,
}

impl Plan {
    fn new(s: &Session) -> Plan {
        let graph = s.graph();
        let n = graph.len();
        let lr = s.model.config.learning_rate;
        let sgd = s.model.config.optimizer == Optimizer::Sgd && lr.is_finite() && lr >= 0.0;
        let features = graph.features();
        let linear = |u: NodeId| matches!(graph.node(u).op, Op::Linear | Op::Affine);
        let mut readers = vec![Vec::new(); n];
        for (u, node) in graph.nodes().iter().enumerate() {
            for &i in &node.inputs {
                readers[i].push(u);
            }
        }
        let sparse: Vec<bool> = (0..n)
            .map(|u| {
                let inputs = &graph.node(u).inputs;
                linear(u)
                    && features.is_some()
                    && graph.node(inputs[0]).op == Op::Param
                    && Some(inputs[1]) == features
                    && inputs[0] != inputs[1]
            })
            .collect();
        let mut fused = Vec::new();
        let mut fused_at = vec![None; n];
        let mut fused_node = vec![false; n];
        for (k, &p) in graph.params().iter().enumerate() {
            let f = match graph.consumers(p) {
                [(u, 0)] if sgd && linear(*u) && graph.node(*u).inputs[1] != p => {
                    let (rows, cols) = (graph.node(p).shape[0], graph.node(p).shape[1]);
                    fused_at[*u] = Some(k);
                    fused_node[p] = true;
                    Some(Fused {
                        node: *u,
                        off: usize::from(graph.node(*u).op == Op::Linear),
                        rows,
                        cols,
                        bound: Cell::new(0.0),
                        gmax: Cell::new(0.0),
                        xmax: Cell::new(0.0),
                        wt: (sparse[*u] && readers[p].len() == 1).then(|| RefCell::new(Vec::new())),
                    })
                }
                _ => None,
            };
            fused.push(f);
        }
        let mut skip = vec![false; n];
        let mut copy_features = false;
        if let Some(f) = features {
            if let [(u, 1)] = graph.consumers(f) {
                skip[f] = fused_at[*u].is_some();
            }
            // A sparse map whose weights' gradient is materialised reads x in its backward rule.
            copy_features = readers[f].iter().any(|&u| !sparse[u] || fused_at[u].is_none());
        }
        let any_sparse = sparse.iter().any(|&b| b);
        let model = s.model();
        let plan = Plan {
            train_nz: model.train_data.as_ref().filter(|_| any_sparse).map(Nonzeros::of),
            test_nz: model.test_data.as_ref().filter(|_| any_sparse).map(Nonzeros::of),
            sparse,
            fused,
            fused_at,
            fused_node,
            skip,
            copy_features: copy_features || !any_sparse,
            acc: RefCell::new(Vec::new()),
        };
        plan.load(s);
        plan
    }

    /// The fused parameter node `u` reads as weights, when it is kept transposed.
    fn transposed(&self, u: NodeId) -> Option<&Fused> {
        self.fused_at[u].and_then(|k| self.fused[k].as_ref()).filter(|f| f.wt.is_some())
    }

    /// Takes the fused parameters from the workspace: θᵀ and the bounds.
    fn load(&self, s: &Session) {
        for (f, &p) in self.fused.iter().zip(s.graph().params()) {
            let Some(f) = f else { continue };
            let theta = s.ws.values[p].as_slice().expect("contiguous");
            f.bound.set(max_abs(theta));
            if let Some(wt) = &f.wt {
                let mut wt = wt.borrow_mut();
                wt.clear();
                wt.resize(theta.len(), 0.0);
                for i in 0..f.rows {
                    for c in 0..f.cols {
                        wt[c * f.rows + i] = theta[i * f.cols + c];
                    }
                }
            }
        }
    }

    /// Writes θᵀ back into the workspace.
    fn store(&self, s: &mut Session) {
        let params: Vec<NodeId> = s.graph().params().to_vec();
        for (f, &p) in self.fused.iter().zip(&params) {
            let Some(Fused { wt: Some(wt), rows, cols, .. }) = f else { continue };
            let wt = wt.borrow();
            let theta = s.ws.values[p].as_slice_mut().expect("contiguous");
            for i in 0..*rows {
                for c in 0..*cols {
                    theta[i * cols + c] = wt[c * rows + i];
                }
            }
        }
    }
}

/// max |v|, or NaN when one is not finite.
fn max_abs(values: &[f64]) -> f64 {
    let m = values.iter().fold(0.0f64, |m, &v| m.max(v.abs()));
    if kernels::all_finite(values) {
        m
    } else {
        f64::NAN
    }
}

/// Where the fast path hands an example to the micro-steps.
enum Outcome {
    Done,
    /// The value at this position of the forward order is not finite.
    Forward(usize),
    /// An adjoint is not finite, or a bound cannot rule it out.
    Backward,
}

/// The forward pass of an example (or an evaluation row) into `ws`, the label (and, when
/// the plan says so, the features) already loaded; `x` the features' nonzeros. With `check`,
/// stops at the first value that is not finite and says where.
fn forward(s: &Session, plan: &Plan, ws: &mut Workspace, x: Sparse, finite_x: bool, check: bool) -> Option<usize> {
    let graph = s.graph();
    for (pos, &id) in graph.forward_order().iter().enumerate() {
        let node = graph.node(id);
        match node.op {
            Op::Features => {
                if check && !finite_x {
                    return Some(pos);
                }
                continue;
            }
            Op::Label => {}
            _ if plan.sparse[id] => {
                let (before, rest) = ws.values.split_at_mut(id);
                let out = rest[0].as_slice_mut().expect("contiguous");
                let b = |i: usize| before[node.inputs[2]].as_slice().expect("contiguous")[i];
                match plan.transposed(id) {
                    Some(f) => {
                        let wt = f.wt.as_ref().expect("transposed").borrow();
                        let acc = &mut plan.acc.borrow_mut();
                        if node.op == Op::Linear {
                            kernels::affine_t(out, &wt, f.rows, 1, |i| wt[i], x, acc);
                        } else {
                            kernels::affine_t(out, &wt, f.rows, 0, b, x, acc);
                        }
                    }
                    None => {
                        let w = &before[node.inputs[0]];
                        let cols = w.shape()[1];
                        let w = w.as_slice().expect("contiguous");
                        if node.op == Op::Linear {
                            kernels::affine_sparse(out, w, cols, 1, |i| w[i * cols], x);
                        } else {
                            kernels::affine_sparse(out, w, cols, 0, b, x);
                        }
                    }
                }
            }
            _ => ws.forward_node(graph, id),
        }
        if check && !kernels::all_finite(ws.values[id].as_slice().expect("contiguous")) {
            return Some(pos);
        }
    }
    None
}

impl Session {
    /// Runs to the end as [`Session::run_to_end`] does, with the same parameters, losses,
    /// metrics and first NaN/Inf (see the module's notes), calling `after` after each example
    /// and each evaluation.
    pub fn run_fast(&mut self, mut after: impl FnMut(&Session)) {
        while self.phase != Phase::Finished && !self.at_boundary() {
            self.step();
        }
        if self.model.train_data.is_none() {
            self.run_to_end();
            after(self);
            return;
        }
        let plan = Plan::new(self);
        let mut params_finite = self.params_finite();
        while self.phase != Phase::Finished {
            let fast = params_finite && self.first_non_finite.is_none();
            match self.phase {
                Phase::Evaluate if fast => {
                    plan.store(self);
                    self.fast_evaluate(&plan);
                    self.steps += 1;
                    self.skip_empty_phases();
                }
                Phase::Forward if fast && self.index == 0 => match self.fast_example(&plan) {
                    Outcome::Done => {}
                    outcome => {
                        plan.store(self);
                        self.load_current_example();
                        // The steps the fast path took count as the micro-steps' would.
                        match outcome {
                            Outcome::Forward(pos) => {
                                self.index = pos;
                                self.steps += pos as u64;
                            }
                            _ => {
                                self.steps += self.graph().forward_order().len() as u64;
                                self.enter_backward();
                            }
                        }
                        self.finish_example();
                        params_finite = self.params_finite();
                        plan.load(self);
                    }
                },
                _ => {
                    plan.store(self);
                    self.finish_example();
                    plan.load(self);
                }
            }
            if self.first_non_finite.as_ref().is_some_and(|nf| nf.phase == Phase::Update) {
                params_finite = false;
            }
            after(self);
        }
        plan.store(self);
    }

    fn at_boundary(&self) -> bool {
        self.phase == Phase::Evaluate || (self.phase == Phase::Forward && self.index == 0)
    }

    fn params_finite(&self) -> bool {
        self.graph().params().iter().all(|&p| self.ws.values[p].iter().all(|v| v.is_finite()))
    }

    /// The current example's features and label into the workspace.
    fn load_current_example(&mut self) {
        let model = self.model.clone();
        let data = model.train_data.as_ref().expect("training data");
        let row = self.order[self.example];
        if let Some(f) = model.graph.features() {
            let dst = self.ws.values[f].as_slice_mut().expect("contiguous");
            dst.copy_from_slice(data.features.row(row).as_slice().expect("contiguous rows"));
        }
        if let Some(l) = model.graph.label() {
            self.ws.values[l].fill(data.labels[row]);
        }
    }

    /// One example: forward, backward (Version B's pushes; A adds in the same order), update.
    fn fast_example(&mut self, plan: &Plan) -> Outcome {
        let model = self.model.clone();
        let graph = &model.graph;
        let data = model.train_data.as_ref().expect("training data");
        let row = self.order[self.example];
        let (x, mut finite_x) = match &plan.train_nz {
            Some(z) => (z.row(row), z.finite[row]),
            None => (Sparse { index: &[], value: &[], len: 0 }, true),
        };
        if plan.copy_features {
            if let Some(f) = graph.features() {
                let dst = self.ws.values[f].as_slice_mut().expect("contiguous");
                dst.copy_from_slice(data.features.row(row).as_slice().expect("contiguous rows"));
                finite_x = kernels::all_finite(dst);
            }
        }
        if let Some(l) = graph.label() {
            self.ws.values[l].fill(data.labels[row]);
        }
        let mut ws = std::mem::replace(&mut self.ws, Workspace { values: vec![], adjoints: vec![] });
        let result = self.fast_passes(plan, &mut ws, x, finite_x);
        self.ws = ws;
        if let Some(outcome) = result {
            return outcome;
        }
        // The update, parameters in order, each checked where the micro-steps check it.
        let lr = model.config.learning_rate;
        for (p, &id) in graph.params().iter().enumerate() {
            let finite = match &plan.fused[p] {
                Some(f) => {
                    let g = self.ws.adjoints[f.node].as_slice().expect("contiguous");
                    let x_id = graph.node(f.node).inputs[1];
                    match &f.wt {
                        Some(wt) => kernels::sgd_outer_t(&mut wt.borrow_mut(), f.rows, f.off, g, x, lr),
                        None => {
                            let (lo, hi) = self.ws.values.split_at_mut(id.max(x_id));
                            let (theta, xv) = if id > x_id { (&mut hi[0], &lo[x_id]) } else { (&mut lo[id], &hi[0]) };
                            let theta = theta.as_slice_mut().expect("contiguous");
                            let xv = xv.as_slice().expect("contiguous");
                            if plan.sparse[f.node] {
                                sgd_outer_sparse(theta, f.cols, f.off, g, x, lr);
                            } else {
                                sgd_outer(theta, f.cols, f.off, g, xv, lr);
                            }
                        }
                    }
                    // |θ − γ(0 + g x)| ≤ |θ| + γ·max|g|·max(1, max|x|), with room for the
                    // roundings: while the bound is far below overflow, every entry is finite.
                    let bound = (f.bound.get() + lr * f.gmax.get() * f.xmax.get()) * (1.0 + 1e-12);
                    if bound < SAFE {
                        f.bound.set(bound);
                        true
                    } else {
                        let theta = match &f.wt {
                            Some(wt) => wt.borrow().clone(),
                            None => self.ws.values[id].iter().copied().collect(),
                        };
                        f.bound.set(max_abs(&theta));
                        kernels::all_finite(&theta)
                    }
                }
                None => {
                    let (values, adjoints) = (&mut self.ws.values, &self.ws.adjoints);
                    model.config.optimizer.step(&mut values[id], &adjoints[id], lr, &mut self.optimizer_state[p]);
                    kernels::all_finite(values[id].as_slice().expect("contiguous"))
                }
            };
            if !finite && self.first_non_finite.is_none() {
                self.first_non_finite =
                    Some(NonFinite { epoch: self.epoch, example: self.example, phase: Phase::Update, node: id });
            }
        }
        self.steps += (graph.forward_order().len() + graph.backward_order().len() + graph.params().len()) as u64;
        self.complete_example();
        self.skip_empty_phases();
        Outcome::Done
    }

    /// Forward and backward of the current example in `ws`; `Some` when the micro-steps must
    /// take over.
    fn fast_passes(&self, plan: &Plan, ws: &mut Workspace, x: Sparse, finite_x: bool) -> Option<Outcome> {
        let graph = self.graph();
        if let Some(pos) = forward(self, plan, ws, x, finite_x, true) {
            return Some(Outcome::Forward(pos));
        }
        // Backward, Version B: every adjoint 0, dJ/dJ = 1, each node pushes into its inputs.
        for &id in graph.backward_order() {
            if !plan.fused_node[id] && !plan.skip[id] {
                ws.adjoints[id].fill(0.0);
            }
        }
        ws.adjoints[graph.loss()].fill(1.0);
        for &id in graph.backward_order() {
            if plan.fused_node[id] || plan.skip[id] {
                continue;
            }
            let node = graph.node(id);
            for (k, v) in graph.pushes(id) {
                if (k == 0 && plan.fused_at[id].is_some()) || plan.skip[v] {
                    continue;
                }
                let (lo, hi) = ws.adjoints.split_at_mut(id);
                node.op.accumulate_vjp(k, &node.inputs, &ws.values, &ws.values[id], &hi[0], &mut lo[v]);
            }
            if !kernels::all_finite(ws.adjoints[id].as_slice().expect("contiguous")) {
                return Some(Outcome::Backward);
            }
        }
        // The adjoints left out are finite: dJ/dθ = g [1; x]ᵀ has entries of at most
        // max|g|·max(1, max|x|), and dJ/dx = Wᵀ g at most max|W|·Σ|g|.
        for f in plan.fused.iter().flatten() {
            let node = graph.node(f.node);
            let g = ws.adjoints[f.node].as_slice().expect("contiguous");
            let gmax = max_abs(g);
            let xmax = if plan.sparse[f.node] {
                max_abs(x.value)
            } else {
                max_abs(ws.values[node.inputs[1]].as_slice().expect("contiguous"))
            }
            .max(1.0);
            f.gmax.set(gmax);
            f.xmax.set(xmax);
            if !safe(gmax * xmax) {
                return Some(Outcome::Backward);
            }
            if plan.skip[node.inputs[1]] {
                let gsum: f64 = g.iter().map(|v| v.abs()).sum();
                if !safe(f.bound.get() * gsum) {
                    return Some(Outcome::Backward);
                }
            }
        }
        None
    }

    /// The epoch's evaluation (lines 12–13) with the fast forward pass, as `evaluate_step`.
    fn fast_evaluate(&mut self, plan: &Plan) {
        for &p in self.model.graph.params() {
            let (src, dst) = (&self.ws.values[p], &mut self.eval_ws.values[p]);
            dst.as_slice_mut().expect("contiguous").copy_from_slice(src.as_slice().expect("contiguous"));
        }
        let mut ws = std::mem::replace(&mut self.eval_ws, Workspace { values: vec![], adjoints: vec![] });
        let model = self.model.clone();
        let train = model.train_data.as_ref().map(|d| self.fast_score(plan, &mut ws, d, plan.train_nz.as_ref()));
        let test = model.test_data.as_ref().map(|d| self.fast_score(plan, &mut ws, d, plan.test_nz.as_ref()));
        self.eval_ws = ws;
        self.finish_evaluation(train, test);
    }

    /// Mean loss (and error rate) on a dataset, as `score`.
    fn fast_score(&self, plan: &Plan, ws: &mut Workspace, data: &Dataset, nz: Option<&Nonzeros>) -> Score {
        let graph = self.graph();
        let mut total = 0.0;
        let mut wrong = 0usize;
        for i in 0..data.len() {
            if plan.copy_features {
                if let Some(f) = graph.features() {
                    let dst = ws.values[f].as_slice_mut().expect("contiguous");
                    dst.copy_from_slice(data.features.row(i).as_slice().expect("contiguous rows"));
                }
            }
            if let Some(l) = graph.label() {
                ws.values[l].fill(data.labels[i]);
            }
            let x = nz.map(|z| z.row(i)).unwrap_or(Sparse { index: &[], value: &[], len: 0 });
            forward(self, plan, ws, x, true, false);
            total += ws.loss_value(graph);
            if let Some(pred) = predicted_label(graph, ws) {
                if pred as f64 != data.labels[i] {
                    wrong += 1;
                }
            }
        }
        let n = data.len() as f64;
        Score { loss: total / n, error: graph.prediction().map(|_| wrong as f64 / n) }
    }
}

/// θ_ij ← θ_ij − γ(0 + g_i x_j), and the bias column θ_i0 ← θ_i0 − γ(0 + g_i) when `off` is
/// 1: the micro-steps' gradient (which starts at +0) and SGD step, fused.
fn sgd_outer(theta: &mut [f64], cols: usize, off: usize, g: &[f64], x: &[f64], lr: f64) {
    for (i, &gi) in g.iter().enumerate() {
        let row = &mut theta[i * cols..(i + 1) * cols];
        if off == 1 {
            row[0] = row[0] - lr * (0.0 + gi);
        }
        for (r, &xj) in row[off..].iter_mut().zip(x) {
            *r = *r - lr * (0.0 + gi * xj);
        }
    }
}

/// [`sgd_outer`] over x's nonzero entries (the others are left as they are: g is finite).
fn sgd_outer_sparse(theta: &mut [f64], cols: usize, off: usize, g: &[f64], x: Sparse, lr: f64) {
    for (i, &gi) in g.iter().enumerate() {
        let row = &mut theta[i * cols..(i + 1) * cols];
        if off == 1 {
            row[0] = row[0] - lr * (0.0 + gi);
        }
        let row = &mut row[off..];
        for (&j, &xj) in x.index.iter().zip(x.value) {
            row[j as usize] = row[j as usize] - lr * (0.0 + gi * xj);
        }
    }
}
