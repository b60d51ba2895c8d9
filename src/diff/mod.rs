//! Comparing bptui's computation with a trace made by another implementation: finds the first
//! number that disagrees, in execution order, and says why it probably does.
//!
//! Their arrays may be laid out differently (weights transposed, the bias column last, a
//! vector with its bias entry 1 included, a scalar where bptui has a one-element vector):
//! such a layout is learned the first time a name is compared and used from then on. A value
//! that agrees only under a *different* transformation than its parameter's layout, or only
//! after a sign flip, a constant factor, or with a neighbouring number, is a divergence with
//! a diagnosis.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ndarray::{s, ArrayD, IxDyn};

use crate::engine::{Graph, NodeId, Op};
use crate::error::{Error, Result};
use crate::numfmt::short;
use crate::session::{Phase, Session};
use crate::trace::{self, EpochRecord, ExampleRecord, Named, Record};

/// The part of an example a value belongs to, in execution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Forward,
    Adjoint,
    Param,
}

impl Section {
    pub fn describe(self, name: &str) -> String {
        match self {
            Section::Forward => format!("forward value {name}"),
            Section::Adjoint => format!("adjoint dJ/d{name}"),
            Section::Param => format!("parameter {name} after the update"),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Section::Forward => "forward",
            Section::Adjoint => "adjoints",
            Section::Param => "params",
        }
    }
}

/// Another implementation's trace, names mapped to bptui's.
#[derive(Debug, Clone, Default)]
pub struct Theirs {
    pub file: String,
    examples: BTreeMap<(usize, usize), ExampleRecord>,
    epochs: BTreeMap<usize, EpochRecord>,
    /// Our name → their name, for messages.
    pub their_names: HashMap<String, String>,
}

impl Theirs {
    /// Reads a JSON Lines or .npz trace and renames their names to ours with `aliases`
    /// (their name, our name); every remaining name must be a node of `graph`.
    pub fn load(path: &Path, graph: &Graph, aliases: &[(String, String)]) -> Result<Theirs> {
        let records =
            if path.extension().is_some_and(|e| e == "npz") { read_npz(path)? } else { trace::read_jsonl(path)? };
        let file = path.display().to_string();
        let alias: HashMap<&str, &str> = aliases.iter().map(|(t, o)| (t.as_str(), o.as_str())).collect();
        let mut theirs = Theirs { file: file.clone(), ..Default::default() };
        for (i, record) in records.into_iter().enumerate() {
            match record {
                Record::Epoch(e) => {
                    theirs.epochs.insert(e.epoch, e);
                }
                Record::Example(mut r) => {
                    for (key, list) in
                        [("forward", &mut r.forward), ("adjoints", &mut r.adjoints), ("params", &mut r.params)]
                    {
                        for (name, _) in list.iter_mut() {
                            let ours = alias.get(name.as_str()).map(|s| s.to_string()).unwrap_or_else(|| name.clone());
                            if graph.find(&ours).is_none() {
                                let known: Vec<&str> = graph.nodes().iter().map(|n| n.name.as_str()).collect();
                                return Err(Error::Trace {
                                    file,
                                    record: i + 1,
                                    message: format!(
                                        "{key}: `{name}` is not a node of the model (its nodes: {}); map it with --alias {name}=OURS",
                                        known.join(", ")
                                    ),
                                });
                            }
                            if ours != *name {
                                theirs.their_names.insert(ours.clone(), name.clone());
                            }
                            *name = ours;
                        }
                    }
                    if r.epoch == 0 || r.example == 0 {
                        return Err(Error::Trace {
                            file,
                            record: i + 1,
                            message: "epoch and example count from 1".into(),
                        });
                    }
                    theirs.examples.insert((r.epoch, r.example), r);
                }
            }
        }
        if theirs.examples.is_empty() && theirs.epochs.is_empty() {
            return Err(Error::file(path, "the trace holds no records"));
        }
        Ok(theirs)
    }

    /// Their record of an example (epoch and example count from 1).
    pub fn example(&self, epoch: usize, example: usize) -> Option<&ExampleRecord> {
        self.examples.get(&(epoch, example))
    }

    /// Their value of `name` in `section` of an example.
    pub fn value(&self, epoch: usize, example: usize, section: Section, name: &str) -> Option<&ArrayD<f64>> {
        let r = self.example(epoch, example)?;
        let list = match section {
            Section::Forward => &r.forward,
            Section::Adjoint => &r.adjoints,
            Section::Param => &r.params,
        };
        list.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The last (epoch, example) they recorded.
    pub fn last(&self) -> Option<(usize, usize)> {
        let ex = self.examples.keys().next_back().copied();
        let ep = self.epochs.keys().next_back().map(|&e| (e, usize::MAX));
        ex.max(ep)
    }

    /// How a name is spelled in their trace.
    pub fn their_name<'a>(&'a self, ours: &'a str) -> &'a str {
        self.their_names.get(ours).map(String::as_str).unwrap_or(ours)
    }
}

fn read_npz(path: &Path) -> Result<Vec<Record>> {
    let file = std::fs::File::open(path).map_err(|e| Error::file(path, format!("cannot read the trace: {e}")))?;
    let mut npz =
        ndarray_npy::NpzReader::new(file).map_err(|e| Error::file(path, format!("not a readable .npz: {e}")))?;
    let names = npz.names().map_err(|e| Error::file(path, format!("not a readable .npz: {e}")))?;
    let mut examples: BTreeMap<(usize, usize), ExampleRecord> = BTreeMap::new();
    let mut epochs: BTreeMap<usize, EpochRecord> = BTreeMap::new();
    for (i, key) in names.iter().enumerate() {
        let bad = |message: String| Error::Trace { file: path.display().to_string(), record: i + 1, message };
        let parts: Vec<&str> = key.split('/').collect();
        let epoch = parts.first().and_then(|p| p.strip_prefix('e')).and_then(|n| n.parse::<usize>().ok());
        let Some(epoch) = epoch else {
            return Err(bad(format!(
                "key `{key}`: expected e{{epoch}}/x{{example}}/{{forward|adjoints|params}}/{{name}}"
            )));
        };
        let array = read_npz_array(&mut npz, key).map_err(|e| bad(format!("key `{key}`: {e}")))?;
        if parts.get(1) == Some(&"metrics") && parts.len() == 3 {
            let v = array.iter().next().copied().ok_or_else(|| bad(format!("key `{key}`: empty")))?;
            epochs
                .entry(epoch)
                .or_insert_with(|| EpochRecord { epoch, metrics: vec![] })
                .metrics
                .push((parts[2].to_string(), v));
            continue;
        }
        let example = parts.get(1).and_then(|p| p.strip_prefix('x')).and_then(|n| n.parse::<usize>().ok());
        let Some(example) = example else {
            return Err(bad(format!("key `{key}`: expected e{{epoch}}/x{{example}}/{{section}}/{{name}}")));
        };
        let rec = examples.entry((epoch, example)).or_insert_with(|| ExampleRecord {
            epoch,
            example,
            row: None,
            forward: vec![],
            adjoints: vec![],
            params: vec![],
        });
        match (parts.get(2), parts.len()) {
            (Some(&"row"), 3) => rec.row = array.iter().next().map(|&r| r as usize),
            (Some(&"forward"), 4) => rec.forward.push((parts[3].to_string(), array)),
            (Some(&"adjoints"), 4) => rec.adjoints.push((parts[3].to_string(), array)),
            (Some(&"params"), 4) => rec.params.push((parts[3].to_string(), array)),
            _ => return Err(bad(format!("key `{key}`: the section must be forward, adjoints, params or row"))),
        }
    }
    let mut out: Vec<Record> = examples.into_values().map(Record::Example).collect();
    out.extend(epochs.into_values().map(Record::Epoch));
    Ok(out)
}

fn read_npz_array(
    npz: &mut ndarray_npy::NpzReader<std::fs::File>,
    key: &str,
) -> std::result::Result<ArrayD<f64>, String> {
    if let Ok(a) = npz.by_name::<ndarray::OwnedRepr<f64>, IxDyn>(key) {
        return Ok(a);
    }
    if let Ok(a) = npz.by_name::<ndarray::OwnedRepr<f32>, IxDyn>(key) {
        return Ok(a.mapv(f64::from));
    }
    if let Ok(a) = npz.by_name::<ndarray::OwnedRepr<i64>, IxDyn>(key) {
        return Ok(a.mapv(|v| v as f64));
    }
    Err("expected an array of float64, float32 or int64".into())
}

/// A rearrangement of our array into their layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    Same,
    /// Same numbers, other singleton dimensions (a scalar for a one-element vector).
    Squeezed,
    Transposed,
    /// Bias column moved from first to last.
    BiasLast,
    /// Transposed with the bias in the last row.
    BiasLastTransposed,
    /// The bias column left out.
    NoBias,
    NoBiasTransposed,
    /// A vector with the bias entry 1 prepended (their z includes z_0 = 1).
    WithOneFirst,
    /// A vector with the bias entry 1 appended.
    WithOneLast,
}

impl Layout {
    const ALL: [Layout; 9] = [
        Layout::Same,
        Layout::Squeezed,
        Layout::Transposed,
        Layout::BiasLast,
        Layout::BiasLastTransposed,
        Layout::NoBias,
        Layout::NoBiasTransposed,
        Layout::WithOneFirst,
        Layout::WithOneLast,
    ];

    /// Our array in this layout, if it applies to its shape.
    pub fn apply(self, a: &ArrayD<f64>) -> Option<ArrayD<f64>> {
        let m2 = || (a.ndim() == 2).then(|| a.view().into_dimensionality::<ndarray::Ix2>().ok()).flatten();
        let bias_last = |m: ndarray::ArrayView2<f64>| {
            let mut out = ndarray::Array2::zeros(m.raw_dim());
            let n = m.ncols();
            out.slice_mut(s![.., ..n - 1]).assign(&m.slice(s![.., 1..]));
            out.column_mut(n - 1).assign(&m.column(0));
            out
        };
        Some(match self {
            Layout::Same => a.clone(),
            Layout::Squeezed => {
                let shape: Vec<usize> = a.shape().iter().copied().filter(|&d| d != 1).collect();
                if shape.len() == a.ndim() {
                    return None;
                }
                a.clone().into_shape_with_order(IxDyn(&shape)).ok()?
            }
            Layout::Transposed => m2()?.t().to_owned().into_dyn(),
            Layout::BiasLast => bias_last(m2()?).into_dyn(),
            Layout::BiasLastTransposed => bias_last(m2()?).t().to_owned().into_dyn(),
            Layout::NoBias => m2()?.slice(s![.., 1..]).to_owned().into_dyn(),
            Layout::NoBiasTransposed => m2()?.slice(s![.., 1..]).t().to_owned().into_dyn(),
            Layout::WithOneFirst | Layout::WithOneLast => {
                if a.ndim() != 1 {
                    return None;
                }
                let mut v: Vec<f64> = a.iter().copied().collect();
                if self == Layout::WithOneFirst {
                    v.insert(0, 1.0);
                } else {
                    v.push(1.0);
                }
                ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).ok()?
            }
        })
    }

    /// Storage conventions that turn `ours` into an array of `shape`, most natural first.
    fn candidates(ours: &ArrayD<f64>, shape: &[usize]) -> Vec<Layout> {
        Layout::ALL
            .iter()
            .copied()
            .filter(|l| l.is_convention() && l.apply(ours).is_some_and(|a| a.shape() == shape))
            .collect()
    }

    /// How a student would say it.
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Same => "as bptui stores it",
            Layout::Squeezed => "with other singleton dimensions",
            Layout::Transposed => "transposed",
            Layout::BiasLast => "with the bias in the last column instead of column 0",
            Layout::BiasLastTransposed => "transposed, with the bias in the last row",
            Layout::NoBias => "without the bias column",
            Layout::NoBiasTransposed => "transposed, without the bias row",
            Layout::WithOneFirst => "with the bias entry 1 first",
            Layout::WithOneLast => "with the bias entry 1 last",
        }
    }

    /// Layouts that are a storage convention rather than a different number.
    fn is_convention(self) -> bool {
        !matches!(self, Layout::NoBias | Layout::NoBiasTransposed)
    }
}

/// Whether every element agrees within tol (absolute + relative).
pub fn agrees(ours: &ArrayD<f64>, theirs: &ArrayD<f64>, tol: f64) -> bool {
    ours.shape() == theirs.shape() && ours.iter().zip(theirs.iter()).all(|(&o, &t)| close(o, t, tol))
}

/// |ours − theirs| ≤ tol + tol·|theirs|; NaN agrees only with NaN.
pub fn close(o: f64, t: f64, tol: f64) -> bool {
    if o.is_nan() || t.is_nan() {
        return o.is_nan() && t.is_nan();
    }
    if o.is_infinite() || t.is_infinite() {
        return o == t;
    }
    (o - t).abs() <= tol + tol * t.abs()
}

/// The first divergence and what is known about it.
#[derive(Debug, Clone)]
pub struct Divergence {
    pub epoch: usize,
    /// Counted from 1.
    pub example: usize,
    pub row: Option<usize>,
    pub section: Section,
    /// Our node name ("" for data order or epoch metrics).
    pub name: String,
    /// What is compared, for messages.
    pub what: String,
    pub index: Vec<usize>,
    pub ours: f64,
    pub theirs: f64,
    /// Examples that agreed completely before this one.
    pub agreed_examples: usize,
    /// Values of this example that agreed before the divergence, in execution order.
    pub agreed_here: Vec<String>,
    pub diagnosis: Vec<String>,
}

/// What a comparison found.
#[derive(Debug, Clone)]
pub struct Report {
    pub divergence: Option<Divergence>,
    pub compared_values: usize,
    pub compared_examples: usize,
    pub compared_epochs: usize,
    /// Layout conventions that were accepted, as notes.
    pub notes: Vec<String>,
}

/// State carried across examples: learned layouts and the gradients the diagnoses need.
pub struct Comparer {
    tol: f64,
    layouts: HashMap<(Section, String), Layout>,
    notes: Vec<String>,
    /// Our previous example's gradient of each parameter.
    previous_grad: HashMap<NodeId, ArrayD<f64>>,
    /// Σ of our gradients of each parameter since the epoch began (including this example).
    epoch_grad_sum: HashMap<NodeId, ArrayD<f64>>,
    epoch: usize,
    pub compared_values: usize,
}

impl Comparer {
    pub fn new(tol: f64) -> Comparer {
        Comparer {
            tol,
            layouts: HashMap::new(),
            notes: Vec::new(),
            previous_grad: HashMap::new(),
            epoch_grad_sum: HashMap::new(),
            epoch: 0,
            compared_values: 0,
        }
    }

    /// Compares the example the session has just finished with their record; returns the
    /// first mismatch (with everything but the counts of agreed examples filled in).
    pub fn compare_example(
        &mut self,
        session: &Session,
        theirs: &ExampleRecord,
        epoch: usize,
        example: usize,
        row: Option<usize>,
    ) -> Option<Divergence> {
        let graph = session.graph();
        let ws = session.workspace();
        if epoch != self.epoch {
            self.epoch = epoch;
            self.epoch_grad_sum.clear();
        }
        for &p in graph.params() {
            let g = &ws.adjoints[p];
            self.epoch_grad_sum.entry(p).and_modify(|s| *s += g).or_insert_with(|| g.clone());
        }
        let result = self.compare_sections(session, theirs, epoch, example, row);
        for &p in graph.params() {
            self.previous_grad.insert(p, ws.adjoints[p].clone());
        }
        result
    }

    fn compare_sections(
        &mut self,
        session: &Session,
        theirs: &ExampleRecord,
        epoch: usize,
        example: usize,
        row: Option<usize>,
    ) -> Option<Divergence> {
        let graph = session.graph();
        let ws = session.workspace();
        let mut agreed = Vec::new();
        let diverge =
            |section, name: &str, what: String, index, ours, theirs_v, diagnosis, agreed: &Vec<String>| Divergence {
                epoch,
                example,
                row,
                section,
                name: name.to_string(),
                what,
                index,
                ours,
                theirs: theirs_v,
                agreed_examples: 0,
                agreed_here: agreed.clone(),
                diagnosis,
            };
        if let (Some(t), Some(o)) = (theirs.row, row) {
            if t != o {
                return Some(diverge(
                    Section::Forward,
                    "",
                    "data row of this example".into(),
                    vec![],
                    o as f64,
                    t as f64,
                    vec![format!(
                        "your example {example} of epoch {epoch} is data row {t}, bptui's is row {o}: the order of examples differs. \
                         The homework shuffles with np.random.seed(e); np.random.permutation(N) for epoch e counted from 0 \
                         (train.shuffle: numpy_epoch); older semesters use the file order (shuffle: none)."
                    )],
                    &agreed,
                ));
            }
        }
        // Execution order: forward in topological order, then adjoints in backward order,
        // then the updates in parameter order.
        let forward_ids: Vec<NodeId> = (0..graph.len()).collect();
        let plan: Vec<(Section, NodeId)> = forward_ids
            .iter()
            .map(|&i| (Section::Forward, i))
            .chain(graph.backward_order().iter().map(|&i| (Section::Adjoint, i)))
            .chain(graph.params().iter().map(|&i| (Section::Param, i)))
            .collect();
        for (section, id) in plan {
            let name = &graph.node(id).name;
            let list: &Named = match section {
                Section::Forward => &theirs.forward,
                Section::Adjoint => &theirs.adjoints,
                Section::Param => &theirs.params,
            };
            let Some((_, their)) = list.iter().find(|(n, _)| n == name) else { continue };
            let ours = match section {
                Section::Adjoint => &ws.adjoints[id],
                _ => &ws.values[id],
            };
            self.compared_values += their.len();
            match self.match_layout(graph, ws, section, name, ours, their, theirs) {
                Ok(()) => agreed.push(format!("{} {}", section.key(), name)),
                Err(layout) => {
                    let ours_l = layout.apply(ours).filter(|a| a.shape() == their.shape());
                    let (index, o, t) = worst(ours_l.as_ref(), their);
                    let mut diagnosis = self.diagnose(session, section, id, their, layout);
                    if section == Section::Forward {
                        diagnosis.push(
                            "this is the first wrong number: everything computed from it afterwards (the rest of the forward \
                             pass, every adjoint and the update) differs as a consequence, so fix this one first."
                                .into(),
                        );
                    }
                    let what = section.describe(name);
                    return Some(diverge(section, name, what, index, o, t, diagnosis, &agreed));
                }
            }
        }
        None
    }

    /// Agrees under the name's layout (learning it at first sight), or says which layout it
    /// was compared under. A parameter and its gradient share one layout, learned from the
    /// parameter's values when their record has them.
    #[allow(clippy::too_many_arguments)]
    fn match_layout(
        &mut self,
        graph: &Graph,
        ws: &crate::engine::Workspace,
        section: Section,
        name: &str,
        ours: &ArrayD<f64>,
        their: &ArrayD<f64>,
        record: &ExampleRecord,
    ) -> std::result::Result<(), Layout> {
        let id = graph.find(name).expect("names were checked on load");
        let is_param = graph.node(id).op == Op::Param;
        let key = (if is_param { Section::Param } else { section }, name.to_string());
        if !self.layouts.contains_key(&key) {
            let (reference, their_ref) = match record.params.iter().find(|(n, _)| n == name) {
                Some((_, p)) if is_param => (&ws.values[id], p),
                _ => (ours, their),
            };
            let candidates = Layout::candidates(reference, their_ref.shape());
            let agreeing = candidates
                .iter()
                .copied()
                .find(|l| l.apply(reference).is_some_and(|a| agrees(&a, their_ref, self.tol)));
            match agreeing.or(candidates.first().copied()) {
                Some(l) => self.learn(key.clone(), l, name),
                None => return Err(Layout::Same),
            }
        }
        let layout = self.layouts[&key];
        let ok = layout.apply(ours).is_some_and(|a| agrees(&a, their, self.tol));
        if ok {
            Ok(())
        } else {
            Err(layout)
        }
    }

    /// Our previous example's gradient of a parameter (zeros before the first example).
    fn previous(&self, id: NodeId, like: &ArrayD<f64>) -> Option<ArrayD<f64>> {
        Some(self.previous_grad.get(&id).cloned().unwrap_or_else(|| ArrayD::zeros(like.raw_dim())))
    }

    fn learn(&mut self, key: (Section, String), layout: Layout, name: &str) {
        if !matches!(layout, Layout::Same | Layout::Squeezed) {
            self.notes.push(format!("your {name} is stored {}; compared in that layout", layout.describe()));
        }
        self.layouts.insert(key, layout);
    }

    /// Reasons a value might disagree, each checked against the numbers.
    fn diagnose(
        &self,
        session: &Session,
        section: Section,
        id: NodeId,
        their: &ArrayD<f64>,
        layout: Layout,
    ) -> Vec<String> {
        let graph = session.graph();
        let ws = session.workspace();
        let node = graph.node(id);
        let name = &node.name;
        let tol = self.tol;
        let mut out = Vec::new();
        let ours = match section {
            Section::Adjoint => ws.adjoints[id].clone(),
            _ => ws.values[id].clone(),
        };
        // Another arrangement of the same numbers.
        for l in Layout::ALL {
            if l == layout {
                continue;
            }
            if l.apply(&ours).is_some_and(|a| agrees(&a, their, tol)) {
                let shape_rule = if section == Section::Adjoint && node.op == Op::Param {
                    format!(
                        " Denominator layout keeps a gradient in its parameter's shape: dJ/d{name} must be {} like {name}.",
                        crate::engine::shape_str(&node.shape)
                    )
                } else {
                    String::new()
                };
                let stored = if layout == Layout::Same {
                    String::new()
                } else {
                    format!(" (your {name} itself is stored {})", layout.describe())
                };
                let what = match l {
                    Layout::Transposed | Layout::BiasLastTransposed if layout == Layout::Same => {
                        format!("transposed: it agrees with bptui's {}{stored}.", l.describe())
                    }
                    Layout::NoBias | Layout::NoBiasTransposed => {
                        format!("missing its bias: it agrees with bptui's {}{stored}.", l.describe())
                    }
                    _ => format!(
                        "in another arrangement — bias placement? It agrees with bptui's {}{stored}.",
                        l.describe()
                    ),
                };
                out.push(format!("your {} is {what}{shape_rule}", section.describe(name)));
            }
        }
        let Some(ours_l) = layout.apply(&ours).filter(|a| a.shape() == their.shape()) else {
            out.push(format!(
                "shapes differ: bptui's {} is {}, yours is {}.",
                name,
                crate::engine::shape_str(&node.shape),
                crate::engine::shape_str(their.shape())
            ));
            return out;
        };
        let their_l = their.clone();
        // For an update, look at the step Δθ = θ_after − θ_before rather than θ itself.
        let (o, t, step) = if section == Section::Param {
            let p = graph.params().iter().position(|&q| q == id).expect("a parameter");
            let before = layout.apply(session.param_before(p)).expect("same layout");
            (&ours_l - &before, &their_l - &before, true)
        } else {
            (ours_l.clone(), their_l.clone(), false)
        };
        let what = if step { format!("step of {name} (θ after − θ before)") } else { section.describe(name) };
        if agrees(&o.mapv(|v| -v), &t, tol) && o.iter().any(|v| *v != 0.0) {
            out.push(if step {
                format!("sign flipped: your {what} is the negative of bptui's, so you stepped uphill (gradient ascent, θ + γg instead of θ − γg).")
            } else {
                format!(
                    "sign flipped: your {what} is the negative of bptui's. The lecture writes J = y* log y + (1−y*) log(1−y), a log-likelihood; \
                     the loss to minimise is its negative, J = −[y* log y + (1−y*) log(1−y)], so dJ/dy = −y*/y + (1−y*)/(1−y)."
                )
            });
        } else if let Some(c) = factor(&o, &t, tol) {
            let lr = session.model().config.learning_rate;
            let n = session.examples_per_epoch() as f64;
            let hint = if (c - lr).abs() <= 1e-9 * lr.abs().max(1e-300) {
                format!(" The factor is the learning rate γ = {}: was γ applied twice?", short(lr))
            } else if (c * n - 1.0).abs() < 1e-9 {
                format!(" The factor is 1/N = 1/{n}: a mean where a sum (or a single example) belongs?")
            } else if (c - n).abs() < 1e-9 * n {
                format!(" The factor is N = {n}: a sum where a mean belongs?")
            } else {
                String::new()
            };
            out.push(format!("a constant factor: your {what} is {} × bptui's.{hint}", short(c)));
        }
        if section == Section::Adjoint {
            // A local derivative left out: their dJ/dv equals our dJ/du for a consumer u of v.
            for &(u, _) in graph.consumers(id) {
                let un = graph.node(u);
                if let Some(a) = layout.apply(&ws.adjoints[u]) {
                    if agrees(&a, their, tol) {
                        out.push(format!(
                            "a missing local-derivative factor: your dJ/d{name} equals bptui's dJ/d{}. The chain rule for {} needs \
                             dJ/d{name} = dJ/d{} · d{}/d{name}{}.",
                            un.name,
                            un.equation,
                            un.name,
                            un.name,
                            local_rule_hint(&un.op, &un.name)
                        ));
                    }
                }
            }
            if node.op == Op::Param {
                if let Some(prev) = self.previous(id, &ws.adjoints[id]).and_then(|g| layout.apply(&g)) {
                    if agrees(&prev, their, tol) {
                        out.push(format!(
                            "a stale gradient: your dJ/d{name} is bptui's gradient of the previous example."
                        ));
                    }
                }
                if let Some(sum) = self.epoch_grad_sum.get(&id).and_then(|g| layout.apply(g)) {
                    if agrees(&sum, their, tol) {
                        out.push(format!(
                            "gradients accumulated across examples: your dJ/d{name} is the sum of bptui's gradients of every example \
                             of this epoch so far. Reset the gradient to zero for each example."
                        ));
                    }
                }
            }
        }
        if section == Section::Param {
            let lr = session.model().config.learning_rate;
            if let Some(prev) = self.previous(id, &ws.adjoints[id]).and_then(|g| layout.apply(&g)) {
                if agrees(&prev.mapv(|g| -lr * g), &t, tol) {
                    out.push(format!(
                        "the update used a stale gradient: your step of {name} is −γ times bptui's gradient of the previous example."
                    ));
                }
            }
            if let Some(sum) = self.epoch_grad_sum.get(&id).and_then(|g| layout.apply(g)) {
                if agrees(&sum.mapv(|g| -lr * g), &t, tol) && !agrees(&o, &t, tol) {
                    out.push(format!(
                        "gradients accumulated across examples: your step of {name} is −γ times the sum of bptui's gradients of \
                         every example of this epoch so far. Reset the gradient to zero for each example."
                    ));
                }
            }
        }
        if section == Section::Forward && node.op == Op::Linear {
            // W[1; x] computed as W[:, 1:] x: the bias column never applied.
            // The forward pass ran with the parameters from before this example's update.
            let w_id = node.inputs[0];
            let w_before = match graph.params().iter().position(|&q| q == w_id) {
                Some(p) => session.param_before(p),
                None => &ws.values[w_id],
            };
            let w = w_before.view().into_dimensionality::<ndarray::Ix2>().expect("matrix");
            let x = ws.values[node.inputs[1]].view().into_dimensionality::<ndarray::Ix1>().expect("vector");
            let without = w.slice(s![.., 1..]).dot(&x).into_dyn();
            if agrees(&without, their, tol) {
                let input = &graph.node(node.inputs[1]).name;
                out.push(format!(
                    "the bias is missing: your {name} equals bptui's {} without the bias column, i.e. the 1 prepended to {input} \
                     ({input}_0 = 1) was left out.",
                    node.equation
                ));
            }
        }
        if section == Section::Forward {
            // Their value is another of our values: an op skipped or applied to the wrong input.
            for (other, n) in graph.nodes().iter().enumerate() {
                if other != id && !matches!(n.op, Op::Const(_) | Op::Label) {
                    if let Some(a) = Layout::Same.apply(&ws.values[other]).filter(|a| a.shape() == their.shape()) {
                        if agrees(&a, their, tol) {
                            out.push(format!(
                                "your {name} equals bptui's {}: check the step {} (is an op skipped or applied twice?).",
                                n.name, node.equation
                            ));
                        }
                    }
                }
            }
        }
        if out.is_empty() {
            out.push(format!("no known pattern: compare the equation {} with your code for this step.", node.equation));
        }
        out
    }
}

fn local_rule_hint(op: &Op, u: &str) -> String {
    match op {
        Op::Sigmoid => format!(", and σ'(·) = {u}(1 − {u}) was left out"),
        Op::Tanh => format!(", and tanh'(·) = 1 − {u}² was left out"),
        Op::Relu => ", and relu'(·) (1 where the input is positive, else 0) was left out".into(),
        Op::Softmax => ", and the softmax Jacobian was left out".into(),
        _ => String::new(),
    }
}

/// c such that theirs = c · ours for all elements (c ≠ 0, 1), if there is one.
fn factor(ours: &ArrayD<f64>, theirs: &ArrayD<f64>, tol: f64) -> Option<f64> {
    let dot: f64 = ours.iter().zip(theirs.iter()).map(|(o, t)| o * t).sum();
    let oo: f64 = ours.iter().map(|o| o * o).sum();
    if oo == 0.0 || !dot.is_finite() {
        return None;
    }
    let c = dot / oo;
    if (c - 1.0).abs() < 1e-9 || c.abs() < 1e-12 {
        return None;
    }
    let scaled = ours.mapv(|o| c * o);
    agrees(&scaled, theirs, tol.max(1e-9)).then_some(c)
}

/// The element with the largest absolute difference: (index, ours, theirs).
fn worst(ours: Option<&ArrayD<f64>>, theirs: &ArrayD<f64>) -> (Vec<usize>, f64, f64) {
    let Some(ours) = ours else {
        return (vec![], f64::NAN, theirs.iter().next().copied().unwrap_or(f64::NAN));
    };
    let mut best = (0usize, -1.0f64);
    for (i, (o, t)) in ours.iter().zip(theirs.iter()).enumerate() {
        let d = if o.is_nan() != t.is_nan() { f64::INFINITY } else { (o - t).abs() };
        let d = if d.is_nan() { 0.0 } else { d };
        if d > best.1 {
            best = (i, d);
        }
    }
    let index = unravel(theirs.shape(), best.0);
    (
        index,
        ours.iter().nth(best.0).copied().unwrap_or(f64::NAN),
        theirs.iter().nth(best.0).copied().unwrap_or(f64::NAN),
    )
}

/// The multi-index of element `flat` (row-major) of an array of `shape`.
pub fn unravel(shape: &[usize], flat: usize) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    let mut rest = flat;
    for (d, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            idx[d] = rest % n;
            rest /= n;
        }
    }
    idx
}

/// Runs the session alongside their trace and reports the first divergence.
pub fn run(session: &mut Session, theirs: &Theirs, tol: f64) -> Report {
    compare_from(session, theirs, tol, (1, 1), true)
}

/// Runs the session alongside their trace and reports the first divergence in example `from`
/// = (epoch, example counted from 1) or later; epoch metrics too when `metrics`. A divergence
/// before `from` is kept and named in the diagnosis, since later ones follow from it.
fn compare_from(session: &mut Session, theirs: &Theirs, tol: f64, from: (usize, usize), metrics: bool) -> Report {
    let mut comparer = Comparer::new(tol);
    let mut report =
        Report { divergence: None, compared_values: 0, compared_examples: 0, compared_epochs: 0, notes: vec![] };
    let Some(last) = theirs.last() else { return report };
    let has_data = session.model().train_data.is_some();
    let mut agreed_examples = 0;
    let mut earlier: Option<Divergence> = None;
    while session.phase() != Phase::Finished && (session.epoch(), session.example() + 1) <= last {
        if session.phase() == Phase::Evaluate {
            session.step();
            let m = session.metrics().last().copied().expect("just evaluated");
            if let (true, Some(their)) = (metrics && m.epoch >= from.0, theirs.epochs.get(&m.epoch)) {
                report.compared_epochs += 1;
                if let Some(d) = compare_metrics(&m, their, tol) {
                    report.divergence = Some(Divergence { agreed_examples, ..d });
                    break;
                }
            }
            continue;
        }
        let (epoch, example, row) = (session.epoch(), session.example() + 1, session.row());
        session.finish_example();
        let Some(their) = theirs.example(epoch, example) else { continue };
        report.compared_examples += 1;
        match comparer.compare_example(session, their, epoch, example, has_data.then_some(row)) {
            Some(mut d) if (epoch, example) >= from => {
                if let Some(first) = &earlier {
                    // Once one number is wrong, later ones differ as its consequence.
                    d.diagnosis.retain(|line| !line.starts_with("this is the first wrong number"));
                    d.diagnosis.insert(
                        0,
                        format!(
                            "your numbers already differed earlier, first at epoch {} example {} ({}); \
                             this is likely a consequence of that one — fix the first divergence first.",
                            first.epoch, first.example, first.what
                        ),
                    );
                }
                report.divergence = Some(Divergence { agreed_examples, ..d });
                break;
            }
            Some(d) => earlier = earlier.or(Some(d)),
            None => agreed_examples += 1,
        }
    }
    report.compared_values = comparer.compared_values;
    report.notes = comparer.notes;
    report
}

fn compare_metrics(m: &crate::session::EpochMetrics, their: &EpochRecord, tol: f64) -> Option<Divergence> {
    let ours: Vec<(&str, Option<f64>)> = vec![
        ("train_loss", m.train.map(|s| s.loss)),
        ("train_error", m.train.and_then(|s| s.error)),
        ("test_loss", m.test.map(|s| s.loss)),
        ("test_error", m.test.and_then(|s| s.error)),
    ];
    for (key, t) in &their.metrics {
        let k = key.replace("validation", "test");
        let Some((_, Some(o))) = ours.iter().find(|(n, _)| *n == k) else { continue };
        if !close(*o, *t, tol) {
            return Some(Divergence {
                epoch: m.epoch,
                example: 0,
                row: None,
                section: Section::Forward,
                name: String::new(),
                what: format!("epoch metric {key}"),
                index: vec![],
                ours: *o,
                theirs: *t,
                agreed_examples: 0,
                agreed_here: vec![],
                diagnosis: vec![
                    "every example agreed, but the epoch's mean differs: the metric is the mean over the whole data set with the \
                     parameters at the end of the epoch (lecture's SGD, lines 12–13)."
                        .into(),
                ],
            });
        }
    }
    None
}

/// The report as printed by `bptui diff`.
pub fn render(report: &Report, theirs: &Theirs, tol: f64) -> String {
    let mut out = String::new();
    match &report.divergence {
        None => {
            out += &format!(
                "agree: all {} values of {} in {} example record(s) and {} epoch record(s) agree within {}\n",
                report.compared_values,
                theirs.file,
                report.compared_examples,
                report.compared_epochs,
                crate::numfmt::py_repr(tol)
            );
        }
        Some(d) => {
            let their_name = theirs.their_name(&d.name);
            let alias = if their_name != d.name { format!(" (your `{their_name}`)") } else { String::new() };
            if d.example == 0 {
                out += &format!("first divergence: epoch {}, {}\n", d.epoch, d.what);
            } else {
                out += &format!(
                    "first divergence: epoch {}, example {}{}, {}{}\n",
                    d.epoch,
                    d.example,
                    d.row.map(|r| format!(" (data row {r})")).unwrap_or_default(),
                    d.what,
                    alias
                );
            }
            let idx = if d.index.is_empty() {
                String::new()
            } else {
                format!("[{}]", d.index.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","))
            };
            let shapes_differ = d.ours.is_nan() && d.index.is_empty() && !d.name.is_empty();
            if !shapes_differ {
                out += &format!(
                    "  worst element {}{}: bptui {}, yours {} (difference {:.3e}, tolerance {})\n",
                    if d.name.is_empty() { "" } else { &d.name },
                    idx,
                    crate::numfmt::py_repr(d.ours),
                    crate::numfmt::py_repr(d.theirs),
                    (d.ours - d.theirs).abs(),
                    crate::numfmt::py_repr(tol)
                );
            }
            out += &format!(
                "  agreed before it: {} example(s) completely{}\n",
                d.agreed_examples,
                if d.agreed_here.is_empty() {
                    String::new()
                } else {
                    format!("; in this example {}", d.agreed_here.join(", "))
                }
            );
            for line in &d.diagnosis {
                out += &format!("  diagnosis: {line}\n");
            }
        }
    }
    for n in &report.notes {
        out += &format!("  note: {n}\n");
    }
    out
}

/// The first divergence at or after example `from` = (epoch, example counted from 1), found by
/// running a fresh session of `model` beside their trace (the debugger's `d`).
pub fn find_divergence(
    model: &crate::model::Model,
    algorithm: crate::engine::Backward,
    theirs: &Theirs,
    tol: f64,
    from: (usize, usize),
) -> Option<Divergence> {
    let mut session = Session::new(model.clone(), algorithm);
    compare_from(&mut session, theirs, tol, from, false).divergence
}
