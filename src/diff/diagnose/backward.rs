//! Mistakes in the backward pass, one adjoint at a time: the loss's or the softmax's derivative,
//! a local derivative left out or taken wrongly (σ′ above all), the bias slice off by one, the
//! weights already updated, a constant factor, a bias's gradient missing. When no check
//! fits, [`backward_rule`] writes out bptui's rule for the adjoint with its numbers.

use ndarray::{s, ArrayD, Ix1, Ix2, IxDyn};

use crate::engine::rules::{substituted, symbolic, term};
use crate::engine::{NodeId, Op};
use crate::notation::greek;
use crate::numfmt::short;

use super::factor::{factor, named_factor, times};
use super::forward::cross_entropy_parts;
use super::Context;
use crate::diff::layout::Layout;
use crate::diff::learned::param_key;
use crate::diff::ours::carried_adjoint;
use crate::diff::Section;

/// bptui's backward rule for this adjoint, as a sum over the consumers, with its numbers.
pub(super) fn backward_rule(ctx: &Context) -> String {
    let graph = ctx.session.graph();
    let ws = ctx.session.workspace();
    let consumers: Vec<(NodeId, usize)> =
        graph.consumers(ctx.id).iter().copied().filter(|&(u, k)| graph.node(u).op.differentiable_input(k)).collect();
    if ctx.id == graph.loss() {
        return format!("bptui's rule: {} = 1 (the output's adjoint starts the backward pass).", ctx.d(ctx.name()));
    }
    // The diagnosis is read in `diff`'s report as well as on screen: in short digits.
    let digits = crate::numfmt::Digits::Short;
    let symbols: Vec<String> = consumers.iter().map(|&(u, k)| symbolic(graph, &term(graph, u, k, digits))).collect();
    let numbers: Vec<String> =
        consumers.iter().map(|&(u, k)| substituted(graph, ws, &term(graph, u, k, digits), 6, digits)).collect();
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
        let numbers = crate::numfmt::Digits::Short.inline(ctx.ours, 6).map_or(String::new(), |v| format!(" = {v}"));
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

/// dJ/db = ŷ − onehot(k) with the wrong k, or without the one-hot (or, one step earlier,
/// dJ/dŷ = −onehot(k)/ŷ with the wrong k).
pub(super) fn one_hot(ctx: &Context) -> Option<String> {
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
pub(super) fn softmax_elementwise(ctx: &Context) -> Option<String> {
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
pub(super) fn missing_local_derivative(ctx: &Context) -> Option<String> {
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
pub(super) fn sigmoid_derivative_at_input(ctx: &Context) -> Option<String> {
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

/// dJ/da = dJ/dz ⊙ z or dJ/dz ⊙ (1 − z): one of the two factors of the sigmoid's derivative
/// z(1 − z) left out.
pub(super) fn sigmoid_derivative_half(ctx: &Context) -> Option<String> {
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

/// dJ/da = dJ/dz ⊙ σ(z)(1 − σ(z)): the sigmoid applied once more to its own output z = σ(a)
/// before its derivative is taken.
pub(super) fn sigmoid_derivative_of_output(ctx: &Context) -> Option<String> {
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
pub(super) fn bias_slice(ctx: &Context) -> Option<String> {
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

/// dJ/dz computed with β after this example's update.
pub(super) fn update_before_backprop(ctx: &Context) -> Option<String> {
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

/// A constant factor on an adjoint (a vector or matrix: one number always has "a factor").
pub(super) fn gradient_factor(ctx: &Context) -> Option<String> {
    if ctx.section != Section::Adjoint || ctx.ours.iter().filter(|v| **v != 0.0).count() < 2 {
        return None;
    }
    let (o, t) = ctx.compared()?;
    let c = factor(&o, &t, &ctx.tol)?;
    if (c + 1.0).abs() < 1e-9 {
        // −1 is the sign check's.
        return None;
    }
    let hint = named_factor(ctx, c).map(|h| format!(" ({h})")).unwrap_or_default();
    Some(format!("a constant factor: your {} is {} × bptui's{hint}.", ctx.d(ctx.name()), times(c)))
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

/// Their gradient of a bias is zero where bptui's is not: column 0 of a folded-bias dJ/dW (the
/// rest agreeing), or a separate bias's whole gradient. The bias is then never trained.
pub(super) fn bias_gradient_missing(ctx: &Context) -> Option<String> {
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
