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

/// [`dot8`] over the entries `nz` (ascending) of x, every other entry of x being ±0 and
/// every entry of w finite.
#[inline]
pub fn dot8_sparse(w: &[f64], x: &[f64], nz: &[u32]) -> f64 {
    let n = w.len().min(x.len());
    let main = n - n % 8;
    let mut p = [0.0f64; 8];
    let split = nz.partition_point(|&j| (j as usize) < main);
    for &j in &nz[..split] {
        let j = j as usize;
        p[j & 7] = p[j & 7] + w[j] * x[j];
    }
    let mut sum = 0.0;
    sum = sum + (p[0] + p[4]);
    sum = sum + (p[1] + p[5]);
    sum = sum + (p[2] + p[6]);
    sum = sum + (p[3] + p[7]);
    for &j in &nz[split..] {
        let j = j as usize;
        sum = sum + w[j] * x[j];
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

/// The indices of x's nonzero entries (−0 counts as zero), into `nz`.
pub fn nonzeros(x: &[f64], nz: &mut Vec<u32>) {
    nz.clear();
    for (j, &v) in x.iter().enumerate() {
        if v != 0.0 {
            nz.push(j as u32);
        }
    }
}

/// out_i = base_i + Σ_j W[i, off + j] x_j for a row-major W with `cols` columns, as
/// `general_mat_vec_mul(1, W[:, off..], x, 1, out)` after `out = base`; with `nz`, only x's
/// nonzero entries are visited (W must then be finite).
pub fn affine(
    out: &mut [f64],
    w: &[f64],
    cols: usize,
    off: usize,
    base: impl Fn(usize) -> f64,
    x: &[f64],
    nz: Option<&[u32]>,
) {
    for (i, o) in out.iter_mut().enumerate() {
        let row = &w[i * cols + off..(i + 1) * cols];
        let s = match nz {
            Some(nz) => dot8_sparse(row, x, nz),
            None => dot8(row, x),
        };
        *o = base(i) * 1.0 + s * 1.0;
    }
}

/// acc[i, off + j] += g_i x_j over every j (`scaled_add` of each row), or only x's nonzero
/// entries `nz` (every g_i finite: the skipped terms are ±0 and the accumulator must not hold
/// a −0 that they would turn into +0, which holds for an accumulator that starts at +0).
pub fn add_outer(acc: &mut [f64], cols: usize, off: usize, g: &[f64], x: &[f64], nz: Option<&[u32]>) {
    for (i, &gi) in g.iter().enumerate() {
        let row = &mut acc[i * cols + off..(i + 1) * cols];
        match nz {
            Some(nz) => {
                for &j in nz {
                    let j = j as usize;
                    row[j] = row[j] + gi * x[j];
                }
            }
            None => {
                for (r, &xj) in row.iter_mut().zip(x) {
                    *r = *r + gi * xj;
                }
            }
        }
    }
}

/// Whether every entry is finite, without an early exit so that it vectorises.
#[inline]
pub fn all_finite(a: &[f64]) -> bool {
    // v − v is 0 for a finite v and NaN otherwise; four sums so that the loop vectorises.
    let mut s = [0.0f64; 4];
    let chunks = a.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            s[k] += c[k] - c[k];
        }
    }
    for &v in rest {
        s[0] += v - v;
    }
    s[0] + s[1] + s[2] + s[3] == 0.0
}
