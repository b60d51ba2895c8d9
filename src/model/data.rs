//! A model's examples: the data its file names (a CSV file or inline rows) or the command line
//! gives instead, and the check that every example fits the graph (its feature count, and
//! labels that every classification loss in the graph can take).

use ndarray::{ArrayD, IxDyn};

use crate::data::Dataset;
use crate::engine::{NodeId, Op};
use crate::error::{Error, Result};
use crate::numfmt::py_repr;

use super::spec::{self, ModelFile};
use super::{Ctx, Model};

impl Ctx<'_> {
    /// The train and test data, and the key the test data was given under (`test` or
    /// `validation`): the command line's files where given, else the model file's.
    pub(super) fn load_data(&self, spec: &ModelFile) -> Result<(Option<Dataset>, Option<Dataset>, String)> {
        let (train, test, key) = self.load_model_data(spec)?;
        let train = match &self.data.train {
            Some(path) => Some(Dataset::from_csv(path)?),
            None => train,
        };
        let test = match &self.data.test {
            Some(path) => Some(Dataset::from_csv(path)?),
            None => test,
        };
        Ok((train, test, key))
    }

    /// The data the model file names (`data:`), but none that the command line replaces.
    fn load_model_data(&self, spec: &ModelFile) -> Result<(Option<Dataset>, Option<Dataset>, String)> {
        let Some(data) = &spec.data else {
            return Ok((None, None, "test".into()));
        };
        if data.test.is_some() && data.validation.is_some() {
            return Err(self.err("data.validation", "give `test` or its synonym `validation`, not both"));
        }
        // Data replaced on the command line is not read at all: its file may not exist here.
        let train = match &data.train {
            Some(src) if self.data.train.is_none() => Some(self.load_source(src, "data.train")?),
            _ => None,
        };
        let load_test = self.data.test.is_none();
        let (test, key) = match (&data.test, &data.validation) {
            (Some(src), _) => (if load_test { Some(self.load_source(src, "data.test")?) } else { None }, "test"),
            (None, Some(src)) => {
                (if load_test { Some(self.load_source(src, "data.validation")?) } else { None }, "validation")
            }
            (None, None) => (None, "test"),
        };
        Ok((train, test, key.to_string()))
    }

    /// One data source at `at`: a CSV file beside the model, or inline rows.
    fn load_source(&self, src: &spec::DataSource, at: &str) -> Result<Dataset> {
        match (&src.csv, &src.rows) {
            (Some(csv), None) => {
                let path = self.dir.join(csv);
                if !path.exists() {
                    return Err(self.err(&format!("{at}.csv"), format!("data file {} does not exist", path.display())));
                }
                if path.is_dir() {
                    return Err(self
                        .err(&format!("{at}.csv"), format!("{} is a directory; expected a CSV file", path.display())));
                }
                Dataset::from_csv(&path)
            }
            (None, Some(rows)) => {
                Dataset::from_rows("inline rows", rows, |i, message| self.err(&format!("{at}.rows[{i}]"), message))
            }
            _ => Err(self.err(at, "data takes exactly one of {csv: PATH} or {rows: [[label, x1, ...], ...]}")),
        }
    }

    /// Checks every example against the graph: feature count and labels in the loss's range.
    pub(super) fn check_data(&self, model: &Model) -> Result<()> {
        let graph = &model.graph;
        let classes = self.check_classes(model)?;
        let Some(features) = graph.features() else {
            return Ok(());
        };
        let width = graph.node(features).shape[0];
        for (data, key) in [(&model.train_data, "train".to_string()), (&model.test_data, model.test_key.clone())] {
            let Some(data) = data else { continue };
            let locate_row = |i: usize, message: String| -> Error {
                if data.source == "inline rows" {
                    self.err(&format!("data.{key}.rows[{i}]"), message)
                } else {
                    Error::Data { file: data.source.clone(), row: i + 1, message }
                }
            };
            if data.width() != width {
                return Err(locate_row(
                    0,
                    format!(
                        "expected {} features after the label (the model's input x has {}), got {}",
                        width,
                        width,
                        data.width()
                    ),
                ));
            }
            if let Some(k) = classes {
                for (i, &label) in data.labels.iter().enumerate() {
                    if label.fract() != 0.0 || label < 0.0 || label >= k as f64 {
                        let what = if k == 2 {
                            "binary_cross_entropy needs labels 0 or 1".to_string()
                        } else {
                            format!("cross_entropy over {k} classes needs labels 0 to {}", k - 1)
                        };
                        return Err(locate_row(i, format!("label {label} is out of range: {what}")));
                    }
                }
            }
            if classes.is_none() {
                if let Some(i) = data.labels.iter().position(|l| !l.is_finite()) {
                    let label = py_repr(data.labels[i]);
                    return Err(locate_row(i, format!("label {label}: expected a finite number")));
                }
            }
            for (i, row) in data.features.rows().into_iter().enumerate() {
                if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                    return Err(locate_row(i, format!("feature {} is {}: expected a finite number", j + 1, row[j])));
                }
            }
        }
        Ok(())
    }

    /// Every classification loss in the graph, wherever it stands (J = 2 · cross_entropy(..)
    /// too), checked once: a class given as a number or an input must be one of its classes,
    /// a class `cross_entropy` reads is fixed (a number, an input or the data's label y*);
    /// returns the fewest classes a loss takes the data's labels for (checked by the caller).
    fn check_classes(&self, model: &Model) -> Result<Option<usize>> {
        let graph = &model.graph;
        let mut classes: Option<usize> = None;
        for n in graph.nodes() {
            let k = match &n.op {
                Op::BinaryCrossEntropy { .. } => 2,
                Op::CrossEntropy { .. } => graph.node(n.inputs[0]).shape.iter().product(),
                _ => continue,
            };
            let label = graph.node(n.inputs[1]);
            match label.op {
                Op::Label => classes = Some(classes.map_or(k, |c| c.min(k))),
                _ => {
                    let Some(value) = fixed_value(model, n.inputs[1]) else {
                        if matches!(n.op, Op::BinaryCrossEntropy { .. }) {
                            continue;
                        }
                        return Err(self.err(
                            "graph.compute",
                            format!(
                                "{}: its class `{}` depends on a parameter; cross_entropy takes a fixed class: a \
                                 number, an input or the data's label",
                                n.name, label.name
                            ),
                        ));
                    };
                    for v in value {
                        if v.fract() != 0.0 || v < 0.0 || v >= k as f64 {
                            return Err(self.err(
                                "graph.compute",
                                format!("{}: the class {v} is out of range: it takes classes 0 to {}", n.name, k - 1),
                            ));
                        }
                    }
                }
            }
        }
        Ok(classes)
    }
}

/// The value of node `id` when no parameter and no data reaches it (so it never changes as the
/// run goes): computed from the numbers and inputs it is made of.
fn fixed_value(model: &Model, id: NodeId) -> Option<Vec<f64>> {
    let graph = &model.graph;
    let mut needed = vec![false; id + 1];
    needed[id] = true;
    for u in (0..=id).rev() {
        if !needed[u] {
            continue;
        }
        match graph.node(u).op {
            Op::Param | Op::Features | Op::Label => return None,
            _ => graph.node(u).inputs.iter().for_each(|&i| needed[i] = true),
        }
    }
    let mut values: Vec<ArrayD<f64>> = vec![ArrayD::zeros(IxDyn(&[0])); id + 1];
    for (u, n) in graph.nodes()[..=id].iter().enumerate().filter(|&(u, _)| needed[u]) {
        values[u] = match n.op {
            Op::Const(c) => ArrayD::from_elem(n.shape.clone(), c),
            Op::Input => model.initial.iter().find(|(i, _)| *i == u).map(|(_, v)| v.clone())?,
            _ => {
                let mut out = ArrayD::zeros(n.shape.clone());
                n.op.forward(&n.inputs, &values, &mut out);
                out
            }
        };
    }
    Some(values[id].iter().copied().collect())
}
