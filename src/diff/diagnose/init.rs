//! Their initial parameters: whether the weights their run starts from are the model's. Only the
//! first example runs on them alone, so this is where a difference before any update is
//! explained; `diff` recovers their init from their first record (`InitVerdict`) before the run.

use crate::engine::NodeId;
use crate::notation::greek;
use crate::numfmt::short;

use super::Context;
use crate::diff::layout::Layout;
use crate::diff::ours::unverified_params;
use crate::diff::Section;

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

/// Their initial parameters are not the model's (recovered, or not checkable before the
/// first update).
pub(super) fn initial_weights(ctx: &Context) -> Option<String> {
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
                 record as {g}₁ + η·{d}₁{read}) has {g}{} = {} where the model's init gives {}; {record_them}.",
                ctx.theirs.their_name(name),
                crate::notation::index_str(index),
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
