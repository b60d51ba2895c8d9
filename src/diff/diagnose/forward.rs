//! Mistakes in the forward pass: the loss taken with the wrong class or a factor, a forward pass
//! run with stale parameters, a bias left out, another activation, an op skipped. Each is
//! tested by computing that mistake's value from bptui's own numbers.

use ndarray::{s, ArrayD, Ix1, Ix2};

use crate::engine::{NodeId, Op};
use crate::notation::greek;
use crate::numfmt::short;

use super::factor::factor;
use super::Context;
use crate::diff::Section;

/// The cross-entropy's input (ŷ) and the label, when this node is a cross-entropy loss.
pub(super) fn cross_entropy_parts(ctx: &Context, id: NodeId) -> Option<(ArrayD<f64>, usize)> {
    let graph = ctx.session.graph();
    let node = graph.node(id);
    let Op::CrossEntropy { .. } = node.op else { return None };
    let y_hat = ctx.value(node.inputs[0]).clone();
    let label = ctx.value(node.inputs[1]).iter().next().copied()? as usize;
    Some((y_hat, label))
}

/// The loss is −log ŷ of another class than the label (or of the label of another row).
pub(super) fn label_off_by_one_in_loss(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Forward {
        return None;
    }
    let (y_hat, label) = cross_entropy_parts(ctx, ctx.id)?;
    let y = y_hat.view().into_dimensionality::<Ix1>().ok()?;
    for k in (0..y.len()).filter(|&k| k != label) {
        if ctx.is(&ndarray::arr0(-y[k].ln()).into_dyn()) {
            // k may be another row's label: the one at this example's place in the file, when
            // the rows were shuffled without their labels.
            let data = ctx.session.model().train_data();
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
pub(super) fn loss_factor(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    if ctx.section != Section::Forward || ctx.id != graph.loss() {
        return None;
    }
    let (o, t) = ctx.compared()?;
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

/// Their forward value is what the forward pass gives with parameters of an earlier point: the
/// initial ones, the epoch's first, or one or two updates behind.
pub(super) fn stale_parameters(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    let node = graph.node(ctx.id);
    if ctx.section != Section::Forward || node.op.is_leaf() || ctx.their.is_none() {
        return None;
    }
    let h = ctx.history;
    let epoch = ctx.record.epoch;
    // (when, the code that does it)
    let mut candidates: Vec<(String, &str, &[ArrayD<f64>])> = Vec::new();
    if let Some(p) = h.initial() {
        candidates.push(("at the start of training".into(), "a forward pass computed once, before the loop", p));
    }
    if let Some(p) = h.epoch_start(epoch) {
        candidates.push((format!("at the start of epoch {epoch}"), "a copy taken before the epoch's loop", p));
    }
    for (back, how, code) in [
        (1, "one update behind", "an update written to a new array the forward pass does not read yet"),
        (2, "two updates behind", "the parameters of two examples before"),
    ] {
        if let Some(((e, x), p)) = h.earlier(back) {
            candidates.push((format!("{how} (before the update of epoch {e} example {x})"), code, p));
        }
    }
    let fits: Vec<(String, &str)> = candidates
        .into_iter()
        .filter(|(_, _, params)| {
            let values = ctx.session.forward_with(params);
            let c = &values[ctx.id];
            ctx.is(c) && !ctx.tol.agree(ctx.ours, c)
        })
        .map(|(when, code, _)| (when, code))
        .collect();
    let ((first, _), rest) = fits.split_first()?;
    let also = if rest.is_empty() {
        String::new()
    } else {
        format!(
            ", which here are also the parameters {}",
            rest.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>().join(" and ")
        )
    };
    let codes: Vec<&str> = fits.iter().map(|(_, c)| *c).collect();
    Some(format!(
        "stale parameters in the forward pass: your {} is {} computed with the parameters as they were {first}{also}. \
         Each example's forward pass uses the parameters the update before it left ({}?).",
        ctx.yours(),
        node.equation,
        codes.join(", or ")
    ))
}

/// W·[1; x] computed as W[:, 1:]·x: the bias column never applied.
pub(super) fn missing_bias(ctx: &Context) -> Option<String> {
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
pub(super) fn other_activation(ctx: &Context) -> Option<String> {
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
pub(super) fn equals_another_value(ctx: &Context) -> Option<String> {
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
