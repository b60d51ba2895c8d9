//! Another implementation's trace, read and checked against the model before anything is
//! compared: their names mapped to bptui's, every record placed (or named in an error), their
//! initial parameters and their precision recognised.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ndarray::ArrayD;

use crate::engine::{Graph, NodeId, Op};
use crate::error::clip;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::trace::{self, EpochRecord, ExampleRecord, Named, Numbered, Record};

use super::layout::{align, numpy_shape, Layout};
use super::tolerance::Tolerance;

/// The metric keys a trace may hold (`validation_*` is read as `test_*`).
pub const METRICS: [&str; 4] = ["train_loss", "train_error", "test_loss", "test_error"];

/// Another implementation's trace, names mapped to bptui's.
#[derive(Debug, Clone, Default)]
pub struct Theirs {
    pub file: String,
    /// (epoch, example) → (record number, record).
    examples: BTreeMap<(usize, usize), (usize, ExampleRecord)>,
    epochs: BTreeMap<usize, (usize, EpochRecord)>,
    /// Their initial parameters (our names, their layout) and the record's number.
    pub init: Option<(usize, Named)>,
    /// (section key, our name) → their name, for messages: a student may call dJ/db `g_b`
    /// and b itself `net_o`.
    their_names: HashMap<(String, String), String>,
    /// Every number of the trace is exactly a float32 (and enough of them are not integers to
    /// tell): their code computes in float32.
    pub float32: bool,
    /// How many records the file holds.
    pub records: usize,
    /// The shape of each parameter's value after the update in the first example that
    /// records it (our names).
    param_shapes: HashMap<String, ((usize, usize), Vec<usize>)>,
    /// Where to read example records again, when loaded streaming.
    lazy: Option<Arc<Lazy>>,
    /// (section, our name) → the line of their source that bound it (`neuralnet.py:57: g_z =
    /// W2.T @ g_b`), when the values were captured from their program as it ran.
    pub sources: HashMap<(super::Section, String), String>,
}

/// A streamed trace: where to read each example record again.
#[derive(Debug)]
struct Lazy {
    source: Source,
    /// Their name → our name.
    alias: HashMap<String, String>,
    /// The two records [`Theirs::value`] read last: the debugger asks for their values again
    /// at every frame and step.
    kept: Mutex<Vec<ExampleRecord>>,
}

#[derive(Debug)]
enum Source {
    /// JSON Lines: (epoch, example) → (record number, byte offset of its line).
    Jsonl { path: PathBuf, offsets: BTreeMap<(usize, usize), (usize, u64)>, cursor: Mutex<Option<trace::JsonlCursor>> },
    /// .npz: the archive, its directory grouped by record.
    Npz(Mutex<trace::NpzTrace>),
}

/// What reading a trace carries from record to record.
struct Reading {
    /// Their name → our name.
    alias: HashMap<String, String>,
    numbers: Precision,
}

impl Reading {
    fn new(aliases: &[(String, String)]) -> Reading {
        Reading { alias: aliases.iter().cloned().collect(), numbers: Precision::default() }
    }
}

impl Theirs {
    /// Reads a JSON Lines or .npz trace and renames their names to ours with `aliases`
    /// (their name, our name); every remaining name must be a node of `graph`, and every
    /// value must be one bptui computes. Holds every record in memory: a trace from a pipe,
    /// which cannot be read twice, and the tests' small traces; `diff` and the debugger's
    /// `--against` use [`Theirs::load_streaming`].
    pub fn load(path: &Path, graph: &Graph, aliases: &[(String, String)], limits: Limits) -> Result<Theirs> {
        let records = trace::read_file(path, limits)?;
        let mut theirs = Theirs { file: path.display().to_string(), records: records.len(), ..Default::default() };
        let mut reading = Reading::new(aliases);
        for Numbered { number, record } in records {
            theirs.take(graph, &mut reading, number, record, true)?;
        }
        theirs.finish(path, reading)
    }

    /// As [`Theirs::load`], from records already in memory (a captured program's), named
    /// `file` in messages; record numbers count from 1 in the order given.
    pub fn from_records(
        file: &str,
        records: Vec<Record>,
        graph: &Graph,
        aliases: &[(String, String)],
    ) -> Result<Theirs> {
        let mut theirs = Theirs { file: file.to_string(), records: records.len(), ..Default::default() };
        let mut reading = Reading::new(aliases);
        for (i, record) in records.into_iter().enumerate() {
            theirs.take(graph, &mut reading, i + 1, record, true)?;
        }
        theirs.finish(Path::new(file), reading)
    }

    /// As [`Theirs::load`], but the trace is read one record at a time: this pass checks
    /// every record and keeps only what places it (epoch, example, row, names, record number,
    /// where it is in the file), and [`Theirs::fetch`] reads a record again when it is
    /// compared. Memory stays a few records whatever the trace's size.
    pub fn load_streaming(path: &Path, graph: &Graph, aliases: &[(String, String)], limits: Limits) -> Result<Theirs> {
        // A pipe cannot be read twice: it is read once, bounded, as `load` does.
        let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
        if !regular {
            return Theirs::load(path, graph, aliases, limits);
        }
        let mut theirs = Theirs { file: path.display().to_string(), ..Default::default() };
        let mut reading = Reading::new(aliases);
        if trace::is_npz(path) {
            let mut npz = trace::NpzTrace::open(path, limits)?;
            npz.for_each(|Numbered { number, record }| {
                theirs.records += 1;
                theirs.take(graph, &mut reading, number, record, false)
            })?;
            let source = Source::Npz(Mutex::new(npz));
            theirs.lazy = Some(Arc::new(Lazy { source, alias: reading.alias.clone(), kept: Mutex::new(Vec::new()) }));
            return theirs.finish(path, reading);
        }
        let mut offsets = BTreeMap::new();
        trace::for_each_jsonl_record(path, |Numbered { number, record }, offset| {
            theirs.records += 1;
            if let Record::Example(r) = &record {
                offsets.insert((r.epoch, r.example), (number, offset));
            }
            theirs.take(graph, &mut reading, number, record, false)?;
            // Once a number is not a float32, the rest need not be read to tell.
            Ok(!reading.numbers.decided())
        })?;
        let source = Source::Jsonl { path: path.to_path_buf(), offsets, cursor: Mutex::new(None) };
        theirs.lazy = Some(Arc::new(Lazy { source, alias: reading.alias.clone(), kept: Mutex::new(Vec::new()) }));
        theirs.finish(path, reading)
    }

    /// Checks one record of theirs and files it; `keep` keeps its numbers (else only names
    /// and shapes of its parameters).
    fn take(&mut self, graph: &Graph, reading: &mut Reading, number: usize, record: Record, keep: bool) -> Result<()> {
        let file = self.file.clone();
        let bad = |message: String| Error::Trace { file: file.clone(), record: number, message };
        match record {
            Record::Epoch(e) => {
                for (key, _) in &e.metrics {
                    let ours = key.replace("validation", "test");
                    if !METRICS.contains(&ours.as_str()) {
                        return Err(bad(format!(
                            "unknown metric \"{}\": expected {} (or validation_loss, validation_error)",
                            clip(key),
                            METRICS.join(", ")
                        )));
                    }
                }
                if let Some((first, _)) = self.epochs.get(&e.epoch) {
                    return Err(bad(format!(
                        "a second metrics record of epoch {} (the first is record {first})",
                        e.epoch
                    )));
                }
                self.epochs.insert(e.epoch, (number, e));
            }
            Record::Init(mut params) => {
                if self.init.is_some() || !self.examples.is_empty() {
                    return Err(bad("the init record comes once, before the first example record".into()));
                }
                for (name, a) in params.iter_mut() {
                    let ours = self.rename(graph, &reading.alias, name, "init").map_err(&bad)?;
                    let id = graph.find(&ours).expect("renamed to a node");
                    if graph.node(id).op != Op::Param {
                        return Err(bad(format!(
                            "init: `{}` is not a parameter of the model (its parameters: {})",
                            clip(name),
                            param_names(graph)
                        )));
                    }
                    reading.numbers.add(a);
                    *name = ours;
                }
                self.init = Some((number, params));
            }
            Record::Example(mut r) => {
                for (key, list) in
                    [("forward", &mut r.forward), ("adjoints", &mut r.adjoints), ("params", &mut r.params)]
                {
                    for (name, a) in list.iter_mut() {
                        let ours = self.rename(graph, &reading.alias, name, key).map_err(&bad)?;
                        let id = graph.find(&ours).expect("renamed to a node");
                        comparable(graph, id, key).map_err(|why| bad(format!("{key}.{}: {why}", clip(name))))?;
                        reading.numbers.add(a);
                        *name = ours;
                    }
                }
                let at = (r.epoch, r.example);
                for (name, a) in &r.params {
                    let first = self.param_shapes.entry(name.clone()).or_insert_with(|| (at, a.shape().to_vec()));
                    if at < first.0 {
                        *first = (at, a.shape().to_vec());
                    }
                }
                if let Some((first, _)) = self.examples.get(&at) {
                    return Err(bad(format!(
                        "a second record of epoch {} example {} (the first is record {first}): does your example \
                         counter restart at 1 each epoch, and your epoch counter start at 1?",
                        r.epoch, r.example
                    )));
                }
                if !keep {
                    for list in [&mut r.forward, &mut r.adjoints, &mut r.params] {
                        list.clear();
                    }
                }
                self.examples.insert(at, (number, r));
            }
        }
        Ok(())
    }

    fn finish(mut self, path: &Path, reading: Reading) -> Result<Theirs> {
        if self.examples.is_empty() && self.epochs.is_empty() {
            return Err(Error::file(path, "the trace holds no example or epoch records: nothing to compare"));
        }
        self.float32 = reading.numbers.is_float32();
        Ok(self)
    }

    /// Their record of an example with its numbers: from memory, or read again from the file
    /// (names renamed to ours) when the trace was loaded streaming. `Ok(None)` when they did
    /// not record it; `Err` when the file can no longer be read as it was (changed or removed
    /// while bptui reads it).
    pub fn fetch(&self, epoch: usize, example: usize) -> std::result::Result<Option<Cow<'_, ExampleRecord>>, String> {
        let Some(lazy) = &self.lazy else { return Ok(self.example(epoch, example).map(Cow::Borrowed)) };
        let again = |e: &dyn std::fmt::Display| {
            format!("could not read their record of epoch {epoch} example {example} again ({e}): was the file changed?")
        };
        let record = match &lazy.source {
            Source::Jsonl { path, offsets, cursor } => {
                let Some(&(number, offset)) = offsets.get(&(epoch, example)) else { return Ok(None) };
                let mut cursor = cursor.lock().unwrap_or_else(|e| e.into_inner());
                if cursor.is_none() {
                    *cursor = Some(trace::JsonlCursor::open(path).map_err(|e| again(&e))?);
                }
                let cursor = cursor.as_mut().expect("opened");
                cursor.read_at(offset, number).map_err(|e| again(&e))?
            }
            Source::Npz(npz) => {
                let mut npz = npz.lock().unwrap_or_else(|e| e.into_inner());
                match npz.example(epoch, example).map_err(|e| again(&e))? {
                    Some(numbered) => numbered.record,
                    None => return Ok(None),
                }
            }
        };
        let Record::Example(mut r) = record else { return Err(again(&"not an example record")) };
        for list in [&mut r.forward, &mut r.adjoints, &mut r.params] {
            for (name, _) in list.iter_mut() {
                if let Some(ours) = lazy.alias.get(name) {
                    *name = ours.clone();
                }
            }
        }
        Ok(Some(Cow::Owned(r)))
    }

    /// Our name for their `name`, remembered for messages.
    fn rename(
        &mut self,
        graph: &Graph,
        alias: &HashMap<String, String>,
        name: &str,
        key: &str,
    ) -> std::result::Result<String, String> {
        let ours = alias.get(name).cloned().unwrap_or_else(|| name.to_string());
        if graph.find(&ours).is_none() {
            let known: Vec<&str> = graph.nodes().iter().map(|n| n.name.as_str()).collect();
            return Err(format!(
                "{key}: `{}` is not a node of the model (its nodes: {}); map it to one of them with --alias {}=NODE",
                clip(name),
                known.join(", "),
                clip(name)
            ));
        }
        if ours != name {
            self.their_names.insert((key.to_string(), ours.clone()), name.to_string());
        }
        Ok(ours)
    }

    /// Their record of an example (epoch and example count from 1).
    pub fn example(&self, epoch: usize, example: usize) -> Option<&ExampleRecord> {
        self.examples.get(&(epoch, example)).map(|(_, r)| r)
    }

    /// Every example record: ((epoch, example), record number, record).
    pub fn examples(&self) -> impl Iterator<Item = ((usize, usize), usize, &ExampleRecord)> {
        self.examples.iter().map(|(&k, (n, r))| (k, *n, r))
    }

    /// Their record of an epoch's metrics, with its record number.
    pub fn epoch(&self, epoch: usize) -> Option<(usize, &EpochRecord)> {
        self.epochs.get(&epoch).map(|(n, r)| (*n, r))
    }

    pub fn epoch_records(&self) -> impl Iterator<Item = (usize, &EpochRecord)> {
        self.epochs.values().map(|(n, r)| (*n, r))
    }

    /// Their value of `name` in `section` of an example; read from the file when the trace was
    /// loaded streaming (the two records read last are kept: the debugger shows an example's
    /// values beside the parameters the example before it left).
    pub fn value(
        &self,
        epoch: usize,
        example: usize,
        section: super::Section,
        name: &str,
    ) -> std::result::Result<Option<Cow<'_, ArrayD<f64>>>, String> {
        let find = |r: &ExampleRecord| section.of(r).iter().position(|(n, _)| n == name);
        let Some(lazy) = &self.lazy else {
            let Some(r) = self.example(epoch, example) else { return Ok(None) };
            return Ok(find(r).map(|i| Cow::Borrowed(&section.of(r)[i].1)));
        };
        let mut kept = lazy.kept.lock().unwrap_or_else(|e| e.into_inner());
        let at = match kept.iter().position(|r| (r.epoch, r.example) == (epoch, example)) {
            Some(at) => at,
            None => {
                let Some(record) = self.fetch(epoch, example)? else { return Ok(None) };
                if kept.len() == 2 {
                    kept.remove(0);
                }
                kept.push(record.into_owned());
                kept.len() - 1
            }
        };
        let r = &kept[at];
        Ok(find(r).map(|i| Cow::Owned(section.of(r)[i].1.clone())))
    }

    /// The last epoch they recorded anything of.
    pub fn last_epoch(&self) -> usize {
        let ex = self.examples.keys().next_back().map(|&(e, _)| e).unwrap_or(0);
        let ep = self.epochs.keys().next_back().copied().unwrap_or(0);
        ex.max(ep)
    }

    /// The last (epoch, example) they recorded (an epoch record counts as its epoch's end).
    pub fn last(&self) -> Option<(usize, usize)> {
        let ex = self.examples.keys().next_back().copied();
        let ep = self.epochs.keys().next_back().map(|&e| (e, usize::MAX));
        ex.max(ep)
    }

    /// How a node's value is spelled in their trace (a parameter's name first).
    pub fn their_name<'a>(&'a self, ours: &'a str) -> &'a str {
        // Their name of the gradient is another thing than the value's.
        ["params", "init", "forward"]
            .iter()
            .find_map(|k| self.their_names.get(&(k.to_string(), ours.to_string())))
            .map(String::as_str)
            .unwrap_or(ours)
    }

    /// How a node's value (or adjoint) is spelled in a section of their trace.
    pub fn their_name_in<'a>(&'a self, section: super::Section, ours: &'a str) -> &'a str {
        self.their_names.get(&(section.key().to_string(), ours.to_string())).map(String::as_str).unwrap_or(ours)
    }

    /// Their initial parameters in our layout, to start a session from: each with the layouts
    /// it may be stored in. An init value that is no arrangement of the parameter is an error,
    /// except weights one bias column short (no 1 prepended to the layer's input: the student's
    /// mistake, which the comparison then names), started from with a zero bias column.
    pub fn initial_values(&self, graph: &Graph) -> Result<Vec<Initial>> {
        let Some((number, params)) = &self.init else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for (name, a) in params {
            let id = graph.find(name).expect("checked on load");
            let shape = &graph.node(id).shape;
            if let Some(initial) = self.init_layout(graph, id, a) {
                out.push(initial);
                continue;
            }
            if let Some(value) = without_bias_column(shape, a) {
                out.push(Initial {
                    id,
                    value,
                    layouts: Vec::new(),
                    note: Some(format!(
                        "your init record's {} is {}, bptui's {name} is {} (with a bias column): bptui started from \
                         yours with a zero bias column",
                        self.their_name(name),
                        numpy_shape(a.shape()),
                        numpy_shape(shape)
                    )),
                });
                continue;
            }
            // Which arrangement their params show, for the message.
            let confirmed = self.param_shapes.get(name).map(|(_, s)| crate::notation::shape_str(s));
            return Err(Error::Trace {
                file: self.file.clone(),
                record: *number,
                message: format!(
                    "init.{}: shape {} holds no arrangement of bptui's `{name}` of shape {}{}",
                    self.their_name(name),
                    numpy_shape(a.shape()),
                    numpy_shape(shape),
                    confirmed.map(|s| format!(" (your params record it as {s})")).unwrap_or_default()
                ),
            });
        }
        Ok(out)
    }
}

/// A parameter's initial value from their init record.
#[derive(Debug, Clone)]
pub struct Initial {
    pub id: NodeId,
    /// In bptui's layout.
    pub value: ArrayD<f64>,
    /// The layouts their array may be stored in: several when the numbers cannot tell (all
    /// zeros fit every one), none when it is no arrangement of bptui's.
    pub layouts: Vec<Layout>,
    /// Said in the report.
    pub note: Option<String>,
}

/// Weights of `shape` (units × (in + 1)) from theirs one bias column short (units × in, or
/// transposed), with a zero bias column.
fn without_bias_column(shape: &[usize], a: &ArrayD<f64>) -> Option<ArrayD<f64>> {
    let &[units, cols] = shape else { return None };
    let m = a.view().into_dimensionality::<ndarray::Ix2>().ok()?;
    let m = match *m.shape() {
        [r, c] if cols > 1 && (r, c) == (units, cols - 1) => m.to_owned(),
        [r, c] if cols > 1 && (r, c) == (cols - 1, units) => m.t().to_owned(),
        _ => return None,
    };
    let mut out = ndarray::Array2::zeros((units, cols));
    out.slice_mut(ndarray::s![.., 1..]).assign(&m);
    Some(out.into_dyn())
}

impl Theirs {
    /// The arrangement of their initial value `a` of parameter `p`: of those that fit its
    /// shape (bias column first or last, transposed or not: a (4, 4) or an (n, n + 1) array
    /// fits several), the one under which their first example's value of the linear map that
    /// reads it, u = θ·[1; x], comes out from their x; else the most natural one that fits.
    fn init_layout(&self, graph: &Graph, p: NodeId, a: &ArrayD<f64>) -> Option<Initial> {
        let shape = graph.node(p).shape.as_slice();
        if a.len() != shape.iter().product::<usize>() {
            return None;
        }
        let fits: Vec<(Layout, ArrayD<f64>)> =
            Layout::CONVENTIONS.iter().filter_map(|&l| l.undo(shape, a).map(|v| (l, v))).collect();
        let (first, value) = fits.first().cloned()?;
        // Numbers that read the same in every arrangement (all zeros) leave the layout open.
        if fits.iter().all(|(_, v)| *v == value) {
            return Some(Initial { id: p, value, layouts: fits.into_iter().map(|(l, _)| l).collect(), note: None });
        }
        let chosen = if fits.len() > 1 { self.reproducing(graph, p, &fits).unwrap_or(0) } else { 0 };
        let (layout, value) = fits.into_iter().nth(chosen).unwrap_or((first, value));
        Some(Initial { id: p, value, layouts: vec![layout], note: None })
    }

    /// Which of `fits` (arrangements of parameter `p`) gives their first recorded value of the
    /// linear map reading it from their recorded input, within float32 precision; `None` when
    /// the records cannot tell.
    fn reproducing(&self, graph: &Graph, p: NodeId, fits: &[(Layout, ArrayD<f64>)]) -> Option<usize> {
        let [(u, 0)] = graph.consumers(p) else { return None };
        let node = graph.node(*u);
        if node.op != Op::Linear {
            return None;
        }
        let first = self.examples.keys().next().and_then(|&(e, x)| self.fetch(e, x).ok().flatten())?;
        let recorded = |id: NodeId| {
            let n = graph.node(id);
            let (_, theirs) = first.forward.iter().find(|(name, _)| *name == n.name)?;
            align(&ArrayD::zeros(n.shape.as_slice()), theirs, |_, _| false).map(|(_, v)| v)
        };
        let (x, their_u) = (recorded(node.inputs[1])?, recorded(*u)?);
        let scale = their_u.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let mut values: Vec<ArrayD<f64>> = vec![ArrayD::zeros(ndarray::IxDyn(&[0])); graph.len()];
        values[node.inputs[1]] = x;
        let errors: Vec<f64> = fits
            .iter()
            .map(|(_, theta)| {
                values[p] = theta.clone();
                let mut out = ArrayD::zeros(node.shape.as_slice());
                node.op.forward(&node.inputs, &values, &mut out);
                out.iter().zip(their_u.iter()).fold(0.0f64, |m, (o, t)| m.max((o - t).abs())) / scale
            })
            .collect();
        let (best, &error) = errors.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1))?;
        (error <= Tolerance::FLOAT32 && errors.iter().filter(|&&e| e <= Tolerance::FLOAT32).count() == 1)
            .then_some(best)
    }
}

/// Whether `section` of node `id` is a number bptui has to compare with.
fn comparable(graph: &Graph, id: NodeId, section: &str) -> std::result::Result<(), String> {
    let node = graph.node(id);
    match section {
        "params" if node.op != Op::Param => {
            Err(format!("`{}` is not a parameter, so it has no value after the update", node.name))
        }
        "adjoints" if graph.backward_position(id).is_none() => Err(format!(
            "bptui computes no dJ/d{}: {} does not depend on it through anything differentiable",
            node.name,
            graph.node(graph.loss()).name
        )),
        _ => Ok(()),
    }
}

fn param_names(graph: &Graph) -> String {
    graph.params().iter().map(|&p| graph.node(p).name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Tells float32 code by its numbers: every one exactly a float32, and enough of them
/// fractional that float64 code would have shown it.
#[derive(Default)]
struct Precision {
    fractional: usize,
    all_f32: bool,
    seen: bool,
}

impl Precision {
    fn add(&mut self, a: &ArrayD<f64>) {
        if !self.seen {
            self.all_f32 = true;
            self.seen = true;
        }
        for &v in a {
            if v.is_finite() && v.fract() != 0.0 {
                self.fractional += 1;
                if self.all_f32 && f64::from(v as f32) != v {
                    self.all_f32 = false;
                }
            }
        }
    }

    /// Whether more numbers can no longer change the verdict.
    fn decided(&self) -> bool {
        self.seen && !self.all_f32
    }

    fn is_float32(&self) -> bool {
        self.seen && self.all_f32 && self.fractional >= 16
    }
}
