//! How the rules of [`ops`](super::ops) are written on screen: the debugger shows them, and
//! `diff` quotes the rule that produced a wrong adjoint.
//!
//! Each op writes its own rules ([`Op::derivative`](super::Op::derivative),
//! [`Op::forward_text`](super::Op::forward_text)); here their operands are named after the
//! graph's nodes and shown as symbols or with their current numbers substituted. The numbers
//! substituted are the workspace's, and the results shown come from
//! [`Workspace::contribution`](crate::engine::Workspace::contribution).

use std::borrow::Cow;

use ndarray::ArrayD;

use crate::engine::{Graph, NodeId, Workspace};
use crate::notation::greek;
use crate::numfmt::Digits;

/// Whether a number belongs to a node's value or to its adjoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Value,
    Adjoint,
}

/// A piece of a rule: fixed text, a node's value or adjoint, a local derivative evaluated
/// from a node's value, or a vector with the bias entry 1 in front.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Text(String),
    Val(NodeId, Kind),
    /// `text` with symbols (`cos(x)`); with numbers, `map` applied to the node's value.
    Local {
        text: String,
        of: NodeId,
        map: Local,
    },
    /// `[1; x]`; with numbers, the column with 1 in front (`[1; 0.3; −0.2]`).
    WithOne(NodeId),
}

/// How a node is written in a formula: α for alpha, parentheses around expressions.
pub fn sym(graph: &Graph, id: NodeId) -> String {
    let name = &graph.node(id).name;
    let g = greek(name);
    if g.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '*') {
        g
    } else {
        format!("({g})")
    }
}

/// dJ/dv in the lecture's notation, J being the graph's own output (`dy/dx` for an output y).
pub fn d_of(graph: &Graph, id: NodeId) -> String {
    format!("d{}/d{}", out(graph), sym(graph, id))
}

/// The differentiated output's name (J, or a graph model's own output).
pub fn out(graph: &Graph) -> String {
    sym(graph, graph.loss())
}

/// The first of `preferred` that no node of the graph is called (nor writes as), for generic
/// notation such as "each consumer u": a model with a node u gets another letter.
pub fn free_symbol(graph: &Graph, preferred: &[&'static str]) -> &'static str {
    let taken = |c: &str| graph.nodes().iter().any(|n| n.name == c || greek(&n.name) == c);
    preferred.iter().copied().find(|c| !taken(c)).unwrap_or("•")
}

/// Letters for a generic consumer and a generic input, distinct from the model's names.
pub fn generic_letters(graph: &Graph) -> (&'static str, &'static str) {
    let consumer = free_symbol(graph, &["u", "c", "w", "k", "q", "r", "s"]);
    let input = free_symbol(graph, &["v", "p", "m", "n", "e", "f"]);
    (consumer, input)
}

/// The term consumer `u` adds to the adjoint of its input `k`: (dJ/du)·(∂u/∂v_k), as
/// [`Op::derivative`](super::Op::derivative) writes it, with the graph's nodes.
pub fn term(graph: &Graph, u: NodeId, k: usize, digits: Digits) -> Vec<Tok> {
    let node = graph.node(u);
    let id = |of: Operand| match of {
        Operand::In(j) => node.inputs[j],
        Operand::Out => u,
    };
    let tok = |piece: Piece| match piece {
        Piece::Text(s) => Tok::Text(s.to_string()),
        Piece::Adjoint => Tok::Val(u, Kind::Adjoint),
        Piece::Value(of) => Tok::Val(id(of), Kind::Value),
        Piece::Local { text, of, map } => {
            let of = id(of);
            // Inside a call's own parentheses a name needs none of its own: cos(log(x)).
            let name = if text.contains("({})") { greek(&graph.node(of).name) } else { sym(graph, of) };
            Tok::Local { text: text.replace("{0}", &sym(graph, of)).replace("{}", &name), of, map }
        }
        Piece::WithOne(j) => Tok::WithOne(node.inputs[j]),
    };
    node.op.derivative(k, digits).into_iter().map(tok).collect()
}

/// The rule with symbols: `dJ/dz ⊙ z(1 − z)`.
pub fn symbolic(graph: &Graph, toks: &[Tok]) -> String {
    toks.iter()
        .map(|tok| match tok {
            Tok::Text(s) => s.clone(),
            Tok::Val(id, Kind::Value) => sym(graph, *id),
            Tok::Val(id, Kind::Adjoint) => d_of(graph, *id),
            Tok::Local { text, .. } => text.clone(),
            Tok::WithOne(id) => format!("[1; {}]", sym(graph, *id)),
        })
        .collect()
}

/// The rule with numbers: arrays of at most `max` entries are written out (local derivatives
/// evaluated), bigger ones keep their symbol; a negative number gets parentheses after ⊙.
pub fn substituted(graph: &Graph, ws: &Workspace, toks: &[Tok], max: usize, digits: Digits) -> String {
    toks.iter()
        .map(|tok| match tok {
            Tok::Text(s) => s.clone(),
            Tok::Val(id, kind) => {
                let a = match kind {
                    Kind::Value => &ws.values[*id],
                    Kind::Adjoint => &ws.adjoints[*id],
                };
                match digits.inline(a, max) {
                    Some(s) => bracket_negative(s),
                    None => match kind {
                        Kind::Value => sym(graph, *id),
                        Kind::Adjoint => d_of(graph, *id),
                    },
                }
            }
            Tok::Local { text, of, map } => {
                let a = ws.values[*of].mapv(|v| map.apply(v));
                digits.inline(&a, max).map(bracket_negative).unwrap_or_else(|| text.clone())
            }
            Tok::WithOne(id) => {
                let x = &ws.values[*id];
                let mut v = vec![1.0];
                v.extend(x.iter().copied());
                let with_one = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[v.len()]), v).expect("a vector");
                // A column, as its symbol [1; x] writes it: entries separated by semicolons, so
                // that a ᵀ after it reads as a row.
                digits
                    .inline(&with_one, max)
                    .map_or_else(|| format!("[1; {}]", sym(graph, *id)), |s| s.replace(", ", "; "))
            }
        })
        .collect()
}

/// `(-0.5)` for a negative scalar, so that `0.9 ⊙ (-0.5)` reads as a product.
fn bracket_negative(s: String) -> String {
    if s.starts_with('-') {
        format!("({s})")
    } else {
        s
    }
}

/// `∂z/∂a`: the local derivative's name.
pub fn partial(graph: &Graph, u: NodeId, v: NodeId) -> String {
    format!("∂{}/∂{}", sym(graph, u), sym(graph, v))
}

/// A number as a factor: `(-0.5)` for a negative one, so that `0.9 · (-0.5)` reads as a product.
fn factor(x: f64, digits: Digits) -> String {
    bracket_negative(digits.number(x))
}

/// Node `v`'s entry `i` as written: `x[i]`, or `x` for a scalar.
fn indexed(graph: &Graph, ws: &Workspace, v: NodeId, i: usize) -> String {
    let name = sym(graph, v);
    if ws.values[v].len() == 1 {
        name
    } else {
        format!("{name}[{i}]")
    }
}

/// One entry of a node with its inputs' numbers, from which
/// [`Op::forward_text`](super::Op::forward_text) writes the forward rule. Inputs are named by
/// their slot k.
pub struct Entry<'a> {
    graph: &'a Graph,
    ws: &'a Workspace,
    id: NodeId,
    entry: usize,
    result: f64,
    digits: Digits,
}

impl<'a> Entry<'a> {
    /// Entry `entry` of node `id`, if it has one, its numbers to be written in `digits`.
    pub fn new(graph: &'a Graph, ws: &'a Workspace, id: NodeId, entry: usize, digits: Digits) -> Option<Self> {
        let result = ws.values[id].iter().nth(entry).copied()?;
        Some(Entry { graph, ws, id, entry, result, digits })
    }

    /// How its numbers are written.
    pub fn digits(&self) -> Digits {
        self.digits
    }

    /// A number as the rule writes it.
    pub fn number(&self, x: f64) -> String {
        self.digits.number(x)
    }

    /// A number as a factor: `(-0.5)` for a negative one.
    pub fn factor(&self, x: f64) -> String {
        factor(x, self.digits)
    }

    /// Which entry of the node is written out.
    pub fn entry(&self) -> usize {
        self.entry
    }

    fn input(&self, k: usize) -> NodeId {
        self.graph.node(self.id).inputs[k]
    }

    /// Input k's value.
    pub fn value(&self, k: usize) -> &'a ArrayD<f64> {
        &self.ws.values[self.input(k)]
    }

    /// Input k's symbol.
    pub fn name(&self, k: usize) -> String {
        sym(self.graph, self.input(k))
    }

    /// Any node's value and symbol (a loss's logits, which are not among its inputs).
    pub fn node(&self, id: NodeId) -> (&'a ArrayD<f64>, String) {
        (&self.ws.values[id], sym(self.graph, id))
    }

    /// The entry's value, as computed.
    pub fn result(&self) -> f64 {
        self.result
    }

    /// The entry as written: `J`, `a[1]`.
    pub fn name_of_self(&self) -> String {
        indexed(self.graph, self.ws, self.id, self.entry)
    }

    /// Entry i of input k; a scalar stands for every entry.
    pub fn at(&self, k: usize, i: usize) -> Option<f64> {
        let a = self.value(k);
        if a.len() == 1 {
            a.iter().next().copied()
        } else {
            a.iter().nth(i).copied()
        }
    }

    /// [`Entry::at`], NaN where there is none.
    pub fn at_or_nan(&self, k: usize, i: usize) -> f64 {
        self.at(k, i).unwrap_or(f64::NAN)
    }

    /// Entry i of input k as written: `x[i]`, or `x` for a scalar.
    pub fn idx(&self, k: usize, i: usize) -> String {
        indexed(self.graph, self.ws, self.input(k), i)
    }

    /// `u[i] = symbols = numbers = result`.
    pub fn equation(&self, symbols: &str, numbers: &str) -> String {
        let here = indexed(self.graph, self.ws, self.id, self.entry);
        format!("{here} = {symbols} = {numbers} = {}", self.number(self.result))
    }

    /// The equation of a sum of terms, each (symbols, numbers): a long sum shows its first two
    /// terms and its last.
    pub fn sum(&self, terms: Vec<(String, String)>) -> String {
        let join = |part: fn(&(String, String)) -> &str| {
            let shown: Vec<&str> = if terms.len() > 4 {
                vec![part(&terms[0]), part(&terms[1]), "…", part(&terms[terms.len() - 1])]
            } else {
                terms.iter().map(part).collect()
            };
            shown.join(" + ")
        };
        self.equation(&join(|t| t.0.as_str()), &join(|t| t.1.as_str()))
    }

    /// The equation of a formula in which `{k}` stands for input k's entry: `tanh({0})` gives
    /// `z[1] = tanh(a[1]) = tanh(-0.5) = -0.4621`. A negative number gets parentheses unless a
    /// call's own close right after it.
    pub fn formula(&self, template: &str) -> Option<String> {
        let (mut symbols, mut numbers) = (String::new(), String::new());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let close = open + rest[open..].find('}')?;
            let k: usize = rest[open + 1..close].parse().ok()?;
            let v = self.at(k, self.entry)?;
            symbols.push_str(&rest[..open]);
            symbols.push_str(&self.idx(k, self.entry));
            numbers.push_str(&rest[..open]);
            numbers.push_str(&if rest[close + 1..].starts_with(')') { self.number(v) } else { self.factor(v) });
            rest = &rest[close + 1..];
        }
        symbols.push_str(rest);
        numbers.push_str(rest);
        Some(self.equation(&symbols, &numbers))
    }
}

/// The forward rule for one entry of a node, with symbols and then numbers:
/// `a[0] = α[0,0]·1 + α[0,1]·x[0] + … = 0.1·1 + (−0.2)·1.08 + … = −0.1142`.
pub fn forward_story(graph: &Graph, ws: &Workspace, id: NodeId, entry: usize, digits: Digits) -> Option<String> {
    graph.node(id).op.forward_text(&Entry::new(graph, ws, id, entry, digits)?)
}

/// One entry of consumer `u`'s element-wise term for its input `k`, with symbols and with
/// numbers: for entry 2 of `dJ/dz ⊙ z(1 − z)`, (`dJ/dz[2] · z[2](1 − z[2])`,
/// `0.0104 · 0.2497`); `None` when the term is not element-wise ([`Op::entrywise_term`](super::Op::entrywise_term): a
/// softmax's Σ or a matrix product mixes entries). `len` is the adjoint's size.
pub fn term_entry(
    graph: &Graph,
    ws: &Workspace,
    u: NodeId,
    k: usize,
    entry: usize,
    len: usize,
    digits: Digits,
) -> Option<(String, String)> {
    if !graph.node(u).op.entrywise_term(k) {
        return None;
    }
    let toks = &term(graph, u, k, digits);
    let mut symbols = String::new();
    let mut numbers = String::new();
    let pick = |a: &ArrayD<f64>| -> Option<f64> {
        match a.len() {
            1 => a.iter().next().copied(),
            n if n == len => a.iter().nth(entry).copied(),
            _ => None,
        }
    };
    for tok in toks {
        match tok {
            Tok::Text(s) => {
                let s = s.replace('⊙', "·");
                symbols.push_str(&s);
                numbers.push_str(&s);
            }
            Tok::Val(id, kind) => {
                let a = match kind {
                    Kind::Value => &ws.values[*id],
                    Kind::Adjoint => &ws.adjoints[*id],
                };
                let name = match kind {
                    Kind::Value => sym(graph, *id),
                    Kind::Adjoint => d_of(graph, *id),
                };
                symbols.push_str(&if a.len() == 1 { name } else { format!("{name}[{entry}]") });
                numbers.push_str(&factor(pick(a)?, digits));
            }
            Tok::Local { text, of, map } => {
                let x = pick(&ws.values[*of])?;
                let name = sym(graph, *of);
                let indexed = if ws.values[*of].len() == 1 { name.clone() } else { format!("{name}[{entry}]") };
                symbols.push_str(&text.replace(&name, &indexed));
                numbers.push_str(&factor(map.apply(x), digits));
            }
            Tok::WithOne(_) => return None,
        }
    }
    Some((symbols, numbers))
}

// The pieces a rule is written with: what `Op::derivative` (in ops.rs) returns and this file
// renders, kept here so that the ops use the rules and not the other way round.

/// What a piece of a rule's text stands for: one of the node's inputs or the node itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// Input `k` of the node.
    In(usize),
    /// The node's own value u.
    Out,
}

/// A piece of a local derivative rule as the screen writes it (see [`Op::derivative`]), its
/// operands not yet named.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(&'static str),
    /// dJ/du, the node's adjoint.
    Adjoint,
    /// An operand's value.
    Value(Operand),
    /// A local derivative of an operand's value: `text`, with `{}` (or `{0}`) for the operand's
    /// symbol; with numbers, `map` applied to its value entry by entry.
    Local {
        text: Cow<'static, str>,
        of: Operand,
        map: Local,
    },
    /// `[1; v]` for input `k`; with numbers, the vector with 1 in front.
    WithOne(usize),
}

/// A local derivative as a function of one node's value, entry by entry (for display: the
/// numbers of [`Op::accumulate_vjp`] multiply in their own order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Local {
    /// 1/x
    Recip,
    /// cos(x)
    Cos,
    /// −sin(x)
    NegSin,
    /// 1 − u² (tanh's, from its output)
    OneMinusSquare,
    /// u(1 − u) (σ's, from its output)
    Logistic,
    /// `[x > 0]`
    Step,
    /// 1/(2u) (√'s, from its output)
    HalfRecip,
    /// c·x^(c−1)
    Power(f64),
}

impl Local {
    pub fn apply(self, v: f64) -> f64 {
        match self {
            Local::Recip => 1.0 / v,
            Local::Cos => v.cos(),
            Local::NegSin => -v.sin(),
            Local::OneMinusSquare => 1.0 - v * v,
            Local::Logistic => v * (1.0 - v),
            Local::Step => f64::from(u8::from(v > 0.0)),
            Local::HalfRecip => 1.0 / (2.0 * v),
            Local::Power(c) => c * v.powf(c - 1.0),
        }
    }
}
