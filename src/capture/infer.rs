//! What a captured program's numbers are: its examples found by their x (looked up in the
//! training file), its initial weights, order of examples and optimizer learned from its own
//! arrays, and each place of its source matched by value to the node it holds (in any storage
//! convention `diff` accepts). The result is a trace in the contract's format, in the
//! student's names, with the aliases and source lines that go with it.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use ndarray::{ArrayD, Axis, IxDyn};

use super::{Site, Value};
use crate::data::Dataset;
use crate::diff::layout::{judge, Layout, Ours};
use crate::diff::ours::carried_adjoint;
use crate::diff::Section;
use crate::diff::Tolerance;
use crate::engine::{Backward, Graph};
use crate::model::Model;
use crate::session::{Finished, Session};
use crate::trace::{ExampleRecord, Named, Record};

/// How many training examples the names are learned from.
pub const LEARN_FROM: usize = 5;

/// A place and which of its values in an example: `h` bound twice per example (once per
/// layer, or a helper's argument) is two keys.
pub type Key = (usize, usize);

/// A node of ours a key holds: (section, our name).
pub type Node = (Section, String);

/// How many of the last values a crash report shows.
pub const LAST_VALUES: usize = 5;

/// The captured values and the sites that bound them.
#[derive(Debug, Default)]
pub struct Captured {
    pub sites: HashMap<usize, Site>,
    pub values: Vec<Value>,
    pub tracer: Option<String>,
    /// Every value the recorder sent, kept or not.
    pub received: usize,
    /// The site and shape of the last values sent, kept or not (a crash's context), oldest first.
    pub last: std::collections::VecDeque<(usize, Vec<usize>)>,
}

impl Captured {
    /// Drops the values of every other site (the names are known: they are not needed).
    pub fn keep_only(&mut self, sites: &HashSet<usize>) {
        self.values.retain(|v| sites.contains(&v.site));
    }

    /// Takes one value the recorder sent; kept unless `keep` leaves its site out.
    pub fn take(&mut self, v: Value, keep: Option<&HashSet<usize>>) {
        self.received += 1;
        if self.last.len() == LAST_VALUES {
            self.last.pop_front();
        }
        self.last.push_back((v.site, v.array.shape().to_vec()));
        if keep.is_none_or(|k| k.contains(&v.site)) {
            self.values.push(v);
        }
    }
}

/// One forward pass of theirs: from a value of their x to the next.
#[derive(Debug, Clone)]
pub struct Pass {
    pub start: usize,
    pub end: usize,
    /// The training rows its x equals (several when rows repeat).
    pub rows: Vec<usize>,
}

/// The training data indexed by features, to find an example by its x.
pub struct Rows {
    width: usize,
    index: HashMap<u64, Vec<usize>>,
    dense: Vec<Vec<f64>>,
}

fn features_key(v: &[f64]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for x in v {
        (*x as f32).to_bits().hash(&mut h);
    }
    h.finish()
}

impl Rows {
    pub fn new(data: &Dataset) -> Rows {
        let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut dense = Vec::with_capacity(data.len());
        for r in 0..data.len() {
            let d = data.dense_row(r);
            index.entry(features_key(&d)).or_default().push(r);
            dense.push(d);
        }
        Rows { width: data.width(), index, dense }
    }

    /// The rows whose features a value holds (alone, or with a bias entry 1 first or last).
    pub fn lookup(&self, a: &ArrayD<f64>) -> Vec<usize> {
        let n = a.len();
        if n != self.width && n != self.width + 1 {
            return vec![];
        }
        let v: Vec<f64> = a.iter().copied().collect();
        let mut out = Vec::new();
        let mut try_features = |f: &[f64]| {
            if let Some(rows) = self.index.get(&features_key(f)) {
                for &r in rows {
                    let same = self.dense[r].iter().zip(f).all(|(a, b)| (a - b).abs() <= 1e-6 * (1.0 + a.abs()));
                    if same && !out.contains(&r) {
                        out.push(r);
                    }
                }
            }
        };
        if n == self.width {
            try_features(&v);
        } else {
            if v[0] == 1.0 {
                try_features(&v[1..]);
            }
            if v[n - 1] == 1.0 {
                try_features(&v[..n - 1]);
            }
        }
        out
    }
}

/// The site whose values are their x: one that holds a training row in most of its values
/// (a `row` with its label first holds one only when the label is 1), with a parameter-sized
/// value bound between its rows (a loop that reads the data file binds none), the first such.
pub fn primary_x(captured: &Captured, rows: &Rows, sizes: &HashSet<usize>) -> Option<usize> {
    // values, matches, matches after a parameter-sized value, first such match
    let mut stats: HashMap<usize, (usize, usize, usize, usize)> = HashMap::new();
    let mut param_seen_at = 0usize;
    let mut last_match: HashMap<usize, usize> = HashMap::new();
    for (i, v) in captured.values.iter().enumerate() {
        let n = v.array.len();
        if sizes.contains(&n) {
            param_seen_at = i + 1;
        }
        if n != rows.width && n != rows.width + 1 {
            continue;
        }
        let e = stats.entry(v.site).or_insert((0, 0, 0, usize::MAX));
        e.0 += 1;
        if !rows.lookup(&v.array).is_empty() {
            e.1 += 1;
            let previous = last_match.insert(v.site, i).unwrap_or(0);
            if param_seen_at > previous && param_seen_at > 0 {
                e.2 += 1;
                e.3 = e.3.min(i);
            }
        }
    }
    stats
        .into_iter()
        .filter(|(_, (n, m, after, _))| *after >= 2 && 2 * m >= *n)
        .min_by_key(|(_, (_, _, _, first))| *first)
        .map(|(s, _)| s)
}

/// Their forward passes: one from each value of the primary x site to the next.
pub fn passes(captured: &Captured, primary: usize, rows: &Rows) -> Vec<Pass> {
    let mut out: Vec<Pass> = Vec::new();
    for (i, v) in captured.values.iter().enumerate() {
        if v.site == primary {
            if let Some(last) = out.last_mut() {
                last.end = i;
            }
            out.push(Pass { start: i, end: captured.values.len(), rows: rows.lookup(&v.array) });
        }
    }
    out
}

fn array_key(a: &ArrayD<f64>) -> (usize, u64) {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for x in a.iter() {
        x.to_bits().hash(&mut h);
    }
    (a.len(), h.finish())
}

/// The passes that train (a parameter-sized array in them is new: a gradient or an updated
/// weight; an evaluation pass only reads the weights it was given), found before the names are
/// known. `sizes`: the element counts a parameter may have (with or without its bias column).
pub fn training_passes(captured: &Captured, passes: &[Pass], sizes: &HashSet<usize>) -> Vec<usize> {
    let mut seen = HashSet::new();
    let first = passes.first().map(|p| p.start).unwrap_or(captured.values.len());
    for v in &captured.values[..first] {
        if sizes.contains(&v.array.len()) {
            seen.insert(array_key(&v.array));
        }
    }
    let mut out = Vec::new();
    for (k, p) in passes.iter().enumerate() {
        let mut new = false;
        for v in &captured.values[p.start..p.end] {
            if sizes.contains(&v.array.len()) && seen.insert(array_key(&v.array)) {
                new = true;
            }
        }
        if new && !p.rows.is_empty() {
            out.push(k);
        }
    }
    out
}

/// The keys of one pass, in the order of their first value, with their values.
fn keyed<'a>(captured: &'a Captured, pass: &Pass) -> Vec<(Key, &'a Value)> {
    let mut count: HashMap<usize, usize> = HashMap::new();
    captured.values[pass.start..pass.end]
        .iter()
        .map(|v| {
            let c = count.entry(v.site).or_insert(0);
            *c += 1;
            ((v.site, *c), v)
        })
        .collect()
}

/// Our numbers of one example: every node's value, adjoint and parameter after the update,
/// and the parameters before it.
pub struct OursExample {
    pub record: ExampleRecord,
    pub before: Named,
    /// (section, name) → the carried entry of its adjoint, where it has one.
    pub carried: HashMap<String, f64>,
}

/// Runs `model` through its first `k` examples and keeps every number of each.
pub fn our_examples(model: &Model, k: usize) -> Vec<OursExample> {
    let mut session = Session::new(model.clone(), Backward::B);
    let mut out = Vec::new();
    let graph = session.graph().clone();
    while out.len() < k {
        let before: Named = graph
            .params()
            .iter()
            .map(|&p| (graph.node(p).name.clone(), session.workspace().values[p].clone()))
            .collect();
        match session.finish_next() {
            Some(Finished::Example(at)) => {
                let record = crate::session::example_record(&session, at);
                let mut carried = HashMap::new();
                for &id in graph.backward_order() {
                    if let Some(c) = carried_adjoint(&session, Section::Adjoint, id) {
                        carried.insert(graph.node(id).name.clone(), c);
                    }
                }
                out.push(OursExample { record, before, carried });
            }
            Some(Finished::Evaluation(_)) => continue,
            None => break,
        }
    }
    out
}

/// Where a value may sit: a section of ours, or a parameter before the update (read by their
/// forward pass; not a value the trace holds).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    Node(u8, String),
    Before(String),
}

fn section_of(s: u8) -> Section {
    match s {
        0 => Section::Forward,
        1 => Section::Adjoint,
        _ => Section::Param,
    }
}

/// Whether their array holds our value under some storage convention.
pub fn holds(ours: &ArrayD<f64>, carried: Option<f64>, theirs: &ArrayD<f64>, tol: &Tolerance) -> bool {
    if ours.len() != theirs.len() && ours.len() + 1 != theirs.len() {
        return false;
    }
    let o = Ours { value: ours, carried };
    Layout::conventions(carried.is_some())
        .any(|l| judge(l, o, theirs, |a, b| tol.agree(a, b)).is_some_and(|(agrees, _)| agrees))
}

/// Whether their array could hold our value's shape under some convention.
pub fn fits(ours: &ArrayD<f64>, theirs: &ArrayD<f64>, carried: bool) -> bool {
    Layout::conventions(carried).any(|l| l.undo(ours.shape(), theirs).is_some())
}

/// The slots a value matches in our example.
fn slots_of(v: &Value, ours: &OursExample, loss: &str, input: &str, tol: &Tolerance) -> Vec<Slot> {
    let mut out = Vec::new();
    // Integers are data (x, labels, counters), never a computed number; the adjoint of J is 1.
    let integer = v.dtype == 2;
    for (s, list) in [(0u8, &ours.record.forward), (1, &ours.record.adjoints), (2, &ours.record.params)] {
        for (name, a) in list {
            if (integer && !(s == 0 && name == input)) || (s == 1 && name == loss) || (v.array.ndim() == 0 && integer) {
                continue;
            }
            let carried = if s == 1 { ours.carried.get(name).copied() } else { None };
            if holds(a, carried, &v.array, tol) {
                out.push(Slot::Node(s, name.clone()));
            }
        }
    }
    if !integer {
        for (name, a) in &ours.before {
            if holds(a, None, &v.array, tol) {
                out.push(Slot::Before(name.clone()));
            }
        }
    }
    out
}

/// What each of their keys is.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// key → (section, our name, their name).
    pub keys: Vec<(Key, Section, String, String)>,
    /// The keys placed as a mistake (by order, shape and name: their values matched nothing).
    pub placed: HashSet<Key>,
    /// Keys that matched nothing on the examples the names were learned from.
    pub unmatched: Vec<Key>,
    /// How many nodes a key holds by value (not placed as a mistake).
    pub matched: usize,
}

/// Matches their keys to our nodes over the first training passes: each key keeps the slots it
/// matched in every pass where it matched something; each node goes to the first key that
/// holds it (an assignment before an argument or a returned value); a node no key holds (their
/// mistake) goes to the first key that matches nothing of ours and fits its shape, placed
/// between the keys of the nodes computed before and after it.
pub fn map_names(
    captured: &Captured,
    passes: &[&Pass],
    ours: &[OursExample],
    model: &Model,
    tol: &Tolerance,
) -> Mapping {
    let graph = &model.graph();
    let loss = graph.node(graph.loss()).name.clone();
    let input = graph.features().map(|f| graph.node(f).name.clone()).unwrap_or_default();
    let seen = Seen::survey(captured, passes, ours, &loss, &input, tol);
    let Some(first) = ours.first() else { return Mapping::default() };
    let nodes = our_nodes(first, &loss, &input);
    let mut choice = Choice { taken: HashMap::new(), chosen: vec![None; nodes.len()] };
    for (i, (s, name, _, _)) in nodes.iter().enumerate() {
        if let Some(k) = seen.best_holder(captured, &choice, &Slot::Node(*s, name.clone())) {
            choice.take(k, i);
        }
    }
    let matched = choice.chosen.iter().filter(|c| c.is_some()).count();
    let placed = place_mistakes(captured, graph, &seen, &nodes, &mut choice);
    let mut keys = Vec::new();
    for (i, k) in choice.chosen.iter().enumerate() {
        let Some(k) = k else { continue };
        let (s, name, _, _) = &nodes[i];
        keys.push((*k, section_of(*s), name.clone(), String::new()));
    }
    name_keys(captured, &mut keys);
    let unmatched = seen
        .order
        .iter()
        .filter(|k| !seen.narrowed.contains_key(k) && !choice.taken.contains_key(k))
        .copied()
        .collect();
    Mapping { keys, placed, unmatched, matched }
}

/// A node of ours as the matching sees it: its section (0 forward, 1 adjoint, 2 parameter),
/// its name, its value in the first example, and whether it is a carried adjoint.
type OurNode = (u8, String, ArrayD<f64>, bool);

/// What the passes showed of each key.
struct Seen {
    /// The keys in the order a pass first bound them.
    order: Vec<Key>,
    /// Each key's place in `order`.
    position: HashMap<Key, usize>,
    /// The slots a key's values fit in every pass that fit some (narrowed pass by pass).
    narrowed: HashMap<Key, Vec<Slot>>,
    /// A key's first value (for its shape) and its dtype.
    shape_of: HashMap<Key, ArrayD<f64>>,
    dtype_of: HashMap<Key, u8>,
    /// Keys not all zeros in every pass: all zeros is an `np.zeros(K)` about to be filled in.
    nonzero: HashSet<Key>,
}

impl Seen {
    fn survey(
        captured: &Captured,
        passes: &[&Pass],
        ours: &[OursExample],
        loss: &str,
        input: &str,
        tol: &Tolerance,
    ) -> Seen {
        let mut order: Vec<Key> = Vec::new();
        let mut narrowed: HashMap<Key, Vec<Slot>> = HashMap::new();
        let mut shape_of: HashMap<Key, ArrayD<f64>> = HashMap::new();
        let mut dtype_of: HashMap<Key, u8> = HashMap::new();
        let mut nonzero: HashSet<Key> = HashSet::new();
        for (pass, ours) in passes.iter().zip(ours) {
            for (key, v) in keyed(captured, pass) {
                if let std::collections::hash_map::Entry::Vacant(e) = shape_of.entry(key) {
                    order.push(key);
                    e.insert(v.array.clone());
                    dtype_of.insert(key, v.dtype);
                }
                if v.array.iter().any(|&x| x != 0.0) {
                    nonzero.insert(key);
                }
                let slots = slots_of(v, ours, loss, input, tol);
                if slots.is_empty() {
                    continue;
                }
                match narrowed.get_mut(&key) {
                    None => {
                        narrowed.insert(key, slots);
                    }
                    Some(old) => {
                        let both: Vec<Slot> = old.iter().filter(|s| slots.contains(s)).cloned().collect();
                        if !both.is_empty() {
                            *old = both;
                        }
                    }
                }
            }
        }
        let position = order.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        Seen { order, position, narrowed, shape_of, dtype_of, nonzero }
    }

    /// The free key whose values held `slot` in every pass: an assignment before a return
    /// before anything else, a key that holds only this node before one that holds others
    /// too, then the first bound.
    fn best_holder(&self, captured: &Captured, choice: &Choice, slot: &Slot) -> Option<Key> {
        self.order
            .iter()
            .filter(|k| !choice.taken.contains_key(k) && self.narrowed.get(k).is_some_and(|n| n.contains(slot)))
            .min_by_key(|k| (kind_rank(captured, k), self.narrowed[k].len() > 1, self.position[k]))
            .copied()
    }
}

/// The keys chosen so far: which node each key holds, and each node's key.
struct Choice {
    taken: HashMap<Key, usize>,
    chosen: Vec<Option<Key>>,
}

impl Choice {
    fn take(&mut self, k: Key, node: usize) {
        self.taken.insert(k, node);
        self.chosen[node] = Some(k);
    }
}

/// An assignment (0), a return value (1), anything else (2): the order keys are preferred in.
fn kind_rank(captured: &Captured, k: &Key) -> u8 {
    match captured.sites.get(&k.0).map(|s| s.kind.as_str()) {
        Some("assign") => 0,
        Some("return") => 1,
        _ => 2,
    }
}

/// Our nodes in the order a program computes them: the forward values, the adjoints (but the
/// loss's and the input's), the parameters.
fn our_nodes(first: &OursExample, loss: &str, input: &str) -> Vec<OurNode> {
    let mut nodes: Vec<OurNode> = Vec::new();
    for (name, a) in &first.record.forward {
        nodes.push((0, name.clone(), a.clone(), false));
    }
    for (name, a) in &first.record.adjoints {
        if *name != loss && *name != input {
            nodes.push((1, name.clone(), a.clone(), first.carried.contains_key(name)));
        }
    }
    for (name, a) in &first.record.params {
        nodes.push((2, name.clone(), a.clone(), false));
    }
    nodes
}

/// Their mistakes: the nodes no key held by value, placed by order and shape among the
/// matched keys. A node whose dependents agree was not computed wrong (their dJ/db straight
/// from ŷ − y never makes a dJ/dŷ): it is left unplaced. Returns the keys placed.
fn place_mistakes(
    captured: &Captured,
    graph: &Graph,
    seen: &Seen,
    nodes: &[OurNode],
    choice: &mut Choice,
) -> HashSet<Key> {
    let mut placed = HashSet::new();
    // The adjoint of the loss's input (dJ/dŷ) last: most programs go from J to dJ/db in one
    // step, and their one wrong vector there is dJ/db.
    let loss_input = graph.node(graph.loss()).inputs.first().map(|&i| graph.node(i).name.clone());
    let mut placing: Vec<usize> = (0..nodes.len()).collect();
    placing.sort_by_key(|&i| nodes[i].0 == 1 && Some(&nodes[i].1) == loss_input.as_ref());
    for i in placing {
        if choice.chosen[i].is_some() || dependent_agrees(graph, nodes, &choice.chosen, i) {
            continue;
        }
        if let Some(k) = mistake_holder(captured, seen, nodes, choice, i) {
            choice.take(k, i);
            placed.insert(k);
        }
    }
    placed
}

/// Whether another node of node i's section that depends on it (or, for an adjoint, that it
/// depends on) was matched by value.
fn dependent_agrees(graph: &Graph, nodes: &[OurNode], chosen: &[Option<Key>], i: usize) -> bool {
    (0..nodes.len()).any(|j| {
        j != i
            && chosen[j].is_some()
            && nodes[j].0 == nodes[i].0
            && depends_on(graph, nodes[i].0, &nodes[i].1, &nodes[j].1)
    })
}

/// Whether, in section `s`, node `m` comes from node `n`: forward, m is computed from n;
/// backward, n's adjoint comes from m's.
fn depends_on(graph: &Graph, s: u8, n: &str, m: &str) -> bool {
    let ancestors = |id: usize| {
        let mut seen = HashSet::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            for &i in &graph.node(n).inputs {
                if seen.insert(i) {
                    stack.push(i);
                }
            }
        }
        seen
    };
    let (Some(n), Some(m)) = (graph.find(n), graph.find(m)) else { return false };
    match s {
        0 => ancestors(m).contains(&n),
        1 => ancestors(n).contains(&m),
        _ => false,
    }
}

/// The key that holds node i's wrong value: a free assignment between the keys matched
/// before and after it, of a shape its value fits, not data, not all zeros, and not an
/// earlier value of a parameter.
fn mistake_holder(captured: &Captured, seen: &Seen, nodes: &[OurNode], choice: &Choice, i: usize) -> Option<Key> {
    let (s, _, ref ours_value, carried) = nodes[i];
    let chosen = &choice.chosen;
    let position = &seen.position;
    let after = (0..i).rev().find_map(|j| chosen[j]).map(|k| position[&k]);
    let before = (i + 1..nodes.len()).find_map(|j| chosen[j].filter(|_| nodes[j].0 == s)).map(|k| position[&k]);
    seen.order
        .iter()
        .filter(|k| {
            let p = position[k];
            !choice.taken.contains_key(k)
                && kind_rank(captured, k) == 0
                && after.is_none_or(|a| p > a)
                && before.is_none_or(|b| p < b)
                && fits(ours_value, &seen.shape_of[k], carried)
                && !data_like(&seen.shape_of[k], seen.dtype_of[k])
                && seen.nonzero.contains(k)
                && !seen.narrowed.get(k).is_some_and(|n| n.iter().any(|s| matches!(s, Slot::Before(_))))
        })
        // Their name for it, then a key that matched nothing, first in the pass (for an
        // updated parameter the last: the update is what an example binds last).
        .min_by_key(|k| {
            let site = &captured.sites[&k.0];
            let p = position[k] as i64;
            (!name_hint(&site.target, &nodes[i].1), seen.narrowed.contains_key(k), if s == 2 { -p } else { p })
        })
        .copied()
}

/// Whether some value of the pass holds θ's first Adagrad accumulator s₁ = g₁² (for any
/// parameter θ, in any convention): their optimizer is Adagrad.
pub fn holds_squared_gradient(
    captured: &Captured,
    pass: &Pass,
    ours: &OursExample,
    model: &Model,
    tol: &Tolerance,
) -> bool {
    let graph = &model.graph();
    graph.params().iter().any(|&p| {
        let name = &graph.node(p).name;
        let Some((_, g)) = ours.record.adjoints.iter().find(|(n, _)| n == name) else { return false };
        if g.iter().all(|&x| x == 0.0) {
            return false;
        }
        let g2 = g.mapv(|x| x * x);
        captured.values[pass.start..pass.end].iter().any(|v| holds(&g2, None, &v.array, tol))
    })
}

/// Whether their name says it holds our node (or its adjoint): `db`, `g_b`, `dJ_db`,
/// `self.d_b`, `cache["b"]` for b.
fn name_hint(target: &str, node: &str) -> bool {
    let last = target.rsplit(['.', '[']).next().unwrap_or(target);
    let word: String = last.chars().filter(|c| c.is_alphanumeric() || *c == '_').collect::<String>().to_lowercase();
    let node = node.to_lowercase();
    ["dj_d", "grad_", "d_", "g_", "d", "g", ""]
        .iter()
        .any(|p| word.strip_prefix(p).is_some_and(|w| w == node || w.replace('_', "") == node.replace('_', "")))
}

/// Integers and one-hot vectors are data (labels, indices, targets), never a computed value a
/// mistake could have made.
fn data_like(a: &ArrayD<f64>, dtype: u8) -> bool {
    if dtype == 2 {
        return true;
    }
    let ones = a.iter().filter(|&&x| x == 1.0).count();
    a.len() > 1 && ones == 1 && a.iter().all(|&x| x == 0.0 || x == 1.0)
}

/// Their names for the keys: what the line binds, with its line when two keys share it, and
/// which value in the example when the place binds several.
fn name_keys(captured: &Captured, keys: &mut [(Key, Section, String, String)]) {
    let base = |k: &Key| {
        let site = &captured.sites[&k.0];
        match site.kind.as_str() {
            // Their own words: `return self.W @ self.x` (a name like `return` alone says nothing).
            "return" if site.target == "return" && site.text.starts_with("return") => site.text.clone(),
            "return" => format!("{} (returned at line {})", site.target, site.line),
            _ => site.target.clone(),
        }
    };
    let mut count: HashMap<String, HashSet<usize>> = HashMap::new();
    for (k, ..) in keys.iter() {
        count.entry(base(k)).or_default().insert(k.0);
    }
    for (k, _, _, their) in keys.iter_mut() {
        let mut name = base(k);
        if count[&name].len() > 1 {
            name = format!("{name}@{}", captured.sites[&k.0].line);
        }
        if k.1 > 1 {
            name = format!("{name}#{}", k.1);
        }
        *their = name;
    }
}

/// Their example records, in their names: one per training pass, numbered in epochs of
/// `per_epoch` examples.
pub fn records(
    captured: &Captured,
    passes: &[Pass],
    mapping: &Mapping,
    per_epoch: usize,
    order_of: impl Fn(usize, usize) -> usize,
) -> Vec<Record> {
    let by_key: HashMap<Key, (Section, &str)> =
        mapping.keys.iter().map(|(k, s, _, t)| (*k, (*s, t.as_str()))).collect();
    let mut out = Vec::new();
    let mut n = 0;
    for pass in passes {
        let mut r = ExampleRecord {
            epoch: n / per_epoch + 1,
            example: n % per_epoch + 1,
            row: None,
            forward: vec![],
            adjoints: vec![],
            params: vec![],
        };
        let mut training = false;
        for (key, v) in keyed(captured, pass) {
            let Some((section, name)) = by_key.get(&key) else { continue };
            let list = match section {
                Section::Forward => &mut r.forward,
                Section::Adjoint => {
                    training = true;
                    &mut r.adjoints
                }
                Section::Param => {
                    training = true;
                    &mut r.params
                }
            };
            match list.iter_mut().find(|(n, _)| n == name) {
                Some((_, a)) => *a = v.array.clone(),
                None => list.push((name.to_string(), v.array.clone())),
            }
        }
        if !training || pass.rows.is_empty() {
            continue;
        }
        // Rows that repeat: the one bptui's order has here, if it is one of them.
        let ours = order_of(r.epoch, r.example);
        r.row = Some(if pass.rows.contains(&ours) { ours } else { pass.rows[0] });
        out.push(Record::Example(r));
        n += 1;
    }
    out
}

/// Parameter-shaped values bound before the first training pass: their initial weights, each
/// read into our shape in every arrangement that fits (a weight without its bias column gets a
/// zero one). Latest first.
pub fn initial_candidates(captured: &Captured, until: usize, shape: &[usize]) -> Vec<(usize, ArrayD<f64>)> {
    let mut out: Vec<(usize, ArrayD<f64>)> = Vec::new();
    for (i, v) in captured.values[..until].iter().enumerate().rev() {
        if v.dtype == 2 {
            continue;
        }
        let mut forms = Vec::new();
        for l in Layout::CONVENTIONS {
            if let Some(a) = l.undo(shape, &v.array) {
                forms.push(a);
            }
        }
        if shape.len() == 2 && shape[1] > 1 {
            let short = [shape[0], shape[1] - 1];
            for l in [Layout::Same, Layout::Transposed] {
                if let Some(a) = l.undo(&short, &v.array) {
                    let mut full = ArrayD::zeros(IxDyn(shape));
                    full.index_axis_mut(Axis(1), 0).fill(0.0);
                    full.slice_axis_mut(Axis(1), ndarray::Slice::from(1..)).assign(&a);
                    forms.push(full);
                }
            }
        }
        for f in forms {
            if !out.iter().any(|(_, o)| *o == f) {
                out.push((i, f));
            }
        }
        if out.len() > 12 {
            break;
        }
    }
    out
}
