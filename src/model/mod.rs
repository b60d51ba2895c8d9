//! Model files (YAML) → engine graphs, in two stages as ripgrep does with its config: serde
//! structs that mirror the file ([`spec`]), then validation into a [`Model`] whose every
//! complaint names the file, line and column.
//!
//! This file holds the model, its limits, the training settings and the locating of
//! complaints; the rest of validation has a file each: `data` (the examples), `network` (a
//! layered network), `graph` (a graph model, its lines read by [`expr`]) and `init` (the
//! parameters' starting values).

mod data;
pub mod expr;
mod graph;
mod init;
pub mod locate;
mod network;
pub mod spec;

use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::Dataset;
use crate::engine::optim::Optimizer;
use crate::engine::{Graph, NodeId};
use crate::error::{one_line, Error, Result};
use spec::{ModelFile, Shuffle};

pub use crate::limits::{Limits, DEFAULT_MAX_NUMBERS};
use crate::notation::greek;

/// The largest model file bptui reads: 16 MiB.
pub const MAX_MODEL_BYTES: u64 = 16 << 20;

/// The elements of `shape`, or `None` when the count overflows.
pub fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// The message for a size over the limit: what was asked, and how to allow it.
fn too_big(what: &str, count: Option<usize>, limits: Limits) -> String {
    let limit = limits.max_numbers;
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
    name: String,
    about: Option<String>,
    file: PathBuf,
    graph: Graph,
    /// Starting values of parameters and of a graph model's given inputs.
    initial: Vec<(NodeId, ArrayD<f64>)>,
    train_data: Option<Dataset>,
    test_data: Option<Dataset>,
    /// The key the test data was given under (`test` or `validation`), used in metrics files.
    test_key: String,
    config: TrainConfig,
    /// Names another implementation uses for our nodes: (their name, our name).
    aliases: Vec<(String, String)>,
    /// The classes' names, label 0 first (`classes:`).
    classes: Option<Vec<String>>,
    /// The features as an image of (rows, columns) (`image:`).
    image: Option<(usize, usize)>,
}

/// Reading a settled model: its fields are private, so that what `load` validated stays so;
/// the few settings a command may change after loading have setters below.
impl Model {
    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model file's `about:` line.
    pub fn about(&self) -> Option<&str> {
        self.about.as_deref()
    }

    /// The model file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The validated graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Starting values of parameters and of a graph model's given inputs.
    pub fn initial(&self) -> &[(NodeId, ArrayD<f64>)] {
        &self.initial
    }

    /// The training data, if any.
    pub fn train_data(&self) -> Option<&Dataset> {
        self.train_data.as_ref()
    }

    /// The test (validation) data, if any.
    pub fn test_data(&self) -> Option<&Dataset> {
        self.test_data.as_ref()
    }

    /// The key the test data was given under (`test` or `validation`), used in metrics files.
    pub fn test_key(&self) -> &str {
        &self.test_key
    }

    /// The training settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Names another implementation uses for our nodes: (their name, our name).
    pub fn aliases(&self) -> &[(String, String)] {
        &self.aliases
    }

    /// The classes' names, label 0 first (`classes:`).
    pub fn classes(&self) -> Option<&[String]> {
        self.classes.as_deref()
    }

    /// The features as an image of (rows, columns) (`image:`).
    pub fn image(&self) -> Option<(usize, usize)> {
        self.image
    }

    /// Trains for `epochs` instead of the file's `train.epochs` (`--epochs`).
    pub fn set_epochs(&mut self, epochs: usize) {
        self.config.epochs = epochs;
    }

    /// Steps with `rate` instead of the file's learning rate (`--learning-rate`).
    pub fn set_learning_rate(&mut self, rate: f64) {
        self.config.learning_rate = rate;
    }

    /// Names `file` as the model's file (a model made from a homework's command line).
    pub fn set_file(&mut self, file: PathBuf) {
        self.file = file;
    }

    /// Starts leaf `id` from `value` instead of its init (a student's initial weights,
    /// recovered from their run), in the leaf's shape.
    pub fn set_initial(&mut self, id: NodeId, value: ArrayD<f64>) {
        debug_assert_eq!(value.shape(), self.graph.node(id).shape.as_slice(), "{}", self.graph.node(id).name);
        match self.initial.iter_mut().find(|(p, _)| *p == id) {
            Some((_, v)) => *v = value,
            None => self.initial.push((id, value)),
        }
    }
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
        Model::load_with(path, &DataOverride::default(), Limits::default())
    }

    /// Reads and validates a model file, with data files from the command line replacing
    /// `data.train` / `data.test`, and within `limits`.
    pub fn load_with(path: &Path, data: &DataOverride, limits: Limits) -> Result<Model> {
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
        Model::from_source(path, &source, data, limits)
    }

    /// Validates model text as if read from `path` (relative data paths resolve from there).
    pub fn from_source(path: &Path, source: &str, data: &DataOverride, limits: Limits) -> Result<Model> {
        // A byte-order mark some editors write; YAML would read it as a second document.
        let source = source.strip_prefix('\u{feff}').unwrap_or(source);
        let ctx = Ctx {
            file: path.display().to_string(),
            source,
            dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            data: data.clone(),
            limits,
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

/// What validation knows of the model file: its name, its text (to locate complaints), its
/// folder (data and `.npy` paths are relative to it), and the command line's data files.
struct Ctx<'s> {
    file: String,
    source: &'s str,
    dir: PathBuf,
    data: DataOverride,
    limits: Limits,
}

impl Ctx<'_> {
    /// serde's complaint about the file's YAML or its shape: located, in the file's words, one line.
    fn yaml_error(&self, e: &serde_yaml::Error) -> Error {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
        // The location goes in front; other positions (where an unclosed bracket opened) stay.
        let message = plain_words(&e.to_string().replace(&format!(" at line {line} column {column}"), ""));
        // A key or value quoted by the YAML parser may hold newlines and be long: one short line.
        let mut message = one_line(&message, 300);
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

    /// The model a file describes: its settings, data, graph and starting values, checked
    /// against each other.
    fn build(&self, spec: ModelFile) -> Result<Model> {
        let config = self.train_config(spec.train.as_ref())?;
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
        if total.is_none_or(|n| n > self.limits.max_numbers) {
            let key = if spec.network.is_some() { "network" } else { "graph" };
            return Err(
                self.err_at_key(key, too_big("the model (a value and an adjoint for every node)", total, self.limits))
            );
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
        self.check_classes_and_image(&model)?;
        self.check_data(&model)?;
        Ok(model)
    }

    /// The training settings (`train:`), defaults filled in and each checked.
    fn train_config(&self, train: Option<&spec::TrainSpec>) -> Result<TrainConfig> {
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
        Ok(config)
    }

    /// The class names (`classes:`) fit the prediction, and the image (`image:`) the features.
    fn check_classes_and_image(&self, model: &Model) -> Result<()> {
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
        Ok(())
    }
}

/// Why a node may not be called `name`, if it reads as one of bptui's own symbols in the
/// formulas it shows: σ(·) is the sigmoid and η the learning rate, everywhere (their accented
/// and mathematical look-alikes too).
pub fn clashes_with_notation(name: &str) -> Option<String> {
    const SIGMA: &str = "σςϭ𝛔𝛓𝜎𝜍𝝈𝝇𝞂𝞁𝞼𝞻";
    const ETA: &str = "ηήὴῆἠἡἢἣἤἥἦἧᾐᾑᾖᾗῃῄῇ𝛈𝜂𝜼𝝶𝞰";
    let first = greek(name).chars().next()?;
    let (letter, what) = if SIGMA.contains(first) {
        ('σ', "the sigmoid, σ(a)")
    } else if ETA.contains(first) {
        ('η', "the learning rate, θ ← θ − η·g")
    } else {
        return None;
    };
    let looks = if first == letter { String::new() } else { format!(" (or looks like it: {first})") };
    Some(format!(
        "`{name}` starts with {letter}{looks}, which bptui's formulas use for {what}; choose a name that does not"
    ))
}

/// What is wrong with `name` as the name of a node (a layer, weight, input, parameter or
/// assignment), if anything.
pub(super) fn check_name(name: &str) -> std::result::Result<(), String> {
    let ok = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !ok {
        return Err(format!("`{name}` is not a usable name: letters, digits and _, starting with a letter"));
    }
    if expr::is_function(name) {
        return Err(format!("`{name}` is a function name"));
    }
    clashes_with_notation(name).map_or(Ok(()), Err)
}

/// YAML's numbers and sequences, as a model file writes an array (`values:`, a graph's
/// inputs). An empty list there is a mistake.
impl crate::nested::NestedValue for serde_yaml::Value {
    const EMPTY_LISTS: bool = false;

    fn number(&self) -> Option<f64> {
        match self {
            serde_yaml::Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Self]> {
        match self {
            serde_yaml::Value::Sequence(items) => Some(items),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            serde_yaml::Value::Null => "nothing",
            serde_yaml::Value::Bool(_) => "true/false",
            serde_yaml::Value::String(_) => "text",
            serde_yaml::Value::Mapping(_) => "a map",
            _ => "something else",
        }
        .into()
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
