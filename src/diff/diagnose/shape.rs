//! Their array is not bptui's array as it stands: another number of entries (a layer's size, a
//! folded bias without its 1) or the same numbers in another arrangement (transposed, the bias
//! elsewhere). These hold in any phase; where a missing 1 explains the numbers, the other two
//! stay quiet, its sentence being the one that names the line to fix.

use crate::engine::{NodeId, Op};
use crate::notation::{greek, shape_str};

use super::Context;
use crate::diff::layout::{judge, numpy_shape, squeezed, Layout, Ours};
use crate::diff::ours::carried_adjoint;
use crate::diff::Section;

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

/// Their array holds another number of entries: a layer's size, or a shape mistake.
pub(super) fn shapes(ctx: &Context) -> Option<String> {
    if ctx.their.is_some()
        || ctx.section == Section::Adjoint && arrangement(ctx).is_some()
        || no_one_prepended(ctx).is_some()
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

/// Their value is ours rearranged: transposed, the bias elsewhere or missing.
pub(super) fn arrangement(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    let node = graph.node(ctx.id);
    let name = ctx.name();
    if no_one_prepended(ctx).is_some() {
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
