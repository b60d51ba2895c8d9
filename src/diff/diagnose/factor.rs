//! Their numbers as a constant multiple of bptui's: how the factor is found (exactly, for every
//! entry) and how it reads (the learning rate, 1/N, N). The checks of each phase say what a
//! factor means there; the factor −1, a flipped sign, means the same in every phase and is
//! checked here.

use ndarray::ArrayD;

use crate::numfmt::short;

use super::Context;
use crate::diff::tolerance::Tolerance;
use crate::diff::Section;

/// Their value (or step) is the negative of bptui's.
pub(super) fn sign(ctx: &Context) -> Option<String> {
    let (o, t) = ctx.compared()?;
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

/// c such that theirs = c · ours for all elements (c ≠ 0, 1), if there is one.
pub(super) fn factor(ours: &ArrayD<f64>, theirs: &ArrayD<f64>, tol: &Tolerance) -> Option<f64> {
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

/// A factor as a number of times: 5 significant digits, more where those would read as 1.
pub(super) fn times(c: f64) -> String {
    let s = short(c);
    if s == "1" || s == "-1" {
        format!("{c:.9}")
    } else {
        s
    }
}

/// How a factor reads: "the learning rate", "1/N", or nothing recognisable.
pub(super) fn named_factor(ctx: &Context, c: f64) -> Option<String> {
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
