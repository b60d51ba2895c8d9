//! The debugger's command language, as the prompt (`g` or `:`) takes it: where to go, which
//! breakpoint to set, what to watch, which entry to show. Parsing only: what a command does is
//! [`Debugger`](super::Debugger)'s (go-to, breakpoints) or the UI's (watch, index).
//!
//! ```text
//! e 2 x 17            epoch 2 example 17 (its start)    row 208     the next time row 208 comes
//! node b              right after b's forward step       backward a  right after a's backward step
//! update beta         right after beta's update          (combine: e 1 x 5 backward a)
//! break nan | diverge | node b | |dJ/dz| > 10 | J > 2 | z < 0.01 | ratio alpha > 0.1 | saturated z > 0.99
//! watch z             keep z's health line on screen
//! index 3 17          show entry [3,17] of the selected array (also: i 3,17)
//! ```

use crate::engine::rules::Kind;
use crate::engine::{Graph, NodeId, Op};

use crate::session::Session;

use super::breakpoints::{Condition, Measure};
use super::goal::Spot;

/// Which step of a node a go-to lands right after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOf {
    Forward,
    Backward,
    Update,
}

/// Where to go: every part is optional; what is not given is the current position's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Goto {
    pub epoch: Option<usize>,
    /// Counted from 1.
    pub example: Option<usize>,
    pub row: Option<usize>,
    pub step: Option<(StepOf, NodeId)>,
}

/// What a line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Goto(Goto),
    Break(Condition),
    Watch(NodeId),
    /// Scroll the focused pane to this entry.
    Index(Vec<usize>),
}

/// The words of the language, for completion.
pub const KEYWORDS: [&str; 16] = [
    "epoch",
    "example",
    "row",
    "node",
    "forward",
    "backward",
    "update",
    "break",
    "watch",
    "index",
    "nan",
    "diverge",
    "ratio",
    "saturated",
    "e",
    "x",
];

/// The run's sizes, for examples that fit it in the prompt's messages.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub epochs: usize,
    /// Examples per epoch (the training data's rows).
    pub examples: usize,
}

/// Commands that work on this model and run, to show when a line is not understood.
pub fn suggestions(graph: &Graph, sizes: Sizes) -> String {
    let mut out = Vec::new();
    let (e, x) = (sizes.epochs.min(2), sizes.examples.min(5));
    out.push(format!("e {e} x {x}"));
    if sizes.examples > 1 {
        out.push(format!("row {}", sizes.examples.min(4) - 1));
    }
    let nodes = graph.nodes();
    // A sub-expression's name (`x * x`) is not one word the prompt can take.
    let computed = |id: &usize| !graph.node(*id).op.is_leaf() && !nodes[*id].name.contains(char::is_whitespace);
    if let Some(n) = (0..nodes.len()).rev().find(computed) {
        out.push(format!("node {}", nodes[n].name));
    }
    if let Some(n) = (0..nodes.len()).find(|id| computed(id) && graph.needs_grad(*id)) {
        out.push(format!("backward {}", nodes[n].name));
    }
    if let Some(&p) = graph.params().first() {
        out.push(format!("update {}", nodes[p].name));
    }
    out.push("break nan".into());
    if let Some(n) = (0..nodes.len()).find(computed) {
        out.push(format!("watch {}", nodes[n].name));
    }
    out.push("index 0".into());
    out.join(", ")
}

/// Reads a command line.
pub fn parse(line: &str, graph: &Graph, sizes: Sizes) -> Result<Command, String> {
    let line = line.trim();
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some(&first) = words.first() else { return Err("type a command, or Esc".into()) };
    match first {
        "break" | "b" => parse_break(&line[first.len()..], graph).map(Command::Break),
        "watch" | "w" => {
            let name = words.get(1).ok_or("watch NAME")?;
            Ok(Command::Watch(node(graph, name)?))
        }
        "index" | "i" => {
            let numbers: Result<Vec<usize>, _> = line[first.len()..]
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(str::parse)
                .collect();
            match numbers {
                Ok(n) if !n.is_empty() => Ok(Command::Index(n)),
                _ => Err("index I or index I,J: the entry's indices, from 0".into()),
            }
        }
        _ => parse_goto(&words, graph, sizes).map(Command::Goto),
    }
}

fn node(graph: &Graph, name: &str) -> Result<NodeId, String> {
    graph.find(name).ok_or_else(|| {
        let names: Vec<&str> = graph.nodes().iter().map(|n| n.name.as_str()).collect();
        format!("no node `{name}` (nodes: {})", names.join(", "))
    })
}

fn number<T: std::str::FromStr>(words: &[&str], i: usize, what: &str) -> Result<T, String> {
    words.get(i).and_then(|w| w.parse().ok()).ok_or_else(|| format!("{what} needs a number after it"))
}

fn parse_goto(words: &[&str], graph: &Graph, sizes: Sizes) -> Result<Goto, String> {
    let mut goto = Goto::default();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        match w {
            "e" | "epoch" => goto.epoch = Some(number(words, i + 1, w)?),
            "x" | "example" | "ex" => goto.example = Some(number(words, i + 1, w)?),
            "row" => goto.row = Some(number(words, i + 1, w)?),
            "node" | "forward" | "backward" | "update" => {
                let name = words.get(i + 1).ok_or_else(|| format!("{w} needs a node name after it"))?;
                let id = node(graph, name)?;
                let step = match w {
                    "backward" => StepOf::Backward,
                    "update" => StepOf::Update,
                    _ => StepOf::Forward,
                };
                if step == StepOf::Update && graph.node(id).op != Op::Param {
                    return Err(format!("{name} is not a parameter: only parameters are updated"));
                }
                goto.step = Some((step, id));
            }
            _ if graph.find(w).is_some() => {
                goto.step = Some((StepOf::Forward, node(graph, w)?));
                i += 1;
                continue;
            }
            _ => return Err(format!("`{w}` not understood: try {}", suggestions(graph, sizes))),
        }
        i += 2;
    }
    if goto.example == Some(0) || goto.epoch == Some(0) {
        return Err("epochs and examples count from 1".into());
    }
    if goto.row.is_some() && goto.example.is_some() {
        return Err("give either an example or a row".into());
    }
    Ok(goto)
}

fn parse_break(rest: &str, graph: &Graph) -> Result<Condition, String> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let out = &graph.node(graph.loss()).name;
    match words.as_slice() {
        ["nan"] | ["inf"] => return Ok(Condition::NonFinite),
        ["diverge"] => return Ok(Condition::Diverge),
        ["node", name] => return Ok(Condition::Node(node(graph, name)?)),
        ["ratio", name, ">", limit] => {
            let id = node(graph, name)?;
            if graph.node(id).op != Op::Param {
                return Err(format!("{name} is not a parameter"));
            }
            return Ok(Condition::Ratio { node: id, limit: threshold(limit)? });
        }
        ["saturated", name, ">", limit] => {
            return Ok(Condition::Saturated { node: node(graph, name)?, limit: threshold(limit)? })
        }
        _ => {}
    }
    // X > T, X < T, |X| > T with X a node or dJ/dNODE.
    let text: String = words.concat();
    let (lhs, above, limit) = match text.split_once('>') {
        Some((l, r)) => (l, true, r),
        None => match text.split_once('<') {
            Some((l, r)) => (l, false, r),
            None => {
                return Err(format!(
                    "break nan | diverge | node NAME | |d{out}/dz| > 10 | {out} > 2 | z < 0.01 | ratio alpha > 0.1 | saturated z > 0.99"
                ))
            }
        },
    };
    let limit = threshold(limit)?;
    let (lhs, measure) = match lhs.strip_prefix('|').and_then(|l| l.strip_suffix('|')) {
        Some(inner) => (inner, Measure::Norm),
        None => (lhs, Measure::Entry),
    };
    let (name, kind) = match lhs.strip_prefix(&format!("d{out}/d")) {
        Some(n) => (n, Kind::Adjoint),
        None => (lhs, Kind::Value),
    };
    Ok(Condition::Threshold { node: node(graph, name)?, kind, measure, above, limit })
}

fn threshold(text: &str) -> Result<f64, String> {
    text.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("`{text}` is not a number"))
}

/// The spot a go-to command names, from the current position.
pub fn resolve(s: &Session, goto: &Goto) -> Result<Spot, String> {
    let g = s.graph();
    let n = s.examples_per_epoch();
    let epochs = s.epochs();
    let here = Spot::of(s);
    let (phase, index) = match goto.step {
        None => (0, 0),
        Some((step, id)) => {
            let (phase, position) = match step {
                StepOf::Forward => (0, g.forward_position(id)),
                StepOf::Backward => (1, g.backward_position(id)),
                StepOf::Update => (2, g.param_index(id)),
            };
            let Some(p) = position else {
                let what = if step == StepOf::Forward { "forward" } else { "backward" };
                return Err(format!("{} has no {what} step", g.node(id).name));
            };
            (phase, p + 1)
        }
    };
    let spot = |epoch, example| Spot { epoch, example, phase, index };
    if let Some(row) = goto.row {
        if row >= n {
            return Err(format!("row {row}: the data has rows 0 to {}", n.saturating_sub(1)));
        }
        let from_epoch = here.epoch.min(epochs);
        for e in from_epoch..=epochs {
            let order = s.order_of_epoch(e);
            let first = if e == here.epoch { here.example } else { 0 };
            for (x, &r) in order.iter().enumerate().skip(first) {
                if r == row && spot(e, x) > here {
                    return Ok(spot(e, x));
                }
            }
        }
        return Err(format!("data row {row} does not come again in this run"));
    }
    let current_epoch = here.epoch.min(epochs);
    let epoch = goto.epoch.unwrap_or(current_epoch);
    let mut example = match (goto.example, goto.epoch) {
        (Some(x), _) => x - 1,
        (None, Some(_)) => 0,
        (None, None) => here.example.min(n - 1),
    };
    let mut epoch = epoch;
    // A node's step alone: in this example if it is still ahead, else in the next one.
    if goto.epoch.is_none() && goto.example.is_none() && spot(epoch, example) <= here {
        example += 1;
        if example == n {
            example = 0;
            epoch += 1;
        }
        if epoch > epochs {
            return Err("no later step like it: the run is at its last example (p steps back; e 1 x 1 with the \
                        step goes to the first)"
                .into());
        }
    }
    if epoch > epochs {
        return Err(format!("epoch {epoch}: the run has {epochs}"));
    }
    if example >= n {
        return Err(format!("example {}: an epoch has {n}", example + 1));
    }
    Ok(spot(epoch, example))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: Sizes = Sizes { epochs: 3, examples: 16 };

    fn graph() -> Graph {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/two_layer.yaml");
        crate::model::Model::load(&path).unwrap().graph().clone()
    }

    #[test]
    fn goto_forms() {
        let g = graph();
        let b = g.find("b").unwrap();
        let a = g.find("a").unwrap();
        assert_eq!(
            parse("e 2 x 17", &g, SIZES).unwrap(),
            Command::Goto(Goto { epoch: Some(2), example: Some(17), ..Goto::default() })
        );
        assert_eq!(parse("epoch 2 example 17", &g, SIZES), parse("e 2 x 17", &g, SIZES));
        assert_eq!(parse("row 208", &g, SIZES).unwrap(), Command::Goto(Goto { row: Some(208), ..Goto::default() }));
        assert_eq!(
            parse("node b", &g, SIZES).unwrap(),
            Command::Goto(Goto { step: Some((StepOf::Forward, b)), ..Goto::default() })
        );
        assert_eq!(
            parse("e 1 x 5 backward a", &g, SIZES).unwrap(),
            Command::Goto(Goto { epoch: Some(1), example: Some(5), row: None, step: Some((StepOf::Backward, a)) })
        );
        assert!(parse("update a", &g, SIZES).unwrap_err().contains("not a parameter"));
        assert!(parse("x 0", &g, SIZES).unwrap_err().contains("count from 1"));
        assert!(parse("frobnicate", &g, SIZES).is_err());
    }

    #[test]
    fn break_forms() {
        let g = graph();
        let z = g.find("z").unwrap();
        let j = g.find("J").unwrap();
        assert_eq!(parse("break nan", &g, SIZES).unwrap(), Command::Break(Condition::NonFinite));
        assert_eq!(
            parse("break |dJ/dz| > 10", &g, SIZES).unwrap(),
            Command::Break(Condition::Threshold {
                node: z,
                kind: Kind::Adjoint,
                measure: Measure::Norm,
                above: true,
                limit: 10.0
            })
        );
        assert_eq!(
            parse("break J > 2", &g, SIZES).unwrap(),
            Command::Break(Condition::Threshold {
                node: j,
                kind: Kind::Value,
                measure: Measure::Entry,
                above: true,
                limit: 2.0
            })
        );
        assert_eq!(
            parse("break ratio alpha > 0.1", &g, SIZES).unwrap(),
            Command::Break(Condition::Ratio { node: g.find("alpha").unwrap(), limit: 0.1 })
        );
        assert_eq!(
            parse("break saturated z > 0.99", &g, SIZES).unwrap(),
            Command::Break(Condition::Saturated { node: z, limit: 0.99 })
        );
        assert_eq!(parse("break diverge", &g, SIZES).unwrap(), Command::Break(Condition::Diverge));
        assert!(parse("break |dJ/dq| > 1", &g, SIZES).unwrap_err().contains("no node `q`"));
    }
}
