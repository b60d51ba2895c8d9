//! Why a value differs: a list of independent checks, each a hypothesis about a mistake real
//! homework code makes, tested against the numbers before it is said. A check returns its
//! sentence only when their value is exactly what that mistake would produce.
//!
//! This file holds what every check shares: the [`Context`] of the value that differs, the
//! [`CHECKS`] table (the order their sentences are printed in) and [`diagnose`], which runs
//! them. The checks live with the phase whose mistake they name: `init.rs` (the initial
//! weights), `shape.rs` (another size or arrangement, in any phase), `data_order.rs` (their x:
//! scaled, another row, the order of rows), `forward.rs`, `backward.rs` and `update.rs` (the
//! step and the optimizer); `factor.rs` finds and reads a constant factor, which checks of
//! every phase look for. Beside the checks, `metrics.rs` explains an epoch's metric and
//! `history.rs` keeps bptui's earlier parameters and gradients that checks test against.

use std::collections::HashMap;

use ndarray::ArrayD;

use crate::engine::NodeId;
use crate::notation::greek;
use crate::numfmt::short;
use crate::session::Session;
use crate::trace::ExampleRecord;

use super::layout::Layout;
use super::learned::Learned;
use super::tolerance::Tolerance;
use super::{Section, Theirs};

mod backward;
mod data_order;
mod factor;
mod forward;
mod history;
mod init;
mod metrics;
mod shape;
mod update;

pub use data_order::{data_order, RowIndex};
pub use history::{History, Unrecorded};
pub use init::InitVerdict;
pub use metrics::metric_diagnosis;

/// Everything a check may look at: the finished example, their value, and the history.
pub struct Context<'a> {
    pub session: &'a Session,
    pub theirs: &'a Theirs,
    pub record: &'a ExampleRecord,
    pub section: Section,
    pub id: NodeId,
    /// Our value (or adjoint) in our shape.
    pub ours: &'a ArrayD<f64>,
    /// Their value as recorded.
    pub their_raw: &'a ArrayD<f64>,
    /// Their value in our shape under the learned layout, when it is an arrangement of ours.
    pub their: Option<&'a ArrayD<f64>>,
    pub layout: Layout,
    pub tol: Tolerance,
    /// Values of this example that agreed before this one.
    pub agreed: &'a [(Section, NodeId)],
    /// Parameters and gradients of earlier examples.
    pub history: &'a History,
    /// The layouts their values have settled so far.
    pub learned: &'a Learned,
    pub init: &'a HashMap<NodeId, InitVerdict>,
    pub rows: Option<&'a RowIndex>,
    /// The data row bptui processed in this example.
    pub row: Option<usize>,
    /// The example compared before, when it agreed in every value they recorded.
    pub previous: Option<&'a Unrecorded>,
}

impl Context<'_> {
    fn name(&self) -> &str {
        &self.session.graph().node(self.id).name
    }

    /// The output's name (J, or a graph model's own output such as y).
    fn out(&self) -> &str {
        let g = self.session.graph();
        &g.node(g.loss()).name
    }

    fn d(&self, name: &str) -> String {
        format!("d{}/d{}", self.out(), greek(name))
    }

    /// Whether their value is `candidate` (in our shape), within the tolerance.
    fn is(&self, candidate: &ArrayD<f64>) -> bool {
        self.their.is_some_and(|t| candidate.len() == t.len() && self.tol.agree(candidate, t))
    }

    /// Our value or step (for an update), and theirs, as flat numbers in our shape.
    fn compared(&self) -> Option<(ArrayD<f64>, ArrayD<f64>)> {
        let their = self.their?;
        if self.section == Section::Param {
            let before = self.before(self.id);
            return Some((self.ours - before, their - before));
        }
        Some((self.ours.clone(), their.clone()))
    }

    fn value(&self, id: NodeId) -> &ArrayD<f64> {
        &self.session.workspace().values[id]
    }

    fn adjoint(&self, id: NodeId) -> &ArrayD<f64> {
        &self.session.workspace().adjoints[id]
    }

    fn learning_rate(&self) -> f64 {
        self.session.model().config().learning_rate
    }

    /// The parameter's value before this example's update.
    fn before(&self, id: NodeId) -> &ArrayD<f64> {
        match self.session.graph().param_index(id) {
            Some(p) => self.session.param_before(p),
            None => self.value(id),
        }
    }

    /// The first example of the epoch: nothing accumulated or stale can show yet.
    fn first_of_epoch(&self) -> bool {
        self.record.example == 1
    }

    /// Our previous example's gradient of this parameter.
    fn previous_grad(&self) -> Option<&ArrayD<f64>> {
        self.history.previous_grad(self.session.graph().param_index(self.id)?)
    }

    /// Σ of our gradients of this parameter in this epoch so far (this example's included).
    fn epoch_grad_sum(&self) -> Option<&ArrayD<f64>> {
        self.history.epoch_grad_sum(self.session.graph().param_index(self.id)?)
    }

    /// "dJ/dz (your `g_z`)": bptui's name of this value, with theirs where it differs.
    fn yours(&self) -> String {
        let ours = self.section.short(self.name(), self.out());
        match self.theirs.their_name_in(self.section, self.name()) {
            theirs if theirs != self.name() => format!("{ours} (your `{theirs}`)"),
            _ => ours,
        }
    }
}

/// A check: the sentence that names the mistake, when the numbers show it.
type Check = fn(&Context) -> Option<String>;

/// The checks, in the order their sentences are printed.
const CHECKS: [Check; 29] = [
    init::initial_weights,
    shape::no_one_prepended,
    shape::shapes,
    data_order::scaled_features,
    data_order::data_row,
    shape::arrangement,
    factor::sign,
    forward::label_off_by_one_in_loss,
    forward::loss_factor,
    backward::one_hot,
    backward::softmax_elementwise,
    backward::missing_local_derivative,
    backward::sigmoid_derivative_at_input,
    backward::sigmoid_derivative_half,
    backward::sigmoid_derivative_of_output,
    backward::bias_slice,
    backward::update_before_backprop,
    update::stale_gradient,
    update::accumulated_gradient,
    backward::gradient_factor,
    update::update_step,
    update::adagrad,
    backward::carried_slice,
    forward::stale_parameters,
    update::unrecorded_update,
    forward::missing_bias,
    backward::bias_gradient_missing,
    forward::other_activation,
    forward::equals_another_value,
];

/// Every check whose mistake matches the numbers; failing all, what bptui's rule for this
/// value is, with its numbers.
pub fn diagnose(ctx: &Context) -> Vec<String> {
    let mut out: Vec<String> = CHECKS.iter().filter_map(|check| check(ctx)).collect();
    if ctx.section == Section::Adjoint {
        out.push(backward::backward_rule(ctx));
    } else if out.is_empty() {
        let node = ctx.session.graph().node(ctx.id);
        out.push(match ctx.section {
            Section::Param => format!(
                "no known pattern: bptui's update is {} with η = {} — compare it with your code.",
                ctx.session.model().config().optimizer.rule(),
                short(ctx.learning_rate())
            ),
            _ => format!("no known pattern: compare the equation {} with your code for this step.", node.equation),
        });
    }
    out
}
