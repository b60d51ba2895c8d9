//! Comparing bptui's computation with a trace made by another implementation: finds the first
//! number that disagrees, in execution order, and says why it probably does.
//!
//! - [`theirs`]: their trace, read and checked against the model (every record placed);
//! - [`layout`]: how the same numbers may be stored (unit axes, transposed, bias last, …);
//! - [`compare`]: one example compared value by value, under the tolerance;
//! - [`diagnose`]: the independent checks that name a mistake from the numbers;
//! - this module: preparing the run (their initial weights, as many epochs as they recorded),
//!   driving the session beside their records, and the report.

pub mod compare;
pub mod diagnose;
pub mod layout;
pub mod learned;
pub mod ours;
pub mod theirs;
pub mod tolerance;
pub mod verdict;

use std::collections::HashMap;

use ndarray::ArrayD;

use crate::engine::optim::Optimizer;
use crate::engine::Backward;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::notation::unravel;
use crate::numfmt::py_repr;
use crate::session::{EpochMetrics, Finished, Phase, Position, Session};
use crate::trace::{EpochRecord, ExampleRecord, Named};

pub use layout::Layout;
pub use theirs::Theirs;
pub use tolerance::Tolerance;
pub use verdict::Verdict;

use compare::Comparer;
use diagnose::{InitVerdict, RowIndex};

/// The part of an example a value belongs to, in execution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Forward,
    Adjoint,
    Param,
}

impl Section {
    /// "forward value a", "adjoint dJ/da", "parameter alpha after the update"; `out` is the
    /// name of the differentiated output.
    pub fn describe(self, name: &str, out: &str) -> String {
        match self {
            Section::Forward => format!("forward value {name}"),
            Section::Adjoint => format!("adjoint d{out}/d{name}"),
            Section::Param => format!("parameter {name} after the update"),
        }
    }

    /// "a", "dJ/da", "alpha after".
    pub fn short(self, name: &str, out: &str) -> String {
        match self {
            Section::Forward => name.to_string(),
            Section::Adjoint => format!("d{out}/d{name}"),
            Section::Param => format!("{name} after the update"),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Section::Forward => "forward",
            Section::Adjoint => "adjoints",
            Section::Param => "params",
        }
    }

    /// This section's values in a record.
    pub fn of(self, r: &ExampleRecord) -> &Named {
        match self {
            Section::Forward => &r.forward,
            Section::Adjoint => &r.adjoints,
            Section::Param => &r.params,
        }
    }
}

/// What differs.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// A value of an example: a node's forward value, adjoint, or updated parameter; `index`
    /// is the worst entry in bptui's shape (empty for a scalar or when shapes differ).
    Value {
        section: Section,
        name: String,
        index: Vec<usize>,
        /// The same entry in their array, when they store it another way (transposed, bias
        /// last, a column): `[90,3]` for our `[3,90]`.
        theirs_at: Option<Vec<usize>>,
    },
    /// The data row of an example: the order of examples.
    Row,
    /// An epoch's metric.
    Metric { key: String },
}

/// The first divergence and what is known about it.
#[derive(Debug, Clone)]
pub struct Divergence {
    pub epoch: usize,
    /// Counted from 1; `None` for an epoch metric.
    pub example: Option<usize>,
    pub row: Option<usize>,
    pub place: Place,
    /// What is compared, for messages.
    pub what: String,
    /// The worst entry's numbers (`None` when the shapes hold different counts).
    pub ours: Option<f64>,
    pub theirs: Option<f64>,
    /// Examples that agreed completely before this one.
    pub agreed_examples: usize,
    /// Their names of the parameters those examples' records did not hold after the update
    /// (so "completely" is only of what they recorded).
    pub unrecorded: Vec<String>,
    /// Values of this example that agreed before the divergence, in execution order.
    pub agreed_here: Vec<String>,
    pub diagnosis: Vec<String>,
    /// Where in the example's comparison plan it is (0: the data row; i + 1: the plan's
    /// i-th value), so that the next divergence can be looked for after it.
    pub position: usize,
}

impl Divergence {
    /// The section and node name of a value divergence.
    pub fn value(&self) -> Option<(Section, &str)> {
        match &self.place {
            Place::Value { section, name, .. } => Some((*section, name.as_str())),
            _ => None,
        }
    }

    /// `"[2,3]"` for the worst entry, "" for a scalar.
    pub fn index_text(&self) -> String {
        match &self.place {
            Place::Value { index, .. } if !index.is_empty() => crate::notation::index_str(index),
            _ => String::new(),
        }
    }

    /// `"[3,2]"`: the worst entry in their array, when they store it another way.
    fn their_index_text(&self) -> Option<String> {
        match &self.place {
            Place::Value { index, theirs_at: Some(at), .. } if at != index && !at.is_empty() => {
                Some(crate::notation::index_str(at))
            }
            _ => None,
        }
    }
}

/// What a comparison found.
#[derive(Debug, Clone)]
pub struct Report {
    pub divergence: Option<Divergence>,
    pub compared_values: usize,
    pub compared_examples: usize,
    pub compared_epochs: usize,
    /// Records of their trace compared (the init record counts once used).
    pub compared_records: usize,
    pub records: usize,
    pub tolerance: Tolerance,
    /// Conventions accepted, settings taken from their trace, as notes.
    pub notes: Vec<String>,
}

/// Where to look for divergences from: (epoch, example from 1, position in the example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub epoch: usize,
    pub example: usize,
    pub position: usize,
}

impl Cursor {
    pub const START: Cursor = Cursor { epoch: 1, example: 1, position: 0 };
}

/// The model to run beside their trace: as many epochs as they recorded, and their initial
/// parameters when their trace has an init record. Checks first that every record of theirs
/// has a place in that run (exit 2 naming the record otherwise). Returns the notes.
pub fn prepare(model: &Model, theirs: &Theirs) -> Result<(Model, Vec<String>)> {
    let mut model = model.clone();
    let mut notes = Vec::new();
    let has_data = model.train_data().is_some();
    let n = model.train_data().map(|d| d.len()).unwrap_or(1);
    let last = theirs.last_epoch();
    if has_data && last > model.config().epochs {
        notes.push(format!(
            "your trace has {last} epochs, the model {}: bptui ran {last} (set epochs: {last} in the model to match)",
            model.config().epochs
        ));
        model.set_epochs(last);
    }
    let epochs = if has_data { model.config().epochs } else { 1 };
    let bad = |record: usize, message: String| Error::Trace { file: theirs.file.clone(), record, message };
    for ((epoch, example), number, r) in theirs.examples() {
        if epoch > epochs {
            return Err(bad(number, format!("epoch {epoch}, but a graph model without data runs one example once")));
        }
        if example > n {
            let source = model.train_data().map(|d| d.source.clone()).unwrap_or_else(|| "the model".into());
            return Err(bad(
                number,
                format!(
                    "example {example} of epoch {epoch}, but an epoch has {n} examples ({source}): does your example counter \
                     restart at 1 each epoch? Or is your training set another file (--train)?"
                ),
            ));
        }
        if let (Some(row), true) = (r.row, has_data) {
            if row >= n {
                return Err(bad(number, format!("row {row}, but the training data has rows 0 to {}", n - 1)));
            }
        }
    }
    let classifier =
        model.graph().prediction().is_some() && model.graph().node(model.graph().loss()).op.is_classifier_loss();
    for (number, e) in theirs.epoch_records() {
        if !has_data {
            return Err(bad(number, "epoch metrics, but the model has no data to evaluate them on".into()));
        }
        for (key, _) in &e.metrics {
            let k = key.replace("validation", "test");
            if k.starts_with("test") && model.test_data().is_none() {
                return Err(bad(number, format!("{key}, but the model has no test data (give it with --test)")));
            }
            if k.ends_with("error") && !classifier {
                return Err(bad(number, format!("{key}, but the model is not a classifier: it has no error rate")));
            }
        }
    }
    let initial = theirs.initial_values(model.graph())?;
    if !initial.is_empty() {
        let names: Vec<String> =
            initial.iter().map(|i| theirs.their_name(&model.graph().node(i.id).name).to_string()).collect();
        // Said as it is: their init may be the model's own, bit for bit.
        let same = initial.iter().all(|i| {
            model.initial().iter().find(|(p, _)| *p == i.id).is_some_and(|(_, v)| {
                v.shape() == i.value.shape() && v.iter().zip(i.value.iter()).all(|(a, b)| a.to_bits() == b.to_bits())
            })
        });
        notes.push(if same {
            format!("started from your initial {} (your init record), the model's init exactly", names.join(", "))
        } else {
            format!("started from your initial {} (your init record) instead of the model's init", names.join(", "))
        });
        for i in initial {
            notes.extend(i.note);
            model.set_initial(i.id, i.value);
        }
    }
    Ok((model, notes))
}

/// Their initial parameters, recovered from their first record when it holds a parameter
/// after the update and its gradient (θ₀ = θ₁ + η·g₁ for SGD), compared with the model's.
fn recover_init(session: &Session, theirs: &Theirs, tol: &Tolerance) -> HashMap<usize, InitVerdict> {
    let graph = session.graph();
    let model = session.model();
    let mut out = HashMap::new();
    if let Some((_, params)) = &theirs.init {
        for (name, _) in params {
            out.insert(graph.find(name).expect("checked on load"), InitVerdict::Given);
        }
        return out;
    }
    let Ok(Some(first)) = theirs.fetch(1, 1) else { return out };
    let lr = model.config().learning_rate;
    for &p in graph.params() {
        let name = &graph.node(p).name;
        let find = |list: &Named| list.iter().find(|(n, _)| n == name).map(|(_, a)| a.clone());
        let (Some(after), Some(grad)) = (find(&first.params), find(&first.adjoints)) else { continue };
        let ours = session.workspace().values[p].clone();
        let agree = |o: &ArrayD<f64>, t: &ArrayD<f64>| tol.agree(o, t);
        let before_of = |after: &ArrayD<f64>, grad: &ArrayD<f64>| match model.config().optimizer {
            Optimizer::Sgd => after + &grad.mapv(|g| lr * g),
            Optimizer::Adagrad { epsilon } => after + &grad.mapv(|g| lr * g / (g * g + epsilon).sqrt()),
        };
        // Every arrangement that fits the shape: a bias column last or a square matrix transposed
        // fits as well as bptui's own, and the one that gives the model's init (if any) is theirs.
        // Where their input of the layer keeps its 1 says where their bias column is, when
        // several arrangements fit: read theirs the way the rest of their record stores it.
        let bias_last = first_input_bias_last(graph, p, &first);
        let mut layouts: Vec<Layout> = Layout::CONVENTIONS.to_vec();
        if let Some(last) = bias_last {
            layouts.sort_by_key(|l| l.bias_last() != last);
        }
        let recovered: Vec<(Layout, ArrayD<f64>)> = layouts
            .iter()
            .filter_map(|&l| Some((l, before_of(&l.undo(ours.shape(), &after)?, &l.undo(ours.shape(), &grad)?))))
            .collect();
        let Some((layout, first)) = recovered.first() else { continue };
        let verdict = if recovered.iter().any(|(_, before)| agree(&ours, before)) {
            InitVerdict::Same
        } else {
            let before = first;
            let mismatch = tol.mismatches(&ours, before);
            let i = mismatch.iter().position(|&m| m).unwrap_or(0);
            InitVerdict::Differs {
                index: unravel(ours.shape(), i),
                model: ours.iter().nth(i).copied().unwrap_or(f64::NAN),
                theirs: before.iter().nth(i).copied().unwrap_or(f64::NAN),
                layout: *layout,
            }
        };
        out.insert(p, verdict);
    }
    out
}

/// Whether their first record stores the input v of the layer u = W·[1; v] that parameter `p`
/// feeds with its bias entry 1 last (`Some(true)`) or first (`Some(false)`).
fn first_input_bias_last(graph: &crate::engine::Graph, p: usize, record: &ExampleRecord) -> Option<bool> {
    let &(u, _) = graph.consumers(p).iter().find(|&&(u, k)| k == 0 && graph.node(u).op == crate::engine::Op::Linear)?;
    let v = &graph.node(graph.node(u).inputs[1]);
    let (_, theirs) = record.forward.iter().find(|(n, _)| *n == v.name)?;
    let n: usize = v.shape.iter().product();
    if theirs.len() != n + 1 {
        return None;
    }
    match (theirs.iter().next(), theirs.iter().last()) {
        (_, Some(&1.0)) if theirs.iter().next() != Some(&1.0) => Some(true),
        (Some(&1.0), _) if theirs.iter().last() != Some(&1.0) => Some(false),
        _ => None,
    }
}

/// Runs the session (from [`prepare`]) alongside their trace and reports the first divergence.
pub fn run(session: &mut Session, theirs: &Theirs, tol: f64) -> Result<Report> {
    let mut report = compare_from(session, theirs, tol, Cursor::START, true);
    if report.divergence.is_none() {
        if report.compared_values == 0 && report.compared_epochs == 0 {
            return Err(Error::file(
                std::path::Path::new(&theirs.file),
                "no value of the trace could be compared: its records hold no forward, adjoints, params or metrics",
            ));
        }
        if report.compared_records < report.records {
            return Err(Error::file(
                std::path::Path::new(&theirs.file),
                format!(
                    "only {} of its {} records were compared (the run ended before the others): nothing is said to agree",
                    report.compared_records, report.records
                ),
            ));
        }
    }
    report.notes.sort();
    report.notes.dedup();
    Ok(report)
}

/// Runs the session alongside their trace and reports the first divergence at `from` or
/// later; epoch metrics too when `metrics`. A divergence before `from` is kept and named in
/// the diagnosis, since later ones may follow from it.
fn compare_from(session: &mut Session, theirs: &Theirs, tol: f64, from: Cursor, metrics: bool) -> Report {
    let tolerance = Tolerance { tol, float32: theirs.float32 };
    let comparer = comparer(session, theirs, tolerance);
    let report = empty_report(theirs, tolerance);
    let Some(last) = theirs.last() else { return report };
    let mut walk =
        Walk { comparer, report, from, metrics, agreed_examples: 0, unrecorded: Default::default(), earlier: None };
    while session.phase() != Phase::Finished && (session.epoch(), session.position().example) <= last {
        let Some(done) = session.finish_next() else { break };
        let found = match done {
            Finished::Example(at) => walk.example(session, at),
            Finished::Evaluation(m) => walk.evaluation(session, &m),
        };
        if found {
            break;
        }
    }
    walk.finish()
}

/// A comparer for their trace, with what is known before the first example: their initial
/// parameters (given or recovered) and their layouts, and the rows of the training data.
fn comparer<'t>(session: &Session, theirs: &'t Theirs, tolerance: Tolerance) -> Comparer<'t> {
    let init = recover_init(session, theirs, &tolerance);
    let layouts = match theirs.initial_values(session.graph()) {
        Ok(initial) => {
            initial.into_iter().map(|init| (session.graph().node(init.id).name.clone(), init.layouts)).collect()
        }
        Err(_) => Vec::new(),
    };
    let rows = session.model().train_data().map(RowIndex::new);
    Comparer::new(theirs, tolerance, init, layouts, rows)
}

/// The report before anything is compared (their init record counts as compared).
fn empty_report(theirs: &Theirs, tolerance: Tolerance) -> Report {
    let mut report = Report {
        divergence: None,
        compared_values: 0,
        compared_examples: 0,
        compared_epochs: 0,
        compared_records: usize::from(theirs.init.is_some()),
        records: theirs.records,
        tolerance,
        notes: vec![],
    };
    if theirs.float32 {
        report.notes.push(format!(
            "your numbers are float32; comparing at float32 precision (within {} of each array's largest entry)",
            py_repr(Tolerance::FLOAT32)
        ));
    }
    report
}

/// "agreed before it: 2 example(s) completely; in this example forward x, …": "completely" only
/// when their records held every parameter after its update.
fn agreed_before(d: &Divergence) -> String {
    let how = if d.unrecorded.is_empty() || d.agreed_examples == 0 {
        "completely".to_string()
    } else {
        let names: Vec<String> = d.unrecorded.iter().map(|n| format!("`{n}`")).collect();
        format!("in every value you recorded (you recorded no {} after an update)", names.join(", "))
    };
    let here = if d.agreed_here.is_empty() {
        String::new()
    } else {
        format!("; in this example {}", d.agreed_here.join(", "))
    };
    format!("  agreed before it: {} example(s) {how}{here}\n", d.agreed_examples)
}

/// A comparison under way, example by example and epoch by epoch.
struct Walk<'t> {
    comparer: Comparer<'t>,
    report: Report,
    from: Cursor,
    metrics: bool,
    /// Examples that agreed completely so far.
    agreed_examples: usize,
    /// Their names of the parameters missing after the update from a record that agreed.
    unrecorded: std::collections::BTreeSet<String>,
    /// The first divergence before `from`, named in the one reported.
    earlier: Option<Divergence>,
}

impl Walk<'_> {
    /// Compares the example the session has just finished with their record of it, if they
    /// recorded it; whether it holds the divergence to report.
    fn example(&mut self, session: &Session, at: Position) -> bool {
        self.comparer.observe(session);
        let their = match self.comparer.theirs().fetch(at.epoch, at.example) {
            Ok(Some(their)) => their,
            Ok(None) => {
                self.comparer.passed(session);
                return false;
            }
            // Said in the report, whose count of records compared then falls short.
            Err(why) => {
                self.report.notes.push(why);
                self.comparer.passed(session);
                return false;
            }
        };
        self.report.compared_examples += 1;
        let from = self.from;
        let here = Cursor { epoch: at.epoch, example: at.example, position: 0 };
        let start = if (at.epoch, at.example) == (from.epoch, from.example) { from.position } else { 0 };
        let found = self.comparer.compare_example(session, &their, at.row, start);
        self.comparer.passed(session);
        match found {
            Some(d) if here >= Cursor { position: 0, ..from } => {
                self.report.divergence = Some(self.reported(d));
                true
            }
            Some(d) => {
                self.earlier = self.earlier.take().or(Some(d));
                false
            }
            None => {
                self.agreed_examples += 1;
                let theirs = self.comparer.theirs();
                for &p in session.graph().params() {
                    let name = &session.graph().node(p).name;
                    if !their.params.iter().any(|(n, _)| n == name) {
                        self.unrecorded.insert(theirs.their_name(name).to_string());
                    }
                }
                false
            }
        }
    }

    /// The divergence to report, with the examples that agreed before it and, first in its
    /// diagnosis, the earlier divergence it may follow from.
    fn reported(&self, mut d: Divergence) -> Divergence {
        if let Some(first) = &self.earlier {
            d.diagnosis.insert(
                0,
                format!(
                    "your numbers already differed earlier, first at epoch {} example {} ({}); this may be a \
                     consequence of that one — fix the first divergence first.",
                    first.epoch,
                    first.example.unwrap_or(0),
                    first.what
                ),
            );
        }
        Divergence { agreed_examples: self.agreed_examples, unrecorded: self.unrecorded(), ..d }
    }

    fn unrecorded(&self) -> Vec<String> {
        self.unrecorded.iter().cloned().collect()
    }

    /// Compares an epoch's metrics with their epoch record, if they recorded it; whether they
    /// hold the divergence to report.
    fn evaluation(&mut self, session: &Session, m: &EpochMetrics) -> bool {
        let Some((_, their)) = self.comparer.theirs().epoch(m.epoch) else { return false };
        self.report.compared_epochs += 1;
        self.report.compared_records += 1;
        if !self.metrics || m.epoch < self.from.epoch {
            return false;
        }
        let tolerance = self.report.tolerance;
        let Some(d) = compare_metrics(session, self.comparer.history(), m, their, &tolerance) else { return false };
        self.report.divergence =
            Some(Divergence { agreed_examples: self.agreed_examples, unrecorded: self.unrecorded(), ..d });
        true
    }

    /// The report, with the comparer's counts and notes.
    fn finish(self) -> Report {
        let Walk { comparer, mut report, .. } = self;
        report.compared_values = comparer.compared_values();
        report.compared_records += comparer.compared_records();
        report.notes.extend(comparer.all_notes());
        report
    }
}

fn compare_metrics(
    session: &Session,
    history: &diagnose::History,
    m: &EpochMetrics,
    their: &EpochRecord,
    tol: &Tolerance,
) -> Option<Divergence> {
    let ours: Vec<(&str, Option<f64>)> = vec![
        ("train_loss", m.train.map(|s| s.loss)),
        ("train_error", m.train.and_then(|s| s.error)),
        ("test_loss", m.test.map(|s| s.loss)),
        ("test_error", m.test.and_then(|s| s.error)),
    ];
    for (key, t) in &their.metrics {
        let k = key.replace("validation", "test");
        let Some((_, Some(o))) = ours.iter().find(|(n, _)| *n == k) else { continue };
        if !tol.close(*o, *t, o.abs()) {
            return Some(Divergence {
                epoch: m.epoch,
                example: None,
                row: None,
                place: Place::Metric { key: key.clone() },
                what: format!("epoch metric {key}"),
                ours: Some(*o),
                theirs: Some(*t),
                agreed_examples: 0,
                unrecorded: vec![],
                agreed_here: vec![],
                diagnosis: diagnose::metric_diagnosis(
                    session,
                    history,
                    m.epoch,
                    key,
                    (*o, *t),
                    their,
                    &tol.for_diagnosis(),
                ),
                position: 0,
            });
        }
    }
    None
}

/// The report as printed by `bptui diff`.
pub fn render(report: &Report, theirs: &Theirs) -> String {
    let mut out = String::new();
    let tol = report.tolerance.describe();
    match &report.divergence {
        None => {
            out += &format!(
                "agree: all {} values of {} agree within {tol}: {} of its {} records compared ({} example records, {} epoch \
                 records{})\n",
                report.compared_values,
                theirs.file,
                report.compared_records,
                report.records,
                report.compared_examples,
                report.compared_epochs,
                if theirs.init.is_some() { ", 1 init record" } else { "" }
            );
        }
        Some(d) => {
            let alias = match d.value() {
                Some((section, name)) if theirs.their_name_in(section, name) != name => {
                    format!(" (your `{}`)", theirs.their_name_in(section, name))
                }
                _ => String::new(),
            };
            match d.example {
                None => out += &format!("first divergence: epoch {}, {}\n", d.epoch, d.what),
                Some(example) => {
                    out += &format!(
                        "first divergence: epoch {}, example {example}{}, {}{alias}\n",
                        d.epoch,
                        d.row.map(|r| format!(" (data row {r})")).unwrap_or_default(),
                        d.what,
                    )
                }
            }
            if let (Place::Row, Some(o), Some(t)) = (&d.place, d.ours, d.theirs) {
                // Row numbers: no difference and tolerance to speak of.
                out += &format!("  bptui's row {o}, yours {t}\n");
            } else if let (Some(o), Some(t)) = (d.ours, d.theirs) {
                // A value's worst entry, or an epoch metric (one number).
                let what = match d.value() {
                    Some((section, name)) => {
                        let yours = match d.their_index_text() {
                            Some(at) => format!(" (your {}{at})", theirs.their_name_in(section, name)),
                            None => String::new(),
                        };
                        format!("worst element {name}{}{yours}", d.index_text())
                    }
                    None => "the value".to_string(),
                };
                out += &format!(
                    "  {what}: bptui {}, yours {} (difference {:.3e}, tolerance {tol})\n",
                    py_repr(o),
                    py_repr(t),
                    (o - t).abs(),
                );
            }
            out += &agreed_before(d);
            for line in &d.diagnosis {
                out += &format!("  diagnosis: {line}\n");
            }
            out += &format!(
                "  compared: {} of the {} records of {}, {} values\n",
                report.compared_records, report.records, theirs.file, report.compared_values
            );
        }
    }
    for n in &report.notes {
        out += &format!("  note: {n}\n");
    }
    out
}

/// The first divergence at or after `from`, found by running a fresh session of `model`
/// (prepared with [`prepare`]) beside their trace: the debugger's `d`.
pub fn find_divergence(
    model: &Model,
    algorithm: Backward,
    theirs: &Theirs,
    tol: f64,
    from: Cursor,
) -> Option<Divergence> {
    let mut session = Session::new(model.clone(), algorithm);
    compare_from(&mut session, theirs, tol, from, false).divergence
}

/// Whether the value the step that produced `event` computed differs from THEIRS (the
/// debugger's `diverge` breakpoint): what differs, or `None` when it agrees or they did not
/// record it.
pub fn step_differs(theirs: &Theirs, tol: f64, s: &Session, event: crate::session::Event) -> Option<String> {
    use crate::session::Event;
    let graph = s.graph();
    let ws = s.workspace();
    let (section, node) = match event {
        Event::Forward { node } | Event::Loaded { node } => (Section::Forward, node),
        Event::Backward { node, .. } => (Section::Adjoint, node),
        Event::Update { node, .. } => (Section::Param, node),
        _ => return None,
    };
    // The last update ends the example: the session has moved on to the next one.
    let (epoch, example) = match (section, s.losses().last()) {
        (Section::Param, Some(l)) if s.phase() != Phase::Update => (l.epoch, l.example),
        _ => (s.epoch(), s.position().example),
    };
    let name = &graph.node(node).name;
    let their = match theirs.value(epoch, example, section, name) {
        Ok(Some(their)) => their,
        Ok(None) => return None,
        Err(why) => return Some(why),
    };
    let ours = match section {
        Section::Adjoint => &ws.adjoints[node],
        _ => &ws.values[node],
    };
    let tolerance = Tolerance { tol, float32: theirs.float32 };
    let ours = layout::Ours { value: ours, carried: ours::carried_adjoint(s, section, node) };
    match Verdict::of(ours, &their, &tolerance).is_some_and(|v| v.agrees) {
        true => None,
        _ => Some(format!(
            "{} of epoch {epoch} example {example} differs from THEIRS",
            section.describe(name, &graph.node(graph.loss()).name)
        )),
    }
}
