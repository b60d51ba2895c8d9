//! Why a value differs: a list of independent checks, each a hypothesis about a mistake real
//! homework code makes, tested against the numbers before it is said. A check returns its
//! sentence only when their value is exactly what that mistake would produce.

use std::collections::HashMap;

use ndarray::{s, ArrayD, Ix1, Ix2};

use crate::engine::rules::{substituted, symbolic, term};
use crate::engine::{NodeId, Op};
use crate::notation::greek;
use crate::notation::shape_str;
use crate::numfmt::short;
use crate::session::Session;
use crate::trace::ExampleRecord;

use super::layout::{align, judge, numpy_shape, squeezed, Layout, Ours};
use super::learned::{param_key, Learned};
use super::ours::{carried_adjoint, unverified_params};
use super::tolerance::Tolerance;
use super::{Section, Theirs};

mod history;
mod metrics;
mod steps;

pub use history::History;
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

    fn value(&self, id: NodeId) -> &ArrayD<f64> {
        &self.session.workspace().values[id]
    }

    fn adjoint(&self, id: NodeId) -> &ArrayD<f64> {
        &self.session.workspace().adjoints[id]
    }

    fn learning_rate(&self) -> f64 {
        self.session.model().config.learning_rate
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

/// Whether their initial value of a parameter is the model's, when it can be told.
#[derive(Debug, Clone, PartialEq)]
pub enum InitVerdict {
    /// Recorded in their init record and used.
    Given,
    /// Recovered from their first record (θ₁ and its gradient) and equal to the model's.
    Same,
    /// Recovered and different: where, the model's value, theirs.
    /// `layout`: how their array was read (where several arrangements fit its shape).
    Differs { index: Vec<usize>, model: f64, theirs: f64, layout: Layout },
}

/// A check: the sentence that names the mistake, when the numbers show it.
type Check = fn(&Context) -> Option<String>;

/// The checks, in the order their sentences are printed.
const CHECKS: [Check; 28] = [
    initial_weights,
    steps::no_one_prepended,
    shapes,
    scaled_features,
    data_row,
    arrangement,
    sign,
    label_off_by_one_in_loss,
    loss_factor,
    one_hot,
    softmax_elementwise,
    missing_local_derivative,
    sigmoid_derivative_at_input,
    sigmoid_derivative_half,
    sigmoid_derivative_of_output,
    bias_slice,
    update_before_backprop,
    stale_gradient,
    accumulated_gradient,
    gradient_factor,
    update_step,
    steps::adagrad,
    steps::carried_slice,
    steps::stale_parameters,
    missing_bias,
    bias_gradient_missing,
    other_activation,
    equals_another_value,
];

/// Every check whose mistake matches the numbers; failing all, what bptui's rule for this
/// value is, with its numbers.
pub fn diagnose(ctx: &Context) -> Vec<String> {
    let mut out: Vec<String> = CHECKS.iter().filter_map(|check| check(ctx)).collect();
    if ctx.section == Section::Adjoint {
        out.push(backward_rule(ctx));
    } else if out.is_empty() {
        let node = ctx.session.graph().node(ctx.id);
        out.push(match ctx.section {
            Section::Param => format!(
                "no known pattern: bptui's update is {} with η = {} — compare it with your code.",
                ctx.session.model().config.optimizer.rule(),
                short(ctx.learning_rate())
            ),
            _ => format!("no known pattern: compare the equation {} with your code for this step.", node.equation),
        });
    }
    out
}

/// bptui's backward rule for this adjoint, as a sum over the consumers, with its numbers.
fn backward_rule(ctx: &Context) -> String {
    let graph = ctx.session.graph();
    let ws = ctx.session.workspace();
    let consumers: Vec<(NodeId, usize)> =
        graph.consumers(ctx.id).iter().copied().filter(|&(u, k)| graph.node(u).op.differentiable_input(k)).collect();
    if ctx.id == graph.loss() {
        return format!("bptui's rule: {} = 1 (the output's adjoint starts the backward pass).", ctx.d(ctx.name()));
    }
    let symbols: Vec<String> = consumers.iter().map(|&(u, k)| symbolic(graph, &term(graph, u, k))).collect();
    let numbers: Vec<String> = consumers.iter().map(|&(u, k)| substituted(graph, ws, &term(graph, u, k), 6)).collect();
    let from: Vec<String> = consumers.iter().map(|&(u, _)| graph.node(u).equation.clone()).collect();
    let with_numbers = if numbers != symbols { format!(" = {}", numbers.join(" + ")) } else { String::new() };
    let inputs_ok: Vec<String> = consumers
        .iter()
        .filter(|&&(u, _)| ctx.agreed.contains(&(Section::Adjoint, u)))
        .map(|&(u, _)| ctx.d(&graph.node(u).name))
        .collect();
    let agreed = if inputs_ok.is_empty() {
        String::new()
    } else {
        format!(" Your {} agreed, so the mistake is in this step.", inputs_ok.join(" and "))
    };
    // The rule slices bptui's W (the bias in column 0); where theirs keeps it last, the same
    // rule in their columns.
    let theirs: Vec<String> = consumers
        .iter()
        .filter(|&&(u, k)| graph.node(u).op == Op::Linear && k == 1 && stored_bias_last(ctx, graph.node(u).inputs[0]))
        .map(|&(u, _)| {
            let wn = greek(&graph.node(graph.node(u).inputs[0]).name);
            format!(
                " ({wn}[:,1:] slices bptui's {wn}, whose bias is column 0; yours keeps it in the last column, so in \
                 your code this is {wn}[:,:-1]ᵀ · {}.)",
                ctx.d(&graph.node(u).name)
            )
        })
        .collect();
    // Softmax then cross-entropy: the form the homework writes, ŷ − onehot(y*).
    let identity = graph.softmax_cross_entropy(ctx.id).map_or(String::new(), |(softmax, loss)| {
        let star = ws.values[graph.node(loss).inputs[1]].iter().next().copied().unwrap_or(f64::NAN);
        let numbers = crate::numfmt::inline(ctx.ours, 6).map_or(String::new(), |v| format!(" = {v}"));
        format!(
            " With the cross-entropy after the softmax the two rules multiply out to {} = {} − onehot(y*){numbers} \
             (y* = {}).",
            ctx.d(ctx.name()),
            greek(&graph.node(softmax).name),
            short(star)
        )
    });
    format!(
        "bptui's rule (from {}): {} = {}{}.{}{identity}{agreed}",
        from.join(" and "),
        ctx.d(ctx.name()),
        symbols.join(" + "),
        with_numbers,
        theirs.concat()
    )
}

/// Their initial parameters are not the model's (recovered, or not checkable before the
/// first update).
fn initial_weights(ctx: &Context) -> Option<String> {
    // Another number of entries is a size, not a value, mismatch.
    if ctx.section == Section::Adjoint || ctx.their.is_none() {
        return None;
    }
    let graph = ctx.session.graph();
    // Only the first example runs on the initial weights alone.
    if (ctx.record.epoch, ctx.record.example) != (1, 1) {
        return None;
    }
    // A forward value of theirs that agreed and reads the parameter shows their initial value
    // was the model's (the recovery from θ₁ assumes a correct update, so it yields to that).
    let shown_right =
        |p: NodeId| ctx.agreed.iter().any(|&(s, n)| s == Section::Forward && graph.node(n).inputs.contains(&p));
    // An adjoint of theirs that agreed was computed from a forward pass that gave bptui's numbers
    // through every parameter, so an update that differs is not their init's doing (the
    // recovery θ₁ + η·g₁ assumes the very update that differs).
    let any_adjoint_agreed = ctx.agreed.iter().any(|&(s, _)| s == Section::Adjoint);
    let upstream: Vec<NodeId> = match ctx.section {
        Section::Param if any_adjoint_agreed => vec![],
        Section::Param => vec![ctx.id],
        _ => unverified_params(ctx.session, ctx.id, ctx.agreed),
    }
    .into_iter()
    .filter(|&p| !shown_right(p))
    .collect();
    let record_them = format!(
        "record them with trace.init({}) or set init: in the model",
        graph
            .params()
            .iter()
            .map(|&p| format!("{}=...", ctx.theirs.their_name(&graph.node(p).name)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for &p in &upstream {
        if let Some(InitVerdict::Differs { index, model, theirs, layout }) = ctx.init.get(&p) {
            let name = &graph.node(p).name;
            let read = if *layout == Layout::Same { String::new() } else { format!(", read {}", layout.describe()) };
            return Some(format!(
                "your initial weights are not the model's: your {} before the first update (recovered from your first \
                 record as {g}₁ + η·{d}₁{read}) has {g}[{}] = {} where the model's init gives {}; {record_them}.",
                ctx.theirs.their_name(name),
                index.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","),
                short(*theirs),
                short(*model),
                g = greek(name),
                d = ctx.d(name),
            ));
        }
    }
    let unknown: Vec<&str> = upstream
        .iter()
        .filter(|p| !ctx.init.contains_key(p))
        .map(|&p| ctx.theirs.their_name(&graph.node(p).name))
        .collect();
    if ctx.section == Section::Forward && !unknown.is_empty() {
        return Some(format!(
            "your {} differs before any update, and your trace does not show your initial {}: if they are not the model's \
             (np.random without a seed, another init), your initial weights are not the model's — {record_them}.",
            ctx.theirs.their_name(ctx.name()),
            unknown.join(" and ")
        ));
    }
    None
}

/// Their array holds another number of entries: a layer's size, or a shape mistake.
fn shapes(ctx: &Context) -> Option<String> {
    if ctx.their.is_some()
        || ctx.section == Section::Adjoint && arrangement(ctx).is_some()
        || steps::no_one_prepended(ctx).is_some()
    {
        return None;
    }
    let graph = ctx.session.graph();
    let node = graph.node(ctx.id);
    let theirs_n = ctx.their_raw.len();
    let ours_n = ctx.ours.len();
    let yours = ctx.theirs.their_name(ctx.name());
    let sizes = format!(
        "your {yours} is {} ({theirs_n} numbers), bptui's {} is {} ({ours_n})",
        numpy_shape(ctx.their_raw.shape()),
        ctx.name(),
        numpy_shape(ctx.ours.shape())
    );
    // The linear layer whose units decide this shape.
    let layer = match node.op {
        Op::Linear | Op::Affine => Some(ctx.id),
        Op::Sigmoid | Op::Tanh | Op::Relu | Op::Softmax => {
            Some(node.inputs[0]).filter(|&i| matches!(graph.node(i).op, Op::Linear | Op::Affine))
        }
        Op::Param => graph
            .consumers(ctx.id)
            .iter()
            .map(|&(u, _)| u)
            .find(|&u| matches!(graph.node(u).op, Op::Linear | Op::Affine)),
        _ => None,
    };
    if let Some(l) = layer {
        let units = graph.node(l).shape.iter().product::<usize>();
        let their_units = match node.op {
            // units × (in + 1), or its transpose: the in-dimension agrees, the units differ.
            Op::Param => match (ctx.ours.shape(), ctx.their_raw.shape()) {
                (&[u, c], &[a, b]) if b == c && a != u => Some(a),
                (&[u, c], &[a, b]) if a == c && b != u && a != u => Some(b),
                _ => None,
            },
            _ => Some(theirs_n).filter(|&n| n != ours_n && squeezed(ctx.their_raw.shape()).len() <= 1),
        };
        // Values of this layer that already agreed in bptui's size rule the layer's size out.
        let layer_nodes: Vec<NodeId> = std::iter::once(l)
            .chain(graph.node(l).inputs.iter().copied().filter(|&i| graph.node(i).op == Op::Param))
            .chain(graph.consumers(l).iter().map(|&(u, _)| u).filter(|&u| graph.node(u).shape == graph.node(l).shape))
            .collect();
        let shown: Vec<String> = ctx
            .agreed
            .iter()
            .filter(|(_, n)| layer_nodes.contains(n))
            .map(|&(s, n)| s.short(&graph.node(n).name, ctx.out()))
            .collect();
        if their_units.is_some() && !shown.is_empty() {
            return Some(format!(
                "shapes differ: {sizes}, while your {} agreed in bptui's size ({units} units) in this example, so the \
                 layer's size is right: no storage convention turns your {yours} into bptui's.",
                shown.join(", ")
            ));
        }
        if let Some(n) = their_units {
            return Some(format!(
                "{sizes}: your layer {} has {n} units where the model has units: {units} — is your HIDDEN_UNITS {n}? \
                 Set units: {n} in the model's layer {}.",
                graph.node(l).name,
                graph.node(l).name
            ));
        }
    }
    Some(format!("shapes differ: {sizes}, and no storage convention turns one into the other."))
}

/// Their x is the data's times a constant: features scaled (÷ 255) that the model reads as
/// they are.
fn scaled_features(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    if graph.node(ctx.id).op != Op::Features || ctx.section != Section::Forward {
        return None;
    }
    let (o, t) = compared(ctx)?;
    if o.iter().filter(|v| **v != 0.0).count() < 2 {
        return None;
    }
    let c = factor(&o, &t, &ctx.tol)?;
    let name = ctx.name();
    Some(format!(
        "your {name} is the data's × {} (÷ {}): your features are scaled, and the model reads the file's numbers as \
         they are. Train on the same numbers as bptui (or scale the data file itself).",
        times(c),
        short(1.0 / c)
    ))
}

/// Their x is not ours: another row of the data (another order), or not a row of it at all.
fn data_row(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    if graph.node(ctx.id).op != Op::Features || ctx.section != Section::Forward || ctx.record.row.is_some() {
        return None;
    }
    if scaled_features(ctx).is_some() {
        return None;
    }
    let rows = ctx.rows?;
    let their = ctx.their?;
    let ours_row = ctx.row?;
    let data = ctx.session.model().train_data.as_ref()?;
    match rows.find(their) {
        Some(r) => {
            let mut text = format!(
                "your example {} of epoch {} is data row {r} (found by its x), where the model's order visits row {ours_row}: \
                 the order of examples differs.",
                ctx.record.example, ctx.record.epoch
            );
            let known = their_rows(ctx.theirs, Some((rows, ctx.layout)), ctx.session, ctx.record.epoch);
            text += &shuffle_hint(ctx.session, ctx.record.epoch, &[(ctx.record.example, r)], &known);
            Some(text)
        }
        None => Some(format!(
            "your x is not a row of {} (no row has these {} features): did you pass your training file with --train?",
            data.source,
            their.len()
        )),
    }
}

/// Their value is ours rearranged: transposed, the bias elsewhere or missing.
fn arrangement(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    let node = graph.node(ctx.id);
    let name = ctx.name();
    if steps::no_one_prepended(ctx).is_some() {
        return None;
    }
    let ours = Ours { value: ctx.ours, carried: carried_adjoint(ctx.session, ctx.section, ctx.id) };
    for l in Layout::ALL.into_iter().chain(Layout::CARRIED) {
        if l == ctx.layout {
            continue;
        }
        let agrees = if !matches!(l, Layout::NoBias | Layout::NoBiasTransposed) {
            judge(l, ours, ctx.their_raw, |o, a| ctx.tol.agree(o, a)).is_some_and(|(agrees, _)| agrees)
        } else {
            // A layout that drops numbers (no bias) is laid out on our side.
            l.apply(ctx.ours).is_some_and(|mine| {
                squeezed(mine.shape()) == squeezed(ctx.their_raw.shape()) && ctx.tol.agree(&mine, ctx.their_raw)
            })
        };
        if !agrees {
            continue;
        }
        let shape_rule = if ctx.section == Section::Adjoint && node.op == Op::Param {
            format!(
                " Denominator layout keeps a gradient in its parameter's shape: {} must be {} like {name}{}.",
                ctx.d(name),
                shape_str(&node.shape),
                if ctx.layout == Layout::Same { String::new() } else { format!(" (stored {})", ctx.layout.describe()) }
            )
        } else {
            String::new()
        };
        let stored = if ctx.layout == Layout::Same {
            String::new()
        } else {
            format!(" (your {name} itself is stored {})", ctx.layout.describe())
        };
        let what = match l {
            Layout::Transposed | Layout::BiasLastTransposed if ctx.layout == Layout::Same => {
                format!("transposed: it agrees with bptui's {}{stored}.", l.describe())
            }
            Layout::NoBias | Layout::NoBiasTransposed => {
                format!("missing its bias: it agrees with bptui's {}{stored}.", l.describe())
            }
            _ => format!("in another arrangement — bias placement? It agrees with bptui's {}{stored}.", l.describe()),
        };
        return Some(format!("your {} is {what}{shape_rule}", ctx.section.describe(name, ctx.out())));
    }
    None
}

/// Our value or step (for an update), and theirs, as flat numbers in our shape.
fn compared(ctx: &Context) -> Option<(ArrayD<f64>, ArrayD<f64>)> {
    let their = ctx.their?;
    if ctx.section == Section::Param {
        let before = ctx.before(ctx.id);
        return Some((ctx.ours - before, their - before));
    }
    Some((ctx.ours.clone(), their.clone()))
}

fn sign(ctx: &Context) -> Option<String> {
    let (o, t) = compared(ctx)?;
    if !(ctx.tol.agree(&o.mapv(|v| -v), &t) && o.iter().any(|v| *v != 0.0)) {
        return None;
    }
    let name = ctx.name();
    let graph = ctx.session.graph();
    Some(match ctx.section {
        Section::Param => format!(
            "sign flipped: your step of {name} (θ after − θ before) is the negative of bptui's, so you stepped uphill \
             (gradient ascent, θ + η·g instead of θ − η·g)."
        ),
        Section::Forward if ctx.id == graph.loss() => format!(
            "sign flipped: your {name} is the negative of bptui's. The lecture writes the log-likelihood \
             ℓ = Σ y*_k log ŷ_k; the loss to minimise is its negative, {name} = −log ŷ[y*]."
        ),
        _ => format!("sign flipped: your {} is the negative of bptui's.", ctx.section.describe(name, ctx.out())),
    })
}

/// The cross-entropy's input (ŷ) and the label, when this node is a cross-entropy loss.
fn cross_entropy_parts(ctx: &Context, id: NodeId) -> Option<(ArrayD<f64>, usize)> {
    let graph = ctx.session.graph();
    let node = graph.node(id);
    let Op::CrossEntropy { .. } = node.op else { return None };
    let y_hat = ctx.value(node.inputs[0]).clone();
    let label = ctx.value(node.inputs[1]).iter().next().copied()? as usize;
    Some((y_hat, label))
}

fn label_off_by_one_in_loss(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Forward {
        return None;
    }
    let (y_hat, label) = cross_entropy_parts(ctx, ctx.id)?;
    let y = y_hat.view().into_dimensionality::<Ix1>().ok()?;
    for k in (0..y.len()).filter(|&k| k != label) {
        if ctx.is(&ndarray::arr0(-y[k].ln()).into_dyn()) {
            // k may be another row's label: the one at this example's place in the file, when
            // the rows were shuffled without their labels.
            let data = ctx.session.model().train_data.as_ref();
            let at = ctx.record.example - 1;
            let file_label = data.and_then(|d| d.labels.get(at).copied());
            if let (Some(l), Some(row)) = (file_label, ctx.row) {
                if l == k as f64 && row != at {
                    return Some(format!(
                        "your {} is −log ŷ[{k}], but this example's x is data row {row}, whose label is y* = {label}; \
                         {k} is the label of row {at}, the file's example {}: were the rows shuffled without their \
                         labels (np.random.shuffle(X) alone)? Shuffle x and y with one permutation.",
                        ctx.name(),
                        at + 1
                    ));
                }
            }
            let off = k as i64 - label as i64;
            let how = if off.abs() == 1 { format!(" (the label off by {off:+})") } else { String::new() };
            return Some(format!(
                "your {} is −log ŷ[{k}] = {}, but the label is y* = {label}: the loss picked the wrong class{how}. \
                 {} = −log ŷ[y*].",
                ctx.name(),
                short(-y[k].ln()),
                ctx.name()
            ));
        }
    }
    None
}

/// A factor on the loss itself: a mean over classes or examples where the loss is one sum.
fn loss_factor(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    if ctx.section != Section::Forward || ctx.id != graph.loss() {
        return None;
    }
    let (o, t) = compared(ctx)?;
    let c = factor(&o, &t, &ctx.tol)?;
    let classes = graph.prediction().map(|p| graph.node(p).shape.iter().product::<usize>()).unwrap_or(0);
    let n = ctx.session.examples_per_epoch();
    let name = ctx.name();
    if classes > 1 && (c * classes as f64 - 1.0).abs() < 1e-6 {
        return Some(format!(
            "your {name} is bptui's ÷ {classes}, the number of classes: a mean over the {classes} classes (np.mean) where \
             the loss is the sum {name} = −Σ_k y*_k log ŷ_k = −log ŷ[y*]."
        ));
    }
    if n > 1 && (c * n as f64 - 1.0).abs() < 1e-6 {
        return Some(format!(
            "your {name} is bptui's ÷ {n}, the number of training examples: the per-example loss is not divided by N \
             (only the epoch's mean loss is)."
        ));
    }
    for (base, function) in [(2.0f64, "np.log2"), (10.0, "np.log10")] {
        if (c * base.ln() - 1.0).abs() < 1e-6 {
            return Some(format!(
                "your {name} is bptui's × 1/ln {base} = {}: a logarithm to base {base} ({function}) where the loss \
                 takes the natural log (np.log).",
                short(1.0 / base.ln())
            ));
        }
    }
    None
}

/// dJ/db = ŷ − onehot(k) with the wrong k, or without the one-hot (or, one step earlier,
/// dJ/dŷ = −onehot(k)/ŷ with the wrong k).
fn one_hot(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Adjoint {
        return None;
    }
    let graph = ctx.session.graph();
    let d = ctx.d(ctx.name());
    let off = |k: usize, label: usize| {
        let off = k as i64 - label as i64;
        if off.abs() == 1 {
            format!(" (off by {off:+})")
        } else {
            String::new()
        }
    };
    // dJ/dŷ of the cross-entropy's input.
    if let Some(&(loss, _)) =
        graph.consumers(ctx.id).iter().find(|&&(u, k)| k == 0 && matches!(graph.node(u).op, Op::CrossEntropy { .. }))
    {
        let (y_hat, label) = cross_entropy_parts(ctx, loss)?;
        for k in (0..y_hat.len()).filter(|&k| k != label) {
            let mut candidate = ArrayD::zeros(y_hat.raw_dim());
            candidate[[k]] = -1.0 / y_hat[[k]];
            if ctx.is(&candidate) {
                return Some(format!(
                    "your {d} is −1/ŷ[{k}] at entry {k}, but the label is y* = {label}: the one-hot marks the wrong class{}. \
                     {d} = −onehot(y*)/ŷ: −1/ŷ[{label}] = {} at entry {label}, 0 elsewhere.",
                    off(k, label),
                    short(-1.0 / y_hat[[label]])
                ));
            }
        }
        return None;
    }
    let (_, loss) = graph.softmax_cross_entropy(ctx.id)?;
    let (y_hat, label) = cross_entropy_parts(ctx, loss)?;
    if ctx.is(&y_hat) {
        return Some(format!(
            "your {d} equals ŷ: the one-hot of the label was left out. For softmax followed by cross-entropy, \
             {d} = ŷ − onehot(y*) (here y* = {label})."
        ));
    }
    if ctx.their.is_some_and(|t| t.iter().all(|v| *v == 0.0)) {
        return Some(format!(
            "your {d} is all zeros, as ŷ − ŷ is: the prediction subtracted from itself where the one-hot label belongs. \
             For softmax followed by cross-entropy, {d} = ŷ − onehot(y*) (here y* = {label})."
        ));
    }
    for k in (0..y_hat.len()).filter(|&k| k != label) {
        let mut candidate = y_hat.clone();
        candidate[[k]] -= 1.0;
        if ctx.is(&candidate) {
            return Some(format!(
                "your {d} is ŷ − onehot({k}), but the label is y* = {label}: the one-hot marks the wrong class{}. \
                 For softmax followed by cross-entropy, {d} = ŷ − onehot(y*): {d}[{label}] = ŷ[{label}] − 1 = {}.",
                off(k, label),
                short(y_hat[[label]] - 1.0)
            ));
        }
    }
    None
}

/// The softmax's Jacobian taken element-wise: dJ/db = dJ/dŷ ⊙ ŷ(1 − ŷ).
fn softmax_elementwise(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Adjoint {
        return None;
    }
    let graph = ctx.session.graph();
    let &(softmax, _) = graph.consumers(ctx.id).iter().find(|&&(u, _)| graph.node(u).op == Op::Softmax)?;
    let y_hat = ctx.value(softmax);
    let g = ctx.adjoint(softmax);
    let candidate = ndarray::Zip::from(g).and(y_hat).map_collect(|&g, &y| g * y * (1.0 - y));
    if !ctx.is(&candidate) {
        return None;
    }
    let (d, dy) = (ctx.d(ctx.name()), ctx.d(&graph.node(softmax).name));
    Some(format!(
        "the softmax's Jacobian was taken element-wise: your {d} = {dy} ⊙ ŷ(1 − ŷ), as if each ŷ_i depended on its own input \
         only. Softmax couples every entry: {d} = ŷ ⊙ ({dy} − {dy}·ŷ), which with cross-entropy is ŷ − onehot(y*)."
    ))
}

/// Their dJ/dv is our dJ/du for a consumer u of v: u's local derivative was left out.
fn missing_local_derivative(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Adjoint {
        return None;
    }
    let graph = ctx.session.graph();
    let name = ctx.name();
    for &(u, _) in graph.consumers(ctx.id) {
        let un = graph.node(u);
        if un.shape != graph.node(ctx.id).shape || !ctx.is(ctx.adjoint(u)) {
            continue;
        }
        let words = un.op.info().derivative_words;
        let hint = words.map_or(String::new(), |w| format!(", and {} was left out", w.replace("{0}", &un.name)));
        return Some(format!(
            "a missing local-derivative factor: your {} equals bptui's {}. The chain rule for {} needs {} = {} · d{}/d{name}{hint}.",
            ctx.d(name),
            ctx.d(&un.name),
            un.equation,
            ctx.d(name),
            ctx.d(&un.name),
            un.name,
        ));
    }
    None
}

/// The input's gradient through a folded-bias linear map u = W·[1; v], computed with `w`.
fn through_linear(w: &ArrayD<f64>, g: &ArrayD<f64>, columns: std::ops::Range<usize>) -> Option<ArrayD<f64>> {
    let w = w.view().into_dimensionality::<Ix2>().ok()?;
    let g = g.view().into_dimensionality::<Ix1>().ok()?;
    Some(w.slice(s![.., columns]).t().dot(&g).into_dyn())
}

/// The consumer that multiplies this node by a weight matrix: (u, W, the first column of W
/// that multiplies it): 1 for u = W·[1; x] (the bias in column 0), 0 for u = W x + b.
fn linear_consumer(ctx: &Context) -> Option<(NodeId, NodeId, usize)> {
    let graph = ctx.session.graph();
    graph.consumers(ctx.id).iter().find_map(|&(u, k)| match graph.node(u).op {
        Op::Linear if k == 1 => Some((u, graph.node(u).inputs[0], 1)),
        Op::Affine if k == 1 => Some((u, graph.node(u).inputs[0], 0)),
        _ => None,
    })
}

/// dJ/dz = β[:, :-1]ᵀ·dJ/db: the slice drops the last column instead of the bias column.
fn bias_slice(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Adjoint {
        return None;
    }
    let (u, w, 1) = linear_consumer(ctx)? else { return None };
    let before = ctx.before(w);
    let cols = before.shape()[1];
    let graph = ctx.session.graph();
    let (wn, un, v) = (greek(&graph.node(w).name), graph.node(u).name.clone(), ctx.name().to_string());
    // Their W stored with the bias column last ([W | b]): their [:, 1:] keeps the bias and
    // drops the first weight column, which in bptui's columns is 2, 3, …, then 0.
    if stored_bias_last(ctx, w) && cols > 1 {
        let order: Vec<usize> = (2..cols).chain([0]).collect();
        let w2 = before.view().into_dimensionality::<Ix2>().ok()?;
        let g = ctx.adjoint(u).view().into_dimensionality::<Ix1>().ok()?;
        let candidate = w2.select(ndarray::Axis(1), &order).t().dot(&g).into_dyn();
        if ctx.is(&candidate) {
            return Some(format!(
                "the bias slice is off by one: your {wn} keeps its bias in the last column, so its weights are \
                 {wn}[:, :-1]; your {} = {wn}[:, 1:]ᵀ · {} takes the bias column and drops the first weight column.",
                ctx.d(&v),
                ctx.d(&un)
            ));
        }
    }
    let candidate = through_linear(before, ctx.adjoint(u), 0..cols - 1)?;
    if !ctx.is(&candidate) {
        return None;
    }
    Some(format!(
        "the bias slice is off by one: your {} = {wn}[:, :-1]ᵀ · {} drops the last column of {wn}; the bias is column 0 \
         ({un} = {wn}·[1; {v}]), so {} = {wn}[:, 1:]ᵀ · {}.",
        ctx.d(&v),
        ctx.d(&un),
        ctx.d(&v),
        ctx.d(&un)
    ))
}

/// Whether their folded-bias weights `w` keep the bias in the last column, as their values
/// have shown so far.
fn stored_bias_last(ctx: &Context, w: NodeId) -> bool {
    let name = &ctx.session.graph().node(w).name;
    ctx.learned.candidates(&param_key(name)).and_then(|c| c.first()) == Some(&Layout::BiasLast)
}

/// z = σ(a) when an adjoint dJ/da is compared and the sigmoid is a's one consumer, so that
/// dJ/da = dJ/dz ⊙ σ′ alone.
fn sole_sigmoid(ctx: &Context) -> Option<NodeId> {
    let graph = ctx.session.graph();
    match graph.consumers(ctx.id) {
        &[(z, 0)] if ctx.section == Section::Adjoint && graph.node(z).op == Op::Sigmoid => Some(z),
        _ => None,
    }
}

/// dJ/da = dJ/dz ⊙ a(1 − a): the sigmoid's derivative taken at its input a instead of its
/// output z = σ(a).
fn sigmoid_derivative_at_input(ctx: &Context) -> Option<String> {
    let z = sole_sigmoid(ctx)?;
    let graph = ctx.session.graph();
    let a = ctx.value(ctx.id);
    let candidate = ctx.adjoint(z) * &a.mapv(|v| v * (1.0 - v));
    if !ctx.is(&candidate) {
        return None;
    }
    let (an, zn) = (greek(ctx.name()), greek(&graph.node(z).name));
    Some(format!(
        "σ′ taken at {an} instead of {zn}: your {} = {} ⊙ {an}(1 − {an}), but σ′({an}) = σ({an})(1 − σ({an})) = \
         {zn}(1 − {zn}), the sigmoid's output.",
        ctx.d(ctx.name()),
        ctx.d(&graph.node(z).name)
    ))
}

/// dJ/da = dJ/dz ⊙ σ(z)(1 − σ(z)): the sigmoid applied once more to its own output z = σ(a)
/// before its derivative is taken.
fn sigmoid_derivative_of_output(ctx: &Context) -> Option<String> {
    let z = sole_sigmoid(ctx)?;
    let graph = ctx.session.graph();
    let sz = ctx.value(z).mapv(|v| 1.0 / (1.0 + (-v).exp()));
    let candidate = ctx.adjoint(z) * &sz.mapv(|s| s * (1.0 - s));
    if !ctx.is(&candidate) {
        return None;
    }
    let (an, zn) = (greek(ctx.name()), greek(&graph.node(z).name));
    Some(format!(
        "σ applied twice: your {} = {} ⊙ σ({zn})(1 − σ({zn})), the derivative formula given z, which is σ({an}) \
         already: σ′({an}) = {zn}(1 − {zn}).",
        ctx.yours(),
        ctx.d(&graph.node(z).name)
    ))
}

/// dJ/da = dJ/dz ⊙ z or dJ/dz ⊙ (1 − z): one of the two factors of the sigmoid's derivative
/// z(1 − z) left out.
fn sigmoid_derivative_half(ctx: &Context) -> Option<String> {
    let z = sole_sigmoid(ctx)?;
    let graph = ctx.session.graph();
    let (an, zn) = (greek(ctx.name()), greek(&graph.node(z).name));
    let zv = ctx.value(z);
    let halves = [(zn.clone(), zv.clone()), (format!("(1 − {zn})"), zv.mapv(|v| 1.0 - v))];
    let (factor, _) = halves.iter().find(|(_, f)| ctx.is(&(ctx.adjoint(z) * f)))?;
    Some(format!(
        "half of σ′: your {} = {} ⊙ {factor}, but σ′({an}) = {zn}(1 − {zn}), both factors: {} = {} ⊙ {zn}(1 − {zn}).",
        ctx.d(ctx.name()),
        ctx.d(&graph.node(z).name),
        ctx.d(ctx.name()),
        ctx.d(&graph.node(z).name)
    ))
}

/// dJ/dz computed with β after this example's update.
fn update_before_backprop(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Adjoint {
        return None;
    }
    let graph = ctx.session.graph();
    let (u, w, first) = linear_consumer(ctx)?;
    let after = ctx.value(w);
    let cols = after.shape()[1];
    let candidate = through_linear(after, ctx.adjoint(u), first..cols)?;
    if !ctx.is(&candidate) || ctx.is(&through_linear(ctx.before(w), ctx.adjoint(u), first..cols)?) {
        return None;
    }
    let wn = greek(&graph.node(w).name);
    let slice = if first == 1 { format!("{wn}[:, 1:]ᵀ") } else { format!("{wn}ᵀ") };
    Some(format!(
        "updated before backpropagating: your {} = {slice} · {} uses {wn} after this example's update. Compute every \
         gradient of the example with the parameters of its forward pass, then update them all.",
        ctx.d(ctx.name()),
        ctx.d(&graph.node(u).name)
    ))
}

fn stale_gradient(ctx: &Context) -> Option<String> {
    let zero = ArrayD::zeros(ctx.ours.raw_dim());
    // Before the first example there is no previous gradient: a stale one is still zero.
    let prev = ctx.previous_grad().unwrap_or(&zero);
    match ctx.section {
        Section::Adjoint if ctx.is(prev) && prev.iter().any(|v| *v != 0.0) => {
            Some(format!("a stale gradient: your {} is bptui's gradient of the previous example.", ctx.d(ctx.name())))
        }
        Section::Param => {
            let (o, t) = compared(ctx)?;
            let step = prev.mapv(|g| -ctx.learning_rate() * g);
            if !ctx.tol.agree(&step, &t) || ctx.tol.agree(&o, &t) {
                return None;
            }
            Some(if step.iter().all(|v| *v == 0.0) {
                format!(
                    "your {} did not change in this update: the update was skipped, or it used a gradient from before this \
                     example (a stale gradient, still zero at the first example).",
                    ctx.name()
                )
            } else {
                format!(
                    "the update used a stale gradient: your step of {} is −η times bptui's gradient of the previous example.",
                    ctx.name()
                )
            })
        }
        _ => None,
    }
}

fn accumulated_gradient(ctx: &Context) -> Option<String> {
    // On an epoch's first example the sum is this example's gradient: nothing to tell.
    if ctx.first_of_epoch() {
        return None;
    }
    let sum = ctx.epoch_grad_sum()?;
    let reset = "Reset the gradient to zero for each example.";
    match ctx.section {
        Section::Adjoint if ctx.is(sum) => Some(format!(
            "gradients accumulated across examples: your {} is the sum of bptui's gradients of every example of this epoch \
             so far. {reset}",
            ctx.d(ctx.name())
        )),
        Section::Param => {
            let (o, t) = compared(ctx)?;
            let step = sum.mapv(|g| -ctx.learning_rate() * g);
            (ctx.tol.agree(&step, &t) && !ctx.tol.agree(&o, &t)).then(|| {
                format!(
                    "gradients accumulated across examples: your step of {} is −η times the sum of bptui's gradients of every \
                     example of this epoch so far. {reset}",
                    ctx.name()
                )
            })
        }
        _ => None,
    }
}

/// c such that theirs = c · ours for all elements (c ≠ 0, 1), if there is one.
fn factor(ours: &ArrayD<f64>, theirs: &ArrayD<f64>, tol: &Tolerance) -> Option<f64> {
    let dot: f64 = ours.iter().zip(theirs.iter()).map(|(o, t)| o * t).sum();
    let oo: f64 = ours.iter().map(|o| o * o).sum();
    if oo == 0.0 || !dot.is_finite() {
        return None;
    }
    let c = dot / oo;
    if (c - 1.0).abs() < 1e-9 || c.abs() < 1e-12 {
        return None;
    }
    let scaled = ours.mapv(|o| c * o);
    let strict = Tolerance { tol: tol.tol.max(1e-9), float32: tol.float32 };
    strict.agree(&scaled, theirs).then_some(c)
}

/// Whether their parameter `p` after this example's update is bptui's (the session is past the
/// example's updates when a difference is diagnosed).
fn later_update_agrees(ctx: &Context, p: NodeId) -> bool {
    let name = &ctx.session.graph().node(p).name;
    let Some((_, theirs)) = ctx.record.params.iter().find(|(n, _)| n == name) else { return false };
    agrees_stored_any_way(ctx, ctx.value(p), theirs)
}

/// Whether their array, under some storage convention, agrees with ours entry by entry
/// (`align` alone also returns a mere fit of the shape).
fn agrees_stored_any_way(ctx: &Context, ours: &ArrayD<f64>, theirs: &ArrayD<f64>) -> bool {
    align(ours, theirs, |o, t| ctx.tol.agree(o, t)).is_some_and(|(_, a)| ctx.tol.agree(ours, &a))
}

/// A factor as a number of times: 5 significant digits, more where those would read as 1.
fn times(c: f64) -> String {
    let s = short(c);
    if s == "1" || s == "-1" {
        format!("{c:.9}")
    } else {
        s
    }
}

/// How a factor reads: "the learning rate", "1/N", or nothing recognisable.
fn named_factor(ctx: &Context, c: f64) -> Option<String> {
    let lr = ctx.learning_rate();
    let n = ctx.session.examples_per_epoch() as f64;
    if (c - lr).abs() <= 1e-6 * lr.abs() {
        Some(format!("the factor is the learning rate η = {}: was η applied twice?", short(lr)))
    } else if n > 1.0 && (c * n - 1.0).abs() < 1e-6 {
        Some(format!(
            "the factor is 1/N = 1/{n}: a mean over the training set where a single example's gradient belongs?"
        ))
    } else if n > 1.0 && (c - n).abs() < 1e-6 * n {
        Some(format!("the factor is N = {n}: a sum over the training set where a single example's gradient belongs?"))
    } else {
        None
    }
}

/// A constant factor on an adjoint (a vector or matrix: one number always has "a factor").
fn gradient_factor(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Adjoint || ctx.ours.iter().filter(|v| **v != 0.0).count() < 2 {
        return None;
    }
    let (o, t) = compared(ctx)?;
    let c = factor(&o, &t, &ctx.tol)?;
    if (c + 1.0).abs() < 1e-9 {
        // −1 is the sign check's.
        return None;
    }
    let hint = named_factor(ctx, c).map(|h| format!(" ({h})")).unwrap_or_default();
    Some(format!("a constant factor: your {} is {} × bptui's{hint}.", ctx.d(ctx.name()), times(c)))
}

/// The update's step is a multiple of bptui's: the learning rate differs or is applied twice.
fn update_step(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Param {
        return None;
    }
    let (o, t) = compared(ctx)?;
    // A single moved number is a multiple of any other: no factor to speak of.
    if o.iter().filter(|v| **v != 0.0).count() < 2 {
        return None;
    }
    let c = factor(&o, &t, &ctx.tol)?;
    if (c + 1.0).abs() < 1e-9 {
        return None;
    }
    let lr = ctx.learning_rate();
    let name = ctx.name();
    if let Some(changed) = rate_changed(ctx, c) {
        return Some(changed);
    }
    // Another parameter's update of this example agreed: the rate is right there, so this
    // parameter's step is not the learning_rate setting's doing.
    let graph = ctx.session.graph();
    let right: Vec<&str> = graph
        .params()
        .iter()
        .filter(|&&p| p != ctx.id)
        .filter(|&&p| {
            ctx.agreed.contains(&(Section::Param, p))
                // A later update of this example.
                || later_update_agrees(ctx, p)
        })
        .map(|&p| graph.node(p).name.as_str())
        .collect();
    if !right.is_empty() {
        let how = if (c * lr - 1.0).abs() < 1e-6 {
            format!(
                " Your step of {name} is g itself: is η missing from its update ({name} − g instead of {name} − η·g)?"
            )
        } else if (c - lr).abs() <= 1e-6 * lr.abs() {
            format!(" The factor is η = {}: η applied twice to {name}?", short(lr))
        } else {
            String::new()
        };
        return Some(format!(
            "your step of {name} is {} × bptui's, while your update of {} agreed: the learning rate is not applied \
             alike to every parameter.{how}",
            times(c),
            right.join(" and ")
        ));
    }
    // The rate that gives their step, with the digits that tell it from the model's.
    let theirs = if short(c * lr) == short(lr) { format!("{:.9}", c * lr) } else { short(c * lr) };
    let other_rate = format!("is learning_rate in the model {theirs} (it says {})?", short(lr));
    let hint = match named_factor(ctx, c) {
        // A step η times bptui's is η² · g: η applied twice, or a learning rate of η².
        Some(_) if (c - lr).abs() <= 1e-6 * lr.abs() => {
            format!("the factor is the learning rate η = {}: was η applied twice, or {other_rate}", short(lr))
        }
        Some(h) => h,
        None => other_rate,
    };
    Some(format!("your step of {name} is {} × bptui's: {hint}", times(c)))
}

/// A step c times bptui's where their parameter after the previous example was bptui's (their
/// trace has it, and it agrees with the value this update starts from): the learning rate
/// changed during their run.
fn rate_changed(ctx: &Context, c: f64) -> Option<String> {
    // SGD's step is η·g; a factor within 1 % of 1 would have shown in earlier steps already
    // only if they were large enough, so it is not called a change.
    if ctx.session.model().config.optimizer != crate::engine::optim::Optimizer::Sgd || (c - 1.0).abs() < 0.01 {
        return None;
    }
    let (epoch, example) = (ctx.record.epoch, ctx.record.example);
    let previous = match example {
        1 if epoch > 1 => (epoch - 1, ctx.session.examples_per_epoch()),
        1 => return None,
        _ => (epoch, example - 1),
    };
    let theirs = ctx.theirs.value(previous.0, previous.1, Section::Param, ctx.name()).ok()??;
    if !agrees_stored_any_way(ctx, ctx.before(ctx.id), &theirs) {
        return None;
    }
    let lr = ctx.learning_rate();
    let schedule = if example == 1 && (c * epoch as f64 - 1.0).abs() < 1e-6 {
        format!(": η/epoch from epoch {epoch} on?")
    } else {
        "?".to_string()
    };
    Some(format!(
        "your learning rate changed during the run: your {} after the example before agreed with bptui's (η = {}), \
         and this step is {} × bptui's. The model's learning_rate is the same in every epoch; a schedule that makes \
         it {}{schedule}",
        greek(ctx.name()),
        short(lr),
        times(c),
        short(c * lr)
    ))
}

/// Their gradient of a bias is zero where bptui's is not: column 0 of a folded-bias dJ/dW (the
/// rest agreeing), or a separate bias's whole gradient. The bias is then never trained.
fn bias_gradient_missing(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    if ctx.section != Section::Adjoint || graph.node(ctx.id).op != Op::Param {
        return None;
    }
    let dw = ctx.d(ctx.name());
    for &(u, k) in graph.consumers(ctx.id) {
        let consumer = graph.node(u);
        let du = ctx.d(&consumer.name);
        match (&consumer.op, k) {
            (Op::Linear, 0) => {
                let mut candidate = ctx.ours.view().into_dimensionality::<Ix2>().ok()?.to_owned();
                if candidate.column(0).iter().all(|v| *v == 0.0) {
                    continue;
                }
                candidate.column_mut(0).fill(0.0);
                if ctx.is(&candidate.into_dyn()) {
                    let x = &graph.node(consumer.inputs[1]).name;
                    return Some(format!(
                        "the bias's gradient is missing: the bias column of your {dw} is zero and the rest is \
                         bptui's. {dw} = {du} · [1; {x}]ᵀ, and its bias column (times the 1 of [1; {x}]) is {du} \
                         itself."
                    ));
                }
            }
            (Op::Affine, 2)
                if ctx.ours.iter().any(|v| *v != 0.0) && ctx.their.is_some_and(|t| t.iter().all(|v| *v == 0.0)) =>
            {
                return Some(format!(
                    "the bias's gradient is missing: your {dw} is zero, where {dw} = {du} (the bias is added as it is)."
                ));
            }
            _ => {}
        }
    }
    None
}

/// W·[1; x] computed as W[:, 1:]·x: the bias column never applied.
fn missing_bias(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    let node = graph.node(ctx.id);
    if ctx.section != Section::Forward || !matches!(node.op, Op::Linear | Op::Affine) {
        return None;
    }
    let w = ctx.before(node.inputs[0]).view().into_dimensionality::<Ix2>().ok()?;
    let x = ctx.value(node.inputs[1]).view().into_dimensionality::<Ix1>().ok()?;
    if node.op == Op::Affine {
        // W·x + b computed as W·x.
        if !ctx.is(&w.dot(&x).into_dyn()) {
            return None;
        }
        let bias = greek(&graph.node(node.inputs[2]).name);
        return Some(format!(
            "the bias is missing: your {} equals bptui's {} without its bias {bias}, i.e. + {bias} was left out.",
            ctx.name(),
            node.equation
        ));
    }
    let without = w.slice(s![.., 1..]).dot(&x).into_dyn();
    if !ctx.is(&without) {
        return None;
    }
    let input = &graph.node(node.inputs[1]).name;
    Some(format!(
        "the bias is missing: your {} equals bptui's {} without the bias column, i.e. the 1 prepended to {input} \
         (the 1 of [1; {input}]) was left out.",
        ctx.name(),
        node.equation
    ))
}

/// Their activation is another one than the model's (tanh where the model has σ): a model
/// that is not theirs rather than a mistake in their code.
fn other_activation(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    let node = graph.node(ctx.id);
    if ctx.section != Section::Forward || !matches!(node.op, Op::Sigmoid | Op::Tanh | Op::Relu) {
        return None;
    }
    let a = ctx.value(node.inputs[0]);
    // Each other activation's own forward rule, on the same input.
    let applied = |op: &Op| {
        let mut out = ArrayD::zeros(a.raw_dim());
        op.forward(&node.inputs, &ctx.session.workspace().values, &mut out);
        out
    };
    // A candidate that is its input (relu of positives) or all zeros (tanh of zeros) tells
    // nothing about which function was applied.
    let telling = |c: &ArrayD<f64>| c != a && c.iter().any(|v| *v != 0.0);
    let op = [Op::Sigmoid, Op::Tanh, Op::Relu].into_iter().find(|op| {
        *op != node.op && {
            let c = applied(op);
            telling(&c) && ctx.is(&c)
        }
    })?;
    let word = op.name();
    let input = &graph.node(node.inputs[0]).name;
    Some(format!(
        "your {} is {word}({input}), where the model computes {}: if your network uses {word}, the model should say \
         so (op: {word} for that layer); if it should be {}, your code applies the wrong function.",
        ctx.name(),
        node.equation,
        node.op.name()
    ))
}

/// Their value is another of our values: an op skipped or applied to the wrong input.
fn equals_another_value(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Forward {
        return None;
    }
    // Zeros equal to zeros say nothing about which step was taken.
    if ctx.their.is_none_or(|t| t.iter().all(|v| *v == 0.0)) {
        return None;
    }
    let graph = ctx.session.graph();
    let node = graph.node(ctx.id);
    let other = graph.nodes().iter().enumerate().find(|&(other, n)| {
        other != ctx.id
            && !matches!(n.op, Op::Const(_) | Op::Label | Op::Param)
            && n.shape == node.shape
            && ctx.is(ctx.value(other))
    })?;
    Some(format!(
        "your {} equals bptui's {}: check the step {} (is an op skipped or applied twice?).",
        ctx.name(),
        other.1.name,
        node.equation
    ))
}

/// The order of examples differs: which shuffle setting gives their rows, if any.
pub fn data_order(
    session: &Session,
    theirs: &Theirs,
    rows: Option<&RowIndex>,
    (epoch, example): (usize, usize),
    their_row: usize,
    ours: usize,
) -> Vec<String> {
    let mut text = format!(
        "your example {example} of epoch {epoch} is data row {their_row}, bptui's is row {ours}: the order of examples \
         differs."
    );
    let known = their_rows(theirs, rows.map(|r| (r, Layout::Same)), session, epoch);
    text += &shuffle_hint(session, epoch, &[(example, their_row)], &known);
    vec![text]
}

/// The rows of the first examples of `epoch` their trace gives (its `row`, or the row whose
/// features are their x, stored in `layout`): (example, row), at most 32.
fn their_rows(
    theirs: &Theirs,
    rows: Option<(&RowIndex, Layout)>,
    session: &Session,
    epoch: usize,
) -> Vec<(usize, usize)> {
    let graph = session.graph();
    let x = graph.features().map(|f| (graph.node(f).name.clone(), graph.node(f).shape.clone()));
    (1..=session.examples_per_epoch().min(32))
        .filter_map(|example| {
            let record = theirs.fetch(epoch, example).ok()??;
            let row = record.row.or_else(|| {
                let (name, shape) = x.as_ref()?;
                let (_, value) = record.forward.iter().find(|(n, _)| n == name)?;
                let (index, layout) = rows?;
                index.find(&layout.undo(shape, value)?)
            })?;
            Some((example, row))
        })
        .collect()
}

/// Which order gives their rows: a claim only when it gives every row their trace shows, at
/// least three of them (one row matching is a 1-in-N coincidence).
fn shuffle_hint(session: &Session, epoch: usize, here: &[(usize, usize)], known: &[(usize, usize)]) -> String {
    use crate::model::spec::Shuffle;
    let n = session.examples_per_epoch();
    let current = session.model().config.shuffle;
    let mut seen: Vec<(usize, usize)> = known.to_vec();
    seen.extend_from_slice(here);
    seen.sort_unstable();
    seen.dedup();
    let gives = |order: &[usize]| seen.len() >= 3 && seen.iter().all(|&(x, r)| order.get(x - 1) == Some(&r));
    for (shuffle, gloss) in [
        (Shuffle::None, " (the file's order)"),
        (Shuffle::NumpyEpoch, " (np.random.seed(e); np.random.permutation(N), e from 0)"),
        (Shuffle::Seeded, ""),
    ] {
        if shuffle == current {
            continue;
        }
        let order = crate::session::epoch_order(shuffle, session.model().config.seed, epoch, n);
        if gives(&order) {
            return format!(
                " Your order matches shuffle: {}{gloss} (on the {} rows your trace gives for this epoch): set it in \
                 the model's train section.",
                shuffle.name(),
                seen.len()
            );
        }
    }
    // The homework's permutation seeded with the epoch counted from 1 instead of 0.
    let from_one = crate::numpy_rng::NumpyRandomState::new(epoch as u32).permutation(n);
    if gives(&from_one) {
        return format!(
            " Your rows are the ones np.random.seed({epoch}); np.random.permutation(N) gives (all {} your trace gives \
             for this epoch): the seed is the epoch counted from 1. The homework seeds epoch e with e counted from 0 \
             (np.random.seed({}) for epoch {epoch}; shuffle: {} in the model).",
            seen.len(),
            epoch - 1,
            Shuffle::NumpyEpoch.name()
        );
    }
    format!(
        " The homework shuffles with np.random.seed(e); np.random.permutation(N) for epoch e counted from 0 \
         (train.shuffle: {}); older semesters use the file order (shuffle: {}).",
        Shuffle::NumpyEpoch.name(),
        Shuffle::None.name()
    )
}

/// Rows of the training data by their features, to find which row their x is.
pub struct RowIndex {
    by_bits: HashMap<Vec<u64>, usize>,
}

impl RowIndex {
    pub fn new(data: &crate::data::Dataset) -> RowIndex {
        let mut by_bits = HashMap::new();
        for r in 0..data.len() {
            by_bits.entry(data.dense_row(r).iter().map(|v| v.to_bits()).collect()).or_insert(r);
        }
        RowIndex { by_bits }
    }

    /// The first row whose features are exactly `x` (float32 features are exact for the
    /// integers and binary pixels data sets hold).
    pub fn find(&self, x: &ArrayD<f64>) -> Option<usize> {
        self.by_bits.get(&x.iter().map(|v| v.to_bits()).collect::<Vec<_>>()).copied()
    }
}
