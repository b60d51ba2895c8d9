//! One value of theirs judged against bptui's: the [`Verdict`] every comparison reports, from
//! `diff`'s walk through both runs (with the layouts learned per name) to the debugger's
//! `diverge` breakpoint and its against pane (each value on its own). Agreement itself is
//! [`Tolerance`]'s rule; the storage conventions are [`layout`](super::layout)'s.

use ndarray::ArrayD;

use super::layout::{align_with, Layout, Ours};
use super::tolerance::Tolerance;

/// Their value judged: whether it agrees (a carried entry too), the layout it is read in, and
/// their array in our shape.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub agrees: bool,
    pub layout: Layout,
    pub aligned: ArrayD<f64>,
}

impl Verdict {
    /// Their value on its own, with nothing learned of their layouts: under the first storage
    /// convention it agrees under, else under the one their numbers are nearest; `None` when
    /// it is no arrangement of ours.
    pub fn of(ours: Ours, theirs: &ArrayD<f64>, tol: &Tolerance) -> Option<Verdict> {
        let (layout, agrees, aligned) = align_with(ours, theirs, |o, t| tol.agree(o, t))?;
        Some(Verdict { agrees, layout, aligned })
    }

    /// Per entry of `ours` (row-major): whether theirs differs (a carried entry aside).
    pub fn mismatches(&self, ours: &ArrayD<f64>, tol: &Tolerance) -> Vec<bool> {
        tol.mismatches(ours, &self.aligned)
    }

    /// The entry that differs most, as (flat index, ours, theirs); `None` when every entry
    /// agrees.
    pub fn worst(&self, ours: &ArrayD<f64>, tol: &Tolerance) -> Option<(usize, f64, f64)> {
        worst_entry(ours, &self.aligned, tol)
    }
}

/// The entry of `theirs` (in our shape) that differs most from ours: (flat index, ours,
/// theirs), a NaN beside a number being infinitely far; the first such entry on a tie.
pub fn worst_entry(ours: &ArrayD<f64>, theirs: &ArrayD<f64>, tol: &Tolerance) -> Option<(usize, f64, f64)> {
    let mismatch = tol.mismatches(ours, theirs);
    let mut best: Option<(usize, f64, f64, f64)> = None;
    for (i, (&o, &t)) in ours.iter().zip(theirs.iter()).enumerate() {
        if !mismatch[i] {
            continue;
        }
        let d = (o - t).abs();
        let d = if d.is_nan() { f64::INFINITY } else { d };
        if best.is_none_or(|(_, far, _, _)| d > far) {
            best = Some((i, d, o, t));
        }
    }
    best.map(|(i, _, o, t)| (i, o, t))
}
