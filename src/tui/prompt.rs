//! The prompt `g` (or `:`) opens: a line of text with history and node-name completion, and
//! the small language it understands.
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
use crate::session::breakpoints::{Condition, Measure};

/// The line being typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    pub text: String,
    /// Position in the command history while browsing it (↑ ↓).
    pub browsing: Option<usize>,
    /// A message under the line: completions, or why the last command was not understood.
    pub message: Option<String>,
}

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

const KEYWORDS: [&str; 16] = [
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

/// Reads a command line.
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

impl Prompt {
    /// Tab: completes the last word with a node name or keyword; lists the choices when
    /// several fit.
    pub fn complete(&mut self, graph: &Graph) {
        let start = self.text.rfind(' ').map(|i| i + 1).unwrap_or(0);
        let word = self.text[start..].to_string();
        let mut choices: Vec<String> = graph
            .nodes()
            .iter()
            .map(|n| n.name.clone())
            .chain(KEYWORDS.iter().filter(|k| k.len() > 1).map(|k| k.to_string()))
            .filter(|c| c.starts_with(&word) && !c.contains(' '))
            .collect();
        choices.sort();
        choices.dedup();
        match choices.len() {
            0 => self.message = Some(format!("nothing starts with `{word}`")),
            1 => {
                self.text.truncate(start);
                self.text.push_str(&choices[0]);
                self.text.push(' ');
                self.message = None;
            }
            _ => {
                let common = choices.iter().skip(1).fold(choices[0].clone(), |acc, c| {
                    acc.chars().zip(c.chars()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect()
                });
                self.text.truncate(start);
                self.text.push_str(&common);
                self.message = Some(choices.join("  "));
            }
        }
    }

    /// ↑ / ↓: an earlier or later command of `history`.
    pub fn browse(&mut self, history: &[String], older: bool) {
        if history.is_empty() {
            return;
        }
        let next = match (self.browsing, older) {
            (None, true) => Some(history.len() - 1),
            (None, false) => None,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i + 1 < history.len() => Some(i + 1),
            (Some(_), false) => None,
        };
        self.browsing = next;
        self.text = next.map(|i| history[i].clone()).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: Sizes = Sizes { epochs: 3, examples: 16 };

    fn graph() -> Graph {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/two_layer.yaml");
        crate::model::Model::load(&path).unwrap().graph
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

    #[test]
    fn completion_and_history() {
        let g = graph();
        let mut p = Prompt { text: "backward al".into(), ..Prompt::default() };
        p.complete(&g);
        assert_eq!(p.text, "backward alpha ");
        let mut p = Prompt { text: "node b".into(), ..Prompt::default() };
        p.complete(&g);
        assert!(p.message.as_deref().is_some_and(|m| m.contains("beta") && m.contains("backward")), "{p:?}");
        let history = vec!["e 1 x 5".to_string(), "break nan".to_string()];
        let mut p = Prompt::default();
        p.browse(&history, true);
        assert_eq!(p.text, "break nan");
        p.browse(&history, true);
        assert_eq!(p.text, "e 1 x 5");
        p.browse(&history, false);
        assert_eq!(p.text, "break nan");
    }
}
