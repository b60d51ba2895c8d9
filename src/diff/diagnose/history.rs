//! What the diagnoses test a value against beyond the example at hand: the parameters as they
//! were at the start of training, of the epoch and of the two examples before, and our gradients
//! so far in the epoch. A student's stale forward pass, accumulated gradient or reset Adagrad
//! state is one of these, and bptui's run has them all: they are kept as the run goes, for every
//! example whether or not their trace records it. Beside them, [`Unrecorded`]: what their record
//! of the example before left out, when it agreed in all it held.

use std::collections::VecDeque;

use ndarray::ArrayD;

use crate::engine::NodeId;
use crate::session::Session;
use crate::trace::ExampleRecord;

/// An example's place (epoch, example) and the parameters its forward pass used.
type Snapshot = ((usize, usize), Vec<ArrayD<f64>>);

/// Parameters and gradients of earlier examples (parameters by their index in the graph).
#[derive(Debug, Default)]
pub struct History {
    /// Before any update.
    initial: Option<Vec<ArrayD<f64>>>,
    /// At the start of the epoch of the example observed last: (epoch, parameters).
    epoch_start: Option<(usize, Vec<ArrayD<f64>>)>,
    /// The parameters the forward passes of the examples before the current one used, the
    /// nearest first: ((epoch, example), parameters).
    earlier: VecDeque<Snapshot>,
    /// The current example: its place and the parameters its forward pass used.
    current: Option<Snapshot>,
    /// Our gradients of the example before the current one.
    previous_grad: Vec<ArrayD<f64>>,
    /// Σ g and Σ g² of our gradients since the epoch began, the current example's included.
    epoch_sum: Vec<ArrayD<f64>>,
    epoch_squares: Vec<ArrayD<f64>>,
}

/// How many earlier examples' parameters are kept.
const EARLIER: usize = 2;

impl History {
    /// The session has just finished an example: its parameters and gradients join the history.
    pub fn observe(&mut self, session: &Session) {
        let Some(last) = session.losses().last() else { return };
        let at = (last.epoch, last.example);
        let graph = session.graph();
        let before: Vec<ArrayD<f64>> = (0..graph.params().len()).map(|p| session.param_before(p).clone()).collect();
        if self.initial.is_none() {
            self.initial = Some(before.clone());
        }
        let grads: Vec<&ArrayD<f64>> = graph.params().iter().map(|&p| &session.workspace().adjoints[p]).collect();
        if last.example == 1 || self.epoch_sum.len() != grads.len() {
            self.epoch_start = Some((last.epoch, before.clone()));
            self.epoch_sum = grads.iter().map(|g| ArrayD::zeros(g.raw_dim())).collect();
            self.epoch_squares = self.epoch_sum.clone();
        }
        for ((sum, squares), g) in self.epoch_sum.iter_mut().zip(&mut self.epoch_squares).zip(&grads) {
            *sum += *g;
            ndarray::Zip::from(squares).and(*g).for_each(|s, &g| *s += g * g);
        }
        self.current = Some((at, before));
    }

    /// The example observed last has been compared: it becomes "the example before".
    pub fn passed(&mut self, session: &Session) {
        let graph = session.graph();
        self.previous_grad = graph.params().iter().map(|&p| session.workspace().adjoints[p].clone()).collect();
        if let Some(current) = self.current.take() {
            self.earlier.push_front(current);
            self.earlier.truncate(EARLIER);
        }
    }

    pub fn previous_grad(&self, p: usize) -> Option<&ArrayD<f64>> {
        self.previous_grad.get(p)
    }

    pub fn epoch_grad_sum(&self, p: usize) -> Option<&ArrayD<f64>> {
        self.epoch_sum.get(p)
    }

    /// Σ g² of parameter `p`'s gradients since the epoch began.
    pub fn epoch_grad_squares(&self, p: usize) -> Option<&ArrayD<f64>> {
        self.epoch_squares.get(p)
    }

    pub fn initial(&self) -> Option<&[ArrayD<f64>]> {
        self.initial.as_deref()
    }

    /// The parameters at the start of `epoch`, when it is the epoch observed last.
    pub fn epoch_start(&self, epoch: usize) -> Option<&[ArrayD<f64>]> {
        self.epoch_start.as_ref().filter(|(e, _)| *e == epoch).map(|(_, p)| p.as_slice())
    }

    /// The parameters the forward pass of the example `back` examples before the current one
    /// used (1: the example before), with its place.
    #[allow(clippy::type_complexity)]
    pub fn earlier(&self, back: usize) -> Option<((usize, usize), &[ArrayD<f64>])> {
        self.earlier.get(back.checked_sub(1)?).map(|(at, p)| (*at, p.as_slice()))
    }
}

/// An example that agreed in every value they recorded, and what their record of it did not
/// hold: the parameters after its update (with whether their gradient of each was recorded, and
/// so agreed), and the forward values it did hold (which agreed).
#[derive(Debug, Clone)]
pub struct Unrecorded {
    pub at: (usize, usize),
    pub params: Vec<(NodeId, bool)>,
    pub forward: Vec<NodeId>,
}

impl Unrecorded {
    pub fn of(session: &Session, record: &ExampleRecord) -> Unrecorded {
        let graph = session.graph();
        let holds = |list: &[(String, ArrayD<f64>)], id: NodeId| list.iter().any(|(n, _)| *n == graph.node(id).name);
        let params = graph
            .params()
            .iter()
            .filter(|&&p| !holds(&record.params, p))
            .map(|&p| (p, holds(&record.adjoints, p)))
            .collect();
        let forward = (0..graph.len()).filter(|&id| holds(&record.forward, id)).collect();
        Unrecorded { at: (record.epoch, record.example), params, forward }
    }
}
