//! Mistakes in the update: a gradient of another example (stale, or accumulated because it was
//! not reset), a step that is a multiple of bptui's (the learning rate), Adagrad written
//! wrongly. Their parameter after the update is compared as its step θ after − θ before, so a
//! mistake made earlier in the example does not hide here.

use ndarray::{ArrayD, IxDyn};

use crate::engine::optim::Optimizer;
use crate::engine::{NodeId, Op};
use crate::notation::greek;
use crate::numfmt::short;

use super::factor::{factor, named_factor, times};
use super::Context;
use crate::diff::layout::align;
use crate::diff::Section;

/// Their gradient, or the step it makes, is bptui's gradient of the example before.
pub(super) fn stale_gradient(ctx: &Context) -> Option<String> {
    let zero = ArrayD::zeros(ctx.ours.raw_dim());
    // Before the first example there is no previous gradient: a stale one is still zero.
    let prev = ctx.previous_grad().unwrap_or(&zero);
    match ctx.section {
        Section::Adjoint if ctx.is(prev) && prev.iter().any(|v| *v != 0.0) => {
            Some(format!("a stale gradient: your {} is bptui's gradient of the previous example.", ctx.d(ctx.name())))
        }
        Section::Param => {
            let (o, t) = ctx.compared()?;
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

/// Their gradient, or the step it makes, is the sum of bptui's gradients of the epoch so far.
pub(super) fn accumulated_gradient(ctx: &Context) -> Option<String> {
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
            let (o, t) = ctx.compared()?;
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

/// The update's step is a multiple of bptui's: the learning rate differs or is applied twice.
pub(super) fn update_step(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Param {
        return None;
    }
    let (o, t) = ctx.compared()?;
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
    if ctx.session.model().config().optimizer != crate::engine::optim::Optimizer::Sgd || (c - 1.0).abs() < 0.01 {
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

/// Adagrad written wrongly: ε outside the root, s updated after the step, s reset every
/// example or every epoch, the learning rate inside the root.
pub(super) fn adagrad(ctx: &Context) -> Option<String> {
    let model = ctx.session.model();
    let Optimizer::Adagrad { epsilon } = model.config().optimizer else { return None };
    if ctx.section != Section::Param {
        return None;
    }
    let p = ctx.session.graph().param_index(ctx.id)?;
    let lr = model.config().learning_rate;
    let (o, t) = ctx.compared()?;
    let g = ctx.adjoint(ctx.id);
    let s = ctx.session.optimizer_state(p);
    let epoch_s = ctx.history.epoch_grad_squares(p)?;
    let steps = |f: &dyn Fn(f64, f64, f64) -> f64| -> ArrayD<f64> {
        let v: Vec<f64> = g.iter().zip(s.iter()).zip(epoch_s.iter()).map(|((&g, &s), &e)| -f(g, s, e)).collect();
        ArrayD::from_shape_vec(IxDyn(g.shape()), v).expect("the gradient's shape")
    };
    let name = greek(ctx.name());
    let variants: [(String, ArrayD<f64>); 5] = [
        (
            format!("ε outside the square root: your step of {name} is η·g/(√s + ε), the rule is η·g/√(s + ε)"),
            steps(&|g, s, _| lr * g / (s.sqrt() + epsilon)),
        ),
        (
            format!(
                "s updated after the step: your step of {name} divides by √(s + ε) with the s from before this example's \
                 g² was added; add g² to s first (s ← s + g²), then step"
            ),
            steps(&|g, s, _| lr * g / ((s - g * g).max(0.0) + epsilon).sqrt()),
        ),
        (
            format!(
                "s reset every example: your step of {name} is η·g/√(g² + ε), as if s held this example's g² alone; s \
                 accumulates every example's g² over the whole run"
            ),
            steps(&|g, _, _| lr * g / (g * g + epsilon).sqrt()),
        ),
        (
            format!(
                "s reset at the start of every epoch: your step of {name} uses s = the Σ g² of this epoch's examples only; s \
                 accumulates over the whole run and is never reset"
            ),
            steps(&|g, _, e| lr * g / (e + epsilon).sqrt()),
        ),
        (
            format!("the learning rate inside the square root: your step of {name} is g·√(η/(s + ε)); the rule is η·g/√(s + ε)"),
            steps(&|g, s, _| g * (lr / (s + epsilon)).sqrt()),
        ),
    ];
    let fits: Vec<String> = variants
        .into_iter()
        .filter(|(_, step)| ctx.tol.agree(step, &t) && !ctx.tol.agree(step, &o))
        .map(|(text, _)| text)
        .collect();
    (!fits.is_empty()).then(|| format!("Adagrad written wrongly: {}.", fits.join("; or, as the numbers fit equally, ")))
}

/// Their forward value differs though every input it reads from this example agreed, and it
/// agreed in the example before, whose update of a parameter it reads their records never
/// showed: so that parameter came into this example different, and the unseen update is where
/// their numbers went apart. Named with the update's arrangement when the numbers show one.
pub(super) fn unrecorded_update(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    let node = graph.node(ctx.id);
    if ctx.section != Section::Forward || node.op.is_leaf() || ctx.their.is_none() {
        return None;
    }
    let prev = ctx.previous?;
    let ((e, x), before) = ctx.history.earlier(1)?;
    if prev.at != (e, x) || !prev.forward.contains(&ctx.id) {
        return None;
    }
    // Data (a label, a constant) is the same in both runs; a computed input must have agreed.
    let computed = |n: NodeId| !matches!(graph.node(n).op, Op::Param | Op::Label | Op::Const(_));
    if !node.inputs.iter().filter(|&&n| computed(n)).all(|&n| ctx.agreed.contains(&(Section::Forward, n))) {
        return None;
    }
    let &(p, grad_seen) = prev.params.iter().find(|(p, _)| node.inputs.contains(p))?;
    let name = &graph.node(p).name;
    let (theta, yours) = (greek(name), ctx.theirs.their_name(name));
    let grad = if grad_seen {
        format!(
            ", though your {} (your `{}`) agreed there",
            ctx.d(name),
            ctx.theirs.their_name_in(Section::Adjoint, name)
        )
    } else {
        String::new()
    };
    let how = column_order_step(ctx, p, before).unwrap_or_else(|| {
        format!(
            "Compare it with bptui's {} (η = {})",
            ctx.session.model().config().optimizer.rule(),
            short(ctx.learning_rate())
        )
    });
    Some(format!(
        "your {} differs though what it reads from this example agreed, and it agreed in epoch {e} example {x}: so \
         your {theta} (`{yours}`) came into this example different from bptui's. Its update after epoch {e} example \
         {x} is where your numbers went apart, unseen: your records never show `{yours}` after an update{grad}. {how}.",
        ctx.yours()
    ))
}

/// Their forward value is what the example before's SGD step gives with the gradient's entries
/// in column order (a flat parameter vector filled with `g.ravel(order="F")`, or `g.T` reshaped)
/// where the parameter reads them in row order.
fn column_order_step(ctx: &Context, p: NodeId, before: &[ArrayD<f64>]) -> Option<String> {
    let graph = ctx.session.graph();
    let i = graph.param_index(p)?;
    let g = ctx.history.previous_grad(i)?;
    if ctx.session.model().config().optimizer != Optimizer::Sgd || g.ndim() != 2 || g.shape()[0] == 1 {
        return None;
    }
    let column_order: Vec<f64> = g.t().iter().copied().collect();
    let shuffled = ArrayD::from_shape_vec(g.raw_dim(), column_order).ok()?;
    // Every other parameter as bptui's update left it; this one stepped from where it was.
    let params: Vec<ArrayD<f64>> =
        (0..before.len())
            .map(|j| {
                if j == i {
                    &before[i] - &(&shuffled * ctx.learning_rate())
                } else {
                    ctx.session.param_before(j).clone()
                }
            })
            .collect();
    let values = ctx.session.forward_with(&params);
    let c = &values[ctx.id];
    (ctx.is(c) && !ctx.tol.agree(ctx.ours, c)).then(|| {
        let name = &graph.node(p).name;
        format!(
            "Your {} is what that step gives with {}'s entries taken in column order: written into a flat parameter \
             vector with ravel(order=\"F\") (or {}.T reshaped) where `{}` reads them in row order? Use the same order \
             for both",
            ctx.yours(),
            ctx.d(name),
            ctx.theirs.their_name_in(Section::Adjoint, name),
            ctx.theirs.their_name(name)
        )
    })
}
