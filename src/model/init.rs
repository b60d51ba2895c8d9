//! Parameters' starting values (`init:`): zeros, values written in the model file, draws from
//! a seeded distribution (bptui's own generator, or numpy's for the homework's weights), or an
//! `.npy` file in the layout another implementation stored it in.

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::error::Result;
use crate::notation::shape_str;
use crate::numfmt::py_repr;
use crate::numpy_rng::NumpyRandomState;

use super::spec::{BiasColumn, InitMap, InitSpec, StoredLayout};
use super::Ctx;

/// The parameter a starting value is for.
pub(super) struct Param<'a> {
    pub name: &'a str,
    pub shape: &'a [usize],
    /// Whether it is a weight matrix whose column 0 is its bias (`bias: folded`).
    pub folded: bool,
    /// Where its `init` is in the model file (`network.layers[0].init`).
    pub at: &'a str,
}

impl Ctx<'_> {
    /// A parameter's starting value, per its `init` (zeros when absent).
    pub(super) fn init_value(&self, init: Option<&InitSpec>, p: &Param, rng: &mut ChaCha8Rng) -> Result<ArrayD<f64>> {
        let Param { name, shape, at, .. } = *p;
        let m = match init {
            None | Some(InitSpec::Zeros) => return Ok(ArrayD::zeros(IxDyn(shape))),
            Some(InitSpec::Map(m)) => m,
        };
        if let Some(v) = &m.values {
            let a = crate::nested::array(v).map_err(|msg| self.err(&format!("{at}.values"), msg))?;
            if let Some(bad) = first_non_finite(&a) {
                return Err(self.err(&format!("{at}.values"), format!("{bad}: expected finite numbers")));
            }
            if a.shape() != shape {
                return Err(self.err(
                    at,
                    format!("init values has shape {} but `{name}` is {}", shape_str(a.shape()), shape_str(shape)),
                ));
            }
            return Ok(a);
        }
        for (form, bounds) in [("uniform", m.uniform), ("normal", m.normal), ("numpy_uniform", m.numpy_uniform)] {
            if let Some([a, b]) = bounds {
                if !(a.is_finite() && b.is_finite()) {
                    return Err(self.err(
                        &format!("{at}.{form}"),
                        format!("{form} needs two finite numbers, got [{}, {}]", py_repr(a), py_repr(b)),
                    ));
                }
            }
        }
        if let Some([_, std]) = m.normal {
            if std < 0.0 {
                return Err(self.err(&format!("{at}.normal"), format!("normal needs a std ≥ 0, got {}", py_repr(std))));
            }
        }
        if let Some([lo, hi]) = m.uniform {
            let dist = Uniform::new(lo, hi)
                .map_err(|_| self.err(&format!("{at}.uniform"), format!("uniform needs lo < hi, got [{lo}, {hi}]")))?;
            return Ok(ArrayD::from_shape_simple_fn(IxDyn(shape), || dist.sample(rng)));
        }
        if let Some([mean, std]) = m.normal {
            let dist = Normal::new(mean, std)
                .map_err(|_| self.err(&format!("{at}.normal"), format!("normal needs a finite std ≥ 0, got {std}")))?;
            return Ok(ArrayD::from_shape_simple_fn(IxDyn(shape), || dist.sample(rng)));
        }
        if let Some(file) = &m.npy {
            let path = self.dir.join(file);
            let a = read_npy_numbers(&path, self.limits).map_err(|e| self.err(&format!("{at}.npy"), e))?;
            if let Some(bad) = first_non_finite(&a) {
                return Err(
                    self.err(&format!("{at}.npy"), format!("{}: {bad}: expected finite numbers", path.display()))
                );
            }
            return self.stored_to_ours(a, m.layout, p, &path);
        }
        if let Some(bounds) = m.numpy_uniform {
            return self.numpy_uniform(m, bounds, p);
        }
        unreachable!("InitSpec::Map holds exactly one form, checked when read")
    }

    /// `numpy_uniform: [lo, hi]`: numpy's `RandomState(seed).uniform(lo, hi, shape)`, as the
    /// homework draws its weights.
    fn numpy_uniform(&self, m: &InitMap, [lo, hi]: [f64; 2], p: &Param) -> Result<ArrayD<f64>> {
        let Param { shape, folded, at, .. } = *p;
        let bias_column = m.bias_column.unwrap_or_default();
        if bias_column != BiasColumn::Prepended && !folded {
            return Err(self.err(
                &format!("{at}.bias_column"),
                "bias_column applies to a weight matrix with a folded bias (bias: folded)",
            ));
        }
        // The homework draws the non-bias block and prepends a zero bias column; other
        // semesters draw the whole block (seeded by its size) and zero or keep column 0.
        let block: Vec<usize> =
            if folded && bias_column == BiasColumn::Prepended { vec![shape[0], shape[1] - 1] } else { shape.to_vec() };
        let count: usize = block.iter().product();
        let seed = m.seed.unwrap_or(count as u64);
        let seed = u32::try_from(seed)
            .map_err(|_| self.err(&format!("{at}.seed"), "numpy seeds must be between 0 and 2**32 - 1"))?;
        let mut np = NumpyRandomState::new(seed);
        let mut drawn = ArrayD::from_shape_simple_fn(IxDyn(&block), || np.uniform(lo, hi));
        match (folded, bias_column) {
            (false, _) | (true, BiasColumn::Drawn) => return Ok(drawn),
            (true, BiasColumn::Zeroed) => {
                drawn.slice_mut(ndarray::s![.., 0]).fill(0.0);
                return Ok(drawn);
            }
            (true, BiasColumn::Prepended) => {}
        }
        let mut full = ArrayD::zeros(IxDyn(shape));
        full.slice_mut(ndarray::s![.., 1..]).assign(&drawn);
        Ok(full)
    }

    /// An array read from a file, in the layout it was stored in, as the parameter's value.
    fn stored_to_ours(
        &self,
        a: ArrayD<f64>,
        layout: Option<StoredLayout>,
        p: &Param,
        path: &Path,
    ) -> Result<ArrayD<f64>> {
        let Param { name, shape, folded, at } = *p;
        let transposed_shape: Vec<usize> = shape.iter().rev().copied().collect();
        let layout = match layout {
            Some(l) => l,
            None if a.shape() == shape => StoredLayout::Same,
            None if shape.len() == 2 && a.shape() == transposed_shape.as_slice() => StoredLayout::Transposed,
            None => {
                let transposed = if shape.len() == 2 && transposed_shape != shape {
                    format!(" (or {} transposed)", shape_str(&transposed_shape))
                } else {
                    String::new()
                };
                return Err(self.err(
                    at,
                    format!(
                        "{} has shape {} but `{name}` is {}{transposed}",
                        path.display(),
                        shape_str(a.shape()),
                        shape_str(shape),
                    ),
                ));
            }
        };
        let wanted = match layout {
            StoredLayout::Same | StoredLayout::BiasLast => shape.to_vec(),
            StoredLayout::Transposed | StoredLayout::BiasLastTransposed => transposed_shape,
        };
        if a.shape() != wanted.as_slice() || (layout != StoredLayout::Same && shape.len() != 2) {
            return Err(self.err(
                &format!("{at}.layout"),
                format!(
                    "{} has shape {}; stored {:?} a {} `{name}` has shape {}",
                    path.display(),
                    shape_str(a.shape()),
                    layout,
                    shape_str(shape),
                    shape_str(&wanted)
                ),
            ));
        }
        if matches!(layout, StoredLayout::BiasLast | StoredLayout::BiasLastTransposed) && !folded {
            return Err(self.err(&format!("{at}.layout"), "a bias column needs a weight matrix with bias: folded"));
        }
        let m = a.into_dimensionality::<ndarray::Ix2>().map_err(|e| self.err(at, e.to_string()))?;
        let m = if matches!(layout, StoredLayout::Transposed | StoredLayout::BiasLastTransposed) {
            m.reversed_axes()
        } else {
            m
        };
        let mut out = m.to_owned();
        if matches!(layout, StoredLayout::BiasLast | StoredLayout::BiasLastTransposed) {
            let n = m.ncols();
            out.slice_mut(ndarray::s![.., 1..]).assign(&m.slice(ndarray::s![.., ..n - 1]));
            out.column_mut(0).assign(&m.column(n - 1));
        }
        Ok(out.into_dyn())
    }
}

/// The first element that is NaN or infinite, described with its index.
fn first_non_finite(a: &ArrayD<f64>) -> Option<String> {
    let (flat, v) = a.iter().enumerate().find(|(_, v)| !v.is_finite())?;
    Some(format!("element {} is {}", crate::notation::entry_str(a.shape(), flat), py_repr(*v)))
}

/// A numeric `.npy` array (float64, float32 or integers, converted to float64).
fn read_npy_numbers(path: &Path, limits: crate::limits::Limits) -> std::result::Result<ArrayD<f64>, String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let meta = file.metadata().map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    let mut reader = std::io::BufReader::new(&mut file);
    crate::npy::read(&mut reader, meta.len(), limits).map_err(|e| format!("{}: {e}", path.display()))
}
