//! Graph models (`graph:`): named inputs (numbers, or each example's features or label),
//! parameters with their shapes and starting values, and the lines of `compute` that
//! [`expr`](super::expr) reads into nodes.

use rand_chacha::ChaCha8Rng;

use crate::data::Dataset;
use crate::engine::{Graph, GraphBuilder, NodeId, Op};
use crate::error::{Error, Result};
use crate::notation::shape_str;

use super::init::Param;
use super::{element_count, expr, locate, spec, too_big, Ctx, Initial};

impl Ctx<'_> {
    /// The graph of a `graph:` section, and the starting values of its parameters and inputs.
    pub(super) fn build_graph(
        &self,
        spec: &spec::GraphSpec,
        data: Option<&Dataset>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Graph, Initial)> {
        let mut g = GraphBuilder::new();
        let mut b = expr::ExprBuilder::default();
        let mut initial = Vec::new();
        self.declare_inputs(spec, data, &mut g, &mut b, &mut initial)?;
        self.declare_params(spec, rng, &mut g, &mut b, &mut initial)?;
        for (i, line) in spec.compute.iter().enumerate() {
            let at = format!("graph.compute[{i}]");
            b.assignment(&mut g, line).map_err(|e| {
                let (l, c) = locate::locate(self.source, &locate::path(&at));
                let quoted = self
                    .source
                    .lines()
                    .nth(l - 1)
                    .and_then(|t| t.chars().nth(c - 1))
                    .is_some_and(|ch| ch == '"' || ch == '\'');
                Error::Model {
                    file: self.file.clone(),
                    line: l,
                    column: c + e.column + usize::from(quoted),
                    message: e.message,
                }
            })?;
        }
        let output = self.scalar_output(spec, &g, &b)?;
        if data.is_some() && !g.nodes().iter().any(|n| n.op == Op::Features) {
            return Err(self.err("graph.inputs", "the model has data but no input is bound to `features`"));
        }
        Ok((g.finish(output), initial))
    }

    /// The leaves of `graph.inputs`: each example's features or label, or a number (whose value
    /// goes into `initial`).
    fn declare_inputs(
        &self,
        spec: &spec::GraphSpec,
        data: Option<&Dataset>,
        g: &mut GraphBuilder,
        b: &mut expr::ExprBuilder,
        initial: &mut Initial,
    ) -> Result<()> {
        for (name, value) in &spec.inputs.0 {
            let at = format!("graph.inputs.{name}");
            super::check_name(name).map_err(|m| self.err_at_key(&at, m))?;
            let id = match value.as_str() {
                Some("features") => {
                    let Some(data) = data else {
                        return Err(self.err(
                            &at,
                            format!("`{name}` is bound to each example's features, but the model has no data.train"),
                        ));
                    };
                    g.leaf(name, Op::Features, vec![data.width()])
                }
                Some("label") => g.leaf(name, Op::Label, vec![]),
                Some(other) => {
                    return Err(self.err(
                        &at,
                        format!("expected a number, a nested list of numbers, `features` or `label`, got {other:?}"),
                    ));
                }
                None => {
                    let array = crate::nested::array(value).map_err(|m| self.err(&at, m))?;
                    let id = g.leaf(name, Op::Input, array.shape().to_vec());
                    initial.push((id, array));
                    id
                }
            };
            b.declare(name, id);
        }
        Ok(())
    }

    /// The leaves of `graph.params`, each with its starting value in `initial`.
    fn declare_params(
        &self,
        spec: &spec::GraphSpec,
        rng: &mut ChaCha8Rng,
        g: &mut GraphBuilder,
        b: &mut expr::ExprBuilder,
        initial: &mut Initial,
    ) -> Result<()> {
        for (name, param) in &spec.params.0 {
            let at = format!("graph.params.{name}");
            super::check_name(name).map_err(|m| self.err_at_key(&at, m))?;
            if b.names.contains_key(name) {
                return Err(self.err(&at, format!("`{name}` is already an input")));
            }
            let count = element_count(&param.shape);
            if count.is_none_or(|n| n > self.limits.max_numbers) {
                return Err(self.err(
                    &format!("{at}.shape"),
                    too_big(&format!("shape {} of `{name}`", shape_str(&param.shape)), count, self.limits),
                ));
            }
            let id = g.leaf(name, Op::Param, param.shape.clone());
            let init = Param { name, shape: &param.shape, folded: false, at: &format!("{at}.init") };
            let value = self.init_value(param.init.as_ref(), &init, rng)?;
            initial.push((id, value));
            b.declare(name, id);
        }
        Ok(())
    }

    /// `graph.output`'s node, which must be defined and a scalar (backpropagation starts there).
    fn scalar_output(&self, spec: &spec::GraphSpec, g: &GraphBuilder, b: &expr::ExprBuilder) -> Result<NodeId> {
        let Some(&output) = b.names.get(&spec.output) else {
            return Err(self
                .err("graph.output", format!("output `{}` is not defined by inputs, params or compute", spec.output)));
        };
        if !g.nodes()[output].shape.is_empty() {
            return Err(self.err(
                "graph.output",
                format!(
                    "output `{}` has shape {}; backpropagation needs a scalar output (wrap it in sum(...))",
                    spec.output,
                    shape_str(&g.nodes()[output].shape)
                ),
            ));
        }
        Ok(output)
    }
}
