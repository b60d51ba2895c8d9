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
//! - the homework's network runs these same steps in a loop of its own ([`homework`]).
//!
//! After `run_fast` the workspace's adjoints and intermediate values, and
//! [`Session::param_before`], are not those of the last example.

// Additions are spelled `s = s + t`, as in the ndarray code they reproduce (`+=` is the same).
#![allow(clippy::assign_op_pattern)]

use std::ops::Range;
use std::sync::Arc;
use std::thread::ScopedJoinHandle;

use crate::data::Dataset;
use crate::engine::kernels::{self, Columns, Sparse};
use crate::engine::optim::Optimizer;
use crate::engine::{self, Graph, NodeId, Op, Workspace};
use crate::model::Model;

use super::{load_row, mean, misclassified, EpochMetrics, NonFinite, Phase, Score, Session};

pub mod examples;
mod homework;

use homework::{Buffers, Homework};

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
    /// Whether the map reads the features: the fast path then keeps θᵀ, column by column, in
    /// [`FusedState::wt`] and writes it back to the workspace when the workspace is read.
    transposed: bool,
}

/// A fused parameter's running state.
#[derive(Debug, Clone, Default)]
struct FusedState {
    /// An upper bound of |θ| over every entry.
    bound: f64,
    /// max|dJ/du| and max(1, max|x|) of the current example, from the backward pass.
    gmax: f64,
    xmax: f64,
    /// θᵀ when the parameter is kept transposed, else empty.
    wt: Columns,
    /// Scratch for [`kernels::sgd_outer_t`].
    step: Columns,
}

/// What the fast path does at each node, decided once per run. It does not change while the
/// run goes on, so the training and an evaluation on another thread read it together.
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
    /// The homework's network, run by its own loop, when the graph is that network.
    homework: Option<Homework>,
}

impl Plan {
    fn new(s: &Session) -> Plan {
        let graph = s.graph();
        let n = graph.len();
        let lr = s.model.config().learning_rate;
        let sgd = s.model.config().optimizer == Optimizer::Sgd && lr.is_finite() && lr >= 0.0;
        let features = graph.features();
        let linear = |u: NodeId| matches!(graph.node(u).op, Op::Linear | Op::Affine);
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
            // The parameter's only reader is a linear map, which reads it as its weights.
            let f = match graph.consumers(p) {
                [(u, 0)] if sgd && linear(*u) && graph.node(*u).inputs[1] != p => {
                    fused_at[*u] = Some(k);
                    fused_node[p] = true;
                    Some(Fused {
                        node: *u,
                        off: usize::from(graph.node(*u).op == Op::Linear),
                        rows: graph.node(p).shape[0],
                        cols: graph.node(p).shape[1],
                        transposed: sparse[*u],
                    })
                }
                _ => None,
            };
            fused.push(f);
        }
        let mut skip = vec![false; n];
        let mut copy_features = !sparse.contains(&true);
        if let Some(f) = features {
            if let [(u, 1)] = graph.consumers(f) {
                skip[f] = fused_at[*u].is_some();
            }
            // A sparse map whose weights' gradient is materialised reads x in its backward rule.
            copy_features |= graph.consumers(f).iter().any(|&(u, _)| !sparse[u] || fused_at[u].is_none());
        }
        let mut plan = Plan { sparse, fused, fused_at, fused_node, skip, copy_features, homework: None };
        plan.homework = Homework::find(graph, &plan);
        plan
    }

    /// Row `row` of `data` into `ws`: its label, and its features when a rule reads them from
    /// the workspace.
    fn load_row(&self, graph: &Graph, ws: &mut Workspace, data: &Dataset, row: usize) {
        if self.copy_features {
            load_row(graph, ws, data, row);
        } else if let Some(l) = graph.label() {
            data.label_into(row, &mut ws.values[l]);
        }
    }

    /// The fused parameter (its position) node `u` reads as weights, when it is kept transposed.
    fn transposed(&self, u: NodeId) -> Option<(usize, &Fused)> {
        let k = self.fused_at[u]?;
        self.fused[k].as_ref().filter(|f| f.transposed).map(|f| (k, f))
    }

    /// The fused parameters' state taken from the workspace: θᵀ and the bounds.
    fn load(&self, s: &Session) -> Vec<FusedState> {
        let mut states = vec![FusedState::default(); self.fused.len()];
        for ((f, state), &p) in self.fused.iter().zip(&mut states).zip(s.graph().params()) {
            let Some(f) = f else { continue };
            let theta = engine::numbers(&s.now.ws.values[p]);
            state.bound = kernels::max_abs(theta);
            if f.transposed {
                state.wt = Columns::transpose_of(theta, f.rows, f.cols);
            }
        }
        states
    }

    /// Writes θᵀ back into the workspace.
    fn store(&self, states: &[FusedState], s: &mut Session) {
        let params: Vec<NodeId> = s.graph().params().to_vec();
        for ((f, state), &p) in self.fused.iter().zip(states).zip(&params) {
            let Some(f) = f.as_ref().filter(|f| f.transposed) else { continue };
            state.wt.transpose_into(engine::numbers_mut(&mut s.now.ws.values[p]), f.cols);
        }
    }
}

/// Where the fast path hands an example to the micro-steps.
#[derive(Debug)]
enum Outcome {
    Done,
    /// The value at this position of the forward order is not finite.
    Forward(usize),
    /// An adjoint is not finite, or a bound cannot rule it out.
    Backward,
}

/// The forward pass of an example (or an evaluation row) into `ws`, the label (and, when
/// the plan says so, the features) already loaded; `x` the features' nonzeros, `states` the
/// fused parameters (θᵀ), `acc` scratch. With `check`, stops at the first value that is not
/// finite and says where.
#[allow(clippy::too_many_arguments)]
fn forward(
    graph: &Graph,
    plan: &Plan,
    states: &[FusedState],
    acc: &mut Columns,
    ws: &mut Workspace,
    x: Sparse,
    finite_x: bool,
    check: bool,
) -> Option<usize> {
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
                let out = engine::numbers_mut(&mut rest[0]);
                let b = |i: usize| engine::numbers(&before[node.inputs[2]])[i];
                match plan.transposed(id) {
                    Some((k, _)) => {
                        let wt = &states[k].wt;
                        if node.op == Op::Linear {
                            let bias = wt.column(0);
                            kernels::affine_t(out, wt, 1, |i| bias[i], x, acc);
                        } else {
                            kernels::affine_t(out, wt, 0, b, x, acc);
                        }
                    }
                    None => {
                        let w = &before[node.inputs[0]];
                        let cols = w.shape()[1];
                        let w = engine::numbers(w);
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
        if check && !kernels::all_finite(engine::numbers(&ws.values[id])) {
            return Some(pos);
        }
    }
    None
}

/// An epoch's evaluation (lines 12–13) with the fast forward pass: the parameters at the
/// epoch's end, copied, so that it can run on another thread while the next epoch trains.
struct Scorer<'p> {
    model: Arc<Model>,
    plan: &'p Plan,
    states: Vec<FusedState>,
    buf: Buffers,
    ws: Workspace,
}

impl<'p> Scorer<'p> {
    /// The current parameters of `s`, θᵀ stored back into its workspace.
    fn new(s: &Session, plan: &'p Plan, states: &[FusedState]) -> Scorer<'p> {
        let mut ws = s.eval_ws.clone();
        for &p in s.graph().params() {
            ws.values[p].assign(&s.now.ws.values[p]);
        }
        Scorer { model: s.model.clone(), plan, states: states.to_vec(), buf: Buffers::default(), ws }
    }

    /// The loss of each row in `rows` of the training (or test) data into `losses`; returns
    /// how many rows are misclassified.
    fn losses(&mut self, train: bool, rows: Range<usize>, losses: &mut [f64]) -> usize {
        let model = self.model.clone();
        let graph = &model.graph();
        let data = match train {
            true => model.train_data(),
            false => model.test_data(),
        };
        let data = data.expect("the data evaluated");
        let mut wrong = 0;
        for (i, loss) in rows.zip(losses) {
            if let Some(hw) = &self.plan.homework {
                let (j, pred) = hw.evaluate(&self.states, &self.ws, &mut self.buf, data.row(i), data.labels[i]);
                *loss = j;
                wrong += usize::from(pred as f64 != data.labels[i]);
                continue;
            }
            self.plan.load_row(graph, &mut self.ws, data, i);
            let (states, acc) = (&self.states, &mut self.buf.acc);
            forward(graph, self.plan, states, acc, &mut self.ws, data.row(i), true, false);
            *loss = self.ws.loss_value(graph);
            if misclassified(graph, &self.ws) {
                wrong += 1;
            }
        }
        wrong
    }

    /// Mean loss (and error rate) on the training and the test data, as `score`.
    fn score_all(mut self) -> (Option<Score>, Option<Score>) {
        let model = self.model.clone();
        let mut score = |train: bool, data: &Dataset| {
            let mut losses = vec![0.0; data.len()];
            let wrong = self.losses(train, 0..data.len(), &mut losses);
            mean(model.graph(), &losses, wrong)
        };
        let train = model.train_data().map(|d| score(true, d));
        let test = model.test_data().map(|d| score(false, d));
        (train, test)
    }

    /// A copy of this scorer for another thread.
    fn fork(&self) -> Scorer<'p> {
        let (model, plan, states) = (self.model.clone(), self.plan, self.states.clone());
        Scorer { model, plan, states, buf: Buffers::default(), ws: self.ws.clone() }
    }

    /// [`Scorer::score_all`] with the rows shared between this thread and another: each row's
    /// loss is computed on one of them, and the losses summed in order here, so the means are
    /// bit for bit those of one thread.
    fn score_split(mut self) -> (Option<Score>, Option<Score>) {
        let model = self.model.clone();
        let (Some(train), test) = (model.train_data(), model.test_data()) else {
            return self.score_all();
        };
        let n = train.len();
        let mut losses = vec![0.0; n];
        // The other thread takes the end of the training rows, the size of half of all rows.
        let half = n.saturating_sub((n + test.map_or(0, Dataset::len)) / 2);
        let (mine, theirs) = losses.split_at_mut(half);
        let mut other = self.fork();
        let ((wrong, test), theirs_wrong) = crate::parallel::join(
            || {
                let wrong = self.losses(true, 0..half, mine);
                let test = test.map(|d| {
                    let mut losses = vec![0.0; d.len()];
                    let wrong = self.losses(false, 0..d.len(), &mut losses);
                    mean(model.graph(), &losses, wrong)
                });
                (wrong, test)
            },
            || other.losses(true, half..n, theirs),
        );
        (Some(mean(model.graph(), &losses, wrong + theirs_wrong)), test)
    }
}

/// An evaluation running on another thread: the epoch it evaluates, and its scores to come.
type Pending<'scope> = (usize, ScopedJoinHandle<'scope, (Option<Score>, Option<Score>)>);

impl Session {
    /// Runs to the end as [`Session::run_to_end`] does, with the same parameters, losses,
    /// metrics and first NaN/Inf (see the module's notes), calling `after` after each example
    /// and each evaluation. An epoch's evaluation runs on a second thread while the next epoch
    /// trains (its metrics appear after the first example that ends once it is done); the last
    /// one shares its rows between two threads.
    pub fn run_fast(&mut self, mut after: impl FnMut(&Session)) {
        while self.now.phase != Phase::Finished && !self.at_boundary() {
            self.step();
        }
        if self.model.train_data().is_none() {
            self.run_to_end();
            after(self);
            return;
        }
        // Every example's loss is kept: room for them at once (up to a million), not copied as
        // they grow.
        let epochs_left = (self.epochs() + 1).saturating_sub(self.now.epoch);
        self.losses.reserve(epochs_left.saturating_mul(self.examples_per_epoch).min(1 << 20));
        let plan = Plan::new(self);
        // The model, shared with the session, held here so that an example need not count a
        // reference to it.
        let model = self.model.clone();
        let mut states = plan.load(self);
        let mut buf = Buffers::default();
        let mut params_finite = self.params_finite();
        std::thread::scope(|scope| {
            let mut pending: Option<Pending> = None;
            while self.now.phase != Phase::Finished {
                // The evaluation's metrics as soon as it is done, and always before the next one.
                if self.now.phase == Phase::Evaluate || pending.as_ref().is_some_and(|(_, h)| h.is_finished()) {
                    self.record(pending.take());
                }
                let fast = params_finite && self.now.first_non_finite.is_none();
                match self.now.phase {
                    Phase::Evaluate if fast => {
                        plan.store(&states, self);
                        let scorer = Scorer::new(self, &plan, &states);
                        let epoch = self.now.epoch;
                        if epoch == self.epochs() {
                            let (train, test) = scorer.score_split();
                            self.finish_evaluation(train, test);
                        } else {
                            let worker = std::thread::Builder::new().spawn_scoped(scope, move || scorer.score_all());
                            match worker {
                                Ok(worker) => {
                                    pending = Some((epoch, worker));
                                    self.next_epoch();
                                }
                                Err(_) => self.evaluate_step_here(&plan, &states),
                            }
                        }
                        self.now.steps += 1;
                        self.skip_empty_phases();
                    }
                    Phase::Forward if fast && self.now.index == 0 => {
                        match self.fast_example(&model, &plan, &mut states, &mut buf) {
                            Outcome::Done => {}
                            outcome => {
                                plan.store(&states, self);
                                self.hand_over(outcome);
                                self.finish_example();
                                params_finite = self.params_finite();
                                states = plan.load(self);
                            }
                        }
                    }
                    _ => {
                        plan.store(&states, self);
                        self.finish_example();
                        states = plan.load(self);
                    }
                }
                if self.now.first_non_finite.as_ref().is_some_and(|nf| nf.phase == Phase::Update) {
                    params_finite = false;
                }
                after(self);
            }
            self.record(pending.take());
        });
        plan.store(&states, self);
    }

    /// Whether [`Session::run_fast`] runs this model as the homework's network, in a loop of
    /// its own (x → α·[1; x] → σ → β·[1; z] → softmax → cross-entropy, trained by SGD).
    pub fn runs_as_homework_network(&self) -> bool {
        Plan::new(self).homework.is_some()
    }

    /// The metrics of an evaluation that ran on another thread.
    fn record(&mut self, pending: Option<Pending>) {
        let Some((epoch, worker)) = pending else { return };
        // A worker that panicked has the panic of the same code on this thread: propagate it.
        let (train, test) = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        self.metrics.push(EpochMetrics { epoch, train, test });
    }

    /// The epoch's evaluation on this thread (no second thread to be had).
    fn evaluate_step_here(&mut self, plan: &Plan, states: &[FusedState]) {
        let (train, test) = Scorer::new(self, plan, states).score_all();
        self.finish_evaluation(train, test);
    }

    fn at_boundary(&self) -> bool {
        self.now.phase == Phase::Evaluate || (self.now.phase == Phase::Forward && self.now.index == 0)
    }

    fn params_finite(&self) -> bool {
        self.graph().params().iter().all(|&p| self.now.ws.values[p].iter().all(|v| v.is_finite()))
    }

    /// Where the micro-steps take over an example the fast path handed them (its parameters
    /// stored back): forward values up to the one not finite are the fast path's; a backward
    /// pass is redone from its start. The steps the fast path took count as the micro-steps'.
    fn hand_over(&mut self, outcome: Outcome) {
        self.load_current_example();
        match outcome {
            Outcome::Forward(pos) => {
                self.now.index = pos;
                self.now.steps += pos as u64;
            }
            Outcome::Backward => {
                self.now.steps += self.graph().forward_order().len() as u64;
                self.enter_backward();
            }
            Outcome::Done => {}
        }
    }

    /// The current example's features and label into the workspace.
    fn load_current_example(&mut self) {
        let model = self.model.clone();
        let data = model.train_data().expect("training data");
        let row = self.row();
        load_row(model.graph(), &mut self.now.ws, data, row);
    }

    /// One example: forward, backward (Version B's pushes; A adds in the same order), update.
    fn fast_example(&mut self, model: &Model, plan: &Plan, states: &mut [FusedState], buf: &mut Buffers) -> Outcome {
        let graph = &model.graph();
        let data = model.train_data().expect("training data");
        let row = self.order[self.now.example];
        // max |x| is NaN for a row that is not finite.
        let (x, x_max) = data.row_and_max_abs(row);
        let outcome = match &plan.homework {
            // The homework's loop reads the label from the data (and the micro-steps, when
            // they take over, load the example themselves).
            Some(hw) => hw.passes(plan, states, &mut self.now.ws, buf, x, x_max, data.labels[row]),
            None => {
                let mut finite_x = !x_max.is_nan();
                plan.load_row(graph, &mut self.now.ws, data, row);
                if let Some(f) = graph.features().filter(|_| plan.copy_features) {
                    finite_x = kernels::all_finite(engine::numbers(&self.now.ws.values[f]));
                }
                fast_passes(graph, plan, states, &mut buf.acc, &mut self.now.ws, x, finite_x)
            }
        };
        if let Some(outcome) = outcome {
            return outcome;
        }
        // The next example's nonzeros, and where the one after lies: random rows of a dataset
        // larger than the nearest caches, whose loads would otherwise wait for one another.
        if let Some(&next) = self.order.get(self.now.example + 1) {
            let next = data.row(next);
            kernels::prefetch(next.index);
            kernels::prefetch(next.value);
        }
        if let Some(&after) = self.order.get(self.now.example + 2) {
            data.prefetch_row(after);
        }
        // The update, parameters in order, each checked where the micro-steps check it.
        let lr = model.config().learning_rate;
        for (p, &id) in graph.params().iter().enumerate() {
            let finite = match &plan.fused[p] {
                Some(f) => match &plan.homework {
                    Some(hw) => hw.update(f, &mut states[p], &mut self.now.ws, buf, x, lr),
                    None => self.fused_update(f, &mut states[p], plan.sparse[f.node], id, x, lr),
                },
                None => {
                    let (values, adjoints) = (&mut self.now.ws.values, &self.now.ws.adjoints);
                    model.config().optimizer.step(&mut values[id], &adjoints[id], lr, &mut self.now.optimizer_state[p]);
                    kernels::all_finite(engine::numbers(&values[id]))
                }
            };
            if !finite && self.now.first_non_finite.is_none() {
                self.now.first_non_finite = Some(NonFinite {
                    epoch: self.now.epoch,
                    example: self.position().example,
                    phase: Phase::Update,
                    node: id,
                    by: id,
                });
            }
        }
        self.now.steps += (graph.forward_order().len() + graph.backward_order().len() + graph.params().len()) as u64;
        self.complete_example();
        self.skip_empty_phases();
        Outcome::Done
    }

    /// θ ← θ − γ g [1; x]ᵀ for the fused parameter `id`; whether every entry is finite.
    fn fused_update(
        &mut self,
        f: &Fused,
        state: &mut FusedState,
        sparse: bool,
        id: NodeId,
        x: Sparse,
        lr: f64,
    ) -> bool {
        let g = engine::numbers(&self.now.ws.adjoints[f.node]);
        if f.transposed {
            return fused_step(f, state, None, g, x, &[], sparse, lr);
        }
        let x_id = self.graph().node(f.node).inputs[1];
        let (lo, hi) = self.now.ws.values.split_at_mut(id.max(x_id));
        let (theta, xv) = if id > x_id { (&mut hi[0], &lo[x_id]) } else { (&mut lo[id], &hi[0]) };
        fused_step(f, state, Some(engine::numbers_mut(theta)), g, x, engine::numbers(xv), sparse, lr)
    }
}

/// θ ← θ − γ g [1; x]ᵀ for a fused parameter, g = dJ/du of its linear map: on θᵀ in `state`
/// when it is kept transposed (`theta` is then `None`), else on `theta`; x as its nonzeros when
/// the map is `sparse`, else as `xv`. Whether every entry is finite.
#[allow(clippy::too_many_arguments)]
fn fused_step(
    f: &Fused,
    state: &mut FusedState,
    mut theta: Option<&mut [f64]>,
    g: &[f64],
    x: Sparse,
    xv: &[f64],
    sparse: bool,
    lr: f64,
) -> bool {
    match theta.as_deref_mut() {
        None => kernels::sgd_outer_t(&mut state.wt, f.off, g, x, lr, &mut state.step),
        Some(theta) if sparse => kernels::sgd_outer_sparse(theta, f.cols, f.off, g, x, lr),
        Some(theta) => kernels::sgd_outer(theta, f.cols, f.off, g, xv, lr),
    }
    // |θ − γ(0 + g x)| ≤ |θ| + γ·max|g|·max(1, max|x|), with room for the roundings:
    // while the bound is far below overflow, every entry is finite.
    let bound = (state.bound + lr * state.gmax * state.xmax) * (1.0 + 1e-12);
    if safe(bound) {
        state.bound = bound;
        return true;
    }
    state.bound = kernels::max_abs(theta.as_deref().unwrap_or(state.wt.numbers()));
    !state.bound.is_nan()
}

/// Forward and backward of the current example in `ws`; `Some` when the micro-steps must
/// take over.
fn fast_passes(
    graph: &Graph,
    plan: &Plan,
    states: &mut [FusedState],
    acc: &mut Columns,
    ws: &mut Workspace,
    x: Sparse,
    finite_x: bool,
) -> Option<Outcome> {
    if let Some(pos) = forward(graph, plan, states, acc, ws, x, finite_x, true) {
        return Some(Outcome::Forward(pos));
    }
    // Backward, Version B: every adjoint 0, dJ/dJ = 1, each node pushes into its inputs.
    let computed = |id: NodeId| !plan.fused_node[id] && !plan.skip[id];
    for &id in graph.backward_order() {
        if computed(id) {
            engine::fill(&mut ws.adjoints[id], 0.0);
        }
    }
    engine::fill(&mut ws.adjoints[graph.loss()], 1.0);
    for &id in graph.backward_order() {
        if !computed(id) {
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
        if !kernels::all_finite(engine::numbers(&ws.adjoints[id])) {
            return Some(Outcome::Backward);
        }
    }
    // The adjoints left out are finite (see `left_out_finite`).
    for (f, state) in plan.fused.iter().zip(states.iter_mut()) {
        let Some(f) = f else { continue };
        let node = graph.node(f.node);
        let g = engine::numbers(&ws.adjoints[f.node]);
        let xv = if plan.sparse[f.node] { x.value } else { engine::numbers(&ws.values[node.inputs[1]]) };
        state.gmax = kernels::max_abs(g);
        state.xmax = kernels::max_abs(xv).max(1.0);
        if !left_out_finite(state, g.len(), plan.skip[node.inputs[1]]) {
            return Some(Outcome::Backward);
        }
    }
    None
}

/// Whether the adjoints a fused parameter's linear map leaves out are finite, from its
/// state's bounds: dJ/dθ = g [1; x]ᵀ has entries of at most max|g|·max(1, max|x|), and (when
/// the input's adjoint is left out too, `input_skipped`) dJ/dx = θᵀ g has entries of at most
/// max|θ|·Σ|g| ≤ max|θ|·n·max|g| for the n entries of g.
fn left_out_finite(state: &FusedState, n: usize, input_skipped: bool) -> bool {
    safe(state.gmax * state.xmax) && (!input_skipped || safe(state.bound * (n as f64 * state.gmax)))
}
