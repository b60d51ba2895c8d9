//! Model files (YAML) → engine graphs, in two stages as ripgrep does with its config: serde
//! structs that mirror the file ([`spec`]), then validation into a [`Model`] whose every
//! complaint names the file, line and column.

pub mod expr;
pub mod locate;
pub mod spec;

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::data::Dataset;
use crate::engine::optim::Optimizer;
use crate::engine::{shape_str, Graph, GraphBuilder, NodeId, Op};
use crate::error::{Error, Result};
use crate::numfmt::py_repr;
use crate::numpy_rng::NumpyRandomState;
use spec::{BiasColumn, StoredLayout};
use spec::{BiasMode, InitSpec, LayerOp, LossOp, ModelFile, Shuffle};

/// The most numbers a model may hold unless `--max-numbers` says otherwise: 2^26 (a value
/// and an adjoint for every element of every node count two). The session keeps about twice
/// that (the evaluation's workspace, parameters before their update, optimizer state), so a
/// model at the limit stays within 1 GiB.
pub const DEFAULT_MAX_NUMBERS: usize = 1 << 26;

static MAX_NUMBERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(DEFAULT_MAX_NUMBERS);

/// The most numbers a model (or an array read from a file) may hold.
pub fn max_numbers() -> usize {
    MAX_NUMBERS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets [`max_numbers`] (the command line's `--max-numbers`).
pub fn set_max_numbers(n: usize) {
    MAX_NUMBERS.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// The largest model file bptui reads: 16 MiB.
pub const MAX_MODEL_BYTES: u64 = 16 << 20;

/// The elements of `shape`, or `None` when the count overflows.
pub fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// The message for a size over the limit: what was asked, and how to allow it.
fn too_big(what: &str, count: Option<usize>) -> String {
    let limit = max_numbers();
    match count {
        Some(n) => format!(
            "{what} is {n} numbers, more than bptui's limit of {limit} for a whole model (raise it with --max-numbers N)"
        ),
        None => format!("{what} is more numbers than a computer can hold (bptui's limit is {limit})"),
    }
}

/// Training settings after defaults are applied.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub learning_rate: f64,
    pub epochs: usize,
    pub seed: u64,
    pub optimizer: Optimizer,
    pub shuffle: Shuffle,
}

/// A validated model: its graph, the starting values of its leaves, its data and settings.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub about: Option<String>,
    pub file: PathBuf,
    pub graph: Graph,
    /// Starting values of parameters and of a graph model's given inputs.
    pub initial: Vec<(NodeId, ArrayD<f64>)>,
    pub train_data: Option<Dataset>,
    pub test_data: Option<Dataset>,
    /// The key the test data was given under (`test` or `validation`), used in metrics files.
    pub test_key: String,
    pub config: TrainConfig,
    /// Names another implementation uses for our nodes: (their name, our name).
    pub aliases: Vec<(String, String)>,
    /// The classes' names, label 0 first (`classes:`).
    pub classes: Option<Vec<String>>,
    /// The features as an image of (rows, columns) (`image:`).
    pub image: Option<(usize, usize)>,
}

/// Data files given on the command line instead of the model's `data:`.
#[derive(Debug, Clone, Default)]
pub struct DataOverride {
    pub train: Option<PathBuf>,
    pub test: Option<PathBuf>,
}

impl Model {
    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<Model> {
        Model::load_with(path, &DataOverride::default())
    }

    /// Reads and validates a model file, with data files from the command line replacing
    /// `data.train` / `data.test`.
    pub fn load_with(path: &Path, data: &DataOverride) -> Result<Model> {
        let meta =
            std::fs::metadata(path).map_err(|e| Error::file(path, format!("cannot read the model file: {e}")))?;
        if !meta.is_file() {
            return Err(Error::file(path, "not a regular file: expected a model file (YAML)"));
        }
        let bytes = crate::input::read_bounded(path, "the model file", Some(MAX_MODEL_BYTES))?;
        if let Some((line, message)) = crate::input::utf8_error(&bytes) {
            let column = message.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(1);
            return Err(Error::Model { file: path.display().to_string(), line, column, message });
        }
        let source = String::from_utf8(bytes).unwrap_or_default();
        Model::from_source(path, &source, data)
    }

    /// Validates model text as if read from `path` (relative data paths resolve from there).
    pub fn from_source(path: &Path, source: &str, data: &DataOverride) -> Result<Model> {
        // A byte-order mark some editors write; YAML would read it as a second document.
        let source = source.strip_prefix('\u{feff}').unwrap_or(source);
        let ctx = Ctx {
            file: path.display().to_string(),
            source,
            dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            data: data.clone(),
        };
        let spec: ModelFile = serde_yaml::from_str(source).map_err(|e| ctx.yaml_error(&e))?;
        ctx.build(spec)
    }

    /// Checks that the model has the examples training needs (a network reads each
    /// example's features).
    pub fn require_examples(&self) -> Result<()> {
        if self.graph.features().is_some() && self.train_data.is_none() {
            return Err(Error::file(
                &self.file,
                "a network learns from examples, but the model has no data.train: add `data: {train: {csv: FILE}}` \
                 or give --train FILE",
            ));
        }
        Ok(())
    }

    /// Whether the loss is a classification loss (error rates are then reported).
    pub fn is_classifier(&self) -> bool {
        self.graph.prediction().is_some()
    }
}

/// Starting values of leaves: parameters and given inputs.
type Initial = Vec<(NodeId, ArrayD<f64>)>;

struct Ctx<'s> {
    file: String,
    source: &'s str,
    dir: PathBuf,
    data: DataOverride,
}

impl Ctx<'_> {
    fn yaml_error(&self, e: &serde_yaml::Error) -> Error {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
        // The location goes in front; other positions (where an unclosed bracket opened) stay.
        let mut message = plain_words(&e.to_string().replace(&format!(" at line {line} column {column}"), ""));
        // A key or value quoted by the YAML parser may hold newlines and be long: one short line.
        if message.chars().any(char::is_control) || message.chars().count() > 300 {
            let mut short: String = message.chars().take(300).flat_map(char::escape_default).collect();
            if message.chars().count() > 300 {
                short.push('…');
            }
            message = short;
        }
        let line_text = self.source.lines().nth(line.saturating_sub(1)).unwrap_or("");
        if line_text.contains('\t') {
            message += " (this line has a tab: YAML indents with spaces only)";
        }
        Error::Model { file: self.file.clone(), line, column, message }
    }

    /// An error at the key of the YAML node `at` (`graph` in `graph: ...`).
    fn err_at_key(&self, at: &str, message: impl Into<String>) -> Error {
        let (line, column) = locate::locate_key(self.source, &locate::path(at));
        Error::Model { file: self.file.clone(), line, column, message: message.into() }
    }

    /// An error at the YAML node `at` (a path such as `network.layers[1].units`).
    fn err(&self, at: &str, message: impl Into<String>) -> Error {
        let (line, column) = locate::locate(self.source, &locate::path(at));
        Error::Model { file: self.file.clone(), line, column, message: message.into() }
    }

    fn build(&self, spec: ModelFile) -> Result<Model> {
        let train = spec.train.as_ref();
        let optimizer = match train.and_then(|t| t.optimizer).unwrap_or_default() {
            spec::OptimizerName::Sgd => Optimizer::Sgd,
            spec::OptimizerName::Adagrad => {
                Optimizer::Adagrad { epsilon: train.and_then(|t| t.epsilon).unwrap_or(1e-5) }
            }
        };
        let config = TrainConfig {
            learning_rate: train.and_then(|t| t.learning_rate).unwrap_or(0.1),
            epochs: train.and_then(|t| t.epochs).unwrap_or(1),
            seed: train.and_then(|t| t.seed).unwrap_or(0),
            optimizer,
            shuffle: train.and_then(|t| t.shuffle).unwrap_or_default(),
        };
        if let Optimizer::Adagrad { epsilon } = config.optimizer {
            if !(epsilon.is_finite() && epsilon > 0.0) {
                return Err(self.err("train.epsilon", format!("epsilon must be a finite number > 0, got {epsilon}")));
            }
        }
        if config.epochs == 0 {
            return Err(self.err("train.epochs", "epochs must be at least 1"));
        }
        if !(config.learning_rate.is_finite() && config.learning_rate >= 0.0) {
            return Err(self.err("train.learning_rate", "learning_rate must be a finite number ≥ 0"));
        }
        let (train_data, test_data, test_key) = self.load_data(&spec)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let (graph, initial) = match (&spec.network, &spec.graph) {
            (Some(net), None) => self.build_network(net, &mut rng)?,
            (None, Some(g)) => self.build_graph(g, train_data.as_ref(), &mut rng)?,
            (Some(_), Some(_)) => {
                return Err(self.err_at_key("graph", "a model has exactly one of `network` or `graph`, not both"))
            }
            (None, None) => return Err(self.err_at_key("name", "a model needs a `network:` or a `graph:` section")),
        };
        // Every node holds a value and an adjoint.
        let total = graph.nodes().iter().try_fold(0usize, |acc, n| {
            element_count(&n.shape).and_then(|c| c.checked_mul(2)).and_then(|c| acc.checked_add(c))
        });
        if total.is_none_or(|n| n > max_numbers()) {
            let key = if spec.network.is_some() { "network" } else { "graph" };
            return Err(self.err_at_key(key, too_big("the model (a value and an adjoint for every node)", total)));
        }
        let model = Model {
            name: spec.name.clone(),
            about: spec.about.clone(),
            file: PathBuf::from(&self.file),
            graph,
            initial,
            train_data,
            test_data,
            test_key,
            config,
            aliases: spec.aliases.0.clone(),
            classes: spec.classes.clone(),
            image: spec.image.map(|[r, c]| (r, c)),
        };
        if let Some(classes) = &model.classes {
            let outputs = model.graph.prediction().map(|p| model.graph.node(p).shape.iter().product::<usize>());
            if outputs != Some(classes.len()) {
                return Err(self.err(
                    "classes",
                    format!(
                        "{} class names, but the model predicts {}",
                        classes.len(),
                        outputs.map(|n| format!("{n} classes")).unwrap_or_else(|| "no classes".into())
                    ),
                ));
            }
        }
        if let Some((r, c)) = model.image {
            let features = model.graph.features().map(|x| model.graph.node(x).shape.iter().product::<usize>());
            // Checked: an image's size must not overflow.
            let pixels = r.checked_mul(c);
            if pixels.is_none() || features != pixels {
                return Err(self.err(
                    "image",
                    format!(
                        "an image of {r} × {c} = {} pixels, but each example has {}",
                        pixels.map(|n| n.to_string()).unwrap_or_else(|| "more".into()),
                        features.map(|n| format!("{n} features")).unwrap_or_else(|| "no features".into())
                    ),
                ));
            }
        }
        self.check_data(&model)?;
        Ok(model)
    }

    fn load_data(&self, spec: &ModelFile) -> Result<(Option<Dataset>, Option<Dataset>, String)> {
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
    fn check_data(&self, model: &Model) -> Result<()> {
        let graph = &model.graph;
        let Some(features) = graph.features() else {
            return Ok(());
        };
        let width = graph.node(features).shape[0];
        // Every classification loss in the graph, wherever it stands (J = 2 · cross_entropy(..)
        // too): the number of classes it takes labels for. A class given as a number or an
        // input is checked here once; the data's labels below.
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
                    let value = model
                        .initial
                        .iter()
                        .find(|(id, _)| graph.node(*id).name == label.name)
                        .map(|(_, v)| v.iter().copied().collect::<Vec<f64>>())
                        .or(match label.op {
                            Op::Const(c) => Some(vec![c]),
                            _ => None,
                        });
                    for v in value.unwrap_or_default() {
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

    fn build_network(&self, net: &spec::NetworkSpec, rng: &mut ChaCha8Rng) -> Result<(Graph, Initial)> {
        if net.inputs == 0 {
            return Err(self.err("network.inputs", "inputs must be at least 1 (features per example)"));
        }
        if net.inputs > max_numbers() {
            return Err(self.err("network.inputs", too_big(&format!("inputs: {}", net.inputs), Some(net.inputs))));
        }
        if net.layers.is_empty() {
            return Err(self.err("network.layers", "a network needs at least one layer"));
        }
        let mut g = GraphBuilder::new();
        let mut initial = Vec::new();
        let mut current = g.leaf("x", Op::Features, vec![net.inputs]);
        let mut used_names: Vec<String> = vec!["x".into(), "y*".into()];
        let claim = |name: &str, at: &str, names: &mut Vec<String>| -> Result<()> {
            if names.iter().any(|n| n == name) {
                return Err(self.err(at, format!("the name `{name}` is used twice; every node needs its own name")));
            }
            names.push(name.to_string());
            Ok(())
        };
        let last = net.layers.len() - 1;
        for (i, layer) in net.layers.iter().enumerate() {
            let at = format!("network.layers[{i}]");
            let input_size = g.node(current).shape[0];
            let input_name = g.node(current).name.clone();
            let name = layer.name.clone().unwrap_or_else(|| format!("{}{}", layer_op_name(layer.op), i + 1));
            claim(&name, &format!("{at}.name"), &mut used_names)?;
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
                            format!("`{key}` belongs to linear layers; {} has no weights", layer_op_name(layer.op)),
                        ));
                    }
                }
            }
            if layer.op == LayerOp::Softmax && i != last {
                return Err(self.err(&at, "softmax must be the last layer, followed by the loss cross_entropy"));
            }
            if layer.op == LayerOp::Softmax && net.loss.op != LossOp::CrossEntropy {
                return Err(self.err(
                    "network.loss",
                    "softmax outputs class probabilities and goes with the loss cross_entropy; \
                     binary_cross_entropy and squared_error need one output (a sigmoid for binary_cross_entropy)",
                ));
            }
            current = match layer.op {
                LayerOp::Linear => {
                    let Some(units) = layer.units else {
                        return Err(self.err(&at, "a linear layer needs `units` (its number of outputs)"));
                    };
                    if units == 0 {
                        return Err(self.err(&format!("{at}.units"), "units must be at least 1"));
                    }
                    let wname = layer.weights.clone().unwrap_or_else(|| format!("W{}", i + 1));
                    claim(&wname, &format!("{at}.weights"), &mut used_names)?;
                    let bias = layer.bias.unwrap_or_default();
                    // input_size ≤ the limit (checked for inputs and every earlier layer's units).
                    let cols = if bias == BiasMode::Folded { input_size + 1 } else { input_size };
                    let count = units.checked_mul(cols);
                    if count.is_none_or(|n| n > max_numbers()) {
                        return Err(self.err(
                            &format!("{at}.units"),
                            too_big(&format!("units: {units} makes `{wname}` {units} × {cols}, which"), count),
                        ));
                    }
                    let w = g.leaf(&wname, Op::Param, vec![units, cols]);
                    let init_at = format!("{at}.init");
                    let value = self.init_value(
                        layer.init.as_ref(),
                        &[units, cols],
                        bias == BiasMode::Folded,
                        &init_at,
                        &wname,
                        rng,
                    )?;
                    initial.push((w, value));
                    let (op, inputs, eq) = match bias {
                        BiasMode::Folded => {
                            (Op::Linear, vec![w, current], format!("{name} = {}·[1; {input_name}]", greek(&wname)))
                        }
                        BiasMode::None => {
                            (Op::MatMul, vec![w, current], format!("{name} = {}·{input_name}", greek(&wname)))
                        }
                        BiasMode::Separate => {
                            let bname = format!("{wname}_bias");
                            claim(&bname, &format!("{at}.weights"), &mut used_names)?;
                            let b = g.leaf(&bname, Op::Param, vec![units]);
                            initial.push((b, ArrayD::zeros(IxDyn(&[units]))));
                            (
                                Op::Affine,
                                vec![w, current, b],
                                format!("{name} = {}·{input_name} + {}", greek(&wname), greek(&bname)),
                            )
                        }
                    };
                    g.op(&name, op, inputs, eq).map_err(|m| self.err(&at, m))?
                }
                other => {
                    let (op, eq) = match other {
                        LayerOp::Sigmoid => (Op::Sigmoid, format!("{name} = σ({input_name})")),
                        LayerOp::Tanh => (Op::Tanh, format!("{name} = tanh({input_name})")),
                        LayerOp::Relu => (Op::Relu, format!("{name} = max(0, {input_name})")),
                        _ => (Op::Softmax, format!("{name} = softmax({input_name})")),
                    };
                    g.op(&name, op, vec![current], eq).map_err(|m| self.err(&at, m))?
                }
            };
        }
        let out = g.node(current).clone();
        let loss_name = net.loss.name.clone().unwrap_or_else(|| "J".into());
        claim(&loss_name, "network.loss.name", &mut used_names)?;
        let size: usize = out.shape.iter().product();
        let (op, eq) = match net.loss.op {
            LossOp::BinaryCrossEntropy => {
                if out.op != Op::Sigmoid || size != 1 {
                    return Err(self.err(
                        "network.loss",
                        format!("binary_cross_entropy needs a last layer `sigmoid` with one output, but `{}` is {} of shape {}", out.name, out.op.name(), shape_str(&out.shape)),
                    ));
                }
                let y = &out.name;
                (
                    Op::BinaryCrossEntropy { logit: Some(out.inputs[0]) },
                    format!("{loss_name} = −[y* log {y} + (1−y*) log(1−{y})]"),
                )
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
                (Op::CrossEntropy { logit: Some(out.inputs[0]) }, format!("{loss_name} = −log {}[y*]", out.name))
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
                (Op::SquaredError, format!("{loss_name} = ½({} − y*)²", out.name))
            }
        };
        let label = g.leaf("y*", Op::Label, vec![]);
        let loss = g.op(&loss_name, op, vec![current, label], eq).map_err(|m| self.err("network.loss", m))?;
        Ok((g.finish(loss), initial))
    }

    fn build_graph(
        &self,
        spec: &spec::GraphSpec,
        data: Option<&Dataset>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Graph, Initial)> {
        let mut g = GraphBuilder::new();
        let mut b = expr::ExprBuilder::default();
        let mut initial = Vec::new();
        for (name, value) in &spec.inputs.0 {
            let at = format!("graph.inputs.{name}");
            check_name(name).map_err(|m| self.err(&at, m))?;
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
                    let array = yaml_array(value).map_err(|m| self.err(&at, m))?;
                    let id = g.leaf(name, Op::Input, array.shape().to_vec());
                    initial.push((id, array));
                    id
                }
            };
            b.declare(name, id);
        }
        for (name, param) in &spec.params.0 {
            let at = format!("graph.params.{name}");
            check_name(name).map_err(|m| self.err(&at, m))?;
            if b.names.contains_key(name) {
                return Err(self.err(&at, format!("`{name}` is already an input")));
            }
            let count = element_count(&param.shape);
            if count.is_none_or(|n| n > max_numbers()) {
                return Err(self.err(
                    &format!("{at}.shape"),
                    too_big(&format!("shape {} of `{name}`", shape_str(&param.shape)), count),
                ));
            }
            let id = g.leaf(name, Op::Param, param.shape.clone());
            let value = self.init_value(param.init.as_ref(), &param.shape, false, &format!("{at}.init"), name, rng)?;
            initial.push((id, value));
            b.declare(name, id);
        }
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
        let Some(&output) = b.names.get(&spec.output) else {
            return Err(self
                .err("graph.output", format!("output `{}` is not defined by inputs, params or compute", spec.output)));
        };
        if !g.node(output).shape.is_empty() {
            return Err(self.err(
                "graph.output",
                format!(
                    "output `{}` has shape {}; backpropagation needs a scalar output (wrap it in sum(...))",
                    spec.output,
                    shape_str(&g.node(output).shape)
                ),
            ));
        }
        if data.is_some() && !(0..g.len()).any(|i| g.node(i).op == Op::Features) {
            return Err(self.err("graph.inputs", "the model has data but no input is bound to `features`"));
        }
        Ok((g.finish(output), initial))
    }

    /// A parameter's starting value of `shape`, per its `init` (zeros when absent).
    fn init_value(
        &self,
        init: Option<&InitSpec>,
        shape: &[usize],
        folded: bool,
        at: &str,
        name: &str,
        rng: &mut ChaCha8Rng,
    ) -> Result<ArrayD<f64>> {
        let m = match init {
            None | Some(InitSpec::Zeros) => return Ok(ArrayD::zeros(IxDyn(shape))),
            Some(InitSpec::Map(m)) => m,
        };
        let check_shape = |a: ArrayD<f64>, what: &str| -> Result<ArrayD<f64>> {
            if a.shape() != shape {
                return Err(self.err(
                    at,
                    format!("{what} has shape {} but `{name}` is {}", shape_str(a.shape()), shape_str(shape)),
                ));
            }
            Ok(a)
        };
        if let Some(v) = &m.values {
            let a = yaml_array(v).map_err(|msg| self.err(&format!("{at}.values"), msg))?;
            if let Some(bad) = first_non_finite(&a) {
                return Err(self.err(&format!("{at}.values"), format!("{bad}: expected finite numbers")));
            }
            return check_shape(a, "init values");
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
            let a = read_npy_numbers(&path).map_err(|e| self.err(&format!("{at}.npy"), e))?;
            if let Some(bad) = first_non_finite(&a) {
                return Err(
                    self.err(&format!("{at}.npy"), format!("{}: {bad}: expected finite numbers", path.display()))
                );
            }
            return self.stored_to_ours(a, m.layout, shape, folded, at, name, &path);
        }
        if let Some([lo, hi]) = m.numpy_uniform {
            let bias_column = m.bias_column.unwrap_or_default();
            if bias_column != BiasColumn::Prepended && !folded {
                return Err(self.err(
                    &format!("{at}.bias_column"),
                    "bias_column applies to a weight matrix with a folded bias (bias: folded)",
                ));
            }
            // The homework draws the non-bias block and prepends a zero bias column; other
            // semesters draw the whole block (seeded by its size) and zero or keep column 0.
            let block: Vec<usize> = if folded && bias_column == BiasColumn::Prepended {
                vec![shape[0], shape[1] - 1]
            } else {
                shape.to_vec()
            };
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
            return Ok(full);
        }
        unreachable!("InitSpec::Map holds exactly one form, checked when read")
    }
    /// An array read from a file, in the layout it was stored in, as the parameter's value.
    #[allow(clippy::too_many_arguments)]
    fn stored_to_ours(
        &self,
        a: ArrayD<f64>,
        layout: Option<StoredLayout>,
        shape: &[usize],
        folded: bool,
        at: &str,
        name: &str,
        path: &Path,
    ) -> Result<ArrayD<f64>> {
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

fn layer_op_name(op: LayerOp) -> &'static str {
    match op {
        LayerOp::Linear => "linear",
        LayerOp::Sigmoid => "sigmoid",
        LayerOp::Tanh => "tanh",
        LayerOp::Relu => "relu",
        LayerOp::Softmax => "softmax",
    }
}

fn check_name(name: &str) -> std::result::Result<(), String> {
    let ok = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !ok {
        return Err(format!("`{name}` is not a usable name: letters, digits and _, starting with a letter"));
    }
    if expr::is_function(name) {
        return Err(format!("`{name}` is a function name"));
    }
    Ok(())
}

/// A parameter name as the lecture writes it: alpha → α.
pub fn greek(name: &str) -> String {
    const LETTERS: [(&str, &str); 8] = [
        ("alpha", "α"),
        ("beta", "β"),
        ("gamma", "γ"),
        ("theta", "θ"),
        ("omega", "ω"),
        ("lambda", "λ"),
        ("sigma", "σ"),
        ("delta", "δ"),
    ];
    for (word, letter) in LETTERS {
        if let Some(rest) = name.strip_prefix(word) {
            return format!("{letter}{rest}");
        }
    }
    name.to_string()
}

/// A number or a nested list of numbers as an array (rectangular, row-major).
pub fn yaml_array(v: &serde_yaml::Value) -> std::result::Result<ArrayD<f64>, String> {
    fn walk(
        v: &serde_yaml::Value,
        depth: usize,
        shape: &mut Vec<usize>,
        out: &mut Vec<f64>,
    ) -> std::result::Result<(), String> {
        match v {
            serde_yaml::Value::Number(n) => {
                if depth != shape.len() {
                    return Err("the nested lists are ragged: every row must have the same length".into());
                }
                out.push(n.as_f64().ok_or("not a number")?);
                Ok(())
            }
            serde_yaml::Value::Sequence(items) => {
                if depth == shape.len() {
                    if !out.is_empty() {
                        return Err("the nested lists are ragged: every row must have the same length".into());
                    }
                    shape.push(items.len());
                } else if shape[depth] != items.len() {
                    return Err(format!(
                        "the nested lists are ragged: a row has {} entries where others have {}",
                        items.len(),
                        shape[depth]
                    ));
                }
                if items.is_empty() {
                    return Err("empty list: expected numbers".into());
                }
                for item in items {
                    walk(item, depth + 1, shape, out)?;
                }
                Ok(())
            }
            other => Err(format!("expected a number or a list of numbers, got {}", yaml_kind(other))),
        }
    }
    let mut shape = Vec::new();
    let mut out = Vec::new();
    walk(v, 0, &mut shape, &mut out)?;
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| e.to_string())
}

fn yaml_kind(v: &serde_yaml::Value) -> &'static str {
    match v {
        serde_yaml::Value::Null => "nothing",
        serde_yaml::Value::Bool(_) => "true/false",
        serde_yaml::Value::String(_) => "text",
        serde_yaml::Value::Mapping(_) => "a map",
        _ => "something else",
    }
}

/// serde's messages in the model file's words: no Rust type names.
fn plain_words(message: &str) -> String {
    let mut out = message
        .replace("expected struct ModelFile", "expected a model: a map with name, network or graph, data, train")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected a list")
        .replace("expected a borrowed string", "expected text")
        .replace("expected a string", "expected text");
    for int in ["usize", "u64", "u32", "u128", "i64"] {
        out = out.replace(&format!("expected {int}"), "expected a whole number ≥ 0");
        out = out.replace(&format!(" as {int}"), "");
    }
    while let Some(start) = out.find("expected struct ") {
        let rest = &out[start + "expected struct ".len()..];
        let end = rest.find(|c: char| !c.is_alphanumeric()).unwrap_or(rest.len());
        out.replace_range(start..start + "expected struct ".len() + end, "expected a map of settings");
    }
    // `1e999` is read as text; say why it is no number.
    if let Some(start) = out.find("invalid type: string \"") {
        let rest = &out[start + 22..];
        if let Some(text) = rest.split('"').next() {
            if text.parse::<f64>().is_ok_and(|v| v.is_infinite()) {
                out += &format!(" ({text} is beyond the largest number, about 1.8e308)");
            }
        }
    }
    out
}

/// The first element that is NaN or infinite, described with its index.
fn first_non_finite(a: &ArrayD<f64>) -> Option<String> {
    let (flat, v) = a.iter().enumerate().find(|(_, v)| !v.is_finite())?;
    let index: Vec<String> = crate::diff::unravel(a.shape(), flat).iter().map(|d| d.to_string()).collect();
    Some(format!("element [{}] is {}", index.join(", "), py_repr(*v)))
}

/// A numeric `.npy` array (float64, float32 or integers, converted to float64).
pub fn read_npy_numbers(path: &Path) -> std::result::Result<ArrayD<f64>, String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let meta = file.metadata().map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    let mut reader = std::io::BufReader::new(&mut file);
    crate::npy::read(&mut reader, meta.len()).map_err(|e| format!("{}: {e}", path.display()))
}
