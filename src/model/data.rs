//! A model's examples: the data its file names (a CSV file or inline rows) or the command line
//! gives instead, and the check that every example fits the graph (its feature count, and
//! labels that every classification loss in the graph can take).

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};

use crate::data::Dataset;
use crate::engine::{NodeId, Op};
use crate::error::{Error, Result};
use crate::numfmt::py_repr;

use super::spec::{self, ModelFile};
use super::{Ctx, Model};

/// The training and the test data, loaded by `train` and `test` from the files `files`: at
/// once when both are regular files (not the same pipe twice, nor a FIFO that would keep an
/// error about the other file waiting), else one after the other. A problem with the training
/// data is reported first.
fn load_both<T: Send>(
    files: [Option<&Path>; 2],
    train: impl FnOnce() -> Result<T>,
    test: impl FnOnce() -> Result<T> + Send,
) -> Result<(T, T)> {
    let regular = |p: Option<&Path>| p.and_then(|p| std::fs::metadata(p).ok()).is_some_and(|m| m.is_file());
    if files.into_iter().all(regular) {
        let (train, test) = crate::parallel::join(train, test);
        return Ok((train?, test?));
    }
    let train = train()?;
    Ok((train, test()?))
}

impl Ctx<'_> {
    /// The train and test data, and the key the test data was given under (`test` or
    /// `validation`): the command line's files where given, else the model file's.
    pub(super) fn load_data(&self, spec: &ModelFile) -> Result<(Option<Dataset>, Option<Dataset>, String)> {
        let (train, test, key) = self.load_model_data(spec)?;
        let load = |path: &Option<PathBuf>, given: Option<Dataset>| match path {
            Some(path) => Dataset::from_csv(path).map(Some),
            None => Ok(given),
        };
        let (train_path, test_path) = (&self.data.train, &self.data.test);
        let files = [train_path.as_deref(), test_path.as_deref()];
        let (train, test) = load_both(files, || load(train_path, train), || load(test_path, test))?;
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
        let train = data.train.as_ref().filter(|_| self.data.train.is_none()).map(|src| (src, "data.train"));
        let (test, key) = match (&data.test, &data.validation) {
            (Some(src), _) => (Some((src, "data.test")), "test"),
            (None, Some(src)) => (Some((src, "data.validation")), "validation"),
            (None, None) => (None, "test"),
        };
        let test = test.filter(|_| self.data.test.is_none());
        let load =
            |source: Option<(&spec::DataSource, &str)>| source.map(|(src, at)| self.load_source(src, at)).transpose();
        let file = |source: Option<(&spec::DataSource, &str)>| {
            source.and_then(|(src, _)| src.csv.as_ref()).map(|csv| self.dir.join(csv))
        };
        let (train_file, test_file) = (file(train), file(test));
        let (train, test) = load_both([train_file.as_deref(), test_file.as_deref()], || load(train), || load(test))?;
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
            for &(class, k) in &classes.computed {
                for i in 0..data.len() {
                    let value = class_value(model, class, Some((data, i))).unwrap_or_default();
                    if let Some(&v) = value.iter().find(|&&v| !in_range(v, k)) {
                        let name = &graph.node(class).name;
                        let what = if k == 0 { "no classes".to_string() } else { format!("classes 0 to {}", k - 1) };
                        return Err(locate_row(
                            i,
                            format!("the class `{name}` is {v} for this row; its loss takes {what}"),
                        ));
                    }
                }
            }
            if let Some(k) = classes.labels {
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
            if classes.labels.is_none() {
                if let Some(i) = data.labels.iter().position(|l| !l.is_finite()) {
                    let label = py_repr(data.labels[i]);
                    return Err(locate_row(i, format!("label {label}: expected a finite number")));
                }
            }
            for i in (0..data.len()).filter(|&i| !data.row_finite(i)) {
                let row = data.row(i);
                if let Some(k) = row.value.iter().position(|v| !v.is_finite()) {
                    let (j, v) = (row.index[k] as usize, row.value[k]);
                    return Err(locate_row(i, format!("feature {} is {v}: expected a finite number", j + 1)));
                }
            }
        }
        Ok(())
    }

    /// Every classification loss in the graph, wherever it stands (J = 2 · cross_entropy(..)
    /// too), checked once: a class given as a number, an input or a computation of them must
    /// be one of its classes; a class computed from the data is checked for every row; a class
    /// `cross_entropy` reads must not depend on a parameter (it could leave the classes as they
    /// train).
    fn check_classes(&self, model: &Model) -> Result<Classes> {
        let graph = &model.graph;
        let mut classes = Classes::default();
        for n in graph.nodes() {
            let k = match &n.op {
                Op::BinaryCrossEntropy { .. } => 2,
                Op::CrossEntropy { .. } => graph.node(n.inputs[0]).shape.iter().product(),
                _ => continue,
            };
            let out_of_range = |v: f64| {
                let what =
                    if k == 0 { "it has no classes".to_string() } else { format!("it takes classes 0 to {}", k - 1) };
                self.err("graph.compute", format!("{}: the class {v} is out of range: {what}", n.name))
            };
            let label = graph.node(n.inputs[1]);
            if label.op == Op::Label {
                if k == 0 {
                    return Err(out_of_range(0.0));
                }
                classes.labels = Some(classes.labels.map_or(k, |c: usize| c.min(k)));
                continue;
            }
            match class_value(model, n.inputs[1], None) {
                Ok(value) => {
                    if let Some(&v) = value.iter().find(|&&v| !in_range(v, k)) {
                        return Err(out_of_range(v));
                    }
                }
                Err(Reaches::Data) => classes.computed.push((n.inputs[1], k)),
                Err(Reaches::Param) if matches!(n.op, Op::CrossEntropy { .. }) => {
                    return Err(self.err(
                        "graph.compute",
                        format!(
                            "{}: its class `{}` depends on a parameter; cross_entropy takes a fixed class: a \
                             number, an input, the data's label or a computation of these",
                            n.name, label.name
                        ),
                    ));
                }
                // binary_cross_entropy reads its target as a number, never as an index.
                Err(Reaches::Param) => {}
            }
        }
        Ok(classes)
    }
}

/// What the classification losses of a graph take as classes.
#[derive(Default)]
struct Classes {
    /// The fewest classes a loss takes the data's labels y* for, as they are.
    labels: Option<usize>,
    /// Classes computed from the data (`y - 1`): the node and its loss's number of classes.
    computed: Vec<(NodeId, usize)>,
}

impl Model {
    /// The class the classification loss J reads for training row `row`: the row's label y*,
    /// or what the graph computes from it (`t - 1`); `None` when J is no classification loss
    /// or there is no training data.
    pub fn class_of_row(&self, row: usize) -> Option<f64> {
        let class = self.graph.class()?;
        let data = self.train_data.as_ref()?;
        match self.graph.node(class).op {
            Op::Label => data.labels.get(row).copied(),
            _ => class_value(self, class, Some((data, row))).ok()?.first().copied(),
        }
    }
}

/// Whether `v` is one of the classes 0 to k − 1.
fn in_range(v: f64, k: usize) -> bool {
    v.fract() == 0.0 && v >= 0.0 && v < k as f64
}

/// Why a node has no value before the run: what reaches it.
#[derive(Debug, PartialEq)]
enum Reaches {
    Param,
    Data,
}

/// The value of node `id` from the numbers, inputs and (with `row`) the data row it is made
/// of; `Err` says what else reaches it: a parameter, or the data when no row is given.
fn class_value(model: &Model, id: NodeId, row: Option<(&Dataset, usize)>) -> std::result::Result<Vec<f64>, Reaches> {
    let graph = &model.graph;
    let mut needed = vec![false; id + 1];
    needed[id] = true;
    let mut data = false;
    for u in (0..=id).rev() {
        if !needed[u] {
            continue;
        }
        match graph.node(u).op {
            Op::Param => return Err(Reaches::Param),
            Op::Features | Op::Label => data = true,
            _ => graph.node(u).inputs.iter().for_each(|&i| needed[i] = true),
        }
    }
    if data && row.is_none() {
        return Err(Reaches::Data);
    }
    let mut values: Vec<ArrayD<f64>> = vec![ArrayD::zeros(IxDyn(&[0])); id + 1];
    for (u, n) in graph.nodes()[..=id].iter().enumerate().filter(|&(u, _)| needed[u]) {
        let mut out = ArrayD::zeros(n.shape.clone());
        match (&n.op, row) {
            (Op::Const(c), _) => out.fill(*c),
            (Op::Features, Some((data, i))) => data.features_into(i, &mut out),
            (Op::Label, Some((data, i))) => data.label_into(i, &mut out),
            (Op::Input, _) => {
                if let Some((_, v)) = model.initial.iter().find(|(i, _)| *i == u) {
                    out.assign(v);
                }
            }
            _ => n.op.forward(&n.inputs, &values, &mut out),
        }
        values[u] = out;
    }
    Ok(values[id].iter().copied().collect())
}
