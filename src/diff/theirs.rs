//! Another implementation's trace, read and checked against the model before anything is
//! compared: their names mapped to bptui's, every record placed (or named in an error), their
//! initial parameters and their precision recognised.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ndarray::ArrayD;

use crate::engine::{Graph, NodeId, Op};
use crate::error::{Error, Result};
use crate::trace::{self, clip, EpochRecord, ExampleRecord, Named, Numbered, Record};

use super::layout::{align, numpy_shape, Layout};

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
}

impl Theirs {
    /// Reads a JSON Lines or .npz trace and renames their names to ours with `aliases`
    /// (their name, our name); every remaining name must be a node of `graph`, and every
    /// value must be one bptui computes.
    pub fn load(path: &Path, graph: &Graph, aliases: &[(String, String)]) -> Result<Theirs> {
        let records = trace::read_file(path)?;
        let file = path.display().to_string();
        let alias: HashMap<&str, &str> = aliases.iter().map(|(t, o)| (t.as_str(), o.as_str())).collect();
        let mut theirs = Theirs { file: file.clone(), records: records.len(), ..Default::default() };
        let mut numbers = Precision::default();
        for Numbered { number, record } in records {
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
                    if let Some((first, _)) = theirs.epochs.get(&e.epoch) {
                        return Err(bad(format!(
                            "a second metrics record of epoch {} (the first is record {first})",
                            e.epoch
                        )));
                    }
                    theirs.epochs.insert(e.epoch, (number, e));
                }
                Record::Init(mut params) => {
                    if theirs.init.is_some() || !theirs.examples.is_empty() {
                        return Err(bad("the init record comes once, before the first example record".into()));
                    }
                    for (name, a) in params.iter_mut() {
                        let ours = theirs.rename(graph, &alias, name, "init").map_err(&bad)?;
                        let id = graph.find(&ours).expect("renamed to a node");
                        if graph.node(id).op != Op::Param {
                            return Err(bad(format!(
                                "init: `{}` is not a parameter of the model (its parameters: {})",
                                clip(name),
                                param_names(graph)
                            )));
                        }
                        numbers.add(a);
                        *name = ours;
                    }
                    theirs.init = Some((number, params));
                }
                Record::Example(mut r) => {
                    for (key, list) in
                        [("forward", &mut r.forward), ("adjoints", &mut r.adjoints), ("params", &mut r.params)]
                    {
                        for (name, a) in list.iter_mut() {
                            let ours = theirs.rename(graph, &alias, name, key).map_err(&bad)?;
                            let id = graph.find(&ours).expect("renamed to a node");
                            comparable(graph, id, key).map_err(|why| bad(format!("{key}.{}: {why}", clip(name))))?;
                            numbers.add(a);
                            *name = ours;
                        }
                    }
                    let at = (r.epoch, r.example);
                    if let Some((first, _)) = theirs.examples.get(&at) {
                        return Err(bad(format!(
                            "a second record of epoch {} example {} (the first is record {first}): does your example \
                             counter restart at 1 each epoch, and your epoch counter start at 1?",
                            r.epoch, r.example
                        )));
                    }
                    theirs.examples.insert(at, (number, r));
                }
            }
        }
        if theirs.examples.is_empty() && theirs.epochs.is_empty() {
            return Err(Error::file(path, "the trace holds no example or epoch records: nothing to compare"));
        }
        theirs.float32 = numbers.is_float32();
        Ok(theirs)
    }

    /// Our name for their `name`, remembered for messages.
    fn rename(
        &mut self,
        graph: &Graph,
        alias: &HashMap<&str, &str>,
        name: &str,
        key: &str,
    ) -> std::result::Result<String, String> {
        let ours = alias.get(name).map(|s| s.to_string()).unwrap_or_else(|| name.to_string());
        if graph.find(&ours).is_none() {
            let known: Vec<&str> = graph.nodes().iter().map(|n| n.name.as_str()).collect();
            return Err(format!(
                "{key}: `{}` is not a node of the model (its nodes: {}); map it with --alias {}=OURS",
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

    /// Their value of `name` in `section` of an example.
    pub fn value(&self, epoch: usize, example: usize, section: super::Section, name: &str) -> Option<&ArrayD<f64>> {
        let r = self.example(epoch, example)?;
        section.of(r).iter().find(|(n, _)| n == name).map(|(_, v)| v)
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

    /// Their initial parameters in our layout, to start a session from: each with the layout
    /// it was stored in. An init value that is no arrangement of the parameter is an error.
    pub fn initial_values(&self, graph: &Graph) -> Result<Vec<(NodeId, ArrayD<f64>, Layout)>> {
        let Some((number, params)) = &self.init else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for (name, a) in params {
            let id = graph.find(name).expect("checked on load");
            let shape = &graph.node(id).shape;
            // Which arrangement: the one their first recorded value of the parameter confirms,
            // else the most natural one that fits.
            let confirmed = self.examples.values().find_map(|(_, r)| {
                r.params.iter().find(|(n, _)| n == name).map(|(_, p)| crate::engine::shape_str(p.shape()))
            });
            let Some((layout, value)) = align(&ArrayD::zeros(shape.as_slice()), a, |_, _| false)
                .filter(|_| a.len() == shape.iter().product::<usize>())
            else {
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
            };
            out.push((id, value, layout));
        }
        Ok(out)
    }
}

/// Whether `section` of node `id` is a number bptui has to compare with.
fn comparable(graph: &Graph, id: NodeId, section: &str) -> std::result::Result<(), String> {
    let node = graph.node(id);
    match section {
        "params" if node.op != Op::Param => {
            Err(format!("`{}` is not a parameter, so it has no value after the update", node.name))
        }
        "adjoints" if !graph.backward_order().contains(&id) => Err(format!(
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

    fn is_float32(&self) -> bool {
        self.seen && self.all_f32 && self.fractional >= 16
    }
}
