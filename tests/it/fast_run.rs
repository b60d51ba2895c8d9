//! `run`'s fast path (`Session::run_fast`) gives bit for bit the numbers of the step-by-step
//! session: the parameters, every example's loss, every epoch's metrics and where the first
//! NaN or infinity arose, on every bundled model and on random networks (sparse, dense,
//! overflowing and non-finite data, SGD and Adagrad, both backward versions).

use std::path::Path;

use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::Session;
use proptest::prelude::*;

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same_run(model: &Model, algorithm: Backward, what: &str) {
    let mut slow = Session::new(model.clone(), algorithm);
    slow.run_to_end();
    let mut fast = Session::new(model.clone(), algorithm);
    let mut calls = 0;
    fast.run_fast(|_| calls += 1);
    assert!(calls > 0, "{what}: run_fast reports progress");
    let graph = slow.graph();
    for &p in graph.params() {
        let (a, b) = (&slow.workspace().values[p], &fast.workspace().values[p]);
        assert_eq!(a.shape(), b.shape());
        for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            assert!(same(*x, *y), "{what}: parameter {} entry {i}: step-by-step {x:e}, fast {y:e}", graph.node(p).name);
        }
    }
    assert_eq!(slow.losses().len(), fast.losses().len(), "{what}: number of examples");
    for (a, b) in slow.losses().iter().zip(fast.losses()) {
        assert_eq!((a.epoch, a.example), (b.epoch, b.example), "{what}");
        assert!(
            same(a.loss, b.loss),
            "{what}: loss of epoch {} example {}: {:e} vs {:e}",
            a.epoch,
            a.example,
            a.loss,
            b.loss
        );
    }
    assert_eq!(slow.metrics().len(), fast.metrics().len(), "{what}: number of epochs");
    for (a, b) in slow.metrics().iter().zip(fast.metrics()) {
        for (x, y) in [(a.train, b.train), (a.test, b.test)] {
            assert_eq!(x.is_some(), y.is_some(), "{what}");
            if let (Some(x), Some(y)) = (x, y) {
                assert!(same(x.loss, y.loss), "{what}: epoch {} loss {:e} vs {:e}", a.epoch, x.loss, y.loss);
                assert_eq!(x.error.map(f64::to_bits), y.error.map(f64::to_bits), "{what}: epoch {} error", a.epoch);
            }
        }
    }
    assert_eq!(slow.first_non_finite(), fast.first_non_finite(), "{what}: first NaN/Inf");
    assert_eq!(slow.steps(), fast.steps(), "{what}: micro-steps counted");
}

#[test]
fn every_bundled_model_runs_the_same_fast() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let mut model = Model::load(&path).unwrap();
            model.set_epochs(model.config().epochs.max(2));
            for algorithm in [Backward::A, Backward::B] {
                assert_same_run(&model, algorithm, &path.display().to_string());
            }
            n += 1;
        }
    }
    assert!(n >= 7, "found {n} models");
}

#[test]
fn the_homework_network_with_a_large_learning_rate_agrees_when_it_overflows() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/hw_network.yaml");
    for lr in [1e3, 1e150, 1e300] {
        let mut model = Model::load(&path).unwrap();
        model.set_learning_rate(lr);
        assert_same_run(&model, Backward::B, &format!("hw_network, learning rate {lr}"));
    }
}

/// A feature: mostly exact zeros and ones (as pixels), sometimes another number, rarely a
/// huge one (data must be finite; products of huge numbers overflow).
fn feature() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just("0".to_string()),
        2 => Just("-0.0".to_string()),
        6 => Just("1".to_string()),
        4 => (-3.0f64..3.0).prop_map(|v| format!("{v:?}")),
        1 => prop_oneof![Just("1.0e200"), Just("-3.0e250"), Just("1.7e308"), Just("1.0e-310")]
            .prop_map(str::to_string),
    ]
}

#[derive(Debug, Clone)]
pub(crate) struct Net {
    inputs: usize,
    hidden: Vec<(usize, &'static str, bool)>,
    output: u8,
    classes: usize,
    rows: Vec<(usize, Vec<String>)>,
    test_rows: usize,
    lr: f64,
    adagrad: bool,
    epochs: usize,
    shuffle: &'static str,
    init: f64,
    seed: u64,
}

pub(crate) fn net() -> impl Strategy<Value = Net> {
    (
        1usize..10,
        prop::collection::vec(
            (1usize..7, prop_oneof![Just("sigmoid"), Just("tanh"), Just("relu")], any::<bool>()),
            0..3,
        ),
    )
        .prop_flat_map(|(inputs, hidden)| {
            (
                Just(inputs),
                Just(hidden),
                0u8..3,
                2usize..5,
                prop::collection::vec((0usize..4, prop::collection::vec(feature(), inputs)), 1..7),
                0usize..3,
                prop_oneof![Just(0.05), Just(0.5), Just(4.0), Just(1e100), Just(1e200)],
                prop::bool::weighted(0.2),
                1usize..4,
                prop_oneof![Just("none"), Just("seeded")],
                prop_oneof![Just(0.1), Just(1.0), Just(1e160)],
                0u64..1000,
            )
        })
        .prop_map(
            |(inputs, hidden, output, classes, rows, test_rows, lr, adagrad, epochs, shuffle, init, seed)| Net {
                inputs,
                hidden,
                output,
                classes,
                rows,
                test_rows,
                lr,
                adagrad,
                epochs,
                shuffle,
                init,
                seed,
            },
        )
}

impl Net {
    pub(crate) fn yaml(&self) -> String {
        let mut layers = String::new();
        for (i, (units, act, separate)) in self.hidden.iter().enumerate() {
            let bias = if *separate { "separate" } else { "folded" };
            layers += &format!(
                "    - {{op: linear, name: h{i}, weights: W{i}, units: {units}, bias: {bias}, init: {{uniform: [-{0}, {0}]}}}}\n    - {{op: {act}}}\n",
                self.init
            );
        }
        let (out, loss, label) = match self.output {
            0 => (format!("    - {{op: linear, name: b, weights: beta, units: {}, init: {{uniform: [-0.5, 0.5]}}}}\n    - {{op: softmax, name: y}}\n", self.classes), "cross_entropy", self.classes),
            1 => ("    - {op: linear, name: b, weights: beta, units: 1, bias: separate, init: {uniform: [-0.5, 0.5]}}\n    - {op: sigmoid, name: y}\n".to_string(), "binary_cross_entropy", 2),
            _ => ("    - {op: linear, name: y, weights: beta, units: 1, init: {uniform: [-0.5, 0.5]}}\n".to_string(), "squared_error", 4),
        };
        let row = |(l, f): &(usize, Vec<String>)| format!("[{}, {}]", l % label, f.join(", "));
        let train: Vec<String> = self.rows.iter().map(row).collect();
        let test: Vec<String> = self.rows.iter().take(self.test_rows).map(row).collect();
        let test = if test.is_empty() { String::new() } else { format!("  test: {{rows: [{}]}}\n", test.join(", ")) };
        format!(
            "name: random\nnetwork:\n  inputs: {}\n  layers:\n{layers}{out}  loss: {{op: {loss}, name: J}}\ndata:\n  train: {{rows: [{}]}}\n{test}train: {{learning_rate: {:e}, epochs: {}, seed: {}, shuffle: {}, optimizer: {}}}\n",
            self.inputs,
            train.join(", "),
            self.lr,
            self.epochs,
            self.seed,
            self.shuffle,
            if self.adagrad { "adagrad" } else { "sgd" },
        )
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_networks_run_the_same_fast(net in net(), a in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("random.yaml");
        let yaml = net.yaml();
        std::fs::write(&path, &yaml).unwrap();
        let model = match Model::load(&path) {
            Ok(m) => m,
            Err(e) => panic!("{e}\n{yaml}"),
        };
        let algorithm = if a { Backward::A } else { Backward::B };
        assert_same_run(&model, algorithm, &yaml);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    /// The homework's network (one sigmoid layer, softmax, cross-entropy, SGD), which `run`
    /// trains in a loop of its own: sparse and dense data, learning rates that overflow.
    #[test]
    fn homework_networks_run_the_same_fast(net in net(), units in 1usize..9, a in any::<bool>()) {
        let net = Net { hidden: vec![(units, "sigmoid", false)], output: 0, adagrad: false, ..net };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("homework.yaml");
        let yaml = net.yaml();
        std::fs::write(&path, &yaml).unwrap();
        let model = Model::load(&path).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let algorithm = if a { Backward::A } else { Backward::B };
        prop_assert!(Session::new(model.clone(), algorithm).runs_as_homework_network(), "{}", yaml);
        assert_same_run(&model, algorithm, &yaml);
    }
}

/// Networks that are almost the homework's run node by node, with the same numbers: a
/// softmax of the input itself or of a parameter, a tanh layer, a separate bias, a label
/// computed from the data.
#[test]
fn networks_near_the_homework_network_run_node_by_node() {
    let data = "data:\n  train: {rows: [[0, 1.0, 0.0, 3.0], [2, 0.5, 0.0, 1.0], [1, 0.0, 1.0, 0.0]]}\ntrain: {learning_rate: 0.1, epochs: 2}\n";
    let hidden = |extra: &str| {
        format!("name: n\nnetwork:\n  inputs: 3\n  layers:\n    - {{op: linear, name: a, weights: alpha, units: 2{extra}}}\n")
    };
    let out = "    - {op: linear, name: b, weights: beta, units: 3}\n    - {op: softmax, name: y_hat}\n  loss: {op: cross_entropy, name: J}\n";
    let models = [
        format!("name: n\nnetwork:\n  inputs: 3\n  layers:\n    - {{op: softmax, name: y_hat}}\n  loss: {{op: cross_entropy, name: J}}\n{data}"),
        format!("name: n\ngraph:\n  inputs: {{x: features, t: label}}\n  params: {{theta: {{shape: [3], init: {{values: [0.1, 0.2, 0.3]}}}}}}\n  compute:\n    - y = softmax(theta)\n    - J = cross_entropy(y, t)\n  output: J\n{data}"),
        format!("name: n\ngraph:\n  inputs: {{x: features, t: label}}\n  compute:\n    - y = softmax(x)\n    - J = cross_entropy(y, t)\n  output: J\n{data}"),
        format!("{}    - {{op: tanh, name: z}}\n{out}{data}", hidden("")),
        format!("{}    - {{op: sigmoid, name: z}}\n{out}{data}", hidden(", bias: separate")),
        format!("{}    - {{op: sigmoid, name: z}}\n{out}{data}", hidden("")),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (k, yaml) in models.iter().enumerate() {
        let path = dir.path().join(format!("m{k}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let model = Model::load(&path).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let homework = Session::new(model.clone(), Backward::B).runs_as_homework_network();
        assert_eq!(homework, k == models.len() - 1, "{yaml}");
        assert_same_run(&model, Backward::B, yaml);
    }
}

#[test]
fn the_bundled_homework_networks_run_in_their_own_loop() {
    for name in ["hw_network", "ocr_letters"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("models/{name}.yaml"));
        let model = Model::load(&path).unwrap();
        assert!(Session::new(model, Backward::B).runs_as_homework_network(), "{name}");
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/two_hidden.yaml");
    assert!(!Session::new(Model::load(&path).unwrap(), Backward::B).runs_as_homework_network());
}

/// A NaN that a Version B push writes into an input's adjoint is noticed at the step that
/// pushed it, and names that step; in Version A, at the step that pulls it. (The lecture's
/// dJ/dy = −y*/y + (1 − y*)/(1 − y) is 0/0 once σ(b) rounds to 1.)
#[test]
fn a_nan_is_noticed_at_the_step_that_made_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("saturated.yaml");
    std::fs::write(
        &path,
        "name: saturated\nnetwork:\n  inputs: 1\n  layers:\n    - {op: linear, name: b, weights: beta, units: 1, init: {values: [[0.0, 60.0]]}}\n    - {op: sigmoid, name: y}\n  loss: {op: binary_cross_entropy, name: J}\ndata:\n  train: {rows: [[1, 1.0]]}\ntrain: {learning_rate: 0.1, epochs: 1}\n",
    )
    .unwrap();
    let model = Model::load(&path).unwrap();
    let graph = model.graph().clone();
    let (y, j) = (graph.find("y").unwrap(), graph.find("J").unwrap());
    for (algorithm, step_at, by) in [(Backward::B, j, j), (Backward::A, y, y)] {
        let mut s = Session::new(model.clone(), algorithm);
        let event = loop {
            let event = s.step();
            if s.first_non_finite().is_some() {
                break event;
            }
        };
        let nf = s.first_non_finite().unwrap();
        assert_eq!(event.node(), Some(step_at), "{algorithm:?}: noticed at the step that made it");
        assert_eq!((nf.node, nf.by, nf.phase), (y, by, bptui::session::Phase::Backward), "{algorithm:?}");
        // The story names the step and the numbers it read.
        let story = bptui::control::breakpoints::non_finite_story(&s, nf);
        let expected = match algorithm {
            Backward::B => "dJ/dy[0] = NaN from the backward step at J (its push into dJ/dy) with y[0] = 1, y* = 1",
            Backward::A => {
                "dJ/dy[0] = NaN from the backward step at y (pulled from J) with dJ/dJ = 1, y[0] = 1, y* = 1"
            }
        };
        assert_eq!(story, expected, "{algorithm:?}");
        // J itself is finite, computed from b: its text says so rather than −[1 log 1 + 0 log 0].
        let story =
            bptui::engine::rules::forward_story(&graph, s.workspace(), j, 0, bptui::numfmt::Digits::Short).unwrap();
        assert!(story.contains("y = 1 in floating point, so J is computed from the logit b"), "{story}");
        assert!(!story.contains("log 0"), "{story}");
    }
}
