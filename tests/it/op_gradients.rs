//! Every op's local derivative against central differences of its forward rule.
//!
//! For each op a tiny graph J = Σ w ⊙ op(inputs) is built (w fixed random weights, so every
//! output element matters); backprop's dJ/d(input) must match (J(v+ε) − J(v−ε)) / 2ε, which
//! uses only forward evaluations. proptest draws shapes and values inside each op's domain.

use bptui::engine::{Backward, Graph, GraphBuilder, NodeId, Op, Workspace};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

/// A graph J = Σ w ⊙ op(leaves) with the given leaf values; returns it with the leaf ids.
fn weighted_graph(op: Op, leaves: &[ArrayD<f64>], weights_seed: u64) -> (Graph, Vec<NodeId>, Vec<ArrayD<f64>>) {
    let mut g = GraphBuilder::new();
    let ids: Vec<NodeId> =
        leaves.iter().enumerate().map(|(i, v)| g.leaf(&format!("v{i}"), Op::Input, v.shape().to_vec())).collect();
    let mut values = leaves.to_vec();
    let out = g.op("u", op, ids.clone(), "u".into()).expect("shapes fit");
    let loss = if g.nodes()[out].shape.is_empty() {
        out
    } else {
        let shape = g.nodes()[out].shape.clone();
        let w = g.leaf("w", Op::Input, shape.clone());
        let n: usize = shape.iter().product();
        let weights: Vec<f64> =
            (0..n).map(|i| (((i as u64 + 1) * 2654435761 + weights_seed) % 1000) as f64 / 500.0 - 1.0).collect();
        values.push(ArrayD::from_shape_vec(IxDyn(&shape), weights).unwrap());
        let prod = g.op("wu", Op::Mul, vec![w, out], "w ⊙ u".into()).unwrap();
        g.op("J", Op::Sum, vec![prod], "J".into()).unwrap()
    };
    let graph = g.finish(loss);
    (graph, ids, values)
}

pub(crate) fn workspace(graph: &Graph, values: &[ArrayD<f64>]) -> Workspace {
    let mut ws = Workspace::new(graph);
    let leaves: Vec<NodeId> = (0..graph.len()).filter(|&i| graph.node(i).op == Op::Input).collect();
    for (id, v) in leaves.iter().zip(values) {
        ws.values[*id].assign(v);
    }
    ws
}

/// Checks backprop against central differences for every differentiable input of `op`.
fn check_op(op: Op, leaves: Vec<ArrayD<f64>>, seed: u64) -> Result<(), TestCaseError> {
    let (graph, ids, values) = weighted_graph(op.clone(), &leaves, seed);
    let mut ws = workspace(&graph, &values);
    ws.forward_all(&graph);
    ws.backward_all(&graph, Backward::B);
    let eps = 1e-6;
    for (k, &id) in ids.iter().enumerate() {
        if !op.differentiable_input(k) {
            continue;
        }
        let analytic = ws.adjoints[id].clone();
        for i in 0..analytic.len() {
            let mut probe = workspace(&graph, &values);
            let original = probe.values[id].as_slice().unwrap()[i];
            probe.values[id].as_slice_mut().unwrap()[i] = original + eps;
            let plus = probe.forward_all(&graph);
            probe.values[id].as_slice_mut().unwrap()[i] = original - eps;
            let minus = probe.forward_all(&graph);
            let numeric = (plus - minus) / (2.0 * eps);
            let a = analytic.as_slice().unwrap()[i];
            let err = (a - numeric).abs() / (1.0 + a.abs().max(numeric.abs()));
            prop_assert!(err < 1e-6, "{:?} input {} element {}: backprop {} vs numeric {}", op, k, i, a, numeric);
        }
    }
    Ok(())
}

fn vec_in(n: usize, lo: f64, hi: f64) -> impl Strategy<Value = ArrayD<f64>> {
    prop::collection::vec(lo..hi, n).prop_map(move |v| ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap())
}

fn mat_in(r: usize, c: usize, lo: f64, hi: f64) -> impl Strategy<Value = ArrayD<f64>> {
    prop::collection::vec(lo..hi, r * c).prop_map(move |v| ArrayD::from_shape_vec(IxDyn(&[r, c]), v).unwrap())
}

fn scalar_in(lo: f64, hi: f64) -> impl Strategy<Value = ArrayD<f64>> {
    (lo..hi).prop_map(|v| ArrayD::from_elem(IxDyn(&[]), v))
}

/// Values bounded away from zero, either sign.
fn away_from_zero(n: usize) -> impl Strategy<Value = ArrayD<f64>> {
    prop::collection::vec((0.3f64..3.0, any::<bool>()), n).prop_map(move |v| {
        let v: Vec<f64> = v.into_iter().map(|(x, neg)| if neg { -x } else { x }).collect();
        ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap()
    })
}

/// Values bounded away from zero, so that relu's kink is not straddled by ±ε.
fn relu_domain(n: usize) -> impl Strategy<Value = ArrayD<f64>> {
    away_from_zero(n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn elementwise_binary(n in 1usize..5, seed in 0u64..1000, a in vec_in(4, -2.0, 2.0), b in away_from_zero(4)) {
        let a = a.slice_move(ndarray::s![..n]).into_dyn();
        let b = b.slice_move(ndarray::s![..n]).into_dyn();
        for op in [Op::Add, Op::Sub, Op::Mul, Op::Div] {
            check_op(op, vec![a.clone(), b.clone()], seed)?;
        }
    }

    #[test]
    fn elementwise_with_a_broadcast_scalar(s in scalar_in(0.5, 2.0), v in away_from_zero(3), seed in 0u64..1000) {
        for op in [Op::Add, Op::Sub, Op::Mul, Op::Div] {
            check_op(op.clone(), vec![s.clone(), v.clone()], seed)?;
            check_op(op, vec![v.clone(), s.clone()], seed)?;
        }
    }

    #[test]
    fn unary_everywhere_defined(v in vec_in(5, -3.0, 3.0), seed in 0u64..1000) {
        for op in [Op::Neg, Op::Exp, Op::Sin, Op::Cos, Op::Tanh, Op::Sigmoid, Op::Sum, Op::Softmax, Op::Prepend1, Op::Pow(2.0), Op::Pow(3.0)] {
            check_op(op, vec![v.clone()], seed)?;
        }
    }

    #[test]
    fn unary_on_positive_numbers(v in vec_in(4, 0.2, 4.0), seed in 0u64..1000) {
        for op in [Op::Log, Op::Sqrt, Op::Pow(0.5), Op::Pow(-1.5)] {
            check_op(op, vec![v.clone()], seed)?;
        }
    }

    #[test]
    fn relu_away_from_its_kink(v in relu_domain(5), seed in 0u64..1000) {
        check_op(Op::Relu, vec![v], seed)?;
    }

    #[test]
    fn dot_and_matrix_products(m in 1usize..4, n in 1usize..4, p in 1usize..3, seed in 0u64..1000,
                               a in mat_in(3, 3, -1.0, 1.0), x in vec_in(3, -1.0, 1.0), y in vec_in(3, -1.0, 1.0),
                               bm in mat_in(3, 2, -1.0, 1.0)) {
        let a = a.slice_move(ndarray::s![..m, ..n]).into_dyn();
        let x = x.slice_move(ndarray::s![..n]).into_dyn();
        let y = y.slice_move(ndarray::s![..n]).into_dyn();
        let bm = bm.slice_move(ndarray::s![..n, ..p]).into_dyn();
        check_op(Op::Dot, vec![x.clone(), y], seed)?;
        check_op(Op::MatMul, vec![a.clone(), x], seed)?;
        check_op(Op::MatMul, vec![a, bm], seed)?;
    }

    #[test]
    fn linear_maps(m in 1usize..4, n in 1usize..4, seed in 0u64..1000,
                   w in mat_in(3, 4, -1.0, 1.0), x in vec_in(3, -1.0, 1.0), b in vec_in(3, -1.0, 1.0)) {
        let folded = w.clone().slice_move(ndarray::s![..m, ..n + 1]).into_dyn();
        let plain = w.slice_move(ndarray::s![..m, ..n]).into_dyn();
        let x = x.slice_move(ndarray::s![..n]).into_dyn();
        let b = b.slice_move(ndarray::s![..m]).into_dyn();
        check_op(Op::Linear, vec![folded, x.clone()], seed)?;
        check_op(Op::Affine, vec![plain, x, b], seed)?;
    }

    #[test]
    fn losses(y in 0.05f64..0.95, label in 0usize..2, target in -2.0f64..2.0, probs in vec_in(4, 0.1, 1.0), class in 0usize..4, seed in 0u64..1000) {
        let y1 = ArrayD::from_elem(IxDyn(&[1]), y);
        let t = ArrayD::from_elem(IxDyn(&[]), label as f64);
        check_op(Op::BinaryCrossEntropy { logit: None }, vec![y1.clone(), t], seed)?;
        check_op(Op::SquaredError, vec![y1, ArrayD::from_elem(IxDyn(&[]), target)], seed)?;
        let total: f64 = probs.sum();
        let yhat = probs.mapv(|p| p / total);
        check_op(Op::CrossEntropy { logit: None }, vec![yhat, ArrayD::from_elem(IxDyn(&[]), class as f64)], seed)?;
    }
}

/// The losses computed from logits agree with the plain formula and stay finite where the
/// plain formula would take log(0).
#[test]
fn losses_from_logits_are_stable() {
    let mut g = GraphBuilder::new();
    let b = g.leaf("b", Op::Input, vec![1]);
    let y = g.op("y", Op::Sigmoid, vec![b], "y".into()).unwrap();
    let t = g.leaf("t", Op::Input, vec![]);
    let j = g.op("J", Op::BinaryCrossEntropy { logit: Some(b) }, vec![y, t], "J".into()).unwrap();
    let graph = g.finish(j);
    let mut ws = Workspace::new(&graph);
    // b = 0.3, y* = 1: J = −log σ(0.3) = log(1 + e^−0.3).
    ws.values[b].fill(0.3);
    ws.values[t].fill(1.0);
    let expected = (1.0f64 + (-0.3f64).exp()).ln();
    assert!((ws.forward_all(&graph) - expected).abs() < 1e-15);
    // b = 50, y* = 0: σ(50) rounds to 1, yet J = log(1 + e^50) ≈ 50.
    ws.values[b].fill(50.0);
    ws.values[t].fill(0.0);
    let j50 = ws.forward_all(&graph);
    assert!((j50 - (50.0 + (-50.0f64).exp().ln_1p())).abs() < 1e-12, "{j50}");
}
