//! The command line: `bptui MODEL.yaml` opens the debugger; subcommands run, trace, check,
//! draw and gradient-check the same computation headless.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::{shape_str, Backward, Op, Workspace};
use crate::error::{Error, Result};
use crate::model::{DataOverride, Model};
use crate::numfmt::{py_repr, short};
use crate::session::{Phase, Session};
use crate::trace;

#[derive(Debug, Parser)]
#[command(
    name = "bptui",
    version,
    about = "Step through backpropagation one number at a time",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub tui: TuiArgs,
    /// The most numbers a model, or an array read from a file, may hold (default 67108864 = 2^26;
    /// a value and an adjoint for every element of every node count two).
    #[arg(long, global = true, value_name = "N")]
    pub max_numbers: Option<usize>,
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// The model file to open in the debugger.
    pub model: Option<PathBuf>,
    /// A trace from another implementation to show beside bptui's numbers.
    #[arg(long, value_name = "THEIRS")]
    pub against: Option<PathBuf>,
    /// Backward algorithm: a (each node pulls from its consumers) or b (each node pushes into its inputs).
    #[arg(long, value_enum, default_value = "b")]
    pub backward: BackwardArg,
    /// Their name for one of bptui's nodes, for --against (repeatable).
    #[arg(long, value_name = "THEIRS=OURS")]
    pub alias: Vec<String>,
    /// Tolerance for --against, absolute + relative: |ours − theirs| ≤ T + T·|theirs|.
    #[arg(long, default_value_t = 1e-6)]
    pub tol: f64,
    #[command(flatten)]
    pub data: DataArgs,
}

/// Data files that replace the model's `data.train` / `data.test`.
#[derive(Debug, Clone, Args, Default)]
pub struct DataArgs {
    /// Training data CSV (label first, then features), instead of the model's data.train.
    #[arg(long, value_name = "CSV")]
    pub train: Option<PathBuf>,
    /// Test (validation) data CSV, instead of the model's data.test.
    #[arg(long, value_name = "CSV")]
    pub test: Option<PathBuf>,
}

impl DataArgs {
    fn load(&self, model: &Path) -> Result<Model> {
        Model::load_with(model, &DataOverride { train: self.train.clone(), test: self.test.clone() })
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BackwardArg {
    A,
    B,
}

impl From<BackwardArg> for Backward {
    fn from(b: BackwardArg) -> Backward {
        match b {
            BackwardArg::A => Backward::A,
            BackwardArg::B => Backward::B,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train headless; print the train and test mean loss (and error rate) after every epoch.
    Run {
        model: PathBuf,
        /// Epochs to train, instead of the model's train.epochs.
        #[arg(long, allow_hyphen_values = true, value_parser = count_at_least_1)]
        epochs: Option<usize>,
        /// Learning rate η, instead of the model's train.learning_rate.
        #[arg(long, allow_hyphen_values = true)]
        learning_rate: Option<f64>,
        /// Write the course homework's metrics file.
        #[arg(long, value_name = "FILE")]
        metrics_out: Option<PathBuf>,
        /// Write one predicted label per line for the training data.
        #[arg(long, value_name = "FILE")]
        train_out: Option<PathBuf>,
        /// Write one predicted label per line for the test data.
        #[arg(long, value_name = "FILE")]
        test_out: Option<PathBuf>,
        /// Backward algorithm: a (pull from consumers) or b (push into inputs); same numbers.
        #[arg(long, value_enum, default_value = "b")]
        backward: BackwardArg,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Write every node value, adjoint and updated parameter of every example (JSON Lines or .npz).
    Trace {
        model: PathBuf,
        /// The trace to write: JSON Lines (.jsonl) or .npz, or a pipe such as /dev/stdout.
        #[arg(long, value_name = "FILE.jsonl|FILE.npz")]
        out: PathBuf,
        /// Epochs to trace, instead of the model's train.epochs.
        #[arg(long, allow_hyphen_values = true, value_parser = count_at_least_1)]
        epochs: Option<usize>,
        /// Only the first K examples of each epoch.
        #[arg(long, value_name = "K", allow_hyphen_values = true, value_parser = count_at_least_1)]
        examples: Option<usize>,
        /// Backward algorithm: a (pull from consumers) or b (push into inputs); same numbers.
        #[arg(long, value_enum, default_value = "b")]
        backward: BackwardArg,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Run the model beside another implementation's trace and report the first number that differs.
    Diff {
        model: PathBuf,
        /// Their trace: JSON Lines or .npz, any subset of epochs, examples, nodes and sections.
        theirs: PathBuf,
        /// Tolerance, absolute + relative: |ours − theirs| ≤ T + T·|theirs|.
        #[arg(long, default_value_t = 1e-6)]
        tol: f64,
        /// Their name for one of bptui's nodes (repeatable), e.g. --alias W1=alpha.
        #[arg(long, value_name = "THEIRS=OURS")]
        alias: Vec<String>,
        /// Backward algorithm: a (pull from consumers) or b (push into inputs); same numbers.
        #[arg(long, value_enum, default_value = "b")]
        backward: BackwardArg,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Validate the model and its data and print the graph.
    Check {
        model: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Print the computation graph as text or Graphviz DOT.
    Graph {
        model: PathBuf,
        /// text (a table) or dot (for Graphviz: | dot -Tpng > g.png).
        #[arg(long, value_enum, default_value = "text")]
        format: GraphFormat,
    },
    /// Compare backprop gradients with central differences on the first example.
    Gradcheck {
        model: PathBuf,
        /// The step ε of the central differences (J(θ+ε) − J(θ−ε)) / 2ε.
        #[arg(long, default_value_t = 1e-6)]
        eps: f64,
        /// The largest relative error that passes: |backprop − numeric| / max(|b|, |n|, 1e-8).
        #[arg(long, default_value_t = 1e-5)]
        tol: f64,
        /// Print every element, not only those of small parameters.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
}

/// A count on the command line: a whole number ≥ 1.
fn count_at_least_1(text: &str) -> std::result::Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number, at least 1, got {}", crate::trace::clip(text))),
    }
}

/// Runs a parsed command line; returns the process exit status.
pub fn main_with(cli: Cli) -> Result<i32> {
    if let Some(n) = cli.max_numbers {
        if n == 0 {
            return Err(Error::Usage("--max-numbers must be at least 1".into()));
        }
        crate::model::set_max_numbers(n);
    }
    match cli.command {
        Some(Command::Run { model, epochs, learning_rate, metrics_out, train_out, test_out, backward, data }) => {
            let mut model = data.load(&model)?;
            aliases(&model, &[])?;
            override_config(&mut model, epochs, learning_rate)?;
            model.require_examples()?;
            run(model, backward.into(), metrics_out.as_deref(), train_out.as_deref(), test_out.as_deref())
        }
        Some(Command::Trace { model, out, epochs, examples: examples_limit, backward, data }) => {
            let mut model = data.load(&model)?;
            override_config(&mut model, epochs, None)?;
            model.require_examples()?;
            let mut session = Session::new(model, backward.into());
            // Each record goes to the file as it is made: a trace can be far larger than memory.
            let (examples, epochs) = trace::write_streaming(&out, |put| {
                let (mut examples, mut epochs) = (0usize, 0usize);
                trace::record_run(&mut session, examples_limit, |r| {
                    match r {
                        trace::Record::Example(_) => examples += 1,
                        _ => epochs += 1,
                    }
                    put(&r)
                })?;
                Ok((examples, epochs))
            })?;
            eprintln!("wrote {} ({} example records, {} epoch records)", out.display(), examples, epochs);
            report_non_finite(&session);
            Ok(0)
        }
        Some(Command::Diff { model, theirs, tol, alias, backward, data }) => {
            if !(tol >= 0.0 && tol.is_finite()) {
                return Err(Error::Usage(format!("--tol must be a number ≥ 0, got {tol}")));
            }
            let model = data.load(&model)?;
            let aliases = aliases(&model, &alias)?;
            model.require_examples()?;
            let theirs = crate::diff::Theirs::load_streaming(&theirs, &model.graph, &aliases)?;
            let (model, notes) = crate::diff::prepare(&model, &theirs)?;
            let mut session = Session::new(model, backward.into());
            let mut report = crate::diff::run(&mut session, &theirs, tol)?;
            report.notes.splice(0..0, notes);
            emit(&crate::diff::render(&report, &theirs))?;
            Ok(if report.divergence.is_some() { 1 } else { 0 })
        }
        Some(Command::Check { model, data }) => {
            let model = data.load(&model)?;
            aliases(&model, &[])?;
            emit(&check_report(&model))?;
            Ok(0)
        }
        Some(Command::Graph { model, format }) => {
            let model = Model::load(&model)?;
            match format {
                GraphFormat::Text => emit(&graph_text(&model))?,
                GraphFormat::Dot => emit(&graph_dot(&model))?,
            }
            Ok(0)
        }
        Some(Command::Gradcheck { model, eps, tol, all, data }) => {
            if !(eps > 0.0 && eps.is_finite()) {
                return Err(Error::Usage(format!("--eps must be a positive number, got {eps}")));
            }
            if !(tol >= 0.0 && tol.is_finite()) {
                return Err(Error::Usage(format!("--tol must be a number ≥ 0, got {tol}")));
            }
            let model = data.load(&model)?;
            model.require_examples()?;
            let (report, ok) = gradcheck(&model, eps, tol, all);
            emit(&report)?;
            Ok(if ok { 0 } else { 1 })
        }
        None => {
            let Some(path) = cli.tui.model else {
                return Err(Error::Usage(
                    "usage: bptui MODEL.yaml (the debugger), or bptui --help for the commands".into(),
                ));
            };
            let mut model = cli.tui.data.load(&path)?;
            model.require_examples()?;
            let against = match &cli.tui.against {
                Some(p) => {
                    let aliases = aliases(&model, &cli.tui.alias)?;
                    let theirs = crate::diff::Theirs::load(p, &model.graph, &aliases)?;
                    // Their initial weights and epochs, as `diff` runs them.
                    model = crate::diff::prepare(&model, &theirs)?.0;
                    Some(theirs)
                }
                None => None,
            };
            let tol = cli.tui.tol;
            if !(tol >= 0.0 && tol.is_finite()) {
                return Err(Error::Usage(format!("--tol must be a number ≥ 0, got {tol}")));
            }
            crate::tui::run(model, cli.tui.backward.into(), against, tol)
                .map_err(|e| Error::Usage(format!("the terminal failed: {e}")))?;
            Ok(0)
        }
    }
}

/// The model file's aliases, then the command line's (THEIRS=OURS), checked against the graph.
fn aliases(model: &Model, given: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = model.aliases.clone();
    for a in given {
        let Some((theirs, ours)) = a.split_once('=') else {
            return Err(Error::Usage(format!("--alias takes THEIRS=OURS, got {a:?}")));
        };
        out.push((theirs.trim().to_string(), ours.trim().to_string()));
    }
    for (theirs, ours) in &out {
        if model.graph.find(ours).is_none() {
            let known: Vec<&str> = model.graph.nodes().iter().map(|n| n.name.as_str()).collect();
            return Err(Error::Usage(format!(
                "alias {theirs}={ours}: bptui has no node `{ours}` (its nodes: {})",
                known.join(", ")
            )));
        }
    }
    Ok(out)
}

fn override_config(model: &mut Model, epochs: Option<usize>, learning_rate: Option<f64>) -> Result<()> {
    // Counts are checked by their value parser (`count_at_least_1`).
    if let Some(e) = epochs {
        model.config.epochs = e;
    }
    if let Some(lr) = learning_rate {
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::Usage(format!("--learning-rate must be a finite number ≥ 0, got {lr}")));
        }
        model.config.learning_rate = lr;
    }
    Ok(())
}

fn report_non_finite(session: &Session) {
    if let Some(nf) = session.first_non_finite() {
        let node = &session.graph().node(nf.node).name;
        let what = match nf.phase {
            Phase::Backward => "adjoint",
            Phase::Update => "updated value",
            _ => "value",
        };
        eprintln!(
            "warning: the first NaN or infinity arose in the {what} of `{node}` at epoch {}, example {} ({} phase)",
            nf.epoch,
            nf.example + 1,
            nf.phase.label()
        );
    }
}

fn run(
    model: Model,
    backward: Backward,
    metrics_out: Option<&Path>,
    train_out: Option<&Path>,
    test_out: Option<&Path>,
) -> Result<i32> {
    if model.train_data.is_none() {
        if metrics_out.is_some() || train_out.is_some() || test_out.is_some() {
            return Err(Error::Usage(format!(
                "{}: the model has no data.train, so there are no metrics or labels to write",
                model.file.display()
            )));
        }
        let mut session = Session::new(model, backward);
        session.run_to_end();
        let g = session.graph();
        emit(&format!("{} = {}\n", g.node(g.loss()).name, py_repr(session.workspace().loss_value(g))))?;
        report_non_finite(&session);
        return Ok(0);
    }
    if (train_out.is_some() || test_out.is_some()) && !model.is_classifier() {
        return Err(Error::Usage(
            "--train-out and --test-out need a classifier (binary_cross_entropy or cross_entropy loss)".into(),
        ));
    }
    if test_out.is_some() && model.test_data.is_none() {
        return Err(Error::Usage("--test-out needs data.test (or data.validation) in the model".into()));
    }
    let test_key = model.test_key.clone();
    // The homework's word for its loss; a regression model's file names its own.
    let loss_word = if model.is_classifier() { "crossentropy" } else { "squared_error" };
    let epochs = model.config.epochs;
    let per_epoch = model.train_data.as_ref().map(|d| d.len()).unwrap_or(1);
    let tty = std::io::stderr().is_terminal();
    let mut session = Session::new(model, backward);
    let total = epochs * per_epoch;
    let mut shown = 0;
    let mut printed = 0;
    // Whole examples at a time, with the micro-steps' numbers (see `Session::run_fast`). A
    // failed write to stdout (a closed pipe) is reported once the run ends.
    let mut failed: Option<Error> = None;
    session.run_fast(|session| {
        let done = session.losses().len();
        if tty && done != shown && (done.is_multiple_of(25) || done == total) {
            shown = done;
            progress(done, total);
        }
        for m in &session.metrics()[printed..] {
            if tty {
                eprint!("\r\x1b[K");
            }
            let mut line = format!("epoch {:>3}", m.epoch);
            if let Some(s) = m.train {
                line += &format!("  train loss {}", py_repr(s.loss));
                // An error rate from NaN outputs would be a made-up number.
                if let Some(e) = s.error.filter(|_| s.loss.is_finite()) {
                    line += &format!("  train error {}", py_repr(e));
                }
            }
            if let Some(s) = m.test {
                line += &format!("  {test_key} loss {}", py_repr(s.loss));
                if let Some(e) = s.error.filter(|_| s.loss.is_finite()) {
                    line += &format!("  {test_key} error {}", py_repr(e));
                }
            }
            if failed.is_none() {
                failed = emit(&format!("{line}\n")).err();
            }
        }
        printed = session.metrics().len();
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if tty {
        eprint!("\r\x1b[K");
    }
    report_non_finite(&session);
    if let Some(path) = metrics_out {
        let mut text = String::new();
        for m in session.metrics() {
            if let Some(s) = m.train {
                text += &format!("epoch={} {loss_word}(train): {}\n", m.epoch, py_repr(s.loss));
            }
            if let Some(s) = m.test {
                text += &format!("epoch={} {loss_word}({}): {}\n", m.epoch, test_key, py_repr(s.loss));
            }
        }
        if let Some(last) = session.metrics().last() {
            if let Some(e) = last.train.and_then(|s| s.error) {
                text += &format!("error(train): {}\n", py_repr(e));
            }
            if let Some(e) = last.test.and_then(|s| s.error) {
                text += &format!("error({}): {}\n", test_key, py_repr(e));
            }
        }
        crate::output::write_text(path, &text)?;
    }
    for (path, train) in [(train_out, true), (test_out, false)] {
        let Some(path) = path else { continue };
        let model = session.model();
        if let Some(data) = if train { model.train_data.clone() } else { model.test_data.clone() } {
            let labels = session.predict(&data).unwrap_or_default();
            let text: String = labels.iter().map(|l| format!("{l}\n")).collect();
            crate::output::write_text(path, &text)?;
        }
    }
    Ok(0)
}

/// Writes to standard output: a reader that went away (`| head`) ends the command quietly, any
/// other failure (`> /dev/full`) is an error.
fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Error::BrokenPipe,
        _ => Error::Usage(format!("cannot write to standard output: {e}")),
    })
}

fn progress(done: usize, total: usize) {
    let width = 30;
    let filled = (done * width / total.max(1)).min(width);
    eprint!("\r[{}{}] {}/{} examples", "#".repeat(filled), "-".repeat(width - filled), done, total);
    let _ = std::io::stderr().flush();
}

/// `check`'s report: the model, its data, and its nodes in topological order.
pub fn check_report(model: &Model) -> String {
    let mut out = format!("model {} ({}): ok\n", model.name, model.file.display());
    if let Some(about) = &model.about {
        out += &format!("  {about}\n");
    }
    for (data, key) in [(&model.train_data, "train"), (&model.test_data, model.test_key.as_str())] {
        if let Some(d) = data {
            out += &format!("data.{key}: {} examples × {} features ({})\n", d.len(), d.width(), d.source);
        }
    }
    let c = &model.config;
    if model.train_data.is_some() {
        // As the model file spells them.
        let optimizer = match c.optimizer {
            crate::engine::optim::Optimizer::Sgd => "sgd".to_string(),
            crate::engine::optim::Optimizer::Adagrad { epsilon } => format!("adagrad (epsilon {})", py_repr(epsilon)),
        };
        let shuffle = match c.shuffle {
            crate::model::spec::Shuffle::None => "none",
            crate::model::spec::Shuffle::Seeded => "seeded",
            crate::model::spec::Shuffle::NumpyEpoch => "numpy_epoch",
        };
        out += &format!(
            "train: learning_rate {}, epochs {}, seed {}, optimizer {optimizer}, shuffle {shuffle}\n",
            py_repr(c.learning_rate),
            c.epochs,
            c.seed,
        );
    }
    out += &graph_text(model);
    out
}

/// The graph as a table: nodes in topological order with op, inputs, shape and equation.
pub fn graph_text(model: &Model) -> String {
    let g = &model.graph;
    let mut out = format!("graph: {} nodes in topological order; the output is {}\n", g.len(), g.node(g.loss()).name);
    let name_w = g.nodes().iter().map(|n| n.name.chars().count()).max().unwrap_or(4).clamp(4, 28);
    out += &format!("  {:>3}  {:<name_w$}  {:<20}  {:<14}  {}\n", "id", "node", "op", "shape", "equation / inputs");
    for (id, n) in g.nodes().iter().enumerate() {
        let inputs: Vec<String> = n.inputs.iter().map(|&i| g.node(i).name.clone()).collect();
        let detail = if n.op.is_leaf() {
            match n.op {
                Op::Param => "trainable parameter".to_string(),
                Op::Features => "each example's features".to_string(),
                Op::Label => "each example's label".to_string(),
                Op::Input => "given input".to_string(),
                _ => "constant".to_string(),
            }
        } else {
            format!("{}    ← {}", n.equation, inputs.join(", "))
        };
        out += &format!(
            "  {:>3}  {:<name_w$}  {:<20}  {:<14}  {}\n",
            id,
            n.name,
            n.op.name(),
            shape_str(&n.shape),
            detail
        );
    }
    out
}

/// The graph in Graphviz DOT, inputs on the left and J on the right.
pub fn graph_dot(model: &Model) -> String {
    let g = &model.graph;
    let mut out =
        format!("digraph \"{}\" {{\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n", model.name.replace('"', "'"));
    for (id, n) in g.nodes().iter().enumerate() {
        let shape = match n.op {
            Op::Param => "box",
            Op::Features | Op::Label | Op::Input | Op::Const(_) => "ellipse",
            _ if id == g.loss() => "doublecircle",
            _ => "circle",
        };
        let label = format!("{}\\n{}\\n{}", n.name, n.op.name(), shape_str(&n.shape)).replace('"', "'");
        out += &format!("  n{id} [label=\"{label}\", shape={shape}];\n");
    }
    for (id, n) in g.nodes().iter().enumerate() {
        for &i in &n.inputs {
            out += &format!("  n{i} -> n{id};\n");
        }
    }
    out += "}\n";
    out
}

/// Central differences against backprop for every parameter (and every given input of a graph
/// model) on the first example. Returns the report and whether all relative errors ≤ tol.
pub fn gradcheck(model: &Model, eps: f64, tol: f64, all: bool) -> (String, bool) {
    let g = &model.graph;
    let mut ws = Workspace::new(g);
    for (id, v) in &model.initial {
        ws.values[*id].assign(v);
    }
    if let Some(d) = &model.train_data {
        if let Some(f) = g.features() {
            ws.values[f].assign(&d.features.row(0).into_dyn());
        }
        if let Some(l) = g.label() {
            ws.values[l].fill(d.labels[0]);
        }
    }
    ws.forward_all(g);
    ws.backward_all(g, Backward::B);
    let targets: Vec<usize> =
        (0..g.len()).filter(|&i| matches!(g.node(i).op, Op::Param | Op::Input) && g.needs_grad(i)).collect();
    let mut out = format!(
        "gradcheck {}: first example, central differences with eps {}, tolerance {}\nrelative error = |backprop − numeric| / max(|backprop|, |numeric|, 1e-8)\n",
        model.name,
        py_repr(eps),
        py_repr(tol)
    );
    let mut ok = true;
    for id in targets {
        let node = g.node(id);
        let analytic = ws.adjoints[id].clone();
        let mut worst = (0.0f64, 0usize, 0.0, 0.0);
        let n = analytic.len();
        let show = all || n <= 24;
        out += &format!(
            "{} {} ({}):\n",
            if node.op == Op::Param { "parameter" } else { "input" },
            node.name,
            shape_str(&node.shape)
        );
        for i in 0..n {
            let original = ws.values[id].as_slice_mut().expect("contiguous")[i];
            ws.values[id].as_slice_mut().expect("contiguous")[i] = original + eps;
            let plus = ws.forward_all(g);
            ws.values[id].as_slice_mut().expect("contiguous")[i] = original - eps;
            let minus = ws.forward_all(g);
            ws.values[id].as_slice_mut().expect("contiguous")[i] = original;
            let numeric = (plus - minus) / (2.0 * eps);
            let a = analytic.as_slice().expect("contiguous")[i];
            let rel = (a - numeric).abs() / a.abs().max(numeric.abs()).max(1e-8);
            let rel = if rel.is_nan() { f64::INFINITY } else { rel };
            if rel > worst.0 || i == 0 {
                worst = (rel, i, a, numeric);
            }
            if show {
                out += &format!(
                    "  {:<10} backprop {:>24}  numeric {:>24}  rel {:.2e}{}\n",
                    index_str(&node.shape, i),
                    py_repr(a),
                    py_repr(numeric),
                    rel,
                    if rel > tol { "  ✗" } else { "" }
                );
            }
        }
        ws.forward_all(g);
        let pass = worst.0 <= tol;
        ok &= pass;
        out += &format!(
            "  worst {} at {}: backprop {} numeric {} → {}\n",
            format_args!("{:.2e}", worst.0),
            index_str(&node.shape, worst.1),
            short(worst.2),
            short(worst.3),
            if pass { "ok" } else { "FAIL" }
        );
    }
    out += if ok { "all gradients agree\n" } else { "some gradients disagree beyond the tolerance\n" };
    (out, ok)
}

fn index_str(shape: &[usize], flat: usize) -> String {
    let idx = crate::diff::unravel(shape, flat);
    format!("[{}]", idx.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","))
}
