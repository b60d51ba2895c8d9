//! Each op's local derivative rule in the lecture's notation, as a template whose named
//! quantities can be shown as symbols or with their current numbers substituted: the debugger
//! shows them, and `diff` quotes the rule that produced a wrong adjoint.
//!
//! The rules mirror the comments on `Op::accumulate_vjp` in `engine/ops.rs`; the numbers
//! substituted are the workspace's, and the results shown come from
//! [`Workspace::contribution`](crate::engine::Workspace::contribution).

use crate::engine::{Graph, NodeId, Op, Workspace};
use crate::model::greek;
use crate::numfmt::inline;

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
    /// `[1; x]`; with numbers, the vector with 1 in front (`[1, 0.3, −0.2]`).
    WithOne(NodeId),
}

/// A local derivative as a function of one node's value, entry by entry.
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
    /// [x > 0]
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

/// The term consumer `u` adds to the adjoint of its input `k`: (dJ/du)·(∂u/∂v_k).
pub fn term(graph: &Graph, u: NodeId, k: usize) -> Vec<Tok> {
    let node = graph.node(u);
    let t = |s: &str| Tok::Text(s.to_string());
    let g = Tok::Val(u, Kind::Adjoint);
    let uv = Tok::Val(u, Kind::Value);
    let x = |j: usize| Tok::Val(node.inputs[j], Kind::Value);
    // A local derivative of input j's value (`{}` stands for its symbol) or of u's own value.
    // Inside a call's own parentheses a name needs none of its own: cos(log(x)).
    let name_in =
        |text: &str, of: NodeId| if text.contains("({})") { greek(&graph.node(of).name) } else { sym(graph, of) };
    let local = |j: usize, text: &str, map: Local| {
        let of = node.inputs[j];
        Tok::Local { text: text.replace("{0}", &sym(graph, of)).replace("{}", &name_in(text, of)), of, map }
    };
    let own = |text: &str, map: Local| Tok::Local {
        text: text.replace("{0}", &sym(graph, u)).replace("{}", &sym(graph, u)),
        of: u,
        map,
    };
    match (&node.op, k) {
        (Op::Add, _) | (Op::Sub, 0) | (Op::Affine, 2) => vec![g],
        (Op::Sub, _) | (Op::Neg, _) => vec![t("−"), g],
        (Op::Mul, _) => vec![g, t(" ⊙ "), x(1 - k)],
        (Op::Div, 0) => vec![g, t(" ⊙ "), local(1, "1/{}", Local::Recip)],
        (Op::Div, _) => vec![g, t(" ⊙ (−"), x(0), t("/"), x(1), t("²)")],
        (Op::Pow(c), _) => {
            let c = *c;
            let text = if c == 2.0 {
                "2{}".to_string()
            } else {
                format!("{}·{{}}^{}", crate::numfmt::short(c), crate::numfmt::short(c - 1.0))
            };
            vec![g, t(" ⊙ "), local(0, &text, Local::Power(c))]
        }
        (Op::Exp, _) => vec![g, t(" ⊙ "), uv],
        (Op::Log, _) => vec![g, t(" ⊙ "), local(0, "1/{}", Local::Recip)],
        (Op::Sin, _) => vec![g, t(" ⊙ "), local(0, "cos({})", Local::Cos)],
        (Op::Cos, _) => vec![g, t(" ⊙ "), local(0, "(−sin({}))", Local::NegSin)],
        (Op::Tanh, _) => vec![g, t(" ⊙ "), own("(1 − {}²)", Local::OneMinusSquare)],
        (Op::Sigmoid, _) => vec![g, t(" ⊙ "), own("{0}(1 − {0})", Local::Logistic)],
        (Op::Relu, _) => vec![g, t(" ⊙ "), local(0, "[{} > 0]", Local::Step)],
        (Op::Sqrt, _) => vec![g, t(" ⊙ "), own("1/(2·{})", Local::HalfRecip)],
        (Op::Sum, _) => vec![g, t(" (added to every entry)")],
        (Op::Dot, _) => vec![g, t(" · "), x(1 - k)],
        (Op::MatMul, 0) => vec![g, t(" · "), x(1), t("ᵀ")],
        (Op::MatMul, _) => vec![x(0), t("ᵀ · "), g],
        (Op::Softmax, _) => vec![uv.clone(), t(" ⊙ ("), g.clone(), t(" − "), g, t("·"), uv, t(")")],
        (Op::Prepend1, _) => vec![t("("), g, t(")[1:]  (the entry of the 1 is dropped)")],
        (Op::Linear, 0) => vec![g, t(" · "), Tok::WithOne(node.inputs[1]), t("ᵀ")],
        (Op::Linear, _) => vec![x(0), t("[:,1:]ᵀ · "), g],
        (Op::Affine, 0) => vec![g, t(" · "), x(1), t("ᵀ")],
        (Op::Affine, _) => vec![x(0), t("ᵀ · "), g],
        (Op::BinaryCrossEntropy { .. }, 0) => {
            vec![g, t(" · (−"), x(1), t("/"), x(0), t(" + (1 − "), x(1), t(")/(1 − "), x(0), t("))")]
        }
        (Op::BinaryCrossEntropy { .. }, _) => vec![g, t(" · (log(1 − "), x(0), t(") − log "), x(0), t(")")],
        (Op::CrossEntropy { .. }, _) => {
            vec![g, t(" · (−1/"), x(0), t("[y*]) at entry y* = "), x(1), t(", 0 elsewhere")]
        }
        (Op::SquaredError, 0) => vec![g, t(" · ("), x(0), t(" − "), x(1), t(")")],
        (Op::SquaredError, _) => vec![t("−"), g, t(" · ("), x(0), t(" − "), x(1), t(")")],
        (Op::Param | Op::Features | Op::Label | Op::Input | Op::Const(_), _) => vec![t("0")],
    }
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
pub fn substituted(graph: &Graph, ws: &Workspace, toks: &[Tok], max: usize) -> String {
    toks.iter()
        .map(|tok| match tok {
            Tok::Text(s) => s.clone(),
            Tok::Val(id, kind) => {
                let a = match kind {
                    Kind::Value => &ws.values[*id],
                    Kind::Adjoint => &ws.adjoints[*id],
                };
                match inline(a, max) {
                    Some(s) => bracket_negative(s),
                    None => match kind {
                        Kind::Value => sym(graph, *id),
                        Kind::Adjoint => d_of(graph, *id),
                    },
                }
            }
            Tok::Local { text, of, map } => {
                let a = ws.values[*of].mapv(|v| map.apply(v));
                inline(&a, max).map(bracket_negative).unwrap_or_else(|| text.clone())
            }
            Tok::WithOne(id) => {
                let x = &ws.values[*id];
                let mut v = vec![1.0];
                v.extend(x.iter().copied());
                let with_one = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[v.len()]), v).expect("a vector");
                inline(&with_one, max).unwrap_or_else(|| format!("[1; {}]", sym(graph, *id)))
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

/// The forward rule for one entry of a node, with symbols and then numbers:
/// `a[0] = α[0,0]·1 + α[0,1]·x[0] + … = 0.1·1 + (−0.2)·1.08 + … = −0.1142`.
pub fn forward_story(graph: &Graph, ws: &Workspace, id: NodeId, entry: usize) -> Option<String> {
    use crate::numfmt::short;
    let node = graph.node(id);
    let value = |v: NodeId| &ws.values[v];
    let at = |v: NodeId, i: usize| {
        let a = value(v);
        if a.len() == 1 {
            a.iter().next().copied()
        } else {
            a.iter().nth(i).copied()
        }
    };
    let n = |x: f64| bracket_negative(short(x));
    let name = |v: NodeId| sym(graph, v);
    let idx = |v: NodeId, i: usize| if value(v).len() == 1 { name(v) } else { format!("{}[{i}]", name(v)) };
    let out_value = value(id).iter().nth(entry).copied()?;
    let here = if value(id).len() == 1 { name(id) } else { format!("{}[{entry}]", name(id)) };
    // A long sum shows its first two terms and its last.
    let sum = |terms: Vec<(String, String)>| {
        let keep: Vec<usize> = if terms.len() > 4 { vec![0, 1, terms.len() - 1] } else { (0..terms.len()).collect() };
        let join = |f: &dyn Fn(&(String, String)) -> String| {
            let mut out = Vec::new();
            for (j, &k) in keep.iter().enumerate() {
                if j == 2 && keep.len() == 3 && terms.len() > 4 {
                    out.push("…".to_string());
                }
                out.push(f(&terms[k]));
            }
            out.join(" + ")
        };
        (join(&|t| t.0.clone()), join(&|t| t.1.clone()))
    };
    let unary = |f: &str| -> Option<String> {
        let x = node.inputs[0];
        Some(format!("{here} = {f}({}) = {f}({}) = {}", idx(x, entry), short(at(x, entry)?), short(out_value)))
    };
    let story = match node.op {
        Op::Linear => {
            let (w, x) = (node.inputs[0], node.inputs[1]);
            let wm = value(w);
            let cols = wm.shape().get(1).copied()?;
            let mut terms = vec![(format!("{}[{entry},0]·1", name(w)), format!("{}·1", n(wm[[entry, 0]])))];
            for j in 1..cols {
                terms.push((
                    format!("{}[{entry},{j}]·{}", name(w), idx(x, j - 1)),
                    format!("{}·{}", n(wm[[entry, j]]), n(at(x, j - 1)?)),
                ));
            }
            let (s1, s2) = sum(terms);
            format!("{here} = {s1} = {s2} = {}", short(out_value))
        }
        Op::Affine => {
            let (w, x, b) = (node.inputs[0], node.inputs[1], node.inputs[2]);
            let wm = value(w);
            let cols = wm.shape().get(1).copied()?;
            let mut terms: Vec<(String, String)> = (0..cols)
                .map(|j| {
                    (
                        format!("{}[{entry},{j}]·{}", name(w), idx(x, j)),
                        format!("{}·{}", n(wm[[entry, j]]), n(at(x, j).unwrap_or(f64::NAN))),
                    )
                })
                .collect();
            terms.push((idx(b, entry), n(at(b, entry)?)));
            let (s1, s2) = sum(terms);
            format!("{here} = {s1} = {s2} = {}", short(out_value))
        }
        Op::Sigmoid => {
            let x = node.inputs[0];
            format!("{here} = σ({}) = 1/(1 + e^{}) = {}", idx(x, entry), n(-at(x, entry)?), short(out_value))
        }
        Op::Tanh => unary("tanh")?,
        Op::Exp => unary("exp")?,
        Op::Log => unary("log")?,
        Op::Sin => unary("sin")?,
        Op::Cos => unary("cos")?,
        Op::Sqrt => unary("√")?,
        Op::Relu => unary("max(0, ·)")?.replace("max(0, ·)(", "max(0, "),
        Op::Neg => {
            let x = node.inputs[0];
            format!("{here} = −{} = −{} = {}", idx(x, entry), n(at(x, entry)?), short(out_value))
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div => {
            let (a, b) = (node.inputs[0], node.inputs[1]);
            let sign = match node.op {
                Op::Add => "+",
                Op::Sub => "−",
                Op::Mul => "·",
                _ => "/",
            };
            format!(
                "{here} = {} {sign} {} = {} {sign} {} = {}",
                idx(a, entry),
                idx(b, entry),
                n(at(a, entry)?),
                n(at(b, entry)?),
                short(out_value)
            )
        }
        Op::Pow(c) => {
            let x = node.inputs[0];
            format!(
                "{here} = {}^{} = {}^{} = {}",
                idx(x, entry),
                short(c),
                n(at(x, entry)?),
                short(c),
                short(out_value)
            )
        }
        Op::Softmax => {
            let b = node.inputs[0];
            let total: f64 = value(b).iter().map(|v| v.exp()).sum();
            format!(
                "{here} = e^{} / Σ_j e^{}[j] = e^{} / {} = {}",
                idx(b, entry),
                name(b),
                n(at(b, entry)?),
                short(total),
                short(out_value)
            )
        }
        Op::CrossEntropy { .. } => {
            let (y, label) = (node.inputs[0], node.inputs[1]);
            let k = at(label, 0)? as usize;
            format!(
                "{here} = −log {}[y*] = −log {}[{k}] = −log({}) = {}",
                name(y),
                name(y),
                short(at(y, k)?),
                short(out_value)
            )
        }
        Op::BinaryCrossEntropy { .. } => {
            let (y, t) = (node.inputs[0], node.inputs[1]);
            let (yv, tv) = (at(y, 0)?, at(t, 0)?);
            let yn = name(y);
            format!(
                "{here} = −[y* log {yn} + (1 − y*) log(1 − {yn})] = −[{} log {} + {} log {}] = {}",
                short(tv),
                short(yv),
                short(1.0 - tv),
                short(1.0 - yv),
                short(out_value),
            )
        }
        Op::Sum | Op::Dot => {
            let terms: Vec<(String, String)> = match node.op {
                Op::Sum => (0..value(node.inputs[0]).len())
                    .map(|i| (idx(node.inputs[0], i), n(at(node.inputs[0], i).unwrap_or(f64::NAN))))
                    .collect(),
                _ => (0..value(node.inputs[0]).len())
                    .map(|i| {
                        let (a, b) = (node.inputs[0], node.inputs[1]);
                        (
                            format!("{}·{}", idx(a, i), idx(b, i)),
                            format!("{}·{}", n(at(a, i).unwrap_or(f64::NAN)), n(at(b, i).unwrap_or(f64::NAN))),
                        )
                    })
                    .collect(),
            };
            let (s1, s2) = sum(terms);
            format!("{here} = {s1} = {s2} = {}", short(out_value))
        }
        _ => return None,
    };
    Some(story)
}

/// One entry of an element-wise term, with symbols and with numbers: for entry 2 of
/// `dJ/dz ⊙ z(1 − z)`, (`dJ/dz[2] · z[2](1 − z[2])`, `0.0104 · 0.2497`); `None` when the term
/// is not element-wise (a matrix product mixes entries).
pub fn term_entry(graph: &Graph, ws: &Workspace, toks: &[Tok], entry: usize, len: usize) -> Option<(String, String)> {
    let mut symbols = String::new();
    let mut numbers = String::new();
    let pick = |a: &ndarray::ArrayD<f64>| -> Option<f64> {
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
                numbers.push_str(&bracket_negative(crate::numfmt::short(pick(a)?)));
            }
            Tok::Local { text, of, map } => {
                let x = pick(&ws.values[*of])?;
                let name = sym(graph, *of);
                let indexed = if ws.values[*of].len() == 1 { name.clone() } else { format!("{name}[{entry}]") };
                symbols.push_str(&text.replace(&name, &indexed));
                numbers.push_str(&bracket_negative(crate::numfmt::short(map.apply(x))));
            }
            Tok::WithOne(_) => return None,
        }
    }
    Some((symbols, numbers))
}
