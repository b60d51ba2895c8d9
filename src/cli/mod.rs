//! The command line, in ripgrep's shape: this module declares the arguments (clap), checks each
//! value as it is parsed, loads the model the same way for every command, and hands the settled
//! arguments to one module per command. `bptui MODEL.yaml` opens the debugger; the subcommands
//! run, trace, diff, check, draw and gradient-check the same computation headless.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::Backward;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::{DataOverride, Model};
use crate::session::{Phase, Session};

mod check;
mod debugger;
mod diff;
mod gradcheck;
mod graph;
mod program;
mod run;
mod trace;

pub use check::check_report;
pub use gradcheck::gradcheck;
pub use graph::{graph_dot, graph_text};

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
    #[arg(long, global = true, value_name = "N", value_parser = count_at_least_1)]
    pub max_numbers: Option<usize>,
}

/// The debugger's arguments: `bptui MODEL.yaml [OPTIONS]`.
#[derive(Debug, Args)]
pub struct TuiArgs {
    /// The model file to open in the debugger.
    pub model: Option<PathBuf>,
    /// A trace from another implementation to show beside bptui's numbers; with no file and
    /// `-- python3 neuralnet.py ARGS...`, what that program computes, recorded as it runs.
    #[arg(long, value_name = "THEIRS", num_args = 0..=1, default_missing_value = "-")]
    pub against: Option<PathBuf>,
    /// With `--against --`: the command that runs their program.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
    /// With `--against -- COMMAND`: stop their program after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = at_least_0)]
    pub timeout: f64,
    /// Backward algorithm: a (each node pulls from its consumers) or b (each node pushes into its inputs).
    #[arg(long, value_enum, default_value = "b")]
    pub backward: BackwardArg,
    /// Their name for one of bptui's nodes, for --against (repeatable).
    #[arg(long, value_name = "THEIRS=OURS", value_parser = alias)]
    pub alias: Vec<(String, String)>,
    /// Tolerance for --against, absolute + relative: |ours − theirs| ≤ T + T·|theirs|.
    #[arg(long, value_name = "T", default_value_t = crate::diff::Tolerance::DEFAULT, value_parser = at_least_0)]
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
    Run(RunArgs),
    /// Write every node value, adjoint and updated parameter of every example (JSON Lines or .npz).
    Trace(TraceArgs),
    /// Run the model beside another implementation's trace and report the first number that differs.
    Diff(DiffArgs),
    /// Validate the model and its data and print the graph.
    Check(CheckArgs),
    /// Print the computation graph as text or Graphviz DOT.
    Graph(GraphArgs),
    /// Compare backprop gradients with central differences on the first example.
    Gradcheck(GradcheckArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The model file (YAML).
    pub model: PathBuf,
    /// Epochs to train, instead of the model's train.epochs.
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = count_at_least_1)]
    pub epochs: Option<usize>,
    /// Learning rate η, instead of the model's train.learning_rate.
    #[arg(long, value_name = "X", allow_hyphen_values = true, value_parser = at_least_0)]
    pub learning_rate: Option<f64>,
    /// Write the course homework's metrics file.
    #[arg(long, value_name = "FILE")]
    pub metrics_out: Option<PathBuf>,
    /// Write one predicted label per line for the training data.
    #[arg(long, value_name = "FILE")]
    pub train_out: Option<PathBuf>,
    /// Write one predicted label per line for the test data.
    #[arg(long, value_name = "FILE")]
    pub test_out: Option<PathBuf>,
    /// Backward algorithm: a (pull from consumers) or b (push into inputs); same numbers.
    #[arg(long, value_enum, default_value = "b")]
    pub backward: BackwardArg,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The model file (YAML).
    pub model: PathBuf,
    /// The trace to write: JSON Lines (.jsonl) or .npz, or a pipe such as /dev/stdout.
    #[arg(long, value_name = "FILE.jsonl|FILE.npz")]
    pub out: PathBuf,
    /// Epochs to trace, instead of the model's train.epochs.
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = count_at_least_1)]
    pub epochs: Option<usize>,
    /// Record only the first K examples of each epoch; training still runs over every example,
    /// so the parameters and the epoch records are those of the whole run.
    #[arg(long, value_name = "K", allow_hyphen_values = true, value_parser = count_at_least_1)]
    pub examples: Option<usize>,
    /// Backward algorithm: a (pull from consumers) or b (push into inputs); same numbers.
    #[arg(long, value_enum, default_value = "b")]
    pub backward: BackwardArg,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The model file (YAML); with `-- COMMAND`, optional (the homework's network from the
    /// command's arguments).
    pub model: Option<PathBuf>,
    /// Their trace: JSON Lines or .npz, any subset of epochs, examples, nodes and sections.
    pub theirs: Option<PathBuf>,
    /// With `-- python3 neuralnet.py ARGS...`: run that program as it is under bptui's
    /// recorder and compare what it computes.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
    /// Save what was captured from the program as a trace (JSON Lines, in its names).
    #[arg(long, value_name = "FILE.jsonl")]
    pub keep: Option<PathBuf>,
    /// Write the model the program was compared with (its settings as learned) to FILE.
    #[arg(long, value_name = "FILE.yaml")]
    pub save_model: Option<PathBuf>,
    /// Stop the program after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = at_least_0)]
    pub timeout: f64,
    /// Tolerance, absolute + relative: |ours − theirs| ≤ T + T·|theirs|.
    #[arg(long, value_name = "T", default_value_t = crate::diff::Tolerance::DEFAULT, value_parser = at_least_0)]
    pub tol: f64,
    /// Their name for one of bptui's nodes (repeatable), e.g. --alias W1=alpha.
    #[arg(long, value_name = "THEIRS=OURS", value_parser = alias)]
    pub alias: Vec<(String, String)>,
    /// Backward algorithm: a (pull from consumers) or b (push into inputs); same numbers.
    #[arg(long, value_enum, default_value = "b")]
    pub backward: BackwardArg,
    #[command(flatten)]
    pub data: DataArgs,
    /// Settled from the global `--max-numbers` before the command runs (not an option of its own).
    #[arg(skip)]
    pub limits: Limits,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The model file (YAML).
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The model file (YAML).
    pub model: PathBuf,
    /// text (a table) or dot (for Graphviz: | dot -Tpng > g.png).
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormat,
}

#[derive(Debug, Args)]
pub struct GradcheckArgs {
    /// The model file (YAML).
    pub model: PathBuf,
    /// The step ε of the central differences (J(θ+ε) − J(θ−ε)) / 2ε.
    #[arg(long, value_name = "E", default_value_t = 1e-6, value_parser = positive)]
    pub eps: f64,
    /// The largest relative error that passes: |backprop − numeric| / max(|b|, |n|, 1e-8).
    #[arg(long, value_name = "T", default_value_t = 1e-5, value_parser = at_least_0)]
    pub tol: f64,
    /// Print every element, not only those of small parameters.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub data: DataArgs,
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
        _ => Err(format!("expected a whole number, at least 1, got {}", crate::error::clip(text))),
    }
}

/// A tolerance or a learning rate: a finite number ≥ 0.
fn at_least_0(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("expected a finite number ≥ 0, got {}", crate::error::clip(text))),
    }
}

/// A step such as gradcheck's ε: a finite number > 0.
fn positive(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("expected a positive finite number, got {}", crate::error::clip(text))),
    }
}

/// `--alias THEIRS=OURS`: their name for one of bptui's nodes (checked against the model by
/// [`load`]).
fn alias(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((theirs, ours)) => Ok((theirs.trim().to_string(), ours.trim().to_string())),
        None => Err(format!("expected THEIRS=OURS, got \"{}\"", crate::error::clip(text))),
    }
}

/// Runs a parsed command line; returns the process exit status.
pub fn main_with(cli: Cli) -> Result<i32> {
    // Settled once here and passed down to every reader: no reader looks a limit up.
    let limits = Limits::with_max_numbers(cli.max_numbers);
    match cli.command {
        Some(Command::Run(args)) => run::run(args, limits),
        Some(Command::Trace(args)) => trace::trace(args, limits),
        Some(Command::Diff(args)) => diff::diff(args, limits),
        Some(Command::Check(args)) => check::check(args, limits),
        Some(Command::Graph(args)) => graph::graph(args, limits),
        Some(Command::Gradcheck(args)) => gradcheck::run(args, limits),
        None => debugger::open(cli.tui, limits),
    }
}

/// A model as every command loads it: the command line's data files in place of the model's,
/// and its aliases (the model file's, then the command line's `given`) checked against its
/// graph. Returns the model and those aliases.
pub(super) fn load(
    path: &Path,
    data: &DataArgs,
    given: &[(String, String)],
    limits: Limits,
) -> Result<(Model, Vec<(String, String)>)> {
    let model = Model::load_with(path, &DataOverride { train: data.train.clone(), test: data.test.clone() }, limits)?;
    let aliases: Vec<(String, String)> = model.aliases().iter().chain(given).cloned().collect();
    for (theirs, ours) in &aliases {
        if model.graph().find(ours).is_none() {
            let known: Vec<&str> = model.graph().nodes().iter().map(|n| n.name.as_str()).collect();
            // `alpha_bias` where the model folds alpha's bias into its column 0.
            let folded = ours.strip_suffix("_bias").and_then(|w| model.graph().find(w)).filter(|&w| {
                model
                    .graph()
                    .consumers(w)
                    .iter()
                    .any(|&(u, k)| k == 0 && model.graph().node(u).op == crate::engine::Op::Linear)
            });
            let hint = match folded {
                Some(w) => format!(
                    "; this model keeps {0}'s bias in its column 0 ({0}·[1; x]): for a bias vector of its own, \
                     write bias: separate on that layer",
                    model.graph().node(w).name
                ),
                None => String::new(),
            };
            return Err(Error::Usage(format!(
                "alias {theirs}={ours}: bptui has no node `{ours}` (its nodes: {}){hint}",
                known.join(", ")
            )));
        }
    }
    Ok((model, aliases))
}

/// Says on stderr where the run's first NaN or infinity arose, if one did.
fn report_non_finite(session: &Session) {
    if let Some(nf) = session.first_non_finite() {
        let node = &session.graph().node(nf.node).name;
        let what = match nf.phase {
            Phase::Backward => "adjoint",
            Phase::Update => "updated value",
            _ => "value",
        };
        let by = if nf.by == nf.node {
            String::new()
        } else {
            format!(", pushed into it by the backward step at `{}`", session.graph().node(nf.by).name)
        };
        eprintln!(
            "warning: the first NaN or infinity arose in the {what} of `{node}` at epoch {}, example {} ({} phase{by})",
            nf.epoch,
            nf.example,
            nf.phase.label()
        );
    }
}

/// Writes to standard output: a reader that went away (`| head`) ends the command quietly, any
/// other failure (`> /dev/full`) is an error.
pub(super) fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Error::BrokenPipe,
        _ => Error::Usage(format!("cannot write to standard output: {e}")),
    })
}
