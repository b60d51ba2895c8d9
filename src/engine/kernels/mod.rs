//! Loops on plain slices for the rules in [`ops`](super::ops), with the additions in exactly
//! the order `ndarray` did them before, so that every number stays bit for bit what it was.
//!
//! - [`dot8`] is `ndarray`'s `unrolled_dot` (used by `dot` and `general_mat_vec_mul` on
//!   contiguous rows): eight partial sums p0..p7 over the entries j ≡ k (mod 8), then
//!   `0 + (p0 + p4) + (p1 + p5) + (p2 + p6) + (p3 + p7)`, then the tail in order.
//! - [`dot8_sparse`] is the same sum visiting only the nonzero entries of x. Skipping an exact
//!   zero x_j changes nothing when w_j is finite: w_j · 0 is ±0, and a partial sum that starts
//!   at +0 is never −0 (a sum is −0 only when both terms are), so adding ±0 leaves it as it is.
//! - [`add_wt_g`] sums Wᵀg as `ndarray` sums each strided column of W, in order from +0.
//!
//! These are the step path's kernels (and the fast path's where it keeps W row-major). The fast
//! path's kernels on a transposed W are in `columns`; `lanes` holds what both use. The column
//! kernels may use these, never the other way round.

// Additions are spelled `s = s + t`, as in the ndarray code they reproduce (`+=` is the same).
#![allow(clippy::assign_op_pattern)]

mod columns;
mod lanes;

pub use columns::{affine_t, sgd_outer_t, Columns};
pub use lanes::Sparse;

use super::exp::{exp_in_place, sum_exp};
#[cfg(target_arch = "x86_64")]
use lanes::wide;
use lanes::with_avx2;

/// Σ_j w_j x_j in `ndarray`'s `unrolled_dot` order.
#[inline]
pub fn dot8(w: &[f64], x: &[f64]) -> f64 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let main = n - n % 8;
    let mut p = [0.0f64; 8];
    for (wc, xc) in w[..main].chunks_exact(8).zip(x[..main].chunks_exact(8)) {
        for k in 0..8 {
            p[k] = p[k] + wc[k] * xc[k];
        }
    }
    let mut sum = 0.0;
    sum = sum + (p[0] + p[4]);
    sum = sum + (p[1] + p[5]);
    sum = sum + (p[2] + p[6]);
    sum = sum + (p[3] + p[7]);
    for j in main..n {
        sum = sum + w[j] * x[j];
    }
    sum
}

/// [`dot8`] over x's nonzero entries, every entry of w finite.
#[inline]
pub fn dot8_sparse(w: &[f64], x: Sparse) -> f64 {
    let main = x.len - x.len % 8;
    let mut p = [0.0f64; 8];
    let split = x.split(main);
    for (&j, &v) in x.index[..split].iter().zip(x.value) {
        let j = j as usize;
        p[j & 7] = p[j & 7] + w[j] * v;
    }
    let mut sum = 0.0;
    sum = sum + (p[0] + p[4]);
    sum = sum + (p[1] + p[5]);
    sum = sum + (p[2] + p[6]);
    sum = sum + (p[3] + p[7]);
    for (&j, &v) in x.index[split..].iter().zip(&x.value[split..]) {
        sum = sum + w[j as usize] * v;
    }
    sum
}

/// [`affine`] over x's nonzero entries (W finite).
pub fn affine_sparse(out: &mut [f64], w: &[f64], cols: usize, off: usize, base: impl Fn(usize) -> f64, x: Sparse) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = base(i) * 1.0 + dot8_sparse(&w[i * cols + off..(i + 1) * cols], x) * 1.0;
    }
}

/// acc[i, off + j] += g_i x_j over every j (`scaled_add` of each row).
pub fn add_outer(acc: &mut [f64], cols: usize, off: usize, g: &[f64], x: &[f64]) {
    for (i, &gi) in g.iter().enumerate() {
        let row = &mut acc[i * cols + off..(i + 1) * cols];
        for (r, &xj) in row.iter_mut().zip(x) {
            *r = *r + gi * xj;
        }
    }
}

with_avx2! {
    /// Whether every entry is finite, without an early exit so that it vectorises.
    pub fn all_finite(a: &[f64]) -> bool {
        // v · 0 is ±0 for a finite v and NaN otherwise; four sums so that the loop vectorises.
        let mut s = [0.0f64; 4];
        let chunks = a.chunks_exact(4);
        let rest = chunks.remainder();
        for c in chunks {
            for k in 0..4 {
                s[k] += c[k] * 0.0;
            }
        }
        for &v in rest {
            s[0] += v * 0.0;
        }
        s[0] + s[1] + s[2] + s[3] == 0.0
    }
}

with_avx2! {
    /// max |v| over the entries (+0 when there are none), or NaN when one is not finite. The
    /// maximum does not depend on the order the entries are visited in, so four run side by
    /// side; a NaN, once met, stays (it is not greater than anything, so it is let in by name).
    pub fn max_abs(values: &[f64]) -> f64 {
        let larger = |a: f64, m: f64| if a > m || a.is_nan() { a } else { m };
        let mut m = [0.0f64; 4];
        let chunks = values.chunks_exact(4);
        let rest = chunks.remainder();
        for c in chunks {
            for k in 0..4 {
                m[k] = larger(c[k].abs(), m[k]);
            }
        }
        for &v in rest {
            m[0] = larger(v.abs(), m[0]);
        }
        let best = m.iter().fold(0.0f64, |b, &a| larger(a, b));
        if best.is_finite() {
            best
        } else {
            f64::NAN
        }
    }
}

/// Asks the CPU to bring a slice's memory into cache ahead of its use: a hint, which changes
/// no number (and does nothing on CPUs other than x86_64).
#[inline]
pub fn prefetch<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let (start, bytes) = (data.as_ptr().cast::<i8>(), std::mem::size_of_val(data));
        // Every cache line the slice touches: from the line its first byte is on.
        let mut offset = 0;
        let lead = start as usize % 64;
        while offset < bytes + lead {
            // SAFETY: a prefetch never faults; the address is inside `data`, or at most 63
            // bytes before it, on the line its first byte shares (never dereferenced).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_sub(lead).wrapping_add(offset)) }
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

/// out_i = base_i + Σ_j W[i, off + j] x_j for a row-major W with `cols` columns, as
/// `general_mat_vec_mul(1, W[:, off..], x, 1, out)` after `out = base`.
pub fn affine(out: &mut [f64], w: &[f64], cols: usize, off: usize, base: impl Fn(usize) -> f64, x: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        for (i, o) in out.iter_mut().enumerate() {
            // SAFETY: the CPU has AVX2.
            let dot = unsafe { avx2::dot8(&w[i * cols + off..(i + 1) * cols], x) };
            *o = base(i) * 1.0 + dot * 1.0;
        }
        return;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = base(i) * 1.0 + dot8(&w[i * cols + off..(i + 1) * cols], x) * 1.0;
    }
}

/// [`dot8`] with AVX2: p0..p3 and p4..p7 in two registers of four, each lane the scalar
/// partial sum operation for operation (a product, then a sum: no fused multiply-add).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    #[inline]
    #[target_feature(enable = "avx2")]
    pub fn dot8(w: &[f64], x: &[f64]) -> f64 {
        let n = w.len().min(x.len());
        let (w, x) = (&w[..n], &x[..n]);
        let main = n - n % 8;
        let (mut lo, mut hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        for (wc, xc) in w[..main].chunks_exact(8).zip(x[..main].chunks_exact(8)) {
            // SAFETY: each chunk holds eight f64.
            let (w0, w4, x0, x4) = unsafe {
                (
                    _mm256_loadu_pd(wc.as_ptr()),
                    _mm256_loadu_pd(wc.as_ptr().add(4)),
                    _mm256_loadu_pd(xc.as_ptr()),
                    _mm256_loadu_pd(xc.as_ptr().add(4)),
                )
            };
            lo = _mm256_add_pd(lo, _mm256_mul_pd(w0, x0));
            hi = _mm256_add_pd(hi, _mm256_mul_pd(w4, x4));
        }
        // Lane k: p_k + p_(k+4).
        let mut pairs = [0.0f64; 4];
        // SAFETY: `pairs` holds four f64.
        unsafe { _mm256_storeu_pd(pairs.as_mut_ptr(), _mm256_add_pd(lo, hi)) };
        let mut sum = 0.0;
        for pair in pairs {
            sum = sum + pair;
        }
        for j in main..n {
            sum = sum + w[j] * x[j];
        }
        sum
    }
}

with_avx2! {
    /// σ(a_i) = 1 / (1 + e^−a_i) for every entry, with two branches so that exp never
    /// overflows (σ(a) = e^a / (1 + e^a) for a < 0): the exponentials first, then the
    /// divisions, which do not wait for each other.
    pub fn sigmoid(a: &[f64], out: &mut [f64]) {
        let out = &mut out[..a.len()];
        for (o, &x) in out.iter_mut().zip(a) {
            // e^−x for x ≥ 0, e^x otherwise (NaN takes the second branch, as it did).
            *o = if x >= 0.0 { -x } else { x };
        }
        super::exp::exp_in_place(out);
        for (o, &x) in out.iter_mut().zip(a) {
            let e = *o;
            let num = if x >= 0.0 { 1.0 } else { e };
            *o = num / (1.0 + e);
        }
    }
}

with_avx2! {
    /// acc_i += g_i · u_i · (1 − u_i): σ's local derivative u(1 − u) from its value u.
    pub fn sigmoid_vjp(acc: &mut [f64], g: &[f64], u: &[f64]) {
        for ((a, &gi), &ui) in acc.iter_mut().zip(g).zip(u) {
            *a += gi * ui * (1.0 - ui);
        }
    }
}

/// acc_j ← acc_j·1 + (Σ_i W[i, off + j] g_i)·1 for a row-major W with `cols` columns: the
/// input's share through a linear map, Wᵀg as `ndarray` sums each strided column (in order of
/// i from +0).
pub fn add_wt_g(acc: &mut [f64], w: &[f64], cols: usize, off: usize, g: &[f64]) {
    assert!(w.len() >= g.len() * cols && off + acc.len() <= cols, "W has a row of `cols` numbers for each g_i");
    #[cfg(target_arch = "x86_64")]
    if wide() {
        // SAFETY: the CPU has AVX-512; W's rows are inside `w` (checked above).
        return unsafe { avx512::add_wt_g(acc, w, cols, off, g) };
    }
    add_wt_g_by_lanes(acc, w, cols, off, g);
}

with_avx2! {
    /// [`add_wt_g`] for any x86_64 CPU, a block of columns at a time so that the sums go side
    /// by side.
    fn add_wt_g_by_lanes(acc: &mut [f64], w: &[f64], cols: usize, off: usize, g: &[f64]) {
        const BLOCK: usize = 32;
        let mut start = 0;
        while start < acc.len() {
            let end = (start + BLOCK).min(acc.len());
            let mut sum = [0.0f64; BLOCK];
            let sum = &mut sum[..end - start];
            for (i, &gi) in g.iter().enumerate() {
                let row = &w[i * cols + off + start..i * cols + off + end];
                for (s, &wij) in sum.iter_mut().zip(row) {
                    *s = *s + wij * gi;
                }
            }
            for (a, &s) in acc[start..end].iter_mut().zip(sum.iter()) {
                *a = *a * 1.0 + s * 1.0;
            }
            start = end;
        }
    }
}

/// [`add_wt_g`] with AVX-512: eight lanes, each the scalar operation (a product, then a sum:
/// no fused multiply-add).
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::lanes::below;
    use std::arch::x86_64::*;

    /// [`super::add_wt_g`]: 32 columns' sums at a time in four registers, each lane summing
    /// its column over the rows in order from +0.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn add_wt_g(acc: &mut [f64], w: &[f64], cols: usize, off: usize, g: &[f64]) {
        let n = acc.len();
        for start in (0..n).step_by(32) {
            let mask: [__mmask8; 4] = std::array::from_fn(|q| below(n, start + 8 * q));
            let mut sum = [_mm512_setzero_pd(); 4];
            for (i, &gi) in g.iter().enumerate() {
                let gv = _mm512_set1_pd(gi);
                let row = w[i * cols + off + start..].as_ptr();
                for q in 0..4 {
                    // SAFETY: the lanes kept lie in columns off + start + 8q.. < off + n ≤
                    // cols of row i (asserted by `add_wt_g`, the only caller).
                    let wv = unsafe { _mm512_maskz_loadu_pd(mask[q], row.wrapping_add(8 * q)) };
                    sum[q] = _mm512_add_pd(sum[q], _mm512_mul_pd(wv, gv));
                }
            }
            let one = _mm512_set1_pd(1.0);
            for q in 0..4 {
                let a = acc[start..].as_mut_ptr().wrapping_add(8 * q);
                // SAFETY: the lanes kept lie inside `acc`.
                unsafe {
                    let r = _mm512_add_pd(
                        _mm512_mul_pd(_mm512_maskz_loadu_pd(mask[q], a), one),
                        _mm512_mul_pd(sum[q], one),
                    );
                    _mm512_mask_storeu_pd(a, mask[q], r);
                }
            }
        }
    }
}

with_avx2! {
    /// θ_ij ← θ_ij − γ(0 + g_i x_j), and the bias column θ_i0 ← θ_i0 − γ(0 + g_i) when `off` is
    /// 1: the micro-steps' gradient (which starts at +0) and SGD step, fused.
    pub fn sgd_outer(theta: &mut [f64], cols: usize, off: usize, g: &[f64], x: &[f64], lr: f64) {
        for (i, &gi) in g.iter().enumerate() {
            let row = &mut theta[i * cols..(i + 1) * cols];
            if off == 1 {
                row[0] = row[0] - lr * (0.0 + gi);
            }
            for (r, &xj) in row[off..].iter_mut().zip(x) {
                *r = *r - lr * (0.0 + gi * xj);
            }
        }
    }
}

/// [`sgd_outer`] over x's nonzero entries (the others are left as they are: g is finite).
pub fn sgd_outer_sparse(theta: &mut [f64], cols: usize, off: usize, g: &[f64], x: Sparse, lr: f64) {
    for (i, &gi) in g.iter().enumerate() {
        let row = &mut theta[i * cols..(i + 1) * cols];
        if off == 1 {
            row[0] = row[0] - lr * (0.0 + gi);
        }
        let row = &mut row[off..];
        for (&j, &xj) in x.index.iter().zip(x.value) {
            row[j as usize] = row[j as usize] - lr * (0.0 + gi * xj);
        }
    }
}

/// u_i = e^(a_i − max a) / Σ_j e^(a_j − max a): subtracting the max avoids overflow.
pub fn softmax(a: &[f64], out: &mut [f64]) {
    softmax_with_sum(a, out);
}

/// [`softmax`], returning max a and Σ_j e^(a_j − max a): the numbers [`sum_exp`] gives (the
/// same exponentials, added in the same order), from which [`cross_entropy_from_sum`] takes
/// the cross-entropy of the same logits without computing them again.
pub fn softmax_with_sum(a: &[f64], out: &mut [f64]) -> (f64, f64) {
    let out = &mut out[..a.len()];
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for (o, &ai) in out.iter_mut().zip(a) {
        *o = ai - m;
    }
    exp_in_place(out);
    let total: f64 = out.iter().sum();
    for v in out.iter_mut() {
        *v /= total;
    }
    (m, total)
}

/// acc += u ⊙ (g − (g·u)): the softmax Jacobian diag(u) − u uᵀ applied to g, u = softmax(a).
pub fn softmax_vjp(acc: &mut [f64], g: &[f64], u: &[f64]) {
    let gu: f64 = g.iter().zip(u.iter()).map(|(a, b)| a * b).sum();
    for ((a, &gi), &ui) in acc.iter_mut().zip(g).zip(u) {
        *a += ui * (gi - gu);
    }
}

/// −log softmax(b)_label from the logits b: logsumexp(b) − b_label (NaN for a label past b).
pub fn cross_entropy_of_logits(b: &[f64], label: usize) -> f64 {
    let m = b.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    cross_entropy_from_sum(b, label, m, sum_exp(b, m))
}

/// [`cross_entropy_of_logits`] from m = max b and Σ_j e^(b_j − m) ([`softmax_with_sum`]).
pub fn cross_entropy_from_sum(b: &[f64], label: usize, m: f64, total: f64) -> f64 {
    let lse = m + total.ln();
    lse - b.get(label).copied().unwrap_or(f64::NAN)
}

/// acc_label += −g / ŷ_label: ∂J/∂ŷ of J = −log ŷ_label (zero for every other class), times
/// g = dJ/dJ's share.
pub fn cross_entropy_vjp(acc: &mut [f64], g: f64, yhat_label: f64, label: usize) {
    acc[label] += -g / yhat_label;
}

/// Each kernel against what ndarray itself computes (the reference the kernels reproduce) or
/// its formula, bit for bit, on random arrays of every length around the blocks of eight.
#[cfg(test)]
mod tests {
    use ndarray::{linalg::general_mat_vec_mul, Array1, Array2};
    use rand::{Rng, SeedableRng};

    use super::lanes::testing::{bits, both_ways, nonzeros, random};
    use super::*;

    /// The softmax's max and sum of exponentials are those the cross-entropy computes from the
    /// same logits, bit for bit, so that it can take them instead.
    #[test]
    fn the_softmax_sum_is_the_cross_entropys() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for n in 1..40 {
            for scale in [1.0, 30.0, 800.0, 1e308] {
                let b: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0) * scale).collect();
                let mut out = vec![0.0; n];
                let (m, total) = softmax_with_sum(&b, &mut out);
                assert_eq!(m.to_bits(), b.iter().copied().fold(f64::NEG_INFINITY, f64::max).to_bits());
                assert_eq!(total.to_bits(), sum_exp(&b, m).to_bits(), "n = {n}, scale {scale}");
                for label in [0, n - 1, n] {
                    let (a, c) = (cross_entropy_from_sum(&b, label, m, total), cross_entropy_of_logits(&b, label));
                    assert!(a.to_bits() == c.to_bits() || (a.is_nan() && c.is_nan()), "n = {n}");
                }
            }
        }
    }

    #[test]
    fn dots_are_ndarrays_dots() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for n in 0..40 {
            let (w, x) = (random(&mut rng, n, false), random(&mut rng, n, true));
            let expected = Array1::from(w.clone()).dot(&Array1::from(x.clone()));
            assert_eq!(dot8(&w, &x).to_bits(), expected.to_bits(), "dot8, n = {n}");
            let (mut index, mut value) = (Vec::new(), Vec::new());
            nonzeros(&x, &mut index, &mut value);
            let sparse = Sparse { index: &index, value: &value, len: n };
            assert_eq!(dot8_sparse(&w, sparse).to_bits(), expected.to_bits(), "dot8_sparse, n = {n}");
        }
    }

    /// max |v| is the plain fold's, and NaN as soon as one entry is NaN or infinite, wherever
    /// it stands among the lanes; `all_finite` says so too.
    #[test]
    fn max_abs_is_the_largest_magnitude_or_nan() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        for n in 0..40 {
            let mut v = random(&mut rng, n, true);
            v.iter_mut().step_by(5).for_each(|x| *x *= 1e300);
            let plain = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert_eq!(max_abs(&v).to_bits(), plain.to_bits(), "n = {n}");
            assert!(all_finite(&v), "n = {n}");
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                for at in 0..n {
                    let mut w = v.clone();
                    w[at] = bad;
                    assert!(max_abs(&w).is_nan(), "n = {n}, {bad} at {at}");
                    assert!(!all_finite(&w), "n = {n}, {bad} at {at}");
                }
            }
        }
    }

    /// σ four ways at once is σ one at a time: 1/(1 + e^−a) for a ≥ 0, e^a/(1 + e^a) below.
    #[test]
    fn sigmoid_is_the_two_branch_formula() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        let mut a: Vec<f64> = (0..997).map(|_| rng.random_range(-800.0..800.0)).collect();
        a.extend((0..997).map(|_| rng.random_range(-5.0..5.0)));
        a.extend([0.0, -0.0, 1e-300, -1e-300, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 36.7, -745.5]);
        let mut out = vec![0.0; a.len()];
        sigmoid(&a, &mut out);
        for (&x, &got) in a.iter().zip(&out) {
            let expected = if x >= 0.0 {
                1.0 / (1.0 + crate::engine::exp::exp(-x))
            } else {
                let e = crate::engine::exp::exp(x);
                e / (1.0 + e)
            };
            assert!(
                got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()),
                "σ({x:e}) = {got:e}, not {expected:e}"
            );
        }
    }

    /// The dense kernels (the product, Wᵀg, the outer product and the fused SGD step) are
    /// ndarray's numbers, or the formula's, with AVX-512 and without.
    #[test]
    fn matrix_kernels_are_ndarrays() {
        both_ways(matrix_kernels_one_way);
    }

    fn matrix_kernels_one_way() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for (rows, cols) in [(1, 1), (3, 5), (4, 9), (10, 17), (7, 33), (50, 129), (9, 20), (10, 51), (5, 40), (6, 41)]
        {
            let a = Array2::from_shape_vec((rows, cols), random(&mut rng, rows * cols, false)).unwrap();
            let flat: Vec<f64> = a.iter().copied().collect();
            // out = base + W[:, 1:] x, as general_mat_vec_mul does it.
            let x = random(&mut rng, cols - 1, true);
            let base = random(&mut rng, rows, false);
            let mut expected = Array1::from(base.clone());
            general_mat_vec_mul(1.0, &a.slice(ndarray::s![.., 1..]), &Array1::from(x.clone()), 1.0, &mut expected);
            let mut out = vec![0.0; rows];
            affine(&mut out, &flat, cols, 1, |i| base[i], &x);
            assert_eq!(
                out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            // acc·1 + (Wᵀg)·1 over the columns from `off`, each sum as ndarray's dot of the
            // strided column.
            let g = random(&mut rng, rows, false);
            for off in [0, 1] {
                let before = random(&mut rng, cols - off, false);
                let mut acc = before.clone();
                add_wt_g(&mut acc, &flat, cols, off, &g);
                let g1 = Array1::from(g.clone());
                for (j, (&got, &was)) in acc.iter().zip(&before).enumerate() {
                    let expected = was * 1.0 + a.column(off + j).dot(&g1) * 1.0;
                    assert_eq!(got.to_bits(), expected.to_bits(), "add_wt_g {rows}×{cols} column {}", off + j);
                }
            }
            // acc += g xᵀ, row by row as scaled_add.
            let mut acc = flat.clone();
            let mut expected = a.clone();
            for (i, mut row) in expected.rows_mut().into_iter().enumerate() {
                row.slice_mut(ndarray::s![1..]).scaled_add(g[i], &Array1::from(x.clone()));
            }
            add_outer(&mut acc, cols, 1, &g, &x);
            assert_eq!(
                acc.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            // θ_ij ← θ_ij − γ(0 + g_i x_j), θ_i0 ← θ_i0 − γ(0 + g_i), with some −0 in θ and g
            // (−0 − γ(0 + (−0)·x) is −0 − (+0) = −0).
            let lr = 0.3;
            let mut theta = flat.clone();
            theta.iter_mut().step_by(3).for_each(|t| *t = -0.0);
            let mut g0 = g.clone();
            g0.iter_mut().step_by(2).for_each(|t| *t = -0.0);
            let mut expected = theta.clone();
            for (i, &gi) in g0.iter().enumerate() {
                let row = &mut expected[i * cols..(i + 1) * cols];
                row[0] = row[0] - lr * (0.0 + gi);
                for (t, &xj) in row[1..].iter_mut().zip(&x) {
                    *t = *t - lr * (0.0 + gi * xj);
                }
            }
            sgd_outer(&mut theta, cols, 1, &g0, &x, lr);
            assert_eq!(bits(&theta), bits(&expected), "sgd_outer {rows}×{cols}");
        }
    }
}
