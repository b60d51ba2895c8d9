//! How another implementation stores the same numbers: unit axes (column vectors, row vectors,
//! `np.matrix`, J as `(1, 1)`), weights transposed or with the bias column last, a vector with
//! its bias entry 1, a gradient that carries the adjoint of that bias entry (dJ/d[1; z], as
//! `g_z = W2.T @ g_b` with the whole W2 gives it). One rule for `diff` and the debugger's
//! `--against`: their array is brought into bptui's shape by undoing a storage convention, then
//! compared entry by entry ([`judge`]).

use ndarray::{s, Array2, ArrayD, IxDyn};

/// A rearrangement of our array into their layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Same numbers in the same order (unit axes aside).
    Same,
    Transposed,
    /// Bias column moved from first to last.
    BiasLast,
    /// Transposed with the bias in the last row.
    BiasLastTransposed,
    /// A vector with the bias entry 1 prepended (their z includes z_0 = 1).
    WithOneFirst,
    /// A vector with the bias entry 1 appended.
    WithOneLast,
    /// An adjoint with the adjoint of the bias entry first: dJ/d[1; z] where dJ/dz is meant.
    WithEntryFirst,
    /// An adjoint with the adjoint of the bias entry last: dJ/d[z; 1].
    WithEntryLast,
    /// The bias column left out: not a convention, a mistake diagnoses look for.
    NoBias,
    NoBiasTransposed,
}

impl Layout {
    /// Storage conventions, most natural first.
    pub const CONVENTIONS: [Layout; 6] = [
        Layout::Same,
        Layout::Transposed,
        Layout::BiasLast,
        Layout::BiasLastTransposed,
        Layout::WithOneFirst,
        Layout::WithOneLast,
    ];

    /// The conventions of an adjoint that carries its bias entry's own adjoint (see [`Ours`]).
    pub const CARRIED: [Layout; 2] = [Layout::WithEntryFirst, Layout::WithEntryLast];

    /// The conventions that may hold a value: with the carried-entry ones when it has a
    /// carried entry.
    pub fn conventions(carried: bool) -> impl Iterator<Item = Layout> {
        let extra: &[Layout] = if carried { &Self::CARRIED } else { &[] };
        Self::CONVENTIONS.into_iter().chain(extra.iter().copied())
    }

    /// Whether the bias sits at the end in this layout (last column, last row, last entry).
    pub fn bias_last(self) -> bool {
        matches!(self, Layout::BiasLast | Layout::BiasLastTransposed | Layout::WithOneLast | Layout::WithEntryLast)
    }

    /// Whether the layout speaks of a bias at all (a plain transpose does not).
    pub fn places_bias(self) -> bool {
        !matches!(self, Layout::Same | Layout::Transposed)
    }

    /// The conventions, then a weight matrix stored without its bias column (a mistake the
    /// report names).
    pub const ALL: [Layout; 8] = {
        let c = Self::CONVENTIONS;
        [c[0], c[1], c[2], c[3], c[4], c[5], Layout::NoBias, Layout::NoBiasTransposed]
    };

    /// Our array in this layout, if it applies to its shape. Matrices are laid out as
    /// matrices; a vector with unit axes (a column) counts as a vector.
    pub fn apply(self, a: &ArrayD<f64>) -> Option<ArrayD<f64>> {
        let m2 = || (a.ndim() == 2).then(|| a.view().into_dimensionality::<ndarray::Ix2>().ok()).flatten();
        let bias_last = |m: ndarray::ArrayView2<f64>| {
            let mut out = Array2::zeros(m.raw_dim());
            let n = m.ncols();
            if n > 0 {
                out.slice_mut(s![.., ..n - 1]).assign(&m.slice(s![.., 1..]));
                out.column_mut(n - 1).assign(&m.column(0));
            }
            out
        };
        Some(match self {
            Layout::Same => a.clone(),
            Layout::Transposed => m2()?.t().to_owned().into_dyn(),
            Layout::BiasLast => bias_last(m2()?).into_dyn(),
            Layout::BiasLastTransposed => bias_last(m2()?).t().to_owned().into_dyn(),
            Layout::NoBias => m2().filter(|m| m.ncols() > 0)?.slice(s![.., 1..]).to_owned().into_dyn(),
            Layout::NoBiasTransposed => m2().filter(|m| m.ncols() > 0)?.slice(s![.., 1..]).t().to_owned().into_dyn(),
            // The carried entry's place holds 0 here: in `positions`' terms, "any number".
            Layout::WithOneFirst | Layout::WithOneLast | Layout::WithEntryFirst | Layout::WithEntryLast => {
                if squeezed(a.shape()).len() != 1 {
                    return None;
                }
                let mut v: Vec<f64> = a.iter().copied().collect();
                let mark = if matches!(self, Layout::WithOneFirst | Layout::WithOneLast) { 1.0 } else { 0.0 };
                if matches!(self, Layout::WithOneFirst | Layout::WithEntryFirst) {
                    v.insert(0, mark);
                } else {
                    v.push(mark);
                }
                ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).ok()?
            }
        })
    }

    /// Their array in our `shape`, undoing this layout; `None` when their numbers cannot be
    /// an array of ours stored this way (other count, or a bias entry that is not 1). A carried
    /// entry is dropped here: [`judge`] compares it.
    pub fn undo(self, shape: &[usize], theirs: &ArrayD<f64>) -> Option<ArrayD<f64>> {
        match self.undo_direct(shape, theirs) {
            Some(done) => done,
            None => self.undo_mapped(shape, theirs),
        }
    }

    /// [`Layout::undo`] without the index map, for the layouts every example meets (same
    /// order, transposed, a vector with its 1 or carried entry): `None` when it does not apply
    /// directly, else undo's answer. `diff --` undoes several arrays per example this way.
    fn undo_direct(self, shape: &[usize], theirs: &ArrayD<f64>) -> Option<Option<ArrayD<f64>>> {
        let n: usize = shape.iter().product();
        let ours = squeezed(shape);
        let their = squeezed(theirs.shape());
        let flat = || theirs.as_slice().map(<[f64]>::to_vec).unwrap_or_else(|| theirs.iter().copied().collect());
        let build = |v: Vec<f64>| ArrayD::from_shape_vec(IxDyn(shape), v).ok();
        match self {
            Layout::Same => Some(if ours == their { build(flat()) } else { None }),
            Layout::Transposed if shape.len() == 2 => {
                let (r, c) = (shape[0], shape[1]);
                if squeezed(&[c, r]) != their {
                    return Some(None);
                }
                let t = flat();
                let mut out = vec![0.0; n];
                for i in 0..r {
                    for j in 0..c {
                        out[i * c + j] = t[j * r + i];
                    }
                }
                Some(build(out))
            }
            Layout::WithOneFirst | Layout::WithOneLast | Layout::WithEntryFirst | Layout::WithEntryLast
                if ours.len() == 1 =>
            {
                if their != [n + 1] {
                    return Some(None);
                }
                let mut t = flat();
                let first = matches!(self, Layout::WithOneFirst | Layout::WithEntryFirst);
                let entry = if first { t.remove(0) } else { t.pop().expect("n + 1 numbers") };
                if matches!(self, Layout::WithOneFirst | Layout::WithOneLast) && entry != 1.0 {
                    return Some(None);
                }
                Some(build(t))
            }
            _ => None,
        }
    }

    /// [`Layout::undo`] for any layout: our entries' positions laid out by it say where each of
    /// theirs goes.
    fn undo_mapped(self, shape: &[usize], theirs: &ArrayD<f64>) -> Option<ArrayD<f64>> {
        let n: usize = shape.iter().product();
        let mapped = self.apply(&positions(shape))?;
        if squeezed(mapped.shape()) != squeezed(theirs.shape()) {
            return None;
        }
        let mut out = vec![f64::NAN; n];
        for (&p, &t) in mapped.iter().zip(theirs.iter()) {
            if p == 1.0 {
                if t != 1.0 {
                    return None;
                }
            } else if p != 0.0 {
                out[p as usize - 2] = t;
            }
        }
        ArrayD::from_shape_vec(IxDyn(shape), out).ok()
    }

    /// Where our entry `index` (of an array of our `shape`) stands in theirs, of `their_shape`,
    /// stored this way: `alpha[3,90]` is their `W1[90,3]` when they store it transposed.
    pub fn their_index(self, shape: &[usize], index: &[usize], their_shape: &[usize]) -> Option<Vec<usize>> {
        let flat = index.iter().zip(shape).fold(0, |f, (&k, &d)| f * d + k);
        let mapped = self.apply(&positions(shape))?;
        let at = mapped.iter().position(|&p| p == flat as f64 + 2.0)?;
        (mapped.len() == their_shape.iter().product::<usize>()).then(|| crate::notation::unravel(their_shape, at))
    }

    /// How a student would say it.
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Same => "as bptui stores it",
            Layout::Transposed => "transposed",
            Layout::BiasLast => "with the bias in the last column instead of column 0",
            Layout::BiasLastTransposed => "transposed, with the bias in the last row",
            Layout::NoBias => "without the bias column",
            Layout::NoBiasTransposed => "transposed, without the bias row",
            Layout::WithOneFirst => "with the bias entry 1 first",
            Layout::WithOneLast => "with the bias entry 1 last",
            Layout::WithEntryFirst => "with the bias entry's own adjoint first (dJ/d[1; ·])",
            Layout::WithEntryLast => "with the bias entry's own adjoint last (dJ/d[·; 1])",
        }
    }

    /// Their carried entry, for the layouts that carry one.
    fn carried_entry(self, theirs: &ArrayD<f64>) -> Option<f64> {
        match self {
            Layout::WithEntryFirst => theirs.iter().next().copied(),
            Layout::WithEntryLast => theirs.iter().last().copied(),
            _ => None,
        }
    }
}

/// Our value as their array may hold it: the array itself and, for the adjoint of a vector
/// that a folded-bias linear map reads (u = W·[1; z]), the adjoint of the 1 prepended to it,
/// W[:, 0]ᵀ·dJ/du, which a gradient computed with the whole W carries (dJ/d[1; z]).
#[derive(Debug, Clone, Copy)]
pub struct Ours<'a> {
    pub value: &'a ArrayD<f64>,
    pub carried: Option<f64>,
}

impl<'a> Ours<'a> {
    pub fn plain(value: &'a ArrayD<f64>) -> Ours<'a> {
        Ours { value, carried: None }
    }
}

/// The one rule: their array under `layout`, in our shape, and whether every entry agrees by
/// `agree` (a carried entry too, compared as part of the array); `None` when their array is no
/// arrangement of ours under that layout.
pub fn judge(
    layout: Layout,
    ours: Ours,
    theirs: &ArrayD<f64>,
    agree: impl Fn(&ArrayD<f64>, &ArrayD<f64>) -> bool,
) -> Option<(bool, ArrayD<f64>)> {
    let aligned = layout.undo(ours.value.shape(), theirs)?;
    let agrees = match (layout.carried_entry(theirs), ours.carried) {
        (None, _) if !Layout::CARRIED.contains(&layout) => agree(ours.value, &aligned),
        (Some(t), Some(c)) => {
            let with = |v: &ArrayD<f64>, e: f64| {
                ArrayD::from_shape_vec(IxDyn(&[v.len() + 1]), std::iter::once(e).chain(v.iter().copied()).collect())
                    .expect("a vector")
            };
            agree(&with(ours.value, c), &with(&aligned, t))
        }
        // A carried entry where ours has none: not this layout.
        _ => return None,
    };
    Some((agrees, aligned))
}

/// A shape without its unit axes: `(4, 1)`, `(1, 4)` and `(4,)` are all `[4]`.
/// The positions of our entries, flat and offset by 2 (so that an inserted bias entry 1
/// stands out), in our shape: laid out by a layout, they say where each of theirs comes from.
fn positions(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |i| {
        let mut flat = 0;
        for (d, &k) in ndarray::Dimension::slice(&i).iter().enumerate() {
            flat = flat * shape[d] + k;
        }
        flat as f64 + 2.0
    })
}

pub fn squeezed(shape: &[usize]) -> Vec<usize> {
    shape.iter().copied().filter(|&d| d != 1).collect()
}

/// The shape as numpy writes it: `(4, 1)`, `(10,)`, `()`.
pub fn numpy_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".into(),
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// Their array in our shape under the first storage convention that makes every entry agree
/// (by `agree`), else under the most natural one that fits the shape; the layout used too.
pub fn align(
    ours: &ArrayD<f64>,
    theirs: &ArrayD<f64>,
    agree: impl Fn(&ArrayD<f64>, &ArrayD<f64>) -> bool,
) -> Option<(Layout, ArrayD<f64>)> {
    align_with(Ours::plain(ours), theirs, agree).map(|(layout, _, aligned)| (layout, aligned))
}

/// [`align`] for a value that may carry an entry (see [`Ours`]), with whether it agrees
/// under the layout found (a carried entry too).
pub fn align_with(
    ours: Ours,
    theirs: &ArrayD<f64>,
    agree: impl Fn(&ArrayD<f64>, &ArrayD<f64>) -> bool,
) -> Option<(Layout, bool, ArrayD<f64>)> {
    // None agreeing: the arrangement their numbers are nearest (a wrong step moves every
    // entry a little, a wrong arrangement moves them far), the most natural on a tie.
    let mut fits: Option<(f64, Layout, ArrayD<f64>)> = None;
    for layout in Layout::conventions(ours.carried.is_some()) {
        let Some((agrees, a)) = judge(layout, ours, theirs, &agree) else { continue };
        if agrees {
            return Some((layout, true, a));
        }
        let d = distance(ours.value, &a);
        if fits.as_ref().is_none_or(|(best, _, _)| d < *best) {
            fits = Some((d, layout, a));
        }
    }
    fits.map(|(_, l, a)| (l, false, a))
}

/// The largest difference between two arrays of the same shape (NaN counts as infinitely far).
pub fn distance(ours: &ArrayD<f64>, theirs: &ArrayD<f64>) -> f64 {
    ours.iter().zip(theirs.iter()).fold(0.0f64, |m, (o, t)| {
        let d = (o - t).abs();
        m.max(if d.is_nan() { f64::INFINITY } else { d })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr1, arr2};

    #[test]
    fn undo_inverts_apply_for_every_layout() {
        let w = arr2(&[[0.5, 1.0, 2.0], [3.0, 4.0, 5.0]]).into_dyn();
        for layout in [Layout::Same, Layout::Transposed, Layout::BiasLast, Layout::BiasLastTransposed] {
            let theirs = layout.apply(&w).unwrap();
            assert_eq!(layout.undo(w.shape(), &theirs).unwrap(), w, "{layout:?}");
        }
        let z = arr1(&[0.25, 0.75]).into_dyn();
        let with_one = Layout::WithOneFirst.apply(&z).unwrap();
        assert_eq!(with_one, arr1(&[1.0, 0.25, 0.75]).into_dyn());
        assert_eq!(Layout::WithOneFirst.undo(z.shape(), &with_one).unwrap(), z);
        // The entry in the bias position must be the 1.
        assert!(Layout::WithOneFirst.undo(z.shape(), &arr1(&[0.9, 0.25, 0.75]).into_dyn()).is_none());
    }

    #[test]
    fn the_direct_undo_is_the_mapped_one() {
        let shapes: [&[usize]; 8] = [&[], &[1], &[3], &[3, 1], &[1, 3], &[2, 3], &[3, 2], &[1, 1]];
        let layouts = Layout::ALL.iter().chain(&Layout::CARRIED).copied().collect::<Vec<_>>();
        let mut direct = 0;
        for ours in shapes {
            for theirs in shapes.iter().chain([&[4][..], &[4, 1], &[1, 4], &[2, 4]].iter()) {
                let n: usize = theirs.iter().product();
                for ones in [false, true] {
                    // Their numbers, with a 1 where a bias entry could stand.
                    let v: Vec<f64> = (0..n)
                        .map(|k| if ones && (k == 0 || k + 1 == n) { 1.0 } else { k as f64 * 0.5 + 3.0 })
                        .collect();
                    let t = ArrayD::from_shape_vec(IxDyn(theirs), v).unwrap();
                    for &layout in &layouts {
                        if let Some(got) = layout.undo_direct(ours, &t) {
                            direct += 1;
                            let want = layout.undo_mapped(ours, &t);
                            assert_eq!(got.is_some(), want.is_some(), "{layout:?} {ours:?} {theirs:?}");
                            if let (Some(g), Some(w)) = (got, want) {
                                assert_eq!(g.shape(), w.shape());
                                // NaN marks an entry the mapped undo leaves unset.
                                assert!(
                                    g.iter().zip(w.iter()).all(|(a, b)| a == b || b.is_nan()),
                                    "{layout:?} {ours:?} {theirs:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(direct > 100, "{direct}");
    }

    #[test]
    fn unit_axes_are_a_layout_not_a_difference() {
        let z = arr1(&[0.25, 0.75]).into_dyn();
        let column = arr2(&[[1.0], [0.25], [0.75]]).into_dyn();
        let row = arr2(&[[0.25, 0.75]]).into_dyn();
        assert_eq!(Layout::Same.undo(z.shape(), &row).unwrap(), z);
        assert_eq!(Layout::WithOneFirst.undo(z.shape(), &column).unwrap(), z);
        let j = ndarray::arr0(0.5).into_dyn();
        assert_eq!(Layout::Same.undo(j.shape(), &arr2(&[[0.5]]).into_dyn()).unwrap(), j);
        let exact = |a: &ArrayD<f64>, b: &ArrayD<f64>| a == b;
        assert_eq!(align(&z, &column, exact).unwrap().0, Layout::WithOneFirst);
    }

    #[test]
    fn an_entry_is_found_where_their_layout_puts_it() {
        // W (2 × 3, bias in column 0) and their storage of it.
        assert_eq!(Layout::Same.their_index(&[2, 3], &[1, 2], &[2, 3]), Some(vec![1, 2]));
        assert_eq!(Layout::Transposed.their_index(&[2, 3], &[1, 2], &[3, 2]), Some(vec![2, 1]));
        assert_eq!(Layout::BiasLast.their_index(&[2, 3], &[1, 0], &[2, 3]), Some(vec![1, 2]));
        assert_eq!(Layout::BiasLast.their_index(&[2, 3], &[1, 2], &[2, 3]), Some(vec![1, 1]));
        assert_eq!(Layout::BiasLastTransposed.their_index(&[2, 3], &[1, 0], &[3, 2]), Some(vec![2, 1]));
        // x (3) stored with its 1: first, or last.
        assert_eq!(Layout::WithOneFirst.their_index(&[3], &[0], &[4]), Some(vec![1]));
        assert_eq!(Layout::WithOneLast.their_index(&[3], &[2], &[4]), Some(vec![2]));
        // A column vector (3, 1) of ours (3).
        assert_eq!(Layout::Same.their_index(&[3], &[2], &[3, 1]), Some(vec![2, 0]));
    }
}
