//! Loops on plain slices for the rules in [`ops`](super::ops), with the additions in exactly
//! the order `ndarray` did them before, so that every number stays bit for bit what it was.
//!
//! - [`dot8`] is `ndarray`'s `unrolled_dot` (used by `dot` and `general_mat_vec_mul` on
//!   contiguous rows): eight partial sums p0..p7 over the entries j ≡ k (mod 8), then
//!   `0 + (p0 + p4) + (p1 + p5) + (p2 + p6) + (p3 + p7)`, then the tail in order.
//! - [`dot8_sparse`] is the same sum visiting only the nonzero entries of x. Skipping an exact
//!   zero x_j changes nothing when w_j is finite: w_j · 0 is ±0, and a partial sum that starts
//!   at +0 is never −0 (a sum is −0 only when both terms are), so adding ±0 leaves it as it is.
//! - [`col_dot`] is the strided dot of a matrix column (a transposed matrix's row), which
//!   `ndarray` sums in order from +0.

// Additions are spelled `s = s + t`, as in the ndarray code they reproduce (`+=` is the same).
#![allow(clippy::assign_op_pattern)]

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

/// A vector's nonzero entries (every other entry is ±0): ascending indices, their values,
/// and the vector's length.
#[derive(Debug, Clone, Copy)]
pub struct Sparse<'a> {
    pub index: &'a [u32],
    pub value: &'a [f64],
    pub len: usize,
}

impl Sparse<'_> {
    /// How many of the entries fall before `main`, the end of [`dot8`]'s blocks of eight.
    #[inline]
    fn split(&self, main: usize) -> usize {
        match self.index.last() {
            Some(&j) if (j as usize) < main => self.index.len(),
            _ => self.index.partition_point(|&j| (j as usize) < main),
        }
    }
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

/// Σ_i a[i·stride + col] g_i, added in order from +0 (`ndarray`'s dot of a strided view).
#[inline]
pub fn col_dot(a: &[f64], stride: usize, col: usize, g: &[f64]) -> f64 {
    if g.len() == 1 {
        // A one-element view is contiguous: unrolled_dot, which for fewer than 8 entries
        // is the same sum.
        return dot8(&a[col..col + 1], g);
    }
    let mut sum = 0.0;
    for (i, &gi) in g.iter().enumerate() {
        sum = sum + a[i * stride + col] * gi;
    }
    sum
}

/// x's nonzero entries (−0 counts as zero), appended to `index` and `value`.
pub fn nonzeros(x: &[f64], index: &mut Vec<u32>, value: &mut Vec<f64>) {
    for (j, &v) in x.iter().enumerate() {
        if v != 0.0 {
            index.push(j as u32);
            value.push(v);
        }
    }
}

/// out_i = base_i + Σ_j W[i, off + j] x_j for a row-major W with `cols` columns, as
/// `general_mat_vec_mul(1, W[:, off..], x, 1, out)` after `out = base`.
pub fn affine(out: &mut [f64], w: &[f64], cols: usize, off: usize, base: impl Fn(usize) -> f64, x: &[f64]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = base(i) * 1.0 + dot8(&w[i * cols + off..(i + 1) * cols], x) * 1.0;
    }
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

/// Whether every entry is finite, without an early exit so that it vectorises.
#[inline]
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

/// `pub fn $name` whose body is compiled twice: for AVX2, run when the CPU has it, and for
/// any x86_64. The operations are the same, four lanes wide with AVX2 (Rust never fuses a
/// multiply and an add), so the numbers are the same.
macro_rules! with_avx2 {
    ($(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body

            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

with_avx2! {
    /// [`affine_sparse`] from Wᵀ (`wt[c·m + i]` = W[i, c], m rows): the same sums, with row
    /// i's eight partial sums kept side by side for every row so that each nonzero x_j adds a
    /// contiguous column of W. `acc` is scratch.
    pub fn affine_t(
        out: &mut [f64],
        wt: &[f64],
        m: usize,
        off: usize,
        base: impl Fn(usize) -> f64,
        x: Sparse,
        acc: &mut Vec<f64>,
    ) {
        let main = x.len - x.len % 8;
        acc.clear();
        acc.resize(8 * m, 0.0);
        let split = x.split(main);
        for (&j, &xj) in x.index[..split].iter().zip(x.value) {
            let j = j as usize;
            let col = &wt[(off + j) * m..(off + j + 1) * m];
            let p = &mut acc[(j & 7) * m..((j & 7) + 1) * m];
            for (p, &c) in p.iter_mut().zip(col) {
                *p = *p + c * xj;
            }
        }
        for (i, o) in out.iter_mut().enumerate().take(m) {
            let mut sum = 0.0;
            sum = sum + (acc[i] + acc[4 * m + i]);
            sum = sum + (acc[m + i] + acc[5 * m + i]);
            sum = sum + (acc[2 * m + i] + acc[6 * m + i]);
            sum = sum + (acc[3 * m + i] + acc[7 * m + i]);
            for (&j, &xj) in x.index[split..].iter().zip(&x.value[split..]) {
                sum = sum + wt[(off + j as usize) * m + i] * xj;
            }
            *o = base(i) * 1.0 + sum * 1.0;
        }
    }
}

with_avx2! {
    /// `θᵀ[c·m + i]` ← `θᵀ[c·m + i]` − γ(0 + g_i x_c) over x's nonzero entries c (shifted by `off`),
    /// and the bias column `θᵀ[i]` ← `θᵀ[i]` − γ(0 + g_i) when `off` is 1: the micro-steps' gradient
    /// (which starts at +0) and SGD step, fused, on a transposed parameter. The step
    /// γ(0 + g_i x_c) of a column is kept in `step` and reused, bit for bit, by the next column
    /// whose x_c is the same number (binary data: every column after the first).
    pub fn sgd_outer_t(wt: &mut [f64], m: usize, off: usize, g: &[f64], x: Sparse, lr: f64, step: &mut Vec<f64>) {
        if off == 1 {
            for (w, &gi) in wt[..m].iter_mut().zip(g) {
                *w = *w - lr * (0.0 + gi);
            }
        }
        step.clear();
        step.resize(m, 0.0);
        let mut step_of: Option<u64> = None;
        for (&j, &xj) in x.index.iter().zip(x.value) {
            let j = j as usize;
            let col = &mut wt[(off + j) * m..(off + j + 1) * m];
            if step_of == Some(xj.to_bits()) {
                for (w, &s) in col.iter_mut().zip(step.iter()) {
                    *w = *w - s;
                }
            } else {
                for ((w, s), &gi) in col.iter_mut().zip(step.iter_mut()).zip(g) {
                    *s = lr * (0.0 + gi * xj);
                    *w = *w - *s;
                }
                step_of = Some(xj.to_bits());
            }
        }
    }
}

/// Each kernel against what ndarray itself computes (the reference the kernels reproduce),
/// bit for bit, on random arrays of every length around the blocks of eight.
#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{linalg::general_mat_vec_mul, Array1, Array2};
    use rand::{Rng, SeedableRng};

    fn random(rng: &mut rand_chacha::ChaCha8Rng, n: usize, zeros: bool) -> Vec<f64> {
        (0..n).map(|_| if zeros && rng.random_bool(0.6) { 0.0 } else { rng.random_range(-3.0..3.0) }).collect()
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

    /// The fused update on θᵀ is the micro-steps' gradient g xᵀ (from +0) and SGD step,
    /// entry by entry, with binary data (one step reused) and with any numbers.
    #[test]
    fn the_transposed_update_is_the_gradient_step() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for (m, n, binary) in [(3, 9, true), (50, 128, true), (7, 20, false), (10, 17, false)] {
            let theta = random(&mut rng, m * (n + 1), false);
            let g = random(&mut rng, m, false);
            let x: Vec<f64> =
                random(&mut rng, n, true).into_iter().map(|v| if binary && v != 0.0 { 1.0 } else { v }).collect();
            let lr = 0.1;
            let mut expected = theta.clone();
            for i in 0..m {
                expected[i] = expected[i] - lr * (0.0 + g[i]);
                for (c, &xc) in x.iter().enumerate().filter(|(_, &xc)| xc != 0.0) {
                    let e = &mut expected[(1 + c) * m + i];
                    *e = *e - lr * (0.0 + g[i] * xc);
                }
            }
            let (mut index, mut value) = (Vec::new(), Vec::new());
            nonzeros(&x, &mut index, &mut value);
            let mut wt = theta.clone();
            sgd_outer_t(&mut wt, m, 1, &g, Sparse { index: &index, value: &value, len: n }, lr, &mut Vec::new());
            assert_eq!(
                wt.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{m}×{n} binary {binary}"
            );
        }
    }

    #[test]
    fn matrix_kernels_are_ndarrays() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for (rows, cols) in [(1, 1), (3, 5), (4, 9), (10, 17), (7, 33), (50, 129), (9, 20)] {
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
            // The same from W stored transposed, over x's nonzeros.
            let mut wt = vec![0.0; rows * cols];
            for i in 0..rows {
                for c in 0..cols {
                    wt[c * rows + i] = flat[i * cols + c];
                }
            }
            let (mut index, mut value) = (Vec::new(), Vec::new());
            nonzeros(&x, &mut index, &mut value);
            let sparse = Sparse { index: &index, value: &value, len: x.len() };
            let mut from_t = vec![0.0; rows];
            affine_t(&mut from_t, &wt, rows, 1, |i| base[i], sparse, &mut Vec::new());
            assert_eq!(
                from_t.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "affine_t {rows}×{cols}"
            );
            // A column's dot with g, as ndarray's dot of the strided column.
            let g = random(&mut rng, rows, false);
            for col in 0..cols {
                let expected = a.column(col).dot(&Array1::from(g.clone()));
                assert_eq!(
                    col_dot(&flat, cols, col, &g).to_bits(),
                    expected.to_bits(),
                    "col_dot {rows}×{cols} col {col}"
                );
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
        }
    }
}
