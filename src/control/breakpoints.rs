//! Breakpoints: conditions checked after every micro-step, so that running on stops where
//! something worth seeing happens (a NaN, a big adjoint, a saturated sigmoid, a node computed).

use crate::engine::rules::Kind;
use crate::engine::{Graph, NodeId, Op};
use crate::numfmt::{short, Digits};

use crate::session::{Event, NonFinite, Phase, Session};

/// How an array is measured against a threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// Its Euclidean norm: `|dJ/dz| > 10`.
    Norm,
    /// Any entry: `J > 2`, `z < 0.01`.
    Entry,
}

/// When to stop.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// A NaN or infinity appeared anywhere.
    NonFinite,
    /// The node's value or adjoint (or the parameter's update) was just computed.
    Node(NodeId),
    /// A node's value or adjoint beyond a threshold (`above`: greater than, else less than).
    Threshold { node: NodeId, kind: Kind, measure: Measure, above: bool, limit: f64 },
    /// A parameter's update moved it by more than `limit` of its size: ‖Δθ‖/‖θ‖ > limit.
    Ratio { node: NodeId, limit: f64 },
    /// A sigmoid's output beyond `limit` or below 1 − `limit`.
    Saturated { node: NodeId, limit: f64 },
    /// A value that differs from the other implementation's (`--against`).
    Diverge,
}

impl Condition {
    /// As the prompt writes it, its thresholds in `digits`.
    pub fn describe(&self, graph: &Graph, digits: Digits) -> String {
        let short = |x: f64| digits.number(x);
        let name = |id: NodeId| graph.node(id).name.clone();
        let out = name(graph.loss());
        match self {
            Condition::NonFinite => "nan (a NaN or infinity anywhere)".into(),
            Condition::Node(id) => format!("node {} (its value or adjoint computed)", name(*id)),
            Condition::Threshold { node, kind, measure, above, limit } => {
                let what = match kind {
                    Kind::Value => name(*node),
                    Kind::Adjoint => format!("d{out}/d{}", name(*node)),
                };
                let what = if *measure == Measure::Norm { format!("|{what}|") } else { what };
                format!("{what} {} {}", if *above { ">" } else { "<" }, short(*limit))
            }
            Condition::Ratio { node, limit } => format!("ratio {} > {}", name(*node), short(*limit)),
            Condition::Saturated { node, limit } => format!("saturated {} > {}", name(*node), short(*limit)),
            Condition::Diverge => "diverge (a value differs from THEIRS)".into(),
        }
    }

    /// Whether the step that produced `event` meets the condition, and how (for the status).
    /// The worker thread writes it, away from any view: in short digits.
    fn hit(&self, s: &Session, event: Event, had_non_finite: bool) -> Option<String> {
        let graph = s.graph();
        let ws = s.workspace();
        match *self {
            Condition::NonFinite => {
                if had_non_finite {
                    return None;
                }
                s.first_non_finite().map(|nf| non_finite_story(s, nf))
            }
            Condition::Node(id) => {
                let name = &graph.node(id).name;
                match event {
                    // Its adjoint final: in Version B at its last consumer's push.
                    Event::Backward { node, algorithm } => {
                        let step = graph.backward_position(node).map(|p| p + 1);
                        (step.is_some() && graph.adjoint_final_after(id, algorithm) == step).then(|| {
                            let out = &graph.node(graph.loss()).name;
                            if node == id {
                                format!("d{out}/d{name} final (backward step at {name})")
                            } else {
                                format!("d{out}/d{name} final ({}'s push into it)", graph.node(node).name)
                            }
                        })
                    }
                    _ if event.node() != Some(id) => None,
                    Event::Update { .. } => Some(format!("{name} updated")),
                    _ => Some(format!("{name} computed")),
                }
            }
            Condition::Threshold { node, kind, measure, above, limit } => {
                self.beyond_threshold(s, event, (node, kind), measure, above, limit)
            }
            Condition::Ratio { node, limit } => {
                let Event::Update { param, node: n } = event else { return None };
                if n != node {
                    return None;
                }
                let before = s.param_before(param);
                let after = &ws.values[node];
                let step = before.iter().zip(after.iter()).map(|(b, a)| (a - b) * (a - b)).sum::<f64>().sqrt();
                let size = before.iter().map(|b| b * b).sum::<f64>().sqrt();
                let ratio = step / size;
                (ratio > limit).then(|| format!("{}: ‖Δθ‖/‖θ‖ = {}", self.describe(graph, Digits::Short), short(ratio)))
            }
            Condition::Saturated { node, limit } => {
                if event != (Event::Forward { node }) {
                    return None;
                }
                let a = &ws.values[node];
                let count = a.iter().filter(|&&v| v > limit || v < 1.0 - limit).count();
                (count > 0).then(|| format!("{}: {count} of {} entries", self.describe(graph, Digits::Short), a.len()))
            }
            Condition::Diverge => None,
        }
    }

    /// [`Condition::Threshold`]'s test: node `node`'s value or adjoint (`kind`) just computed,
    /// and its norm or an entry beyond `limit`.
    fn beyond_threshold(
        &self,
        s: &Session,
        event: Event,
        (node, kind): (NodeId, Kind),
        measure: Measure,
        above: bool,
        limit: f64,
    ) -> Option<String> {
        let graph = s.graph();
        let ws = s.workspace();
        let done = match (kind, event) {
            (Kind::Value, Event::Forward { node: n } | Event::Loaded { node: n } | Event::Update { node: n, .. }) => {
                n == node
            }
            (Kind::Adjoint, Event::Backward { node: n, .. }) => n == node,
            _ => false,
        };
        if !done {
            return None;
        }
        let a = match kind {
            Kind::Value => &ws.values[node],
            Kind::Adjoint => &ws.adjoints[node],
        };
        let found = match beyond(a.iter().copied(), measure, above, limit)? {
            Found::Norm(n) => format!("norm {}", short(n)),
            Found::Entry(i, v) => {
                let index = if a.ndim() == 0 { String::new() } else { crate::notation::entry_str(a.shape(), i) };
                format!("entry{index} = {}", short(v))
            }
        };
        Some(format!("{}: {found}", self.describe(graph, Digits::Short)))
    }

    /// For a breakpoint that an example's loss alone decides (a threshold on the loss's
    /// value, `J > 3`), whether `loss` meets it, as [`Condition::hit`] tests it at J's forward
    /// step; `None` for every other condition. The fast path checks these on the examples it
    /// runs whole.
    pub fn on_loss(&self, graph: &Graph, loss: f64) -> Option<bool> {
        match *self {
            Condition::Threshold { node, kind: Kind::Value, measure, above, limit } if node == graph.loss() => {
                Some(beyond(std::iter::once(loss), measure, above, limit).is_some())
            }
            _ => None,
        }
    }
}

/// What a threshold found beyond its limit.
enum Found {
    /// The values' norm.
    Norm(f64),
    /// The first entry beyond it: its flat position and value.
    Entry(usize, f64),
}

/// The one test of a threshold: `values` measured by `measure`, beyond `limit` (`above`:
/// greater than, else less than).
fn beyond(values: impl Iterator<Item = f64>, measure: Measure, above: bool, limit: f64) -> Option<Found> {
    let past = |v: f64| if above { v > limit } else { v < limit };
    match measure {
        Measure::Norm => {
            let n = values.map(|v| v * v).sum::<f64>().sqrt();
            past(n).then_some(Found::Norm(n))
        }
        Measure::Entry => values.enumerate().find(|&(_, v)| past(v)).map(|(i, v)| Found::Entry(i, v)),
    }
}

/// Where a breakpoint stopped a run: the node to show, and the condition that held.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub node: Option<NodeId>,
    pub why: String,
}

/// A breakpoint: a condition that can be switched off without forgetting it.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakpoint {
    pub condition: Condition,
    pub enabled: bool,
}

/// The debugger's breakpoints. A NaN/Inf breakpoint is there from the start.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakpoints {
    pub list: Vec<Breakpoint>,
}

impl Default for Breakpoints {
    fn default() -> Breakpoints {
        Breakpoints { list: vec![Breakpoint { condition: Condition::NonFinite, enabled: true }] }
    }
}

impl Breakpoints {
    /// Adds a condition, or removes it when it is there already (`b` toggles). Returns
    /// whether it is now set.
    pub fn toggle(&mut self, condition: Condition) -> bool {
        if let Some(i) = self.list.iter().position(|b| b.condition == condition) {
            self.list.remove(i);
            false
        } else {
            self.list.push(Breakpoint { condition, enabled: true });
            true
        }
    }

    /// Why to stop after the step that produced `event`, if an enabled breakpoint says so.
    /// `had_non_finite`: a NaN or infinity had appeared before this run began (and stopped
    /// it then); `diverged` tells whether the step's value differs from THEIRS.
    pub fn hit(
        &self,
        s: &Session,
        event: Event,
        had_non_finite: bool,
        diverged: &dyn Fn(&Session, Event) -> Option<String>,
    ) -> Option<Stop> {
        self.list.iter().filter(|b| b.enabled).find_map(|b| {
            let why = match b.condition {
                Condition::Diverge => diverged(s, event).map(|why| format!("diverge: {why}"))?,
                ref c => c.hit(s, event, had_non_finite)?,
            };
            // A NaN or infinity is shown where it arose; anything else where the step acted.
            let node = match b.condition {
                Condition::NonFinite => s.first_non_finite().map(|nf| nf.node),
                _ => event.node(),
            };
            Some(Stop { node, why })
        })
    }

    pub fn has(&self, condition: &Condition) -> bool {
        self.list.iter().any(|b| &b.condition == condition)
    }
}

/// Where a NaN or infinity arose: the node, the step that made it, and that step's inputs.
pub fn non_finite_story(s: &Session, nf: &NonFinite) -> String {
    let graph = s.graph();
    let ws = s.workspace();
    let n = graph.node(nf.node);
    let out = &graph.node(graph.loss()).name;
    let (a, what) = match nf.phase {
        Phase::Backward => (&ws.adjoints[nf.node], format!("d{out}/d{}", n.name)),
        _ => (&ws.values[nf.node], n.name.clone()),
    };
    let Some(i) = a.iter().position(|v| !v.is_finite()) else {
        return format!("NaN/Inf at {what}");
    };
    let value = a.iter().nth(i).copied().unwrap_or(f64::NAN);
    let at = if a.ndim() == 0 { String::new() } else { crate::notation::entry_str(a.shape(), i) };
    // The numbers the step read: a forward rule's or a pushing consumer's inputs; for a pull
    // (Version A), each consumer's adjoint and inputs.
    let step = graph.node(nf.by);
    let show = |name: String, x: &ndarray::ArrayD<f64>| {
        if x.len() == a.len() && x.ndim() > 0 {
            format!("{name}{at} = {}", short(x.iter().nth(i).copied().unwrap_or(f64::NAN)))
        } else if x.len() == 1 {
            format!("{name} = {}", short(x.iter().next().copied().unwrap_or(f64::NAN)))
        } else {
            let min = x.iter().copied().fold(f64::INFINITY, f64::min);
            let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{name} in [{}, {}]", short(min), short(max))
        }
    };
    let values_of = |node: &crate::engine::Node| -> Vec<String> {
        node.inputs
            .iter()
            .filter(|&&v| !matches!(graph.node(v).op, Op::Const(_)))
            .map(|&v| show(graph.node(v).name.clone(), &ws.values[v]))
            .collect()
    };
    let pulled = nf.phase == Phase::Backward && nf.by == nf.node && nf.node != graph.loss();
    let inputs: Vec<String> = if pulled {
        graph
            .consumers(nf.node)
            .iter()
            .flat_map(|&(u, _)| {
                let mut v = vec![show(format!("d{out}/d{}", graph.node(u).name), &ws.adjoints[u])];
                v.extend(values_of(graph.node(u)));
                v
            })
            .collect()
    } else {
        values_of(step)
    };
    let rule = match nf.phase {
        Phase::Backward if nf.by != nf.node => format!("the backward step at {} (its push into {what})", step.name),
        Phase::Backward if pulled => {
            let from: Vec<&str> = graph.consumers(nf.node).iter().map(|&(u, _)| graph.node(u).name.as_str()).collect();
            format!("the backward step at {} (pulled from {})", n.name, from.join(", "))
        }
        Phase::Backward => format!("the backward step at {}", n.name),
        Phase::Update => format!("the update of {}", n.name),
        _ => n.equation.clone(),
    };
    format!(
        "{}{at} = {} from {rule}{}",
        what,
        short(value),
        if inputs.is_empty() { String::new() } else { format!(" with {}", inputs.join(", ")) }
    )
}
