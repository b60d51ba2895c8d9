//! Initial weights as homework code makes them: `.npy` files in float32 or integers and in the
//! student's layout (transposed, bias last), and numpy's seeded draws of the whole block.

use std::path::Path;

use bptui::model::Model;
use ndarray::{arr2, Array2, ArrayD};

fn model_with_init(dir: &Path, init: &str) -> Result<Model, bptui::error::Error> {
    let yaml = format!(
        "name: m\nnetwork:\n  inputs: 2\n  layers:\n    - {{op: linear, weights: alpha, units: 3, init: {init}}}\n    - {{op: sigmoid}}\n    - {{op: linear, units: 1}}\n    - {{op: sigmoid}}\n  loss: {{op: binary_cross_entropy}}\n"
    );
    let path = dir.join("m.yaml");
    std::fs::write(&path, yaml).unwrap();
    Model::load(&path)
}

fn alpha(m: &Model) -> ArrayD<f64> {
    let id = m.graph().find("alpha").unwrap();
    m.initial().iter().find(|(p, _)| *p == id).unwrap().1.clone()
}

/// alpha is 3 × (2 + 1): column 0 the bias.
fn expected() -> Array2<f64> {
    arr2(&[[0.5, 1.0, 2.0], [-0.5, 3.0, 4.0], [0.25, 5.0, 6.0]])
}

#[test]
fn npy_in_float32_integers_and_other_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let w = expected();
    let f32s = w.mapv(|v| v as f32);
    ndarray_npy::write_npy(dir.path().join("f32.npy"), &f32s).unwrap();
    let m = model_with_init(dir.path(), "{npy: f32.npy}").unwrap();
    assert_eq!(alpha(&m), w.clone().into_dyn());

    let ints = arr2(&[[1i64, 2, 3], [4, 5, 6], [7, 8, 9]]);
    ndarray_npy::write_npy(dir.path().join("int.npy"), &ints).unwrap();
    let m = model_with_init(dir.path(), "{npy: int.npy}").unwrap();
    assert_eq!(alpha(&m), ints.mapv(|v| v as f64).into_dyn());

    // A 3 × 3 matrix is its own transpose's shape, so the layout is said; a (2+1) × 3 one of a
    // non-square parameter would be recognised alone (see the 4 × 3 case below).
    ndarray_npy::write_npy(dir.path().join("t.npy"), &w.t().to_owned()).unwrap();
    let m = model_with_init(dir.path(), "{npy: t.npy, layout: transposed}").unwrap();
    assert_eq!(alpha(&m), w.clone().into_dyn());

    let mut last = Array2::zeros((3, 3));
    for r in 0..3 {
        last[[r, 0]] = w[[r, 1]];
        last[[r, 1]] = w[[r, 2]];
        last[[r, 2]] = w[[r, 0]];
    }
    ndarray_npy::write_npy(dir.path().join("last.npy"), &last).unwrap();
    let m = model_with_init(dir.path(), "{npy: last.npy, layout: bias_last}").unwrap();
    assert_eq!(alpha(&m), w.clone().into_dyn());
}

#[test]
fn a_transposed_npy_of_a_non_square_parameter_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "name: m\nnetwork:\n  inputs: 3\n  layers:\n    - {op: linear, weights: alpha, units: 2, init: {npy: t.npy}}\n    - {op: sigmoid}\n    - {op: linear, units: 1}\n    - {op: sigmoid}\n  loss: {op: binary_cross_entropy}\n";
    let w = arr2(&[[0.0, 1.0, 2.0, 3.0], [0.5, 4.0, 5.0, 6.0]]);
    ndarray_npy::write_npy(dir.path().join("t.npy"), &w.t().to_owned()).unwrap();
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, yaml).unwrap();
    let m = Model::load(&path).unwrap();
    assert_eq!(alpha(&m), w.into_dyn());
}

/// The whole units × (in + 1) block drawn from one seed: `zeroed` is `drawn` with column 0 set
/// to zero, and both differ from the homework's default (which draws units × in).
#[test]
fn numpy_uniform_bias_columns() {
    let dir = tempfile::tempdir().unwrap();
    let drawn = alpha(&model_with_init(dir.path(), "{numpy_uniform: [-0.1, 0.1], bias_column: drawn}").unwrap());
    let zeroed = alpha(&model_with_init(dir.path(), "{numpy_uniform: [-0.1, 0.1], bias_column: zeroed}").unwrap());
    let prepended = alpha(&model_with_init(dir.path(), "{numpy_uniform: [-0.1, 0.1]}").unwrap());
    let mut expect = drawn.clone();
    expect.slice_mut(ndarray::s![.., 0]).fill(0.0);
    assert_eq!(zeroed, expect);
    assert!(drawn.iter().all(|v| (-0.1..0.1).contains(v)));
    // The bias column holds drawn numbers, not zeros.
    assert!(drawn.slice(ndarray::s![.., 0]).iter().all(|v| *v != 0.0));
    assert_ne!(prepended, zeroed);
    assert!(prepended.slice(ndarray::s![.., 0]).iter().all(|v| *v == 0.0));
    let err = model_with_init(dir.path(), "{uniform: [-0.1, 0.1], bias_column: drawn}").unwrap_err();
    assert!(err.to_string().contains("`bias_column` goes with numpy_uniform only"), "{err}");
}
