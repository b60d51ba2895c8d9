//! The stepping state machine that the TUI and the headless commands both drive.
//!
//! A training run is a sequence of micro-steps: for each example, Forward (one node per
//! step, in topological order), Backward (one node per step, in reverse topological order,
//! Version A or B), Update (one parameter per step); after an epoch's last example, one
//! Evaluate step computes the train and test mean loss, as lines 12–13 of the lecture's SGD.
//! [`Session::step`] advances one micro-step and says what it did; everything coarser
//! (finish the phase, the example, the epoch, the run) is built on it.

mod checkpoint;
mod fast;
pub mod nodecheck;
mod record;

pub use checkpoint::Checkpoint;
pub use fast::examples::{Examples, Ran};
pub use record::{epoch_record, example_record, record_run, step_record};

use std::sync::Arc;

use ndarray::{ArrayD, Zip};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::Dataset;
use crate::engine::{numbers, Backward, Graph, NodeId, Op, Workspace};
use crate::model::spec::Shuffle;
use crate::model::Model;
use crate::numpy_rng::NumpyRandomState;

/// Where in the computation a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Forward,
    Backward,
    Update,
    Evaluate,
    Finished,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Forward => "forward",
            Phase::Backward => "backward",
            Phase::Update => "update",
            Phase::Evaluate => "evaluate",
            Phase::Finished => "finished",
        }
    }
}

/// What one micro-step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A leaf took the current example's features or label.
    Loaded { node: NodeId },
    /// A node's value was computed from its inputs.
    Forward { node: NodeId },
    /// Version A: the node's adjoint was pulled from its consumers. Version B: the node's
    /// (complete) adjoint was pushed into its inputs.
    Backward { node: NodeId, algorithm: Backward },
    /// Parameter number `param` (in [`Graph::params`] order) was updated.
    Update { param: usize, node: NodeId },
    /// The epoch's train and test metrics were computed.
    Evaluated { epoch: usize },
    /// Nothing left to do.
    Finished,
}

impl Event {
    /// The node the step acted on, if it acted on one.
    pub fn node(self) -> Option<NodeId> {
        match self {
            Event::Loaded { node }
            | Event::Forward { node }
            | Event::Backward { node, .. }
            | Event::Update { node, .. } => Some(node),
            Event::Evaluated { .. } | Event::Finished => None,
        }
    }
}

/// Mean loss and error rate of one dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub loss: f64,
    /// Fraction misclassified, for classification losses.
    pub error: Option<f64>,
}

/// The metrics evaluated after an epoch, with the parameters at its end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train: Option<Score>,
    pub test: Option<Score>,
}

/// One processed example's loss, for the loss chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExampleLoss {
    pub epoch: usize,
    /// Counted from 1 within the epoch, as trace records count.
    pub example: usize,
    pub loss: f64,
}

/// Where an example stands in the run, as traces and messages name it: the epoch and the
/// example within it counted from 1, and the data row it reads (from 0; `None` for a graph
/// without data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub epoch: usize,
    pub example: usize,
    pub row: Option<usize>,
}

/// What [`Session::finish_next`] ran to its end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Finished {
    Example(Position),
    Evaluation(EpochMetrics),
}

/// Where a NaN or infinity first appeared.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFinite {
    pub epoch: usize,
    /// Counted from 1 within the epoch.
    pub example: usize,
    pub phase: Phase,
    /// The node whose value (or adjoint) holds it.
    pub node: NodeId,
    /// The node whose step made it: `node` itself, or in Version B the consumer that pushed
    /// into `node`'s adjoint.
    pub by: NodeId,
}

/// A training run that advances one micro-step at a time.
#[derive(Clone)]
pub struct Session {
    /// Shared, so that copies of a session (the debugger's worker, checkpoints) are cheap.
    model: Arc<Model>,
    /// Where the run stands: everything a step changes but the two histories below. A
    /// [`Checkpoint`] is a copy of it.
    now: State,
    /// Scratch for evaluating an epoch's means (its contents never outlive the evaluation).
    eval_ws: Workspace,
    /// The current epoch's order of rows (a function of the epoch: rebuilt, never saved).
    order: Vec<usize>,
    /// Number of examples an epoch has (1 for a graph model without data).
    examples_per_epoch: usize,
    /// Append-only: a checkpoint keeps their lengths.
    metrics: Vec<EpochMetrics>,
    losses: Vec<ExampleLoss>,
}

/// The state a step changes, in one value: what the session is at and what a checkpoint keeps.
#[derive(Clone)]
struct State {
    ws: Workspace,
    algorithm: Backward,
    /// The version chosen for the next backward phase (a switch mid-phase waits for it).
    next_algorithm: Backward,
    optimizer_state: Vec<ArrayD<f64>>,
    /// Each parameter's value before its most recent update.
    param_before: Vec<ArrayD<f64>>,
    epoch: usize,
    example: usize,
    phase: Phase,
    index: usize,
    first_non_finite: Option<NonFinite>,
    steps: u64,
}

impl Session {
    /// A session at the first step of the first example, parameters initialised.
    pub fn new(model: Model, algorithm: Backward) -> Session {
        let mut ws = Workspace::new(model.graph());
        for (id, value) in model.initial() {
            ws.values[*id].assign(value);
        }
        let eval_ws = ws.clone();
        let params = model.graph().params();
        let optimizer_state = params.iter().map(|&p| ArrayD::zeros(ws.values[p].raw_dim())).collect();
        let param_before = params.iter().map(|&p| ws.values[p].clone()).collect();
        let examples_per_epoch = model.train_data().map(Dataset::len).unwrap_or(1);
        let now = State {
            ws,
            algorithm,
            next_algorithm: algorithm,
            optimizer_state,
            param_before,
            epoch: 1,
            example: 0,
            phase: Phase::Forward,
            index: 0,
            first_non_finite: None,
            steps: 0,
        };
        let mut s = Session {
            model: Arc::new(model),
            now,
            eval_ws,
            order: Vec::new(),
            examples_per_epoch,
            metrics: Vec::new(),
            losses: Vec::new(),
        };
        s.order = s.epoch_order(1);
        s.skip_empty_phases();
        s
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn graph(&self) -> &Graph {
        self.model.graph()
    }

    /// Current values and adjoints of every node.
    pub fn workspace(&self) -> &Workspace {
        &self.now.ws
    }

    /// Epoch, counted from 1.
    pub fn epoch(&self) -> usize {
        self.now.epoch
    }

    pub fn epochs(&self) -> usize {
        if self.model.train_data().is_some() {
            self.model.config().epochs
        } else {
            1
        }
    }

    /// Position of the current example in this epoch's order, counted from 0 (its number,
    /// from 1, is [`Session::position`]'s).
    pub fn example(&self) -> usize {
        self.now.example
    }

    /// The current example's place in the run.
    pub fn position(&self) -> Position {
        let row = self.model.train_data().map(|_| self.row());
        Position { epoch: self.now.epoch, example: self.now.example + 1, row }
    }

    pub fn examples_per_epoch(&self) -> usize {
        self.examples_per_epoch
    }

    /// The data row (0-based) of the current example.
    pub fn row(&self) -> usize {
        self.order.get(self.now.example).copied().unwrap_or(0)
    }

    /// The current example's label, if the model has data.
    pub fn label(&self) -> Option<f64> {
        self.model.train_data().map(|d| d.labels[self.row()])
    }

    /// The class the loss reads for the current example: its label, or what the model
    /// computes from it (`t - 1`); `None` without a classification loss or data.
    pub fn class(&self) -> Option<f64> {
        self.model.class_of_row(self.row())
    }

    pub fn phase(&self) -> Phase {
        self.now.phase
    }

    /// Position within the phase: how many of its steps are done.
    pub fn index(&self) -> usize {
        self.now.index
    }

    /// The backward version used by the current (or next) backward phase.
    pub fn algorithm(&self) -> Backward {
        if self.now.phase == Phase::Backward {
            self.now.algorithm
        } else {
            self.now.next_algorithm
        }
    }

    /// The version of this example's backward pass: the one running or done, and before it
    /// (in the forward phase) the one to come. The adjoints on show are this version's.
    pub fn backward_version(&self) -> Backward {
        if self.now.phase == Phase::Forward {
            self.now.next_algorithm
        } else {
            self.now.algorithm
        }
    }

    /// The version that will be used by the next backward phase.
    pub fn next_algorithm(&self) -> Backward {
        self.now.next_algorithm
    }

    /// Chooses the backward version; it takes effect at the next backward phase.
    pub fn set_algorithm(&mut self, algorithm: Backward) {
        self.now.next_algorithm = algorithm;
    }

    pub fn metrics(&self) -> &[EpochMetrics] {
        &self.metrics
    }

    pub fn losses(&self) -> &[ExampleLoss] {
        &self.losses
    }

    pub fn first_non_finite(&self) -> Option<&NonFinite> {
        self.now.first_non_finite.as_ref()
    }

    /// Micro-steps taken so far.
    pub fn steps(&self) -> u64 {
        self.now.steps
    }

    /// Each parameter's value before its most recent update.
    pub fn param_before(&self, param: usize) -> &ArrayD<f64> {
        &self.now.param_before[param]
    }

    /// The forward pass of the current example's input computed with other parameters (in
    /// the graph's parameter order): every node's value. For `diff`'s diagnoses, which test
    /// whether a student's forward pass used stale parameters; nothing of the session changes.
    pub fn forward_with(&self, params: &[ArrayD<f64>]) -> Vec<ArrayD<f64>> {
        let graph = &self.model.graph();
        let mut ws = self.now.ws.clone();
        for (&p, v) in graph.params().iter().zip(params) {
            ws.values[p].assign(v);
        }
        ws.forward_all(graph);
        ws.values
    }

    /// Each row's loss over `data` with the given parameters (in the graph's parameter order),
    /// in the data's order: what an epoch's evaluation sums, for `diff`'s diagnoses of a mean
    /// taken wrongly. Nothing of the session changes.
    pub fn row_losses(&self, params: &[ArrayD<f64>], data: &Dataset) -> Vec<f64> {
        let graph = &self.model.graph();
        let mut ws = self.eval_ws.clone();
        for (&p, v) in graph.params().iter().zip(params) {
            ws.values[p].assign(v);
        }
        (0..data.len()).map(|i| evaluate_row(graph, &mut ws, data, i)).collect()
    }

    /// The parameters' current values, in the graph's parameter order.
    pub fn param_values(&self) -> Vec<ArrayD<f64>> {
        self.model.graph().params().iter().map(|&p| self.now.ws.values[p].clone()).collect()
    }

    /// Adagrad's accumulated squared gradient of a parameter.
    pub fn optimizer_state(&self, param: usize) -> &ArrayD<f64> {
        &self.now.optimizer_state[param]
    }

    /// Whether node `id`'s value belongs to the current example (it has been visited in this
    /// example's forward phase, or is a parameter or constant).
    pub fn value_ready(&self, id: NodeId) -> bool {
        let graph = self.graph();
        match self.now.phase {
            Phase::Forward => match graph.forward_position(id) {
                Some(p) => p < self.now.index,
                None => true,
            },
            _ => true,
        }
    }

    /// Whether node `id`'s adjoint is final for the current example.
    pub fn adjoint_ready(&self, id: NodeId) -> bool {
        let graph = self.graph();
        if !graph.needs_grad(id) {
            return false;
        }
        match self.now.phase {
            Phase::Forward => false,
            Phase::Backward => {
                let pos = graph.backward_position(id).unwrap_or(usize::MAX);
                pos < self.now.index
                    || (self.now.algorithm == Backward::B
                        && graph.consumers(id).iter().all(|&(u, _)| self.backward_done(u)))
            }
            _ => true,
        }
    }

    fn backward_done(&self, id: NodeId) -> bool {
        self.graph().backward_position(id).is_some_and(|p| p < self.now.index)
    }

    /// The node (or parameter's node) the next step acts on, if any.
    pub fn next_node(&self) -> Option<NodeId> {
        let graph = self.graph();
        match self.now.phase {
            Phase::Forward => graph.forward_order().get(self.now.index).copied(),
            Phase::Backward => graph.backward_order().get(self.now.index).copied(),
            Phase::Update => graph.params().get(self.now.index).copied(),
            _ => None,
        }
    }

    /// Advances one micro-step.
    pub fn step(&mut self) -> Event {
        let event = match self.now.phase {
            Phase::Finished => return Event::Finished,
            Phase::Forward => self.forward_step(),
            Phase::Backward => self.backward_step(),
            Phase::Update => self.update_step(),
            Phase::Evaluate => self.evaluate_step(),
        };
        self.now.steps += 1;
        self.skip_empty_phases();
        event
    }

    fn forward_step(&mut self) -> Event {
        let graph = &self.model.graph();
        let id = graph.forward_order()[self.now.index];
        let event = match graph.node(id).op {
            Op::Features => {
                let data = self.model.train_data().expect("a features node implies training data");
                data.features_into(self.row(), &mut self.now.ws.values[id]);
                Event::Loaded { node: id }
            }
            Op::Label => {
                if let Some(data) = &self.model.train_data() {
                    data.label_into(self.row(), &mut self.now.ws.values[id]);
                }
                Event::Loaded { node: id }
            }
            _ => {
                self.now.ws.forward_node(graph, id);
                Event::Forward { node: id }
            }
        };
        self.note_non_finite(id, false);
        self.now.index += 1;
        if self.now.index == self.model.graph().forward_order().len() {
            self.enter_backward();
        }
        event
    }

    fn enter_backward(&mut self) {
        self.now.phase = Phase::Backward;
        self.now.index = 0;
        self.now.algorithm = self.now.next_algorithm;
        self.now.ws.begin_backward(self.model.graph(), self.now.algorithm);
    }

    /// Moves past phases that have nothing to do (a graph whose output is a given input has
    /// no forward step; one without parameters no update).
    fn skip_empty_phases(&mut self) {
        loop {
            let graph = &self.model.graph();
            match self.now.phase {
                Phase::Forward if self.now.index >= graph.forward_order().len() => self.enter_backward(),
                Phase::Backward if self.now.index >= graph.backward_order().len() => self.enter_update(),
                Phase::Update if self.now.index >= graph.params().len() => self.complete_example(),
                _ => break,
            }
        }
    }

    fn backward_step(&mut self) -> Event {
        let id = self.model.graph().backward_order()[self.now.index];
        self.now.ws.backward_node(self.model.graph(), id, self.now.algorithm);
        match self.now.algorithm {
            // The step computed this node's adjoint.
            Backward::A => self.note_non_finite(id, true),
            // The step added into its inputs' adjoints: a NaN arises there, at this step.
            Backward::B => {
                let graph = self.model.clone();
                for (_, v) in graph.graph().pushes(id) {
                    self.note_non_finite_by(v, true, id);
                }
            }
        }
        self.now.index += 1;
        if self.now.index == self.model.graph().backward_order().len() {
            self.enter_update();
        }
        Event::Backward { node: id, algorithm: self.now.algorithm }
    }

    fn enter_update(&mut self) {
        self.now.phase = Phase::Update;
        self.now.index = 0;
    }

    fn update_step(&mut self) -> Event {
        let p = self.now.index;
        let id = self.model.graph().params()[p];
        self.now.param_before[p].assign(&self.now.ws.values[id]);
        let (values, adjoints) = (&mut self.now.ws.values, &self.now.ws.adjoints);
        self.model.config().optimizer.step(
            &mut values[id],
            &adjoints[id],
            self.model.config().learning_rate,
            &mut self.now.optimizer_state[p],
        );
        self.note_non_finite(id, false);
        self.now.index += 1;
        if self.now.index == self.model.graph().params().len() {
            self.complete_example();
        }
        Event::Update { param: p, node: id }
    }

    /// Records the example's loss and moves to the next example, or to the epoch's evaluation.
    fn complete_example(&mut self) {
        let loss = self.now.ws.loss_value(self.model.graph());
        self.losses.push(ExampleLoss { epoch: self.now.epoch, example: self.now.example + 1, loss });
        if self.now.example + 1 < self.examples_per_epoch {
            self.now.example += 1;
            self.now.phase = Phase::Forward;
            self.now.index = 0;
        } else if self.model.train_data().is_some() {
            self.now.phase = Phase::Evaluate;
            self.now.index = 0;
        } else {
            self.now.phase = Phase::Finished;
        }
    }

    fn evaluate_step(&mut self) -> Event {
        self.load_params_into_eval();
        let (graph, ws) = (&self.model.graph(), &mut self.eval_ws);
        let train = self.model.train_data().map(|d| score(graph, ws, d));
        let test = self.model.test_data().map(|d| score(graph, ws, d));
        self.finish_evaluation(train, test)
    }

    /// Records an epoch's metrics and moves to the next epoch (or the end).
    fn finish_evaluation(&mut self, train: Option<Score>, test: Option<Score>) -> Event {
        let epoch = self.now.epoch;
        self.metrics.push(EpochMetrics { epoch, train, test });
        self.next_epoch();
        Event::Evaluated { epoch }
    }

    /// After an epoch's evaluation: the first example of the next epoch, or the end.
    fn next_epoch(&mut self) {
        if self.now.epoch < self.epochs() {
            self.now.epoch += 1;
            self.now.example = 0;
            self.now.phase = Phase::Forward;
            self.now.index = 0;
            self.order = self.epoch_order(self.now.epoch);
        } else {
            self.now.phase = Phase::Finished;
        }
    }

    /// The data rows epoch `epoch` (from 1) visits, in order.
    pub fn order_of_epoch(&self, epoch: usize) -> Vec<usize> {
        if epoch == self.now.epoch {
            self.order.clone()
        } else {
            self.epoch_order(epoch)
        }
    }

    /// Row order of epoch `epoch` (counted from 1).
    fn epoch_order(&self, epoch: usize) -> Vec<usize> {
        epoch_order(self.model.config().shuffle, self.model.config().seed, epoch, self.examples_per_epoch)
    }

    fn note_non_finite(&mut self, id: NodeId, adjoint: bool) {
        self.note_non_finite_by(id, adjoint, id);
    }

    /// Records the first NaN/Inf, if node `id`'s value (or adjoint) holds one, made by the step
    /// at `by`.
    fn note_non_finite_by(&mut self, id: NodeId, adjoint: bool, by: NodeId) {
        if self.now.first_non_finite.is_some() {
            return;
        }
        let a = if adjoint { &self.now.ws.adjoints[id] } else { &self.now.ws.values[id] };
        if !crate::engine::kernels::all_finite(numbers(a)) {
            self.now.first_non_finite = Some(NonFinite {
                epoch: self.now.epoch,
                example: self.now.example + 1,
                phase: self.now.phase,
                node: id,
                by,
            });
        }
    }

    fn load_params_into_eval(&mut self) {
        for &p in self.model.graph().params() {
            let (src, dst) = (&self.now.ws.values[p], &mut self.eval_ws.values[p]);
            Zip::from(dst).and(src).for_each(|d, &s| *d = s);
        }
    }

    /// Predicted labels of the current parameters on a dataset (classifiers only).
    pub fn predict(&mut self, data: &Dataset) -> Option<Vec<usize>> {
        self.load_params_into_eval();
        let graph = &self.model.graph();
        graph.prediction()?;
        let mut out = Vec::with_capacity(data.len());
        for i in 0..data.len() {
            evaluate_row(graph, &mut self.eval_ws, data, i);
            out.push(predicted_label(graph, &self.eval_ws)?);
        }
        Some(out)
    }

    /// Steps until `done` says stop or the run is finished; returns the number of steps taken.
    pub fn step_until(&mut self, mut done: impl FnMut(&Session, Event) -> bool) -> u64 {
        let start = self.now.steps;
        while self.now.phase != Phase::Finished {
            let event = self.step();
            if done(self, event) {
                break;
            }
        }
        self.now.steps - start
    }

    /// Steps to the end of the current phase.
    pub fn finish_phase(&mut self) -> u64 {
        let phase = self.now.phase;
        let (epoch, example) = (self.now.epoch, self.now.example);
        self.step_until(|s, _| s.now.phase != phase || s.now.epoch != epoch || s.now.example != example)
    }

    /// Steps to the end of the current example (after its last update).
    pub fn finish_example(&mut self) -> u64 {
        if self.now.phase == Phase::Evaluate {
            return self.finish_phase();
        }
        let (epoch, example) = (self.now.epoch, self.now.example);
        self.step_until(|s, _| s.now.epoch != epoch || s.now.example != example || s.now.phase == Phase::Evaluate)
    }

    /// Runs the current example, or the epoch's evaluation, to its end and says which it was;
    /// `None` once the run is finished. The example's workspace stays as it ended.
    pub fn finish_next(&mut self) -> Option<Finished> {
        match self.now.phase {
            Phase::Finished => None,
            Phase::Evaluate => {
                self.finish_phase();
                self.metrics.last().copied().map(Finished::Evaluation)
            }
            _ => {
                let at = self.position();
                self.finish_example();
                Some(Finished::Example(at))
            }
        }
    }

    /// Steps to the end of the current epoch (after its evaluation).
    pub fn finish_epoch(&mut self) -> u64 {
        self.step_until(|_, e| matches!(e, Event::Evaluated { .. }))
    }

    /// Steps to the end of the run.
    pub fn run_to_end(&mut self) -> u64 {
        self.step_until(|_, _| false)
    }
}

/// Mean loss (and error rate) on a dataset of the parameters held in `ws`.
fn score(graph: &Graph, ws: &mut Workspace, data: &Dataset) -> Score {
    let mut losses = Vec::with_capacity(data.len());
    let mut wrong = 0usize;
    for i in 0..data.len() {
        losses.push(evaluate_row(graph, ws, data, i));
        if misclassified(graph, ws) {
            wrong += 1;
        }
    }
    mean(graph, &losses, wrong)
}

/// Mean loss (and error rate, `wrong` rows misclassified) from each row's loss, summed in
/// order: the same sum however the losses were computed (one thread or two).
fn mean(graph: &Graph, losses: &[f64], wrong: usize) -> Score {
    let mut total = 0.0;
    for &loss in losses {
        total += loss;
    }
    let n = losses.len() as f64;
    Score { loss: total / n, error: graph.prediction().map(|_| wrong as f64 / n) }
}

/// Forward pass of row `i` of `data` in `ws`; returns J.
fn evaluate_row(graph: &Graph, ws: &mut Workspace, data: &Dataset, i: usize) -> f64 {
    load_row(graph, ws, data, i);
    ws.forward_all(graph)
}

/// Row `row` of `data` into `ws`: the features node's value and the label node's.
pub fn load_row(graph: &Graph, ws: &mut Workspace, data: &Dataset, row: usize) {
    if let Some(f) = graph.features() {
        data.features_into(row, &mut ws.values[f]);
    }
    if let Some(l) = graph.label() {
        data.label_into(row, &mut ws.values[l]);
    }
}

/// The order in which epoch `epoch` (from 1) visits `n` data rows under `shuffle`.
pub fn epoch_order(shuffle: Shuffle, seed: u64, epoch: usize, n: usize) -> Vec<usize> {
    match shuffle {
        Shuffle::None => (0..n).collect(),
        Shuffle::Seeded => {
            let mut order: Vec<usize> = (0..n).collect();
            let seed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(epoch as u64);
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
            order
        }
        Shuffle::NumpyEpoch => NumpyRandomState::new((epoch - 1) as u32).permutation(n),
    }
}

/// Whether the prediction in `ws` misses the class the loss read there (the row's label y*,
/// or what the model computes from it).
pub fn misclassified(graph: &Graph, ws: &Workspace) -> bool {
    let truth = graph.class().and_then(|c| numbers(&ws.values[c]).first().copied());
    predicted_label(graph, ws).zip(truth).is_some_and(|(pred, t)| pred as f64 != t)
}

/// The predicted class: argmax of the prediction (ties to the smallest index), or for a
/// single sigmoid output 1 when y ≥ 0.5.
pub fn predicted_label(graph: &Graph, ws: &Workspace) -> Option<usize> {
    Some(predicted_class(numbers(&ws.values[graph.prediction()?])))
}

/// The class a prediction y names: argmax (ties to the smallest index), or for a single
/// sigmoid output 1 when y ≥ 0.5.
pub fn predicted_class(y: &[f64]) -> usize {
    if y.len() == 1 {
        return usize::from(y[0] >= 0.5);
    }
    let mut best = (0, f64::NEG_INFINITY);
    for (i, &v) in y.iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}
