//! bptui's trace against the lecture's formulas worked out by hand, with plain loops over
//! f64 and nothing from the engine: the lecture's Case 2 (sigmoid hidden layer, sigmoid
//! output, binary cross-entropy) and the homework's network (softmax output, cross-entropy),
//! every node value, adjoint and updated parameter of every example, to 1e-12 relative.

use std::path::PathBuf;

use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::record_run;
use bptui::session::Session;
use bptui::trace::{ExampleRecord, Record};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn read_csv(path: &str) -> Vec<(f64, Vec<f64>)> {
    std::fs::read_to_string(repo(path))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|c| c.parse().unwrap()).collect();
            (v[0], v[1..].to_vec())
        })
        .collect()
}

/// Writes a model file with explicit initial weights next to a temporary directory.
fn model_with_values(yaml: &str) -> (tempfile::TempDir, Model) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.yaml");
    std::fs::write(&path, yaml).unwrap();
    let model = Model::load(&path).unwrap_or_else(|e| panic!("{e}"));
    (dir, model)
}

fn trace_of(model: Model, algorithm: Backward) -> Vec<ExampleRecord> {
    let mut session = Session::new(model, algorithm);
    let mut out = Vec::new();
    record_run(&mut session, None, |r| {
        if let Record::Example(e) = r {
            out.push(e);
        }
        Ok(())
    })
    .unwrap();
    out
}

fn close(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= 1e-12 * ours.abs().max(theirs.abs()) + 1e-15
}

fn assert_close(record: &ExampleRecord, section: &str, name: &str, expected: &[f64]) {
    let list = match section {
        "forward" => &record.forward,
        "adjoints" => &record.adjoints,
        _ => &record.params,
    };
    let (_, value) = list.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{section}.{name} missing"));
    let got: Vec<f64> = value.iter().copied().collect();
    assert_eq!(got.len(), expected.len(), "{section}.{name} size");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            close(*g, *e),
            "epoch {} example {}: {section}.{name}[{i}] bptui {g} vs by hand {e}",
            record.epoch,
            record.example
        );
    }
}

const ALPHA: [[f64; 4]; 4] =
    [[0.1, -0.2, 0.3, 0.05], [-0.1, 0.4, -0.3, 0.2], [0.0, 0.15, 0.25, -0.35], [0.2, -0.05, 0.1, 0.3]];
const BETA: [f64; 5] = [0.05, -0.3, 0.4, 0.2, -0.1];

/// The lecture's Case 2 network with the explicit weights ALPHA and BETA on the two_layer
/// data; `train` is the model's `train:` map.
fn case2_model(train: &str) -> (tempfile::TempDir, Model) {
    let data = repo("models/data/two_layer_train.csv");
    let yaml = format!(
        "name: case2\nnetwork:\n  inputs: 3\n  layers:\n    - {{op: linear, name: a, weights: alpha, units: 4, init: {{values: {:?}}}}}\n    - {{op: sigmoid, name: z}}\n    - {{op: linear, name: b, weights: beta, units: 1, init: {{values: [{:?}]}}}}\n    - {{op: sigmoid, name: y}}\n  loss: {{op: binary_cross_entropy, name: J}}\ndata:\n  train: {{csv: {}}}\ntrain: {train}\n",
        ALPHA,
        BETA,
        data.display()
    );
    model_with_values(&yaml)
}

#[test]
fn case_2_two_layer_every_number_of_three_epochs() {
    let (_dir, model) = case2_model("{learning_rate: 0.3, epochs: 3}");
    let records = trace_of(model, Backward::B);
    let examples = read_csv("models/data/two_layer_train.csv");
    assert_eq!(records.len(), 3 * examples.len());

    let gamma = 0.3;
    let mut alpha = ALPHA;
    let mut beta = BETA;
    let mut records = records.iter();
    for _epoch in 0..3 {
        for (label, features) in &examples {
            let r = records.next().unwrap();
            // Forward, as the lecture's Case 2 table: a_j = Σ_i α_ji x_i with x_0 = 1, …
            let x: Vec<f64> = std::iter::once(1.0).chain(features.iter().copied()).collect();
            let a: Vec<f64> = (0..4).map(|j| (0..4).map(|i| alpha[j][i] * x[i]).sum()).collect();
            let z: Vec<f64> = a.iter().map(|&v| sigmoid(v)).collect();
            let zt: Vec<f64> = std::iter::once(1.0).chain(z.iter().copied()).collect();
            let b: f64 = (0..5).map(|j| beta[j] * zt[j]).sum();
            let y = sigmoid(b);
            let ys = *label;
            let j = -(ys * y.ln() + (1.0 - ys) * (1.0 - y).ln());
            // Backward: dJ/dy = −y*/y + (1−y*)/(1−y) (the loss has the minus sign),
            // dJ/db = dJ/dy·y(1−y), dJ/dβ_j = dJ/db·z_j, dJ/dz_j = dJ/db·β_j,
            // dJ/da_j = dJ/dz_j·z_j(1−z_j), dJ/dα_ji = dJ/da_j·x_i, dJ/dx_i = Σ_j dJ/da_j·α_ji.
            let dy = -ys / y + (1.0 - ys) / (1.0 - y);
            let db = dy * y * (1.0 - y);
            let dbeta: Vec<f64> = zt.iter().map(|&zj| db * zj).collect();
            let dz: Vec<f64> = (0..4).map(|j| db * beta[j + 1]).collect();
            let da: Vec<f64> = (0..4).map(|j| dz[j] * z[j] * (1.0 - z[j])).collect();
            let mut dalpha = [[0.0; 4]; 4];
            for jj in 0..4 {
                for i in 0..4 {
                    dalpha[jj][i] = da[jj] * x[i];
                }
            }
            let dx: Vec<f64> = (1..4).map(|i| (0..4).map(|jj| da[jj] * alpha[jj][i]).sum()).collect();

            assert_close(r, "forward", "x", features);
            assert_close(r, "forward", "a", &a);
            assert_close(r, "forward", "z", &z);
            assert_close(r, "forward", "b", &[b]);
            assert_close(r, "forward", "y", &[y]);
            assert_close(r, "forward", "J", &[j]);
            assert_close(r, "adjoints", "J", &[1.0]);
            assert_close(r, "adjoints", "y", &[dy]);
            assert_close(r, "adjoints", "b", &[db]);
            assert_close(r, "adjoints", "beta", &dbeta);
            assert_close(r, "adjoints", "z", &dz);
            assert_close(r, "adjoints", "a", &da);
            assert_close(r, "adjoints", "alpha", &dalpha.concat());
            assert_close(r, "adjoints", "x", &dx);

            // SGD: θ ← θ − γ g.
            for jj in 0..4 {
                for i in 0..4 {
                    alpha[jj][i] -= gamma * dalpha[jj][i];
                }
            }
            for jj in 0..5 {
                beta[jj] -= gamma * dbeta[jj];
            }
            assert_close(r, "params", "alpha", &alpha.concat());
            assert_close(r, "params", "beta", &beta);
        }
    }
}

#[test]
fn homework_network_softmax_cross_entropy_first_epoch() {
    // 128 pixels → 6 sigmoid units → softmax over 10 letters, weights given explicitly.
    let (d, m, k) = (6usize, 128usize, 10usize);
    let alpha0: Vec<Vec<f64>> =
        (0..d).map(|j| (0..=m).map(|i| ((j * 31 + i * 17) % 23) as f64 / 115.0 - 0.1).collect()).collect();
    let beta0: Vec<Vec<f64>> =
        (0..k).map(|c| (0..=d).map(|j| ((c * 13 + j * 7) % 19) as f64 / 95.0 - 0.1).collect()).collect();
    let data = repo("models/data/ocr_letters_train.csv");
    let yaml = format!(
        "name: hw\nnetwork:\n  inputs: 128\n  layers:\n    - {{op: linear, name: a, weights: alpha, units: {d}, init: {{values: {alpha0:?}}}}}\n    - {{op: sigmoid, name: z}}\n    - {{op: linear, name: b, weights: beta, units: {k}, init: {{values: {beta0:?}}}}}\n    - {{op: softmax, name: y_hat}}\n  loss: {{op: cross_entropy, name: J}}\ndata:\n  train: {{csv: {}}}\ntrain: {{learning_rate: 0.1, epochs: 1}}\n",
        data.display()
    );
    let (_dir, model) = model_with_values(&yaml);
    let records = trace_of(model, Backward::A);
    let examples = read_csv("models/data/ocr_letters_train.csv");
    let (mut alpha, mut beta) = (alpha0, beta0);
    for (r, (label, features)) in records.iter().zip(&examples).take(60) {
        // The homework's equations (hw5 conventions): a = α[1; x], z = σ(a), b = β[1; z],
        // ŷ = softmax(b), J = −log ŷ_label; dJ/db = ŷ − onehot, dJ/dβ = dJ/db [1; z]ᵀ,
        // dJ/dz = β[:, 1:]ᵀ dJ/db, dJ/da = dJ/dz ⊙ z(1 − z), dJ/dα = dJ/da [1; x]ᵀ.
        let x: Vec<f64> = std::iter::once(1.0).chain(features.iter().copied()).collect();
        let a: Vec<f64> = alpha.iter().map(|row| row.iter().zip(&x).map(|(w, v)| w * v).sum()).collect();
        let z: Vec<f64> = a.iter().map(|&v| sigmoid(v)).collect();
        let zt: Vec<f64> = std::iter::once(1.0).chain(z.iter().copied()).collect();
        let b: Vec<f64> = beta.iter().map(|row| row.iter().zip(&zt).map(|(w, v)| w * v).sum()).collect();
        let total: f64 = b.iter().map(|v| v.exp()).sum();
        let yhat: Vec<f64> = b.iter().map(|v| v.exp() / total).collect();
        let l = *label as usize;
        let j = -yhat[l].ln();
        let db: Vec<f64> = (0..k).map(|c| yhat[c] - if c == l { 1.0 } else { 0.0 }).collect();
        let dbeta: Vec<f64> =
            (0..k).flat_map(|c| zt.iter().map(move |&zj| (c, zj))).map(|(c, zj)| db[c] * zj).collect();
        let dz: Vec<f64> = (0..d).map(|jj| (0..k).map(|c| beta[c][jj + 1] * db[c]).sum()).collect();
        let da: Vec<f64> = (0..d).map(|jj| dz[jj] * z[jj] * (1.0 - z[jj])).collect();
        let dalpha: Vec<f64> =
            (0..d).flat_map(|jj| x.iter().map(move |&xi| (jj, xi))).map(|(jj, xi)| da[jj] * xi).collect();

        assert_close(r, "forward", "a", &a);
        assert_close(r, "forward", "z", &z);
        assert_close(r, "forward", "b", &b);
        assert_close(r, "forward", "y_hat", &yhat);
        assert_close(r, "forward", "J", &[j]);
        assert_close(r, "adjoints", "b", &db);
        assert_close(r, "adjoints", "beta", &dbeta);
        assert_close(r, "adjoints", "z", &dz);
        assert_close(r, "adjoints", "a", &da);
        assert_close(r, "adjoints", "alpha", &dalpha);

        for (row, chunk) in alpha.iter_mut().zip(dalpha.chunks(m + 1)) {
            for (w, g) in row.iter_mut().zip(chunk) {
                *w -= 0.1 * g;
            }
        }
        for (row, chunk) in beta.iter_mut().zip(dbeta.chunks(d + 1)) {
            for (w, g) in row.iter_mut().zip(chunk) {
                *w -= 0.1 * g;
            }
        }
        assert_close(r, "params", "alpha", &alpha.concat());
        assert_close(r, "params", "beta", &beta.concat());
    }
}

#[test]
fn adagrad_update_by_hand() {
    // s ← s + g², θ ← θ − γ g / √(s + ε), from zero s, on the lecture's Case 2 network.
    let (_dir, model) = case2_model("{learning_rate: 0.3, epochs: 1, optimizer: adagrad, epsilon: 1e-5}");
    let records = trace_of(model, Backward::A);
    let mut state_beta = [0.0f64; 5];
    let mut beta = BETA;
    for r in records.iter().take(5) {
        let g: Vec<f64> = r.adjoints.iter().find(|(n, _)| n == "beta").unwrap().1.iter().copied().collect();
        for j in 0..5 {
            state_beta[j] += g[j] * g[j];
            beta[j] -= 0.3 * g[j] / (state_beta[j] + 1e-5).sqrt();
        }
        assert_close(r, "params", "beta", &beta);
    }
}
