//! The fast path's column kernels: a matrix kept transposed ([`Columns`], θᵀ), so that each
//! nonzero x_j reads or writes one contiguous, aligned column, with AVX-512 where the CPU has
//! it. The numbers are the step path's kernels', bit for bit.

// Additions are spelled `s = s + t`, as in the ndarray code they reproduce (`+=` is the same).
#![allow(clippy::assign_op_pattern)]

#[cfg(target_arch = "x86_64")]
use super::lanes::wide;
use super::lanes::{with_avx2, Sparse};

/// One 64-byte cache line of numbers: the storage of [`Columns`], so that every column starts
/// on a line of its own.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Line([f64; 8]);

/// A matrix kept column by column (θᵀ), each column padded with +0 to a multiple of eight
/// numbers and starting on a cache line: a column is then read and written in whole aligned
/// registers (one line per eight numbers), none split across two lines, with no remainder.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    lines: Vec<Line>,
    rows: usize,
    cols: usize,
    stride: usize,
}

impl Columns {
    /// `cols` columns of `rows` numbers, every one +0.
    pub fn zeros(rows: usize, cols: usize) -> Columns {
        let mut t = Columns::default();
        t.reset(rows, cols);
        t
    }

    /// θᵀ of θ, `rows` × `cols` in row-major order.
    pub fn transpose_of(theta: &[f64], rows: usize, cols: usize) -> Columns {
        assert_eq!(theta.len(), rows * cols, "θ has rows × cols numbers");
        let mut t = Columns::zeros(rows, cols);
        if cols == 0 {
            return t;
        }
        let stride = t.stride;
        let numbers = t.numbers_mut();
        for (i, row) in theta.chunks_exact(cols).enumerate() {
            for (c, &v) in row.iter().enumerate() {
                numbers[c * stride + i] = v;
            }
        }
        t
    }

    /// Writes θ back from θᵀ (row-major, `cols` columns).
    pub fn transpose_into(&self, theta: &mut [f64], cols: usize) {
        assert_eq!(theta.len(), self.rows * cols, "θ has rows × cols numbers");
        if cols == 0 {
            return;
        }
        for (i, row) in theta.chunks_exact_mut(cols).enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = self.numbers()[c * self.stride + i];
            }
        }
    }

    /// Numbers per column (θ's rows).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Column c's numbers.
    pub fn column(&self, c: usize) -> &[f64] {
        &self.numbers()[c * self.stride..c * self.stride + self.rows]
    }

    fn column_mut(&mut self, c: usize) -> &mut [f64] {
        let (start, rows) = (c * self.stride, self.rows);
        &mut self.numbers_mut()[start..start + rows]
    }

    /// Every number, each column's padding (+0) included.
    pub fn numbers(&self) -> &[f64] {
        // SAFETY: a `Line` is eight f64 with no padding (repr(C)), the lines one after another.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<f64>(), self.lines.len() * 8) }
    }

    fn numbers_mut(&mut self) -> &mut [f64] {
        // SAFETY: as in `numbers`, borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f64>(), self.lines.len() * 8) }
    }

    /// Makes this `cols` columns of `rows` numbers, every one +0, keeping the allocation.
    fn reset(&mut self, rows: usize, cols: usize) {
        self.rows = rows;
        self.cols = cols;
        self.stride = rows.div_ceil(8) * 8;
        self.lines.clear();
        self.lines.resize(self.stride / 8 * cols, Line::default());
    }
}

with_avx2! {
    /// [`affine_sparse`](super::affine_sparse) from Wᵀ (column c of `wt` is W[:, c]): the same sums, with row i's eight
    /// partial sums kept side by side for every row (the columns of `acc`, scratch) so that each
    /// nonzero x_j adds a contiguous column of W.
    pub fn affine_t(out: &mut [f64], wt: &Columns, off: usize, base: impl Fn(usize) -> f64, x: Sparse, acc: &mut Columns) {
        let m = wt.rows;
        let main = x.len - x.len % 8;
        acc.reset(m, 8);
        assert!(wt.cols >= off + x.len, "Wᵀ has a column for every entry of x");
        let split = x.split(main);
        add_columns(acc, wt, off, &x.index[..split], x.value);
        // Row i's sum is dot8's, computed for every row at once (lane i of each chunk).
        let out = &mut out[..m];
        let p = |k: usize| &acc.numbers()[k * acc.stride..k * acc.stride + m];
        let (p0, p1, p2, p3, p4, p5, p6, p7) = (p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7));
        for i in 0..m {
            let mut sum = 0.0;
            sum = sum + (p0[i] + p4[i]);
            sum = sum + (p1[i] + p5[i]);
            sum = sum + (p2[i] + p6[i]);
            sum = sum + (p3[i] + p7[i]);
            out[i] = sum;
        }
        for (&j, &xj) in x.index[split..].iter().zip(&x.value[split..]) {
            for (o, &c) in out.iter_mut().zip(wt.column(off + j as usize)) {
                *o = *o + c * xj;
            }
        }
        for (i, o) in out.iter_mut().enumerate() {
            *o = base(i) * 1.0 + *o * 1.0;
        }
    }
}

/// Column j & 7 of `acc` += x_j · column off + j of `wt`, for each entry (j, x_j), in order.
fn add_columns(acc: &mut Columns, wt: &Columns, off: usize, index: &[u32], value: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if wide() {
        // SAFETY: the CPU has AVX-512 (the kernel checks each entry's column against `wt`'s).
        return unsafe { avx512::add_columns(acc, wt, off, index, value) };
    }
    add_columns_by_lanes(acc, wt, off, index, value);
}

with_avx2! {
    /// [`add_columns`] for any x86_64 CPU (four lanes with AVX2): the same additions.
    fn add_columns_by_lanes(acc: &mut Columns, wt: &Columns, off: usize, index: &[u32], value: &[f64]) {
        let stride = wt.stride;
        for (&j, &xj) in index.iter().zip(value) {
            let j = j as usize;
            let col = &wt.numbers()[(off + j) * stride..(off + j + 1) * stride];
            let p = &mut acc.numbers_mut()[(j & 7) * stride..((j & 7) + 1) * stride];
            if xj == 1.0 {
                // c · 1 = c for the finite c of W (binary data: every nonzero).
                for (p, &c) in p.iter_mut().zip(col) {
                    *p = *p + c;
                }
            } else {
                for (p, &c) in p.iter_mut().zip(col) {
                    *p = *p + c * xj;
                }
            }
        }
    }
}

/// The column kernels with AVX-512: eight lanes, each the scalar operation (a product, then a
/// sum or difference: no fused multiply-add), on whole aligned lines.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::Columns;
    use crate::engine::kernels::lanes::below;
    use std::arch::x86_64::*;

    /// [`super::add_columns`]: the padding's +0 adds +0 to padding.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn add_columns(acc: &mut Columns, wt: &Columns, off: usize, index: &[u32], value: &[f64]) {
        let (stride, cols) = (wt.stride, wt.cols);
        assert!(acc.cols >= 8 && acc.stride == stride, "eight sums of a column's length");
        let (w, p) = (wt.numbers().as_ptr(), acc.numbers_mut().as_mut_ptr());
        for (&j, &xj) in index.iter().zip(value) {
            let j = j as usize;
            assert!(off + j < cols, "an entry past θᵀ's columns");
            // SAFETY: column off + j of `wt` (checked above) and column j & 7 of `acc`, each
            // `stride` numbers on whole 64-byte lines.
            unsafe {
                let (col, p) = (w.add((off + j) * stride), p.add((j & 7) * stride));
                let v = _mm512_set1_pd(xj);
                for q in (0..stride).step_by(8) {
                    let c = _mm512_load_pd(col.add(q));
                    let c = if xj == 1.0 { c } else { _mm512_mul_pd(c, v) };
                    _mm512_store_pd(p.add(q), _mm512_add_pd(_mm512_load_pd(p.add(q)), c));
                }
            }
        }
    }

    /// [`super::sgd_columns`]: the first `rows` lanes of each column (the padding stays +0).
    #[target_feature(enable = "avx512f")]
    pub unsafe fn sgd_columns(
        wt: &mut Columns,
        off: usize,
        g: &[f64],
        index: &[u32],
        value: &[f64],
        lr: f64,
        step: &mut Columns,
    ) {
        let (rows, stride, cols) = (wt.rows, wt.stride, wt.cols);
        assert!(step.cols >= 1 && step.stride == stride && g.len() >= rows, "a step and g for each row");
        let (w, s, g) = (wt.numbers_mut().as_mut_ptr(), step.numbers_mut().as_mut_ptr(), g.as_ptr());
        let (lr, zero) = (_mm512_set1_pd(lr), _mm512_setzero_pd());
        let mut step_of: Option<u64> = None;
        for (&j, &xj) in index.iter().zip(value) {
            assert!(off + (j as usize) < cols, "an entry past θᵀ's columns");
            // SAFETY: column off + j of `wt` (checked above) and `step`'s column, whole lines
            // of `stride` numbers; g's lanes from `rows` on are masked out.
            unsafe {
                let col = w.add((off + j as usize) * stride);
                if step_of == Some(xj.to_bits()) {
                    // Whole lines: the padding is +0 in both, and +0 − (+0) = +0 leaves it so.
                    for q in (0..stride).step_by(8) {
                        let d = _mm512_sub_pd(_mm512_load_pd(col.add(q)), _mm512_load_pd(s.add(q)));
                        _mm512_store_pd(col.add(q), d);
                    }
                } else {
                    let v = _mm512_set1_pd(xj);
                    for q in (0..stride).step_by(8) {
                        let k = below(rows, q);
                        let gi = _mm512_maskz_loadu_pd(k, g.add(q));
                        // γ(0 + g_i x_c)
                        let d = _mm512_mul_pd(lr, _mm512_add_pd(zero, _mm512_mul_pd(gi, v)));
                        _mm512_mask_store_pd(s.add(q), k, d);
                        _mm512_mask_store_pd(col.add(q), k, _mm512_sub_pd(_mm512_load_pd(col.add(q)), d));
                    }
                    step_of = Some(xj.to_bits());
                }
            }
        }
    }
}

/// Column c of θᵀ ← column c − γ(0 + g x_c) over x's nonzero entries c (column off + c), and
/// the bias column 0 ← column 0 − γ(0 + g) when `off` is 1: the micro-steps' gradient (which
/// starts at +0) and SGD step, fused, on a transposed parameter. The step γ(0 + g x_c) of a
/// column is kept in `step` (scratch) and reused, bit for bit, by the next column whose x_c is
/// the same number (binary data: every column after the first).
pub fn sgd_outer_t(wt: &mut Columns, off: usize, g: &[f64], x: Sparse, lr: f64, step: &mut Columns) {
    let rows = wt.rows;
    let g = &g[..rows];
    assert!(wt.cols >= off + x.len, "θᵀ has a column for every entry of x");
    if off == 1 {
        for (w, &gi) in wt.column_mut(0).iter_mut().zip(g) {
            *w = *w - lr * (0.0 + gi);
        }
    }
    step.reset(rows, 1);
    #[cfg(target_arch = "x86_64")]
    if wide() {
        // SAFETY: the CPU has AVX-512 (the kernel checks each entry's column against `wt`'s).
        return unsafe { avx512::sgd_columns(wt, off, g, x.index, x.value, lr, step) };
    }
    sgd_columns(wt, off, g, x.index, x.value, lr, step);
}

with_avx2! {
    /// [`sgd_outer_t`]'s columns for any x86_64 CPU (four lanes with AVX2).
    fn sgd_columns(wt: &mut Columns, off: usize, g: &[f64], index: &[u32], value: &[f64], lr: f64, step: &mut Columns) {
        let step = step.column_mut(0);
        let mut step_of: Option<u64> = None;
        for (&j, &xj) in index.iter().zip(value) {
            let col = wt.column_mut(off + j as usize);
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

#[cfg(test)]
mod tests {
    use ndarray::{linalg::general_mat_vec_mul, Array1, Array2};
    use rand::{Rng, SeedableRng};

    use super::super::lanes::testing::{bits, both_ways, nonzeros, random, NARROW};
    use super::super::{add_wt_g, affine_sparse, max_abs};
    use super::*;

    /// base + W[:, 1:] x by [`affine_t`], from W stored transposed and x's nonzeros.
    fn product_from_wt(a: &Array2<f64>, base: &[f64], x: &[f64]) -> Vec<f64> {
        let (rows, cols) = a.dim();
        let wt = Columns::transpose_of(a.as_slice().unwrap(), rows, cols);
        let (mut index, mut value) = (Vec::new(), Vec::new());
        nonzeros(x, &mut index, &mut value);
        let sparse = Sparse { index: &index, value: &value, len: x.len() };
        let [wide, narrow] = both_ways(|| {
            let mut out = vec![0.0; rows];
            affine_t(&mut out, &wt, 1, |i| base[i], sparse, &mut Columns::default());
            out
        });
        assert_eq!(bits(&wide), bits(&narrow), "with AVX-512 and without");
        wide
    }

    /// The fused update on θᵀ is the micro-steps' gradient g xᵀ (from +0) and SGD step,
    /// entry by entry, with binary data (one step reused) and with any numbers.
    #[test]
    fn the_transposed_update_is_the_gradient_step() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for (m, n, binary) in [(3, 9, true), (50, 128, true), (7, 20, false), (10, 17, false)] {
            // Some −0 in θ and in g: −0 − γ(0 + (−0)·x) is −0 − (+0) = −0.
            let mut theta = random(&mut rng, m * (n + 1), false);
            theta.iter_mut().step_by(7).for_each(|t| *t = -0.0);
            let mut g = random(&mut rng, m, false);
            g.iter_mut().step_by(5).for_each(|t| *t = -0.0);
            let x: Vec<f64> =
                random(&mut rng, n, true).into_iter().map(|v| if binary && v != 0.0 { 1.0 } else { v }).collect();
            let lr = 0.1;
            // θ is m × (n + 1), row-major.
            let mut expected = theta.clone();
            for i in 0..m {
                let row = &mut expected[i * (n + 1)..(i + 1) * (n + 1)];
                row[0] = row[0] - lr * (0.0 + g[i]);
                for (c, &xc) in x.iter().enumerate().filter(|(_, &xc)| xc != 0.0) {
                    row[1 + c] = row[1 + c] - lr * (0.0 + g[i] * xc);
                }
            }
            let (mut index, mut value) = (Vec::new(), Vec::new());
            nonzeros(&x, &mut index, &mut value);
            let x = Sparse { index: &index, value: &value, len: n };
            for wt in both_ways(|| {
                let mut wt = Columns::transpose_of(&theta, m, n + 1);
                sgd_outer_t(&mut wt, 1, &g, x, lr, &mut Columns::default());
                wt
            }) {
                let mut got = vec![0.0; theta.len()];
                wt.transpose_into(&mut got, n + 1);
                assert_eq!(bits(&got), bits(&expected), "{m}×{n} binary {binary}");
                // The padding of every column is still +0.
                assert!(wt.numbers().iter().enumerate().all(|(k, v)| k % wt.stride < m || v.to_bits() == 0));
            }
        }
    }

    /// A number of any kind now and then: ±0, NaN, ±∞, 1, the smallest subnormal, −1e308.
    fn any_number(rng: &mut rand_chacha::ChaCha8Rng) -> f64 {
        match rng.random_range(0..40) {
            0 => -0.0,
            1 => 0.0,
            2 => f64::NAN,
            3 => f64::INFINITY,
            4 => f64::NEG_INFINITY,
            5 => 1.0,
            6 => 5e-324,
            7 => -1e308,
            _ => rng.random_range(-3.0..3.0),
        }
    }

    /// NaN as one pattern (its sign and payload are not kept bit for bit), every other number
    /// as its bits.
    fn bits_any_nan(v: &[f64]) -> Vec<u64> {
        v.iter().map(|v| if v.is_nan() { 1 } else { v.to_bits() }).collect()
    }

    /// One draw of the column kernels' test: θ (`rows` × `cols`, row-major, the folded bias
    /// first when `off` is 1) and x's nonzero entries (of `n`), with ±0, NaN, ±∞ and
    /// subnormals when `nasty`.
    struct Case {
        rows: usize,
        n: usize,
        off: usize,
        cols: usize,
        nasty: bool,
        theta: Vec<f64>,
        index: Vec<u32>,
        value: Vec<f64>,
    }

    impl Case {
        /// A random case; `None` for a θ without columns.
        fn draw(rng: &mut rand_chacha::ChaCha8Rng, nasty: bool) -> Option<Case> {
            let (rows, n, off) = (rng.random_range(1..70), rng.random_range(0..140), rng.random_range(0..2));
            let cols = n + off;
            if cols == 0 {
                return None;
            }
            let mut c = Case { rows, n, off, cols, nasty, theta: vec![], index: vec![], value: vec![] };
            c.theta = (0..rows * cols).map(|_| c.number(rng)).collect();
            let binary = rng.random_bool(0.5);
            for j in 0..n {
                if rng.random_bool(0.4) {
                    c.index.push(j as u32);
                    let v = if binary { 1.0 } else { c.number(rng) };
                    c.value.push(if v.to_bits() == 0 { 2.0 } else { v });
                }
            }
            Some(c)
        }

        fn number(&self, rng: &mut rand_chacha::ChaCha8Rng) -> f64 {
            if self.nasty {
                any_number(rng)
            } else {
                rng.random_range(-3.0..3.0)
            }
        }

        fn x(&self) -> Sparse<'_> {
            Sparse { index: &self.index, value: &self.value, len: self.n }
        }
    }

    /// [`affine_t`] both ways, and (with ordinary numbers) [`affine_sparse`]'s numbers.
    fn affine_t_is_affine_sparse(rng: &mut rand_chacha::ChaCha8Rng, c: &Case) {
        let (rows, cols, off) = (c.rows, c.cols, c.off);
        let wt = Columns::transpose_of(&c.theta, rows, cols);
        let base: Vec<f64> = (0..rows).map(|_| rng.random_range(-1.0..1.0)).collect();
        let [wide, narrow] = both_ways(|| {
            let mut out = vec![7.0; rows];
            affine_t(&mut out, &wt, off, |i| base[i], c.x(), &mut Columns::default());
            out
        });
        assert_eq!(bits_any_nan(&wide), bits_any_nan(&narrow), "affine_t {rows}×{cols}, off {off}");
        if !c.nasty {
            let mut expected = vec![0.0; rows];
            affine_sparse(&mut expected, &c.theta, cols, off, |i| base[i], c.x());
            assert_eq!(bits(&wide), bits(&expected), "affine_t {rows}×{cols}, off {off}");
        }
    }

    /// [`sgd_outer_t`] both ways is the formula's step, the padding stays +0, and a NaN or ±∞
    /// left in θ is seen by `max_abs`. Returns the g it drew (a few entries longer than θ's
    /// rows).
    fn sgd_outer_t_is_the_step(rng: &mut rand_chacha::ChaCha8Rng, c: &Case) -> Vec<f64> {
        let (rows, cols, off) = (c.rows, c.cols, c.off);
        let g: Vec<f64> = (0..rows + rng.random_range(0..3)).map(|_| c.number(rng)).collect();
        let lr = 0.1;
        let mut expected = c.theta.clone();
        for (i, row) in expected.chunks_exact_mut(cols).enumerate() {
            if off == 1 {
                row[0] = row[0] - lr * (0.0 + g[i]);
            }
            for (&j, &xj) in c.index.iter().zip(&c.value) {
                let t = &mut row[off + j as usize];
                *t = *t - lr * (0.0 + g[i] * xj);
            }
        }
        let wt = Columns::transpose_of(&c.theta, rows, cols);
        for stepped in both_ways(|| {
            let mut stepped = wt.clone();
            sgd_outer_t(&mut stepped, off, &g, c.x(), lr, &mut Columns::default());
            stepped
        }) {
            assert!(stepped.numbers().iter().enumerate().all(|(k, v)| k % stepped.stride < rows || v.to_bits() == 0));
            let mut got = vec![0.0; c.theta.len()];
            stepped.transpose_into(&mut got, cols);
            assert_eq!(bits_any_nan(&got), bits_any_nan(&expected), "sgd_outer_t {rows}×{cols}, off {off}");
            assert_eq!(max_abs(stepped.numbers()).is_nan(), expected.iter().any(|v| !v.is_finite()));
        }
        g
    }

    /// [`add_wt_g`] both ways is the formula's sums, over the first of g's entries (some
    /// number of them up to θ's rows) and some of θ's columns.
    fn add_wt_g_is_the_sums(rng: &mut rand_chacha::ChaCha8Rng, c: &Case, g: &[f64]) {
        let (rows, cols, off) = (c.rows, c.cols, c.off);
        let g = &g[..rng.random_range(0..rows + 1)];
        let before: Vec<f64> = (0..rng.random_range(0..=c.n)).map(|_| c.number(rng)).collect();
        let mut expected = before.clone();
        for (j, e) in expected.iter_mut().enumerate() {
            let mut sum = 0.0;
            for (i, &gi) in g.iter().enumerate() {
                sum = sum + c.theta[i * cols + off + j] * gi;
            }
            *e = *e * 1.0 + sum * 1.0;
        }
        for got in both_ways(|| {
            let mut acc = before.clone();
            add_wt_g(&mut acc, &c.theta, cols, off, g);
            acc
        }) {
            assert_eq!(bits_any_nan(&got), bits_any_nan(&expected), "add_wt_g {rows}×{cols}, off {off}");
        }
    }

    /// The column kernels on random shapes (1 to 69 rows, 0 to 139 inputs, with and without
    /// the folded bias), binary and other data, and a third of the time with ±0, NaN, ±∞ and
    /// subnormals in θ, g and x: both ways, the same numbers as the row-major kernels or the
    /// formula; the padding stays +0; a NaN or ±∞ left in θ is seen by `max_abs`.
    #[test]
    fn column_kernels_on_random_shapes_and_numbers() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
        for it in 0..2000 {
            let Some(c) = Case::draw(&mut rng, it % 3 == 0) else { continue };
            affine_t_is_affine_sparse(&mut rng, &c);
            let g = sgd_outer_t_is_the_step(&mut rng, &c);
            add_wt_g_is_the_sums(&mut rng, &c, &g);
        }
    }

    /// An entry past x's columns (or unsorted, so that one past them comes first) is refused
    /// with a panic, both ways, never read or written out of bounds.
    #[test]
    fn an_entry_past_the_columns_is_refused() {
        let far = [1u32 << 28];
        let unsorted = [1u32 << 28, 0];
        for wide in [true, false] {
            NARROW.with(|n| n.set(!wide));
            let step = std::panic::catch_unwind(|| {
                let x = Sparse { index: &far, value: &[2.0], len: 0 };
                sgd_outer_t(&mut Columns::zeros(8, 1), 0, &[1.0; 8], x, 0.1, &mut Columns::default());
            });
            let product = std::panic::catch_unwind(|| {
                let x = Sparse { index: &unsorted, value: &[2.0, 1.0], len: 8 };
                affine_t(&mut [0.0; 8], &Columns::zeros(8, 8), 0, |_| 0.0, x, &mut Columns::default());
            });
            NARROW.with(|n| n.set(false));
            assert!(step.is_err() && product.is_err(), "AVX-512 {wide}");
        }
    }

    /// [`affine_t`] from Wᵀ: ndarray's numbers, for W of 1 to 56 rows and data of any numbers,
    /// of ones, and with −0 (kept as an entry).
    #[test]
    fn the_product_from_wt_is_ndarrays() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        for rows in 1..=56 {
            for cols in [2, 9, 17, 33, 129, 140] {
                let a = Array2::from_shape_vec((rows, cols), random(&mut rng, rows * cols, false)).unwrap();
                let base = random(&mut rng, rows, false);
                for kind in 0..3 {
                    let x: Vec<f64> = match kind {
                        0 => random(&mut rng, cols - 1, true),
                        1 => (0..cols - 1).map(|_| if rng.random_bool(0.3) { 1.0 } else { 0.0 }).collect(),
                        _ => (0..cols - 1).map(|_| [0.0, -0.0, 1.0, 2.5][rng.random_range(0..4)]).collect(),
                    };
                    let mut expected = Array1::from(base.clone());
                    let w = a.slice(ndarray::s![.., 1..]);
                    general_mat_vec_mul(1.0, &w, &Array1::from(x.clone()), 1.0, &mut expected);
                    let out = product_from_wt(&a, &base, &x);
                    assert_eq!(bits(&out), bits(expected.as_slice().unwrap()), "{rows}×{cols}, data {kind}");
                }
            }
        }
    }

    /// [`affine_t`] on the step path's test shapes (1 × 1 to 50 × 129) is ndarray's product.
    #[test]
    fn the_product_from_wt_on_small_shapes() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for (rows, cols) in [(1, 1), (3, 5), (4, 9), (10, 17), (7, 33), (50, 129), (9, 20), (10, 51), (5, 40), (6, 41)]
        {
            let a = Array2::from_shape_vec((rows, cols), random(&mut rng, rows * cols, false)).unwrap();
            let x = random(&mut rng, cols - 1, true);
            let base = random(&mut rng, rows, false);
            let mut expected = Array1::from(base.clone());
            general_mat_vec_mul(1.0, &a.slice(ndarray::s![.., 1..]), &Array1::from(x.clone()), 1.0, &mut expected);
            let from_t = product_from_wt(&a, &base, &x);
            assert_eq!(bits(&from_t), bits(expected.as_slice().unwrap()), "affine_t {rows}×{cols}");
        }
    }
}
