//! Comparing one finished example of bptui's session with their record of it, value by value
//! in execution order, under the storage conventions learned for their names; at the first
//! value that differs, the diagnoses are asked why.

use std::collections::{HashMap, HashSet};

use ndarray::ArrayD;

use crate::engine::{NodeId, Op};
use crate::numfmt::py_repr;
use crate::session::Session;
use crate::trace::ExampleRecord;

use super::diagnose::{self, Context, InitVerdict, RowIndex};
use super::layout::{align, Layout};
use super::{Divergence, Place, Section, Theirs};

/// When two numbers agree: |ours − theirs| ≤ tol + tol·|theirs|; for float32 code, also
/// within `FLOAT32` of the array's largest magnitude, the rounding float32 accumulates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub tol: f64,
    pub float32: bool,
}

impl Tolerance {
    /// Relative precision float32 code keeps over a run (float32's ε is 1.2e-7).
    pub const FLOAT32: f64 = 1e-4;

    /// `--tol` when it is not given.
    pub const DEFAULT: f64 = 1e-6;

    /// The tolerance a diagnosis holds their value to: never looser than the default, so that
    /// a `--tol` loosened to look past small differences does not let a mistake's numbers match
    /// by coincidence (the differences let through add up, and a loose match names a mistake
    /// that was not made).
    pub fn for_diagnosis(&self) -> Tolerance {
        Tolerance { tol: self.tol.min(Self::DEFAULT), float32: self.float32 }
    }

    pub fn new(tol: f64) -> Tolerance {
        Tolerance { tol, float32: false }
    }

    /// |o − t| within the tolerance, `scale` being the largest magnitude of the array.
    pub fn close(&self, o: f64, t: f64, scale: f64) -> bool {
        if o.is_nan() || t.is_nan() {
            return o.is_nan() && t.is_nan();
        }
        if o.is_infinite() || t.is_infinite() {
            return o == t;
        }
        let mut allowed = self.tol + self.tol * t.abs();
        if self.float32 {
            allowed += Self::FLOAT32 * t.abs().max(scale);
        }
        (o - t).abs() <= allowed
    }

    /// Per entry of `ours`: whether `theirs` (in our shape) differs from it.
    pub fn mismatches(&self, ours: &ArrayD<f64>, theirs: &ArrayD<f64>) -> Vec<bool> {
        let scale = ours.iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| m.max(v.abs()));
        ours.iter().zip(theirs.iter()).map(|(&o, &t)| !self.close(o, t, scale)).collect()
    }

    /// Whether every entry agrees; the two must hold as many numbers, in the same order.
    pub fn agree(&self, ours: &ArrayD<f64>, theirs: &ArrayD<f64>) -> bool {
        ours.len() == theirs.len() && !self.mismatches(ours, theirs).into_iter().any(|m| m)
    }

    pub fn describe(&self) -> String {
        if self.float32 {
            format!("{} (float32: {} of each array's largest entry)", py_repr(self.tol), py_repr(Self::FLOAT32))
        } else {
            py_repr(self.tol)
        }
    }
}

/// What is compared in an example, in execution order: forward values in topological order,
/// adjoints in the backward pass's order, then the parameters after their updates.
pub fn plan(session: &Session) -> Vec<(Section, NodeId)> {
    let graph = session.graph();
    (0..graph.len())
        .map(|i| (Section::Forward, i))
        .chain(graph.backward_order().iter().map(|&i| (Section::Adjoint, i)))
        .chain(graph.params().iter().map(|&i| (Section::Param, i)))
        .collect()
}

/// Our number for a section of a node, once the example is finished: a parameter's forward
/// value is the one the forward pass used (before the update).
pub fn ours_of(session: &Session, section: Section, id: NodeId) -> &ArrayD<f64> {
    let graph = session.graph();
    let ws = session.workspace();
    match section {
        Section::Adjoint => &ws.adjoints[id],
        Section::Forward => match graph.param_index(id) {
            Some(p) => session.param_before(p),
            None => &ws.values[id],
        },
        Section::Param => &ws.values[id],
    }
}

/// State carried across examples: learned layouts and the history the diagnoses need.
pub struct Comparer<'t> {
    pub theirs: &'t Theirs,
    pub tol: Tolerance,
    layouts: HashMap<(bool, Section, String), Layout>,
    pub notes: Vec<String>,
    /// Our previous example's gradient of each parameter.
    previous_grad: HashMap<NodeId, ArrayD<f64>>,
    /// Σ of our gradients of each parameter since the epoch began (including this example).
    epoch_grad_sum: HashMap<NodeId, ArrayD<f64>>,
    epoch: usize,
    pub init: HashMap<NodeId, InitVerdict>,
    pub rows: Option<RowIndex>,
    pub compared_values: usize,
    pub compared_records: usize,
}

impl<'t> Comparer<'t> {
    pub fn new(theirs: &'t Theirs, tol: Tolerance) -> Comparer<'t> {
        Comparer {
            theirs,
            tol,
            layouts: HashMap::new(),
            notes: Vec::new(),
            previous_grad: HashMap::new(),
            epoch_grad_sum: HashMap::new(),
            epoch: 0,
            init: HashMap::new(),
            rows: None,
            compared_values: 0,
            compared_records: 0,
        }
    }

    /// A parameter's layout known before comparing (from their init record).
    pub fn know_layout(&mut self, name: &str, layout: Layout) {
        self.learn((true, Section::Param, name.to_string()), layout, name);
    }

    /// Compares the example the session has just finished with their record, from position
    /// `from` of [`plan`] on; returns the first value that differs.
    pub fn compare_example(
        &mut self,
        session: &Session,
        record: &ExampleRecord,
        row: Option<usize>,
        from: usize,
    ) -> Option<Divergence> {
        let graph = session.graph();
        let ws = session.workspace();
        let epoch = record.epoch;
        if epoch != self.epoch {
            self.epoch = epoch;
            self.epoch_grad_sum.clear();
        }
        for &p in graph.params() {
            let g = &ws.adjoints[p];
            self.epoch_grad_sum.entry(p).and_modify(|s| *s += g).or_insert_with(|| g.clone());
        }
        self.compared_records += 1;
        let result = self.first_difference(session, record, row, from);
        for &p in graph.params() {
            self.previous_grad.insert(p, ws.adjoints[p].clone());
        }
        result
    }

    fn first_difference(
        &mut self,
        session: &Session,
        record: &ExampleRecord,
        row: Option<usize>,
        from: usize,
    ) -> Option<Divergence> {
        let graph = session.graph();
        let (epoch, example) = (record.epoch, record.example);
        let mut agreed: Vec<(Section, NodeId)> = Vec::new();
        if let (Some(t), Some(o), 0) = (record.row, row, from) {
            if t != o {
                let diagnosis = diagnose::data_order(session, self.theirs, self.rows.as_ref(), (epoch, example), t, o);
                return Some(Divergence {
                    epoch,
                    example: Some(example),
                    row,
                    place: Place::Row,
                    what: "data row of this example".into(),
                    ours: Some(o as f64),
                    theirs: Some(t as f64),
                    agreed_examples: 0,
                    agreed_here: vec![],
                    diagnosis,
                    position: 0,
                });
            }
        }
        let plan = plan(session);
        for (i, &(section, id)) in plan.iter().enumerate() {
            let name = &graph.node(id).name;
            let Some((_, their)) = section.of(record).iter().find(|(n, _)| n == name) else { continue };
            let ours = ours_of(session, section, id);
            if i + 1 >= from {
                self.compared_values += their.len();
            }
            let aligned = self.aligned(session, section, id, ours, their, record);
            let differs = match &aligned {
                Some((_, a)) => !self.tol.agree(ours, a),
                None => true,
            };
            if !differs {
                agreed.push((section, id));
                continue;
            }
            if i + 1 < from {
                continue;
            }
            let layout = aligned.as_ref().map(|(l, _)| *l).unwrap_or(Layout::Same);
            let their_ours = aligned.map(|(_, a)| a);
            let (index, o, t) = match &their_ours {
                Some(a) => worst(ours, a, &self.tol),
                None => (vec![], None, None),
            };
            let their_at = (layout != Layout::Same && !index.is_empty())
                .then(|| layout.their_index(ours.shape(), &index, their.shape()))
                .flatten();
            let p = graph.param_index(id);
            let ctx = Context {
                session,
                theirs: self.theirs,
                record,
                section,
                id,
                ours,
                their_raw: their,
                their: their_ours.as_ref(),
                layout,
                tol: self.tol.for_diagnosis(),
                agreed: &agreed,
                previous_grad: self.previous_grad.get(&id),
                epoch_grad_sum: p.and_then(|_| self.epoch_grad_sum.get(&id)),
                init: &self.init,
                rows: self.rows.as_ref(),
                row,
            };
            let mut diagnosis = diagnose::diagnose(&ctx);
            if let Some(line) = self.consequences(session, record, section == Section::Forward, &plan[i + 1..]) {
                diagnosis.push(line);
            }
            return Some(Divergence {
                epoch,
                example: Some(example),
                row,
                place: Place::Value { section, name: name.clone(), theirs_at: their_at, index },
                what: section.describe(name, &graph.node(graph.loss()).name),
                ours: o,
                theirs: t,
                agreed_examples: 0,
                agreed_here: agreed.iter().map(|&(s, id)| format!("{} {}", s.key(), graph.node(id).name)).collect(),
                diagnosis,
                position: i + 1,
            });
        }
        None
    }

    /// What the rest of this example shows after a divergence: which of their later values
    /// differ too, and which agree despite it (checked, not assumed).
    fn consequences(
        &mut self,
        session: &Session,
        record: &ExampleRecord,
        forward: bool,
        rest: &[(Section, NodeId)],
    ) -> Option<String> {
        let graph = session.graph();
        let out = &graph.node(graph.loss()).name;
        let (mut differ, mut agree, mut zeros) = (Vec::new(), Vec::new(), Vec::new());
        for &(section, id) in rest {
            let name = &graph.node(id).name;
            let Some((_, their)) = section.of(record).iter().find(|(n, _)| n == name) else { continue };
            let ours = ours_of(session, section, id);
            let same =
                self.aligned(session, section, id, ours, their, record).is_some_and(|(_, a)| self.tol.agree(ours, &a));
            let label = section.short(name, out);
            if same {
                if ours.iter().all(|v| *v == 0.0) {
                    zeros.push(label.clone());
                }
                agree.push(label);
            } else {
                differ.push(label);
            }
        }
        if differ.is_empty() && agree.is_empty() {
            return None;
        }
        let mut text = String::from("after it in this example");
        if !differ.is_empty() {
            text += &format!(", yours also differs at {}", list(&differ));
        }
        if !agree.is_empty() {
            text += &format!("{} agrees at {}", if differ.is_empty() { ", yours" } else { "; it" }, list(&agree));
        }
        text.push('.');
        if !zeros.is_empty() {
            // Zeros agree with zeros whatever the code that made them; the likely cause is named
            // only when the numbers show it (a weight matrix all zeros before this example).
            let (them, are) = if zeros.len() == 1 { ("it", "is") } else { ("they", "are") };
            let zero_weights = (0..graph.params().len()).any(|p| session.param_before(p).iter().all(|v| *v == 0.0));
            let cause = if zero_weights { " (zero weights make many values 0)" } else { "" };
            text += &format!(
                " Of these, {} {are} all zeros here{cause}, so that {them} agree says little about your code.",
                list(&zeros)
            );
        }
        if forward && !differ.is_empty() {
            text += " Fix this one first: what is computed after it depends on it.";
        }
        Some(text)
    }

    /// Their array in our shape under the layout learned for this name (learning it at
    /// first sight); `None` when it is no arrangement of ours. A parameter and its gradient
    /// share one layout, learned from the parameter's values when their record has them.
    fn aligned(
        &mut self,
        session: &Session,
        section: Section,
        id: NodeId,
        ours: &ArrayD<f64>,
        their: &ArrayD<f64>,
        record: &ExampleRecord,
    ) -> Option<(Layout, ArrayD<f64>)> {
        let graph = session.graph();
        let name = &graph.node(id).name;
        let is_param = graph.node(id).op == Op::Param;
        let key = (is_param, if is_param { Section::Param } else { section }, name.clone());
        if !self.layouts.contains_key(&key) {
            let their_param = record.params.iter().find(|(n, _)| n == name).filter(|_| is_param);
            let (reference, their_ref) = match their_param {
                Some((_, p)) => (&session.workspace().values[id], p),
                None => (ours, their),
            };
            let tol = self.tol;
            match align(reference, their_ref, |o, t| tol.agree(o, t)) {
                Some((layout, _)) => self.learn(key.clone(), layout, name),
                // Their parameter holds no arrangement of ours (a wrong shape) while this value
                // may: it is compared by its own shape, and the parameter is the divergence.
                None if their_param.is_some() => return align(ours, their, |o, t| tol.agree(o, t)),
                None => return None,
            }
        }
        let layout = self.layouts[&key];
        layout.undo(ours.shape(), their).map(|a| (layout, a))
    }

    fn learn(&mut self, key: (bool, Section, String), layout: Layout, name: &str) {
        if layout != Layout::Same {
            let their = if key.0 { self.theirs.their_name(name) } else { self.theirs.their_name_in(key.1, name) };
            let what = if key.0 {
                "parameter"
            } else if key.1 == Section::Adjoint {
                "adjoint"
            } else {
                ""
            };
            self.notes.push(format!(
                "your {what}{}{their} is stored {}; compared in that layout",
                if what.is_empty() { "" } else { " " },
                layout.describe()
            ));
        }
        self.layouts.insert(key, layout);
    }
}

fn list(items: &[String]) -> String {
    if items.len() <= 8 {
        items.join(", ")
    } else {
        format!("{}, … ({} in all)", items[..7].join(", "), items.len())
    }
}

/// The entry that differs most: (index, ours, theirs).
fn worst(ours: &ArrayD<f64>, theirs: &ArrayD<f64>, tol: &Tolerance) -> (Vec<usize>, Option<f64>, Option<f64>) {
    let mismatch = tol.mismatches(ours, theirs);
    let mut best = (0usize, -1.0f64);
    for (i, (o, t)) in ours.iter().zip(theirs.iter()).enumerate() {
        if !mismatch[i] {
            continue;
        }
        let d = if o.is_nan() != t.is_nan() { f64::INFINITY } else { (o - t).abs() };
        let d = if d.is_nan() { f64::INFINITY } else { d };
        if d > best.1 {
            best = (i, d);
        }
    }
    let index = unravel(ours.shape(), best.0);
    (index, ours.iter().nth(best.0).copied(), theirs.iter().nth(best.0).copied())
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

/// Parameters that feed `id` along paths through no value they recorded and agreed on:
/// values whose correctness nothing in their trace has shown yet.
pub fn unverified_params(session: &Session, id: NodeId, agreed: &[(Section, NodeId)]) -> Vec<NodeId> {
    let graph = session.graph();
    let shield: HashSet<NodeId> = agreed.iter().filter(|(s, _)| *s == Section::Forward).map(|&(_, n)| n).collect();
    let mut out = Vec::new();
    let mut stack = vec![id];
    let mut seen = HashSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) || (n != id && shield.contains(&n)) {
            continue;
        }
        if graph.node(n).op == Op::Param {
            out.push(n);
            continue;
        }
        stack.extend(graph.node(n).inputs.iter().copied());
    }
    out.sort_unstable();
    out
}
