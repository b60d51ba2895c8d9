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

// Additions are spelled `s = s + t`, as in the ndarray code they reproduce (`+=` is the same).
#![allow(clippy::assign_op_pattern)]

use super::exp::{exp_in_place, sum_exp};

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

/// `fn $name` (of any visibility) whose body is compiled twice: for AVX2, run when the CPU has it, and for
/// any x86_64. The operations are the same, four lanes wide with AVX2 (Rust never fuses a
/// multiply and an add), so the numbers are the same.
macro_rules! with_avx2 {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        with_avx2! { $(#[$doc])* $vis fn $name($($arg: $ty),*) -> () $body }
    };
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[inline(always)]
            fn body($($arg: $ty),*) -> $ret $body

            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) -> $ret {
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
    /// [`affine_sparse`] from Wᵀ (column c of `wt` is W[:, c]): the same sums, with row i's eight
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

/// Whether the column kernels run with AVX-512. A test turns it off on its own thread, to
/// check the four-lane path against it.
#[cfg(target_arch = "x86_64")]
#[inline]
fn wide() -> bool {
    #[cfg(test)]
    if tests::NARROW.with(std::cell::Cell::get) {
        return false;
    }
    std::arch::is_x86_feature_detected!("avx512f")
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

    /// The lanes below `n − from` of a register of eight starting at `from`.
    #[inline]
    fn below(n: usize, from: usize) -> __mmask8 {
        match n.saturating_sub(from) {
            left @ 0..=7 => (1u8 << left).wrapping_sub(1),
            _ => 0xff,
        }
    }

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
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// Set: this thread's column kernels leave AVX-512 out.
        pub(super) static NARROW: Cell<bool> = const { Cell::new(false) };
    }

    /// `f`'s result with AVX-512 (where the CPU has it), and without.
    fn both_ways<T>(f: impl Fn() -> T) -> [T; 2] {
        let wide = f();
        NARROW.with(|n| n.set(true));
        let narrow = f();
        NARROW.with(|n| n.set(false));
        [wide, narrow]
    }
    use ndarray::{linalg::general_mat_vec_mul, Array1, Array2};
    use rand::{Rng, SeedableRng};

    fn random(rng: &mut rand_chacha::ChaCha8Rng, n: usize, zeros: bool) -> Vec<f64> {
        (0..n).map(|_| if zeros && rng.random_bool(0.6) { 0.0 } else { rng.random_range(-3.0..3.0) }).collect()
    }

    /// x's entries other than +0 (a −0 is kept, as a dataset keeps it), appended to `index`
    /// and `value`.
    fn nonzeros(x: &[f64], index: &mut Vec<u32>, value: &mut Vec<f64>) {
        for (j, &v) in x.iter().enumerate().filter(|&(_, &v)| v.to_bits() != 0) {
            index.push(j as u32);
            value.push(v);
        }
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|v| v.to_bits()).collect()
    }

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

    /// The column kernels on random shapes (1 to 69 rows, 0 to 139 inputs, with and without
    /// the folded bias), binary and other data, and a third of the time with ±0, NaN, ±∞ and
    /// subnormals in θ, g and x: both ways, the same numbers as the row-major kernels or the
    /// formula; the padding stays +0; a NaN or ±∞ left in θ is seen by `max_abs`.
    #[test]
    fn column_kernels_on_random_shapes_and_numbers() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
        for it in 0..2000 {
            let (rows, n, off) = (rng.random_range(1..70), rng.random_range(0..140), rng.random_range(0..2));
            let cols = n + off;
            if cols == 0 {
                continue;
            }
            let nasty = it % 3 == 0;
            let number =
                |rng: &mut rand_chacha::ChaCha8Rng| if nasty { any_number(rng) } else { rng.random_range(-3.0..3.0) };
            let theta: Vec<f64> = (0..rows * cols).map(|_| number(&mut rng)).collect();
            let binary = rng.random_bool(0.5);
            let (mut index, mut value) = (Vec::new(), Vec::new());
            for j in 0..n {
                if rng.random_bool(0.4) {
                    index.push(j as u32);
                    let v = if binary { 1.0 } else { number(&mut rng) };
                    value.push(if v.to_bits() == 0 { 2.0 } else { v });
                }
            }
            let x = Sparse { index: &index, value: &value, len: n };
            let wt = Columns::transpose_of(&theta, rows, cols);
            let base: Vec<f64> = (0..rows).map(|_| rng.random_range(-1.0..1.0)).collect();
            let [wide, narrow] = both_ways(|| {
                let mut out = vec![7.0; rows];
                affine_t(&mut out, &wt, off, |i| base[i], x, &mut Columns::default());
                out
            });
            assert_eq!(bits_any_nan(&wide), bits_any_nan(&narrow), "affine_t {rows}×{cols}, off {off}");
            if !nasty {
                let mut expected = vec![0.0; rows];
                affine_sparse(&mut expected, &theta, cols, off, |i| base[i], x);
                assert_eq!(bits(&wide), bits(&expected), "affine_t {rows}×{cols}, off {off}");
            }
            let g: Vec<f64> = (0..rows + rng.random_range(0..3)).map(|_| number(&mut rng)).collect();
            let lr = 0.1;
            let mut expected = theta.clone();
            for (i, row) in expected.chunks_exact_mut(cols).enumerate() {
                if off == 1 {
                    row[0] = row[0] - lr * (0.0 + g[i]);
                }
                for (&j, &xj) in index.iter().zip(&value) {
                    let t = &mut row[off + j as usize];
                    *t = *t - lr * (0.0 + g[i] * xj);
                }
            }
            for stepped in both_ways(|| {
                let mut stepped = wt.clone();
                sgd_outer_t(&mut stepped, off, &g, x, lr, &mut Columns::default());
                stepped
            }) {
                assert!(stepped
                    .numbers()
                    .iter()
                    .enumerate()
                    .all(|(k, v)| k % stepped.stride < rows || v.to_bits() == 0));
                let mut got = vec![0.0; theta.len()];
                stepped.transpose_into(&mut got, cols);
                assert_eq!(bits_any_nan(&got), bits_any_nan(&expected), "sgd_outer_t {rows}×{cols}, off {off}");
                assert_eq!(max_abs(stepped.numbers()).is_nan(), expected.iter().any(|v| !v.is_finite()));
            }
            let g = &g[..rng.random_range(0..rows + 1)];
            let before: Vec<f64> = (0..rng.random_range(0..=n)).map(|_| number(&mut rng)).collect();
            let mut expected = before.clone();
            for (j, e) in expected.iter_mut().enumerate() {
                let mut sum = 0.0;
                for (i, &gi) in g.iter().enumerate() {
                    sum = sum + theta[i * cols + off + j] * gi;
                }
                *e = *e * 1.0 + sum * 1.0;
            }
            for got in both_ways(|| {
                let mut acc = before.clone();
                add_wt_g(&mut acc, &theta, cols, off, g);
                acc
            }) {
                assert_eq!(bits_any_nan(&got), bits_any_nan(&expected), "add_wt_g {rows}×{cols}, off {off}");
            }
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
            // The same from W stored transposed, over x's nonzeros.
            let from_t = product_from_wt(&a, &base, &x);
            assert_eq!(bits(&from_t), bits(expected.as_slice().unwrap()), "affine_t {rows}×{cols}");
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
