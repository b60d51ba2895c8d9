//! When their number and bptui's agree: the one rule every comparison of `diff`, its step
//! checks and the debugger's against pane uses.

use ndarray::ArrayD;

use crate::numfmt::py_repr;

/// When two numbers agree: |ours − theirs| ≤ tol + tol·|theirs|; for float32 code, also
/// within `FLOAT32` of the array's largest magnitude, the rounding float32 accumulates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub tol: f64,
    pub float32: bool,
}

impl Tolerance {
    /// Relative precision float32 code keeps over a run (float32's ε is 1.2e-7).
    pub const FLOAT32: f64 = 1e-4;

    /// `--tol` when it is not given.
    pub const DEFAULT: f64 = 1e-6;

    /// The tolerance a diagnosis holds their value to: never looser than the default, so that
    /// a `--tol` loosened to look past small differences does not let a mistake's numbers match
    /// by coincidence (the differences let through add up, and a loose match names a mistake
    /// that was not made).
    pub fn for_diagnosis(&self) -> Tolerance {
        Tolerance { tol: self.tol.min(Self::DEFAULT), float32: self.float32 }
    }

    pub fn new(tol: f64) -> Tolerance {
        Tolerance { tol, float32: false }
    }

    /// |o − t| within the tolerance, `scale` being the largest magnitude of the array.
    pub fn close(&self, o: f64, t: f64, scale: f64) -> bool {
        if o.is_nan() || t.is_nan() {
            return o.is_nan() && t.is_nan();
        }
        if o.is_infinite() || t.is_infinite() {
            return o == t;
        }
        let mut allowed = self.tol + self.tol * t.abs();
        if self.float32 {
            allowed += Self::FLOAT32 * t.abs().max(scale);
        }
        (o - t).abs() <= allowed
    }

    /// Per entry of `ours`: whether `theirs` (in our shape) differs from it.
    pub fn mismatches(&self, ours: &ArrayD<f64>, theirs: &ArrayD<f64>) -> Vec<bool> {
        let scale = ours.iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| m.max(v.abs()));
        ours.iter().zip(theirs.iter()).map(|(&o, &t)| !self.close(o, t, scale)).collect()
    }

    /// Whether every entry agrees; the two must hold as many numbers, in the same order.
    pub fn agree(&self, ours: &ArrayD<f64>, theirs: &ArrayD<f64>) -> bool {
        if ours.len() != theirs.len() {
            return false;
        }
        // The same rule as `mismatches`, stopping at the first difference (every value of a
        // `diff` goes through here, several times when its layout is not known yet).
        let scale =
            if self.float32 { ours.iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| m.max(v.abs())) } else { 0.0 };
        match (ours.as_slice(), theirs.as_slice()) {
            (Some(o), Some(t)) => o.iter().zip(t).all(|(&o, &t)| self.close(o, t, scale)),
            _ => ours.iter().zip(theirs.iter()).all(|(&o, &t)| self.close(o, t, scale)),
        }
    }

    pub fn describe(&self) -> String {
        if self.float32 {
            format!("{} (float32: {} of each array's largest entry)", py_repr(self.tol), py_repr(Self::FLOAT32))
        } else {
            py_repr(self.tol)
        }
    }
}
