//! Comparing one finished example of bptui's session with their record of it, value by value
//! in execution order, under the storage conventions learned for their names; at the first
//! value that differs, the diagnoses are asked why.

use crate::notation::unravel;
use std::collections::HashMap;

use ndarray::ArrayD;

use crate::engine::{NodeId, Op};
use crate::session::Session;
use crate::trace::ExampleRecord;

use super::diagnose::{self, Context, History, InitVerdict, RowIndex, Unrecorded};
use super::layout::{Layout, Ours};
use super::learned::{param_key, Key, Learned};
use super::ours::carried_adjoint;
use super::tolerance::Tolerance;
use super::verdict::{worst_entry, Verdict};
use super::{Divergence, Place, Section, Theirs};

/// What is compared in an example, in execution order: forward values in topological order,
/// adjoints in the backward pass's order, then the parameters after their updates.
fn plan(session: &Session) -> Vec<(Section, NodeId)> {
    let graph = session.graph();
    (0..graph.len())
        .map(|i| (Section::Forward, i))
        .chain(graph.backward_order().iter().map(|&i| (Section::Adjoint, i)))
        .chain(graph.params().iter().map(|&i| (Section::Param, i)))
        .collect()
}

/// Our number for a section of a node, once the example is finished: a parameter's forward
/// value is the one the forward pass used (before the update).
fn ours_of(session: &Session, section: Section, id: NodeId) -> &ArrayD<f64> {
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
    theirs: &'t Theirs,
    /// The example compared last, when it agreed in every value they recorded.
    previous: Option<Unrecorded>,
    tol: Tolerance,
    learned: Learned,
    history: History,
    init: HashMap<NodeId, InitVerdict>,
    rows: Option<RowIndex>,
    compared_values: usize,
    compared_records: usize,
}

impl<'t> Comparer<'t> {
    /// A comparer for their trace, with what is known before the first example: their initial
    /// parameters as judged (`init`), each parameter's possible layouts (from their init
    /// record, by our name), and the rows of the training data.
    pub fn new(
        theirs: &'t Theirs,
        tol: Tolerance,
        init: HashMap<NodeId, InitVerdict>,
        layouts: Vec<(String, Vec<Layout>)>,
        rows: Option<RowIndex>,
    ) -> Comparer<'t> {
        let mut learned = Learned::default();
        for (name, layouts) in layouts {
            learned.restrict(param_key(&name), layouts);
        }
        Comparer {
            theirs,
            previous: None,
            tol,
            learned,
            history: History::default(),
            init,
            rows,
            compared_values: 0,
            compared_records: 0,
        }
    }

    /// Their trace.
    pub fn theirs(&self) -> &'t Theirs {
        self.theirs
    }

    /// How many numbers were compared.
    pub fn compared_values(&self) -> usize {
        self.compared_values
    }

    /// How many of their records were compared.
    pub fn compared_records(&self) -> usize {
        self.compared_records
    }

    /// The layouts learned, as notes.
    pub fn all_notes(&self) -> Vec<String> {
        self.learned.notes(self.theirs)
    }

    /// Takes note of an example the session has just finished, whether or not their trace
    /// records it (the history of parameters and gradients the diagnoses test against); call
    /// before comparing it, then [`Comparer::passed`] after.
    pub fn observe(&mut self, session: &Session) {
        self.history.observe(session);
    }

    /// The example observed last has been compared.
    pub fn passed(&mut self, session: &Session) {
        self.history.passed(session);
    }

    /// The history, for the epoch metrics' diagnoses.
    pub fn history(&self) -> &History {
        &self.history
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
        self.compared_records += 1;
        let found = self.first_difference(session, record, row, from);
        self.previous = found.is_none().then(|| Unrecorded::of(session, record));
        found
    }

    /// The first value from position `from` of [`plan`] on that agrees with theirs under no
    /// layout (their data row first, when their record names it).
    fn first_difference(
        &mut self,
        session: &Session,
        record: &ExampleRecord,
        row: Option<usize>,
        from: usize,
    ) -> Option<Divergence> {
        if let Some(d) = self.row_differs(session, record, row, from) {
            return Some(d);
        }
        let graph = session.graph();
        let mut agreed: Vec<(Section, NodeId)> = Vec::new();
        let plan = plan(session);
        for (i, &(section, id)) in plan.iter().enumerate() {
            let name = &graph.node(id).name;
            let Some((_, their)) = section.of(record).iter().find(|(n, _)| n == name) else { continue };
            let ours = ours_of(session, section, id);
            if i + 1 >= from {
                self.compared_values += their.len();
            }
            // Values before `from` are still judged: the layouts they settle and their
            // agreement are what the values after them are read with.
            let verdict = self.aligned(session, section, id, ours, their, record);
            if verdict.as_ref().is_some_and(|v| v.agrees) {
                agreed.push((section, id));
                continue;
            }
            if i + 1 < from {
                continue;
            }
            let value = Differing { position: i + 1, section, id, ours, their, verdict };
            return Some(self.divergence(session, record, row, value, &agreed, &plan[i + 1..]));
        }
        None
    }

    /// Their example is another data row than bptui's (their record says which): the order of
    /// examples differs, which no value of the example can show better.
    fn row_differs(
        &self,
        session: &Session,
        record: &ExampleRecord,
        row: Option<usize>,
        from: usize,
    ) -> Option<Divergence> {
        let (Some(t), Some(o), 0) = (record.row, row, from) else { return None };
        if t == o {
            return None;
        }
        let (epoch, example) = (record.epoch, record.example);
        let diagnosis = diagnose::data_order(session, self.theirs, self.rows.as_ref(), (epoch, example), t, o);
        Some(Divergence {
            epoch,
            example: Some(example),
            row,
            place: Place::Row,
            what: "data row of this example".into(),
            ours: Some(o as f64),
            theirs: Some(t as f64),
            agreed_examples: 0,
            unrecorded: vec![],
            agreed_here: vec![],
            diagnosis,
            position: 0,
        })
    }

    /// The divergence at a value that differs: its worst entry, the diagnoses, what the `rest`
    /// of the example shows, and the values that `agreed` before it.
    fn divergence(
        &mut self,
        session: &Session,
        record: &ExampleRecord,
        row: Option<usize>,
        value: Differing,
        agreed: &[(Section, NodeId)],
        rest: &[(Section, NodeId)],
    ) -> Divergence {
        let graph = session.graph();
        let Differing { position, section, id, ours, their, verdict } = value;
        let name = &graph.node(id).name;
        let layout = verdict.as_ref().map(|v| v.layout).unwrap_or(Layout::Same);
        let their_ours = verdict.map(|v| v.aligned);
        let (index, o, t) = worst(ours, their_ours.as_ref(), &self.tol);
        let their_at = (layout != Layout::Same && !index.is_empty())
            .then(|| layout.their_index(ours.shape(), &index, their.shape()))
            .flatten();
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
            agreed,
            history: &self.history,
            learned: &self.learned,
            init: &self.init,
            rows: self.rows.as_ref(),
            row,
            previous: self.previous.as_ref(),
        };
        let mut diagnosis = diagnose::diagnose(&ctx);
        if let Some(line) = self.consequences(session, record, section == Section::Forward, rest) {
            diagnosis.push(line);
        }
        Divergence {
            epoch: record.epoch,
            example: Some(record.example),
            row,
            place: Place::Value { section, name: name.clone(), theirs_at: their_at, index },
            what: section.describe(name, &graph.node(graph.loss()).name),
            ours: o,
            theirs: t,
            agreed_examples: 0,
            unrecorded: vec![],
            agreed_here: self.agreed_names(session, agreed),
            diagnosis,
            position,
        }
    }

    /// The values that agreed, as the report lists them: "forward a", "adjoints z (your `g_z`)".
    fn agreed_names(&self, session: &Session, agreed: &[(Section, NodeId)]) -> Vec<String> {
        let graph = session.graph();
        agreed
            .iter()
            .map(|&(s, id)| {
                let name = &graph.node(id).name;
                match self.theirs.their_name_in(s, name) {
                    yours if yours != name => format!("{} {name} (your `{yours}`)", s.key()),
                    _ => format!("{} {name}", s.key()),
                }
            })
            .collect()
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
            let same = self.aligned(session, section, id, ours, their, record).is_some_and(|v| v.agrees);
            let label = section.short(name, out);
            let label = match self.theirs.their_name_in(section, name) {
                yours if yours != name => format!("{label} (your `{yours}`)"),
                _ => label,
            };
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

    /// Their value judged under the layouts learned for this name (narrowing them); `None`
    /// when it is no arrangement of ours. A parameter and its gradient share one key, narrowed
    /// first by their value of the parameter after this example's update when their record has
    /// it (the gradient of a zero parameter may fit every layout while the parameter does not).
    fn aligned(
        &mut self,
        session: &Session,
        section: Section,
        id: NodeId,
        ours: &ArrayD<f64>,
        their: &ArrayD<f64>,
        record: &ExampleRecord,
    ) -> Option<Verdict> {
        let graph = session.graph();
        let name = &graph.node(id).name;
        let is_param = graph.node(id).op == Op::Param;
        let key: Key = if is_param { param_key(name) } else { (false, section, name.clone()) };
        let prefer_last = self.layer_hint(session, id, is_param);
        let mut only = None;
        if is_param && section != Section::Param && self.learned.settled(&key).is_none() {
            if let Some((_, after)) = record.params.iter().find(|(n, _)| n == name) {
                let now = &session.workspace().values[id];
                let verdict = self.learned.judge(&key, Ours::plain(now), after, &self.tol, prefer_last, None);
                // Their parameter after the update is wrong (their gradient in another layout
                // moved it wrongly): where the same layer keeps its bias decides, else where
                // their other names keep it, else the arrangement their parameter is nearest.
                if verdict.is_some_and(|v| !v.agrees) {
                    only = match prefer_last.or_else(|| self.learned.bias_last_anywhere()) {
                        Some(last) => Some(Layout::CONVENTIONS.into_iter().filter(|l| l.bias_last() == last).collect()),
                        None => self.learned.nearest(&key, now, after).map(|l| vec![l]),
                    };
                }
            }
        }
        let ours = Ours { value: ours, carried: carried_adjoint(session, section, id) };
        self.learned.judge(&key, ours, their, &self.tol, prefer_last, only.as_deref())
    }

    /// Where the same layer keeps its bias, when it has settled that: for a weight matrix read
    /// by u = W·[1; v], how their v stores its 1; for a vector v, how their W stores its bias
    /// column.
    fn layer_hint(&self, session: &Session, id: NodeId, is_param: bool) -> Option<bool> {
        let graph = session.graph();
        graph.consumers(id).iter().find_map(|&(u, k)| {
            let node = graph.node(u);
            if node.op != Op::Linear {
                return None;
            }
            match (is_param, k) {
                (true, 0) => {
                    let v = &graph.node(node.inputs[1]).name;
                    self.learned.bias_last(&(false, Section::Forward, v.clone()), false)
                }
                (false, 1) => self.learned.bias_last(&param_key(&graph.node(node.inputs[0]).name), true),
                _ => None,
            }
        })
    }
}

/// A value of theirs that agrees with ours under no layout learned for it.
struct Differing<'v> {
    /// Its place in the example's [`plan`], counted from 1.
    position: usize,
    section: Section,
    id: NodeId,
    ours: &'v ArrayD<f64>,
    their: &'v ArrayD<f64>,
    /// Their value judged under the layouts learned; `None` when it is no arrangement of ours.
    verdict: Option<Verdict>,
}

/// Their value's worst entry in our shape (our index, ours, theirs): with every entry agreeing
/// (a carried entry differs), entry 0 stands for the value; none when their value is no
/// arrangement of ours.
fn worst(ours: &ArrayD<f64>, theirs: Option<&ArrayD<f64>>, tol: &Tolerance) -> (Vec<usize>, Option<f64>, Option<f64>) {
    let Some(a) = theirs else { return (vec![], None, None) };
    let (i, o, t) = worst_entry(ours, a, tol).unwrap_or_else(|| {
        (0, ours.iter().next().copied().unwrap_or(f64::NAN), a.iter().next().copied().unwrap_or(f64::NAN))
    });
    (unravel(ours.shape(), i), Some(o), Some(t))
}

fn list(items: &[String]) -> String {
    if items.len() <= 8 {
        items.join(", ")
    } else {
        format!("{}, … ({} in all)", items[..7].join(", "), items.len())
    }
}
