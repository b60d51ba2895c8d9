//! Layered networks (`network:`): the features x, each layer on the one before (a linear map
//! with its weights, or an activation), then the loss on the label y*. Every node gets its own
//! name, and its equation as the lecture writes it, from the op's [`formula`](Op::formula).

use ndarray::{ArrayD, IxDyn};
use rand_chacha::ChaCha8Rng;

use crate::engine::{Graph, GraphBuilder, NodeId, Op};
use crate::error::Result;
use crate::notation::shape_str;

use super::init::Param;
use super::spec::{BiasMode, LayerOp, LayerSpec, LossOp, LossSpec, NetworkSpec};
use super::{too_big, Ctx, Initial};
use crate::notation::greek;

/// The network as it is built: its graph so far, its parameters' starting values, and the
/// names taken.
struct Parts {
    g: GraphBuilder,
    initial: Initial,
    names: Vec<String>,
}

impl Ctx<'_> {
    /// The graph of a `network:` section, and its parameters' starting values.
    pub(super) fn build_network(&self, net: &NetworkSpec, rng: &mut ChaCha8Rng) -> Result<(Graph, Initial)> {
        if net.inputs == 0 {
            return Err(self.err("network.inputs", "inputs must be at least 1 (features per example)"));
        }
        if net.inputs > self.limits.max_numbers {
            return Err(
                self.err("network.inputs", too_big(&format!("inputs: {}", net.inputs), Some(net.inputs), self.limits))
            );
        }
        if net.layers.is_empty() {
            return Err(self.err("network.layers", "a network needs at least one layer"));
        }
        let mut parts = Parts { g: GraphBuilder::new(), initial: Vec::new(), names: vec!["x".into(), "y*".into()] };
        let mut current = parts.g.leaf("x", Op::Features, vec![net.inputs]);
        for i in 0..net.layers.len() {
            current = self.layer(&mut parts, net, i, current, rng)?;
        }
        let loss = self.loss(&mut parts, &net.loss, current)?;
        Ok((parts.g.finish(loss), parts.initial))
    }

    /// Takes `name` (given at `at`) for a node, or says that another node has it.
    fn claim(&self, parts: &mut Parts, name: &str, at: &str) -> Result<()> {
        super::check_name(name).map_err(|m| self.err(at, m))?;
        if parts.names.iter().any(|n| n == name) {
            return Err(self.err(at, format!("the name `{name}` is used twice; every node needs its own name")));
        }
        parts.names.push(name.to_string());
        Ok(())
    }

    /// Layer `i` of the network on the node `input`; its node.
    fn layer(
        &self,
        parts: &mut Parts,
        net: &NetworkSpec,
        i: usize,
        input: NodeId,
        rng: &mut ChaCha8Rng,
    ) -> Result<NodeId> {
        let layer = &net.layers[i];
        let at = format!("network.layers[{i}]");
        let name = layer.name.clone().unwrap_or_else(|| format!("{}{}", layer_op(layer.op).name(), i + 1));
        self.claim(parts, &name, &format!("{at}.name"))?;
        self.check_layer(net, i, &at)?;
        let (op, inputs) = match layer.op {
            LayerOp::Linear => self.linear(parts, layer, &at, i, input, rng)?,
            other => (layer_op(other), vec![input]),
        };
        // Parameters by the lecture's letters (α), the layer's input by its name.
        let names: Vec<String> = inputs
            .iter()
            .map(|&id| &parts.g.nodes()[id])
            .map(|n| if n.op == Op::Param { greek(&n.name) } else { n.name.clone() })
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let eq = format!(
            "{name} = {}",
            op.written(&names, crate::numfmt::Digits::Short).expect("a layer's op has a formula")
        );
        parts.g.op(&name, op, inputs, eq).map_err(|m| self.err(&at, m))
    }

    /// What layer `i` may have and where it may stand, whatever its input.
    fn check_layer(&self, net: &NetworkSpec, i: usize, at: &str) -> Result<()> {
        let layer = &net.layers[i];
        if layer.op != LayerOp::Linear {
            for (given, key) in [
                (layer.units.is_some(), "units"),
                (layer.weights.is_some(), "weights"),
                (layer.bias.is_some(), "bias"),
                (layer.init.is_some(), "init"),
            ] {
                if given {
                    return Err(self.err(
                        &format!("{at}.{key}"),
                        format!("`{key}` belongs to linear layers; {} has no weights", layer_op(layer.op).name()),
                    ));
                }
            }
        }
        if layer.op == LayerOp::Softmax && i != net.layers.len() - 1 {
            return Err(self.err(at, "softmax must be the last layer, followed by the loss cross_entropy"));
        }
        if layer.op == LayerOp::Softmax && net.loss.op != LossOp::CrossEntropy {
            return Err(self.err(
                "network.loss",
                "softmax outputs class probabilities and goes with the loss cross_entropy; \
                 binary_cross_entropy and squared_error need one output (a sigmoid for binary_cross_entropy)",
            ));
        }
        Ok(())
    }

    /// A linear layer's weights (and separate bias) on the node `input`, with their starting
    /// values; the op that applies them, and its inputs.
    fn linear(
        &self,
        parts: &mut Parts,
        layer: &LayerSpec,
        at: &str,
        i: usize,
        input: NodeId,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Op, Vec<NodeId>)> {
        let Some(units) = layer.units else {
            return Err(self.err(at, "a linear layer needs `units` (its number of outputs)"));
        };
        if units == 0 {
            return Err(self.err(&format!("{at}.units"), "units must be at least 1"));
        }
        let wname = layer.weights.clone().unwrap_or_else(|| format!("W{}", i + 1));
        self.claim(parts, &wname, &format!("{at}.weights"))?;
        let bias = layer.bias.unwrap_or_default();
        // The input's size ≤ the limit (checked for inputs and every earlier layer's units).
        let input_size = parts.g.nodes()[input].shape[0];
        let cols = if bias == BiasMode::Folded { input_size + 1 } else { input_size };
        let count = units.checked_mul(cols);
        if count.is_none_or(|n| n > self.limits.max_numbers) {
            return Err(self.err(
                &format!("{at}.units"),
                too_big(&format!("units: {units} makes `{wname}` {units} × {cols}, which"), count, self.limits),
            ));
        }
        let w = parts.g.leaf(&wname, Op::Param, vec![units, cols]);
        let param =
            Param { name: &wname, shape: &[units, cols], folded: bias == BiasMode::Folded, at: &format!("{at}.init") };
        let value = self.init_value(layer.init.as_ref(), &param, rng)?;
        parts.initial.push((w, value));
        Ok(match bias {
            BiasMode::Folded => (Op::Linear, vec![w, input]),
            BiasMode::None => (Op::MatMul, vec![w, input]),
            BiasMode::Separate => {
                let bname = format!("{wname}_bias");
                self.claim(parts, &bname, &format!("{at}.weights"))?;
                let b = parts.g.leaf(&bname, Op::Param, vec![units]);
                parts.initial.push((b, ArrayD::zeros(IxDyn(&[units]))));
                (Op::Affine, vec![w, input, b])
            }
        })
    }

    /// The loss on the last layer's node `last` and the label y*; its node.
    fn loss(&self, parts: &mut Parts, spec: &LossSpec, last: NodeId) -> Result<NodeId> {
        let out = parts.g.nodes()[last].clone();
        let loss_name = spec.name.clone().unwrap_or_else(|| "J".into());
        self.claim(parts, &loss_name, "network.loss.name")?;
        let size: usize = out.shape.iter().product();
        let op = match spec.op {
            LossOp::BinaryCrossEntropy => {
                if out.op != Op::Sigmoid || size != 1 {
                    return Err(self.err(
                        "network.loss",
                        format!(
                            "binary_cross_entropy needs a last layer `sigmoid` with one output, but `{}` is {} of shape {}",
                            out.name,
                            out.op.name(),
                            shape_str(&out.shape)
                        ),
                    ));
                }
                Op::BinaryCrossEntropy { logit: Some(out.inputs[0]) }
            }
            LossOp::CrossEntropy => {
                if out.op != Op::Softmax {
                    return Err(self.err(
                        "network.loss",
                        format!(
                            "cross_entropy needs a last layer `softmax`, but the last layer `{}` is {}",
                            out.name,
                            out.op.name()
                        ),
                    ));
                }
                Op::CrossEntropy { logit: Some(out.inputs[0]) }
            }
            LossOp::SquaredError => {
                if size != 1 {
                    return Err(self.err(
                        "network.loss",
                        format!(
                            "squared_error needs one output, but `{}` has shape {}",
                            out.name,
                            shape_str(&out.shape)
                        ),
                    ));
                }
                Op::SquaredError
            }
        };
        let label = parts.g.leaf("y*", Op::Label, vec![]);
        let eq = format!(
            "{loss_name} = {}",
            op.written(&[&out.name, "y*"], crate::numfmt::Digits::Short).expect("a loss has a formula")
        );
        parts.g.op(&loss_name, op, vec![last, label], eq).map_err(|m| self.err("network.loss", m))
    }
}

/// The op of a layer (a linear layer's, before its bias mode picks [`Op::Linear`],
/// [`Op::MatMul`] or [`Op::Affine`]), whose name the layer's default name and messages use.
fn layer_op(op: LayerOp) -> Op {
    match op {
        LayerOp::Linear => Op::Linear,
        LayerOp::Sigmoid => Op::Sigmoid,
        LayerOp::Tanh => Op::Tanh,
        LayerOp::Relu => Op::Relu,
        LayerOp::Softmax => Op::Softmax,
    }
}
