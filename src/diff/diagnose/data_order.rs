//! Their x against the training data: features scaled, another row of the data (the order of
//! examples differs, and which shuffle setting gives theirs), or no row at all. `diff` also asks
//! [`data_order`] directly when their record names its row and it is not bptui's.

use std::collections::HashMap;

use ndarray::ArrayD;

use crate::engine::Op;
use crate::numfmt::short;
use crate::session::Session;

use super::factor::{factor, times};
use super::Context;
use crate::diff::layout::Layout;
use crate::diff::{Section, Theirs};

/// Their x is the data's times a constant: features scaled (÷ 255) that the model reads as
/// they are.
pub(super) fn scaled_features(ctx: &Context) -> Option<String> {
    let graph = ctx.session.graph();
    if graph.node(ctx.id).op != Op::Features || ctx.section != Section::Forward {
        return None;
    }
    let (o, t) = ctx.compared()?;
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
pub(super) fn data_row(ctx: &Context) -> Option<String> {
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
    let data = ctx.session.model().train_data()?;
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
    let current = session.model().config().shuffle;
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
        let order = crate::session::epoch_order(shuffle, session.model().config().seed, epoch, n);
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
