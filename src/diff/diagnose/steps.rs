//! Checks of one value that need more than the example at hand: a forward pass with stale
//! parameters (tested by recomputing it with the parameters of earlier points of bptui's run),
//! Adagrad written wrongly (each variant's step computed from bptui's own state), a slice
//! shifted by one across a gradient that carries its bias entry, and a layer without its bias
//! (no 1 prepended to its input). Each returns its sentence only when their value is exactly
//! what that mistake gives, and differs from what bptui computes.

use ndarray::{ArrayD, IxDyn};

use crate::engine::optim::Optimizer;
use crate::engine::Op;
use crate::notation::greek;

use super::super::ours::carried_adjoint;
use super::{compared, sole_sigmoid, Context};
use crate::diff::Section;

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

/// Adagrad written wrongly: ε outside the root, s updated after the step, s reset every
/// example or every epoch, the learning rate inside the root.
pub(super) fn adagrad(ctx: &Context) -> Option<String> {
    let model = ctx.session.model();
    let Optimizer::Adagrad { epsilon } = model.config.optimizer else { return None };
    if ctx.section != Section::Param {
        return None;
    }
    let p = ctx.session.graph().param_index(ctx.id)?;
    let lr = model.config.learning_rate;
    let (o, t) = compared(ctx)?;
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

/// dJ/da from a gradient that carries its bias entry (dJ/d[1; z]) sliced one place off, or σ′
/// taken with a slice of [1; z] one place off.
pub(super) fn carried_slice(ctx: &Context) -> Option<String> {
    let z = sole_sigmoid(ctx)?;
    let c = carried_adjoint(ctx.session, Section::Adjoint, z)?;
    let g: Vec<f64> = ctx.adjoint(z).iter().copied().collect();
    let zv: Vec<f64> = ctx.value(z).iter().copied().collect();
    let n = g.len();
    if n < 2 {
        return None;
    }
    let graph = ctx.session.graph();
    let (zn, an) = (greek(&graph.node(z).name), ctx.d(ctx.name()));
    let dz = ctx.d(&graph.node(z).name);
    let out = ctx.out().to_string();
    let gs: [(String, Vec<f64>); 3] = [
        (format!("(d{out}/d[1; {zn}])[:-1]"), std::iter::once(c).chain(g[..n - 1].iter().copied()).collect()),
        (format!("(d{out}/d[{zn}; 1])[1:]"), g[1..].iter().copied().chain(std::iter::once(c)).collect()),
        (dz.clone(), g.clone()),
    ];
    let zs: [(String, Vec<f64>); 3] = [
        (format!("[1; {zn}][:-1]"), std::iter::once(1.0).chain(zv[..n - 1].iter().copied()).collect()),
        (format!("[{zn}; 1][1:]"), zv[1..].iter().copied().chain(std::iter::once(1.0)).collect()),
        (zn.clone(), zv.clone()),
    ];
    for (gi, (gt, gv)) in gs.iter().enumerate() {
        for (zi, (zt, z)) in zs.iter().enumerate() {
            if (gi, zi) == (2, 2) {
                continue;
            }
            let v: Vec<f64> = gv.iter().zip(z).map(|(g, z)| g * z * (1.0 - z)).collect();
            let candidate = ArrayD::from_shape_vec(IxDyn(ctx.ours.shape()), v).ok()?;
            if ctx.is(&candidate) && !ctx.tol.agree(ctx.ours, &candidate) {
                return Some(format!(
                    "a slice shifted by one: your {} = {gt} ⊙ {zt}(1 − {zt}). The gradient with the bias entry, \
                     d{out}/d[1; {zn}], keeps that entry first (d{out}/d[{zn}; 1]: last), so {dz} = (d{out}/d[1; {zn}])[1:] \
                     (or (d{out}/d[{zn}; 1])[:-1]), and σ′ takes {zn} itself: {an} = {dz} ⊙ {zn}(1 − {zn}).",
                    ctx.yours()
                ));
            }
        }
    }
    None
}

/// Their weights of a folded-bias layer have one column fewer than bptui's (or, transposed, one
/// row fewer): no 1 was prepended to the layer's input, so it has no bias.
pub(super) fn no_one_prepended(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    if graph.node(ctx.id).op != Op::Param {
        return None;
    }
    let &(u, _) = graph.consumers(ctx.id).iter().find(|&&(u, k)| k == 0 && graph.node(u).op == Op::Linear)?;
    // Their value of the same parameter that agreed in bptui's shape shows the bias column is there.
    if ctx.agreed.iter().any(|&(_, n)| n == ctx.id) {
        return None;
    }
    let &[units, cols] = ctx.ours.shape() else { return None };
    let theirs = ctx.their_raw.shape();
    let transposed = match *theirs {
        [r, c] if (r, c) == (units, cols - 1) && cols > 1 => false,
        [r, c] if (r, c) == (cols - 1, units) && cols > 1 => true,
        _ => return None,
    };
    let linear: Vec<usize> =
        graph.nodes().iter().enumerate().filter(|(_, n)| n.op == Op::Linear).map(|(i, _)| i).collect();
    let ordinal = match linear.iter().position(|&l| l == u) {
        Some(0) => "first".to_string(),
        Some(1) => "second".to_string(),
        Some(2) => "third".to_string(),
        Some(i) => format!("{}th", i + 1),
        None => "this".to_string(),
    };
    let node = graph.node(u);
    let (w, v) = (greek(ctx.name()), graph.node(node.inputs[1]).name.clone());
    let what = match ctx.section {
        Section::Adjoint => ctx.d(ctx.name()),
        _ => w.clone(),
    };
    let yours = ctx.theirs.their_name_in(ctx.section, ctx.name());
    let (count, stored) = if transposed { (theirs[0], " rows (stored transposed)") } else { (theirs[1], " columns") };
    Some(format!(
        "your {what} (`{yours}`) has {count}{stored} where bptui's has {} columns: no 1 was prepended to {v}, so your \
         {ordinal} layer has no bias. bptui's {} multiplies [1; {v}], column 0 of {w} being the bias.",
        count + 1,
        node.equation
    ))
}
