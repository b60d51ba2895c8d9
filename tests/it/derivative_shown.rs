//! The derivative the screen shows, with its numbers, against the one the kernels compute, for
//! every op and every input.
//!
//! [`Op::derivative`] writes each op's local rule as the adjoints pane shows it
//! (`dJ/du ⊙ u(1 − u)`) and [`Op::accumulate_vjp`] computes it: the two are written apart on
//! purpose (the kernels keep their own order of operations), and this test is what keeps them
//! saying the same thing. For each op a graph J = Σ w ⊙ op(v0, v1, …) is built (w fixed
//! weights, so that dJ/du is not 1) and run with the kernels; the tokens [`term`] gives for
//! input k are then read as the math they write and evaluated in numpy, which knows nothing of
//! the kernels: once with each local derivative's numbers (what `substituted` shows) and once
//! read from its text (what `symbolic` shows). Both must be dJ/dv_k to 1e-9. The numbers
//! [`term_entry`] prints for one entry of an element-wise term, rounded to 5 digits, must give
//! that entry to 1e-3.
//!
//! How the text is read: a vector is a column, so that g · bᵀ is an outer product; `·` is the
//! product of numbers when either side is one, else the matrix product; ⊙, −, / and ² are
//! numpy's element-wise operations. The rules written partly in prose are matched exactly and
//! read as the prose says (see [`shown_python`]); any other word fails the test, so a changed
//! rule is never skipped. Needs numpy (see `homework_numpy::python`).

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use bptui::engine::rules::{sym, symbolic, term, term_entry, Kind, Tok};
use bptui::engine::{Backward, Graph, GraphBuilder, NodeId, Op, Workspace};
use bptui::numfmt::Digits;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::op_gradients::workspace;

/// Reads a JSON list of questions per line, answers a JSON list per line. `@` is rewritten into
/// `mdot` (the `·` of the rules); `spread` is how far the result moves when each rounded number
/// in the expression moves by 5e-5 of itself, the most 5 significant digits can be off by.
const EVALUATOR: &str = r#"
import ast, json, re, sys, warnings
import numpy as np

# `0.5[0]` is worth an error, not a warning on stderr.
warnings.simplefilter('ignore', SyntaxWarning)

def mdot(a, b):
    return np.multiply(a, b) if np.ndim(a) == 0 or np.ndim(b) == 0 else np.matmul(a, b)

def at_entry(i, shape, x):
    z = np.zeros(shape)
    z.reshape(-1)[i] = np.asarray(x).item()
    return z

class Dot(ast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.MatMult):
            return ast.Call(ast.Name('mdot', ast.Load()), [node.left, node.right], [])
        return node

def run(src):
    tree = ast.fix_missing_locations(Dot().visit(ast.parse(src, mode='eval')))
    names = {'np': np, 'mdot': mdot, 'at_entry': at_entry, 'int': int, '__builtins__': {}}
    return np.asarray(eval(compile(tree, '<rule>', 'eval'), names), dtype=float)

ROUNDED = re.compile(r'(?<![\w.*])\d+(?:\.\d+(?:e[-+]?\d+)?|e[-+]?\d+)')

def spread(src, r):
    total = 0.0
    for m in ROUNDED.finditer(src):
        moved = src[:m.start()] + repr(float(m.group()) * (1 + 5e-5)) + src[m.end():]
        total += abs(float(run(moved).sum()) - float(r.sum()))
    return total

for line in sys.stdin:
    answers = []
    for q in json.loads(line):
        try:
            r = run(q['expr'])
            if not np.all(np.isfinite(r)):
                raise ValueError('not finite: %r' % (r,))
            a = {'shape': list(r.shape), 'data': r.reshape(-1).tolist()}
            if q['rounded']:
                a['spread'] = spread(q['expr'], r)
            answers.append(a)
        except Exception as e:
            answers.append({'error': '%s: %s' % (type(e).__name__, e)})
    print(json.dumps(answers), flush=True)
"#;

/// A Python running [`EVALUATOR`].
struct Numpy {
    child: Child,
    input: Option<ChildStdin>,
    output: BufReader<ChildStdout>,
}

/// What numpy made of one expression.
struct Answer {
    shape: Vec<usize>,
    data: Vec<f64>,
    spread: f64,
}

impl Numpy {
    fn start() -> Numpy {
        let mut child = Command::new(crate::homework_numpy::python())
            .args(["-c", EVALUATOR])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python starts");
        let input = child.stdin.take();
        let output = BufReader::new(child.stdout.take().expect("a piped stdout"));
        Numpy { child, input, output }
    }

    fn ask(&mut self, questions: &[Value]) -> Vec<Result<Answer, String>> {
        let input = self.input.as_mut().expect("open until dropped");
        writeln!(input, "{}", Value::Array(questions.to_vec())).expect("python reads");
        input.flush().expect("python reads");
        let mut line = String::new();
        self.output.read_line(&mut line).expect("python answers");
        let answers: Vec<Value> = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: python said {line:?}"));
        assert_eq!(answers.len(), questions.len(), "one answer per question");
        answers
            .into_iter()
            .map(|a| match a.get("error") {
                Some(e) => Err(e.as_str().unwrap_or_default().to_string()),
                None => Ok(Answer {
                    shape: a["shape"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap() as usize).collect(),
                    data: a["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect(),
                    spread: a.get("spread").and_then(Value::as_f64).unwrap_or(0.0),
                }),
            })
            .collect()
    }
}

impl Drop for Numpy {
    fn drop(&mut self) {
        // Python ends at the end of its input.
        drop(self.input.take());
        let _ = self.child.wait();
    }
}

thread_local! {
    // One Python per test, for all its cases: numpy takes longer to start than a case to run.
    static NUMPY: RefCell<Option<Numpy>> = const { RefCell::new(None) };
}

// Reading the rules' text as math.

/// Sum's rule in words: every entry of dJ/dv is dJ/du.
const EVERY_ENTRY: &str = " (added to every entry)";
/// Prepend1's gloss on its `[1:]`.
const DROPPED: &str = "  (the entry of the 1 is dropped)";
/// Cross-entropy's: the term is zero but at the label's entry.
const AT_ENTRY: &str = " at entry ";
const ELSEWHERE: &str = ", 0 elsewhere";

/// Where a piece of text stands: in a whole rule, in a local derivative's own text (`u(1 − u)`,
/// `[x > 0]`), or in the numbers of one entry (all scalars).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    Rule,
    Local,
    Numbers,
}

/// The math `text` writes, in Python, or what in it this test cannot read as math.
fn python_of(text: &str, reading: Reading) -> Result<String, String> {
    let numbers = reading == Reading::Numbers;
    let words: [(&str, &str); 11] = [
        ("⊙", "*"),
        ("·", if numbers { "*" } else { "@" }),
        // A number is its own transpose.
        ("ᵀ", if numbers { "" } else { ".T" }),
        ("−", "-"),
        ("²", "**2"),
        ("^", "**"),
        ("Σ(", "np.sum("),
        ("log(", "np.log("),
        // Applied to the operand written next, which is always in parentheses.
        ("log ", "np.log"),
        ("cos(", "np.cos("),
        ("sin(", "np.sin("),
    ];
    let mut out = String::new();
    let mut rest = text;
    'scan: while let Some(c) = rest.chars().next() {
        if numbers {
            // `log 0.3`: in the numbers the operand is a bare number.
            if let Some(r) = rest.strip_prefix("log ") {
                let n = atom(r);
                out += &format!("np.log({})", python_of(&r[..n], reading)?);
                rest = &r[n..];
                continue;
            }
        }
        for (word, python) in words {
            if let Some(r) = rest.strip_prefix(word) {
                out += python;
                rest = r;
                continue 'scan;
            }
        }
        let python = match c {
            // An Iverson bracket, [x > 0].
            '[' if reading == Reading::Local => '(',
            ']' if reading == Reading::Local => ')',
            '>' if reading == Reading::Local => c,
            'e' if numbers && out.ends_with(|d: char| d.is_ascii_digit()) => c,
            '0'..='9' | '.' | '+' | '-' | '/' | '(' | ')' | '[' | ']' | ':' | ',' | ' ' => c,
            _ => return Err(format!("cannot read {:?} of the text {text:?} as math", rest)),
        };
        out.push(python);
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

/// The length of the number or parenthesised group `s` starts with.
fn atom(s: &str) -> usize {
    if s.starts_with('(') {
        let mut depth = 0;
        for (i, c) in s.char_indices() {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            if depth == 0 {
                return i + 1;
            }
        }
        s.len()
    } else {
        s.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | '-' | '+'))).unwrap_or(s.len())
    }
}

/// A shape as the rules' math sees it: a vector is a column.
fn column(shape: &[usize]) -> Vec<usize> {
    match shape {
        [n] => vec![*n, 1],
        s => s.to_vec(),
    }
}

fn tuple(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        s => format!("({})", s.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// An array as a numpy literal with every digit, in parentheses.
fn literal(a: &ArrayD<f64>) -> String {
    let numbers: Vec<String> = a.iter().map(|x| format!("{x:?}")).collect();
    format!("(np.array([{}]).reshape({}))", numbers.join(", "), tuple(&column(a.shape())))
}

/// A local derivative's text with `value` for its operand `name`: `u(1 − u)`, `2x`, `cos(x)`.
fn local_python(text: &str, name: &str, value: &ArrayD<f64>) -> Result<String, String> {
    let parts = text.split(name).map(|p| python_of(p, Reading::Local)).collect::<Result<Vec<_>, _>>()?;
    let mut out = parts[0].clone();
    for part in &parts[1..] {
        // Writing side by side is a product.
        if out.ends_with(|c: char| c.is_ascii_digit() || c == ')') {
            out.push('*');
        }
        out += &literal(value);
        if part.starts_with(|c: char| c.is_ascii_digit() || c == '(') {
            out.push('*');
        }
        out += part;
    }
    Ok(format!("({out})"))
}

/// The math of `toks`, each operand by its numbers and each local derivative by its numbers
/// or, with `from_text`, read from its text.
fn rule_python(graph: &Graph, ws: &Workspace, u: NodeId, toks: &[Tok], from_text: bool) -> Result<String, String> {
    let mut out = String::new();
    for (i, tok) in toks.iter().enumerate() {
        let text = |j: Option<usize>| match j.and_then(|j| toks.get(j)) {
            Some(Tok::Text(t)) => t.as_str(),
            _ => "",
        };
        out += &match tok {
            Tok::Text(s) => python_of(s, Reading::Rule)?,
            // ŷ[y*]: the label's number picks an entry.
            Tok::Val(id, Kind::Value)
                if text(i.checked_sub(1)).ends_with('[') && text(Some(i + 1)).starts_with(']') =>
            {
                format!("int{}", literal(&ws.values[*id]))
            }
            Tok::Val(id, Kind::Value) => literal(&ws.values[*id]),
            Tok::Val(id, Kind::Adjoint) if *id == u => literal(&ws.adjoints[*id]),
            Tok::Val(id, Kind::Adjoint) => return Err(format!("the rule reads the adjoint of node {id}, not u's")),
            Tok::Local { text, of, .. } if from_text => local_python(text, &sym(graph, *of), &ws.values[*of])?,
            Tok::Local { of, map, .. } => literal(&ws.values[*of].mapv(|v| map.apply(v))),
            Tok::WithOne(id) => {
                let with_one: Vec<f64> = std::iter::once(1.0).chain(ws.values[*id].iter().copied()).collect();
                literal(&ArrayD::from_shape_vec(IxDyn(&[with_one.len()]), with_one).unwrap())
            }
        };
    }
    Ok(out)
}

/// The term `toks` as the screen shows it, for an input of shape `shape`, in Python. The three
/// rules with prose are read as it says: Sum's dJ/du "added to every entry" is dJ/du at every
/// entry; Prepend1's gloss explains its `[1:]` and is dropped; cross-entropy's
/// "… at entry y*, 0 elsewhere" is the math before it at the label's entry and 0 elsewhere.
fn shown_python(
    graph: &Graph,
    ws: &Workspace,
    u: NodeId,
    toks: &[Tok],
    shape: &[usize],
    from_text: bool,
) -> Result<String, String> {
    let math = |toks: &[Tok]| rule_python(graph, ws, u, toks, from_text);
    match toks {
        [rest @ .., Tok::Text(t)] if t == EVERY_ENTRY => {
            Ok(format!("({} + np.zeros({}))", math(rest)?, tuple(&column(shape))))
        }
        [rest @ .., Tok::Text(t)] if t.ends_with(DROPPED) => {
            let mut toks = rest.to_vec();
            toks.push(Tok::Text(t.trim_end_matches(DROPPED).to_string()));
            math(&toks)
        }
        [rest @ .., Tok::Text(at), Tok::Val(label, Kind::Value), Tok::Text(t)]
            if at.ends_with(AT_ENTRY) && t == ELSEWHERE =>
        {
            let mut toks = rest.to_vec();
            toks.push(Tok::Text(at.trim_end_matches(AT_ENTRY).to_string()));
            Ok(format!("at_entry(int{}, {}, {})", literal(&ws.values[*label]), tuple(&column(shape)), math(&toks)?))
        }
        _ => math(toks),
    }
}

/// One entry's numbers as `term_entry` prints them, in Python; the prose is read as in
/// [`shown_python`].
fn entry_python(numbers: &str, entry: usize) -> Result<String, String> {
    if let Some(math) = numbers.strip_suffix(EVERY_ENTRY) {
        return python_of(math, Reading::Numbers);
    }
    if let Some(math) = numbers.strip_suffix(ELSEWHERE) {
        let (math, at) = math.rsplit_once(AT_ENTRY).ok_or_else(|| format!("{numbers:?}: at which entry?"))?;
        let at: usize = at.parse().map_err(|e| format!("{numbers:?}: entry {at:?}: {e}"))?;
        return if at == entry { python_of(math, Reading::Numbers) } else { Ok("0".into()) };
    }
    python_of(numbers, Reading::Numbers)
}

// The checks.

/// What one answer must be: dJ/dv_k as the kernels computed it, or one entry of it.
struct Expect {
    what: String,
    python: String,
    kernel: ArrayD<f64>,
    entry: Option<usize>,
    /// A scalar operand broadcast over the others: its adjoint sums the term over the entries
    /// it was broadcast to, which the rule, written in u's shape, leaves unsaid.
    broadcast: bool,
}

/// The questions of one proptest case, asked in one go.
#[derive(Default)]
struct Batch {
    questions: Vec<Value>,
    expects: Vec<Expect>,
}

/// Fixed weights in [−1, 1) for dJ/du, from the seed.
fn weights(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    let w = (0..n).map(|i| (((i as u64 + 1) * 2654435761 + seed) % 1000) as f64 / 500.0 - 1.0).collect();
    ArrayD::from_shape_vec(IxDyn(shape), w).unwrap()
}

/// J = Σ w ⊙ op(v0, v1, …), its workspace after the forward and backward passes, and the op's
/// node u. With `through`, v0 is computed by that op from a leaf z0 (the logits a loss reads).
fn run(op: Op, through: Option<Op>, inputs: &[ArrayD<f64>], seed: u64) -> (Graph, Workspace, NodeId) {
    let mut g = GraphBuilder::new();
    let mut ids = Vec::new();
    for (k, v) in inputs.iter().enumerate() {
        ids.push(match (k, &through) {
            (0, Some(f)) => {
                let z = g.leaf("z0", Op::Input, v.shape().to_vec());
                g.op("v0", f.clone(), vec![z], "v0".into()).expect("shapes fit")
            }
            _ => g.leaf(&format!("v{k}"), Op::Input, v.shape().to_vec()),
        });
    }
    let op = if through.is_some() { op.with_logits(&g.nodes()[ids[0]]) } else { op };
    let u = g.op("u", op, ids, "u".into()).expect("shapes fit");
    let shape = g.nodes()[u].shape.clone();
    let w = g.leaf("w", Op::Input, shape.clone());
    let wu = g.op("wu", Op::Mul, vec![w, u], "w ⊙ u".into()).unwrap();
    let j = g.op("J", Op::Sum, vec![wu], "J".into()).unwrap();
    let graph = g.finish(j);
    let mut values = inputs.to_vec();
    values.push(weights(&shape, seed));
    let mut ws = workspace(&graph, &values);
    ws.forward_all(&graph);
    ws.backward_all(&graph, Backward::B);
    (graph, ws, u)
}

impl Batch {
    /// Asks, for every input k of `op`, what the screen shows of dJ/dv_k.
    fn op(&mut self, op: Op, through: Option<Op>, inputs: &[ArrayD<f64>], seed: u64) -> Result<(), TestCaseError> {
        let (graph, ws, u) = run(op.clone(), through, inputs, seed);
        let op = graph.node(u).op.clone();
        for (k, &v) in graph.node(u).inputs.iter().enumerate() {
            if !op.differentiable_input(k) {
                // A class index: no adjoint, and the screen shows no rule for it.
                prop_assert!(graph.consumers(v).is_empty(), "{op:?} input {k} has a derivative");
                continue;
            }
            // u's term is the whole of dJ/dv_k.
            prop_assert_eq!(graph.consumers(v), &[(u, k)][..]);
            let kernel = ws.adjoints[v].clone();
            let toks = term(&graph, u, k, Digits::Short);
            let rule = symbolic(&graph, &toks);
            let others_bigger = graph.node(u).inputs.iter().any(|&o| ws.values[o].ndim() != 0);
            let broadcast = kernel.ndim() == 0
                && others_bigger
                && matches!(
                    op,
                    Op::Add | Op::Sub | Op::Mul | Op::Div | Op::BinaryCrossEntropy { .. } | Op::SquaredError
                );
            let locals = toks.iter().any(|t| matches!(t, Tok::Local { .. }));
            let whole =
                [(false, "the local derivatives' numbers"), (true, "the local derivatives read from their text")];
            for (from_text, how) in whole.into_iter().take(if locals { 2 } else { 1 }) {
                let what = format!("{op:?} input {k}, {rule}, with {how}");
                let python = shown_python(&graph, &ws, u, &toks, kernel.shape(), from_text)
                    .map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
                self.ask(Expect { what, python, kernel: kernel.clone(), entry: None, broadcast });
            }
            for i in 0..kernel.len() {
                let written = term_entry(&graph, &ws, u, k, i, kernel.len(), Digits::Short);
                // Only an element-wise rule is written entry by entry (a broadcast scalar's is
                // not either: its adjoint is a sum).
                prop_assert!(op.entrywise_term(k) || written.is_none(), "{:?} input {}: entry {} written", op, k, i);
                let Some((symbols, numbers)) = written else { continue };
                let what = format!("{op:?} input {k}, {rule}: the screen's entry {i}, {symbols} = {numbers}");
                let python = entry_python(&numbers, i).map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
                self.ask(Expect { what, python, kernel: kernel.clone(), entry: Some(i), broadcast });
            }
        }
        Ok(())
    }

    fn ask(&mut self, expect: Expect) {
        self.questions.push(json!({ "expr": expect.python, "rounded": expect.entry.is_some() }));
        self.expects.push(expect);
    }

    /// Evaluates every question and compares each answer with the kernels'.
    fn check(self) -> Result<(), TestCaseError> {
        let answers = NUMPY.with(|n| n.borrow_mut().get_or_insert_with(Numpy::start).ask(&self.questions));
        for (e, answer) in self.expects.iter().zip(answers) {
            let kernel: Vec<f64> = e.kernel.iter().copied().collect();
            let fail = |why: String, shown: &dyn std::fmt::Debug| {
                let which = e.entry.map_or(String::new(), |i| format!("entry {i} of "));
                TestCaseError::fail(format!(
                    "{}\n  {why}\n  read as: {}\n  shown:   {shown:?}\n  kernels: {which}{kernel:?} (shape {:?})",
                    e.what,
                    e.python,
                    e.kernel.shape()
                ))
            };
            let a = answer.map_err(|err| fail(format!("numpy cannot evaluate it: {err}"), &"nothing"))?;
            match e.entry {
                None => {
                    let shown = if a.shape == column(e.kernel.shape()) {
                        a.data.clone()
                    } else if e.broadcast {
                        vec![a.data.iter().sum()]
                    } else {
                        let why = format!("shape {:?}, not {:?}", a.shape, column(e.kernel.shape()));
                        return Err(fail(why, &a.data));
                    };
                    if shown.iter().zip(&kernel).any(|(a, b)| (a - b).abs() > 1e-9 * (1.0 + b.abs())) {
                        return Err(fail("not the kernels' adjoint to 1e-9".into(), &shown));
                    }
                }
                Some(i) => {
                    if !a.shape.is_empty() {
                        return Err(fail(format!("not one number: shape {:?}", a.shape), &a.data));
                    }
                    // Rounding each printed number moves the result by up to `spread`, which is
                    // more than 1e-3 of it where terms cancel.
                    let b = kernel[i];
                    if (a.data[0] - b).abs() > 1e-3 * b.abs() + 1e-9 + a.spread {
                        let why = format!("not the kernels' {b} to 1e-3 (rounding moves it by {:.1e})", a.spread);
                        return Err(fail(why, &a.data[0]));
                    }
                }
            }
        }
        Ok(())
    }
}

// The inputs: every op inside its domain, in the shapes it takes.

/// A scalar, a vector or a small matrix.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![Just(vec![]), (1usize..5).prop_map(|n| vec![n]), (1usize..3, 1usize..4).prop_map(|(r, c)| vec![r, c])]
}

fn array(shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = ArrayD<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec(lo..hi, n).prop_map(move |v| ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap())
}

/// Either sign, at least 0.3 from zero: a divisor, or relu's input away from its kink.
fn away_from_zero(shape: Vec<usize>) -> impl Strategy<Value = ArrayD<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec((0.3f64..3.0, any::<bool>()), n).prop_map(move |v| {
        let v = v.into_iter().map(|(x, neg)| if neg { -x } else { x }).collect();
        ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap()
    })
}

/// Class labels 0 and 1.
fn labels(shape: Vec<usize>) -> impl Strategy<Value = ArrayD<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec(0u8..2, n)
        .prop_map(move |v| ArrayD::from_shape_vec(IxDyn(&shape), v.into_iter().map(f64::from).collect()).unwrap())
}

fn scalar(x: f64) -> ArrayD<f64> {
    ArrayD::from_elem(IxDyn(&[]), x)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn elementwise_binary((a, b) in shape().prop_flat_map(|s| (array(s.clone(), -2.0, 2.0), away_from_zero(s))),
                          seed in 0u64..1000) {
        let mut batch = Batch::default();
        for op in [Op::Add, Op::Sub, Op::Mul, Op::Div] {
            batch.op(op, None, &[a.clone(), b.clone()], seed)?;
        }
        batch.check()?;
    }

    #[test]
    fn elementwise_with_a_broadcast_scalar(s in 0.5f64..2.0, v in shape().prop_flat_map(away_from_zero),
                                           seed in 0u64..1000) {
        let mut batch = Batch::default();
        for op in [Op::Add, Op::Sub, Op::Mul, Op::Div] {
            batch.op(op.clone(), None, &[scalar(s), v.clone()], seed)?;
            batch.op(op, None, &[v.clone(), scalar(s)], seed)?;
        }
        batch.check()?;
    }

    #[test]
    fn unary_everywhere_defined(v in shape().prop_flat_map(|s| array(s, -3.0, 3.0)), seed in 0u64..1000) {
        let mut batch = Batch::default();
        for op in [Op::Neg, Op::Exp, Op::Sin, Op::Cos, Op::Tanh, Op::Sigmoid, Op::Sum, Op::Pow(2.0), Op::Pow(3.0)] {
            batch.op(op, None, std::slice::from_ref(&v), seed)?;
        }
        batch.check()?;
    }

    #[test]
    fn unary_on_positive_numbers(v in shape().prop_flat_map(|s| array(s, 0.2, 4.0)), seed in 0u64..1000) {
        let mut batch = Batch::default();
        for op in [Op::Log, Op::Sqrt, Op::Pow(0.5), Op::Pow(-1.5)] {
            batch.op(op, None, std::slice::from_ref(&v), seed)?;
        }
        batch.check()?;
    }

    #[test]
    fn relu_away_from_its_kink(v in shape().prop_flat_map(away_from_zero), seed in 0u64..1000) {
        let mut batch = Batch::default();
        batch.op(Op::Relu, None, &[v], seed)?;
        batch.check()?;
    }

    #[test]
    fn prepend1(v in (1usize..6).prop_flat_map(|n| array(vec![n], -3.0, 3.0)), seed in 0u64..1000) {
        let mut batch = Batch::default();
        batch.op(Op::Prepend1, None, &[v], seed)?;
        batch.check()?;
    }

    #[test]
    fn softmax(v in (1usize..6).prop_flat_map(|n| array(vec![n], -3.0, 3.0)), seed in 0u64..1000) {
        let mut batch = Batch::default();
        batch.op(Op::Softmax, None, &[v], seed)?;
        batch.check()?;
    }

    #[test]
    fn dot_and_matrix_vector_products(
        (a, x, y) in (1usize..4, 1usize..4).prop_flat_map(|(m, n)| {
            (array(vec![m, n], -1.0, 1.0), array(vec![n], -1.0, 1.0), array(vec![n], -1.0, 1.0))
        }),
        seed in 0u64..1000,
    ) {
        let mut batch = Batch::default();
        batch.op(Op::Dot, None, &[x.clone(), y], seed)?;
        batch.op(Op::MatMul, None, &[a, x], seed)?;
        batch.check()?;
    }

    #[test]
    fn matrix_products(
        (a, b) in (1usize..4, 1usize..4, 1usize..4).prop_flat_map(|(m, n, p)| {
            (array(vec![m, n], -1.0, 1.0), array(vec![n, p], -1.0, 1.0))
        }),
        seed in 0u64..1000,
    ) {
        let mut batch = Batch::default();
        batch.op(Op::MatMul, None, &[a, b], seed)?;
        batch.check()?;
    }

    #[test]
    fn linear_maps(
        (folded, plain, x, b) in (1usize..4, 1usize..4).prop_flat_map(|(m, n)| {
            (array(vec![m, n + 1], -1.0, 1.0), array(vec![m, n], -1.0, 1.0), array(vec![n], -1.0, 1.0),
             array(vec![m], -1.0, 1.0))
        }),
        seed in 0u64..1000,
    ) {
        let mut batch = Batch::default();
        batch.op(Op::Linear, None, &[folded, x.clone()], seed)?;
        batch.op(Op::Affine, None, &[plain, x, b], seed)?;
        batch.check()?;
    }

    #[test]
    fn binary_cross_entropy_and_squared_error(
        (y, t, target) in (1usize..4, any::<bool>()).prop_flat_map(|(n, scalar_label)| {
            let label = if scalar_label { vec![] } else { vec![n] };
            (array(vec![n], 0.05, 0.95), labels(label.clone()), array(label, -2.0, 2.0))
        }),
        seed in 0u64..1000,
    ) {
        let mut batch = Batch::default();
        batch.op(Op::BinaryCrossEntropy { logit: None }, None, &[y.clone(), t], seed)?;
        batch.op(Op::SquaredError, None, &[y, target], seed)?;
        batch.check()?;
    }

    #[test]
    fn binary_cross_entropy_from_its_logit(b in -3.0f64..3.0, t in 0u8..2, seed in 0u64..1000) {
        let mut batch = Batch::default();
        let b = ArrayD::from_elem(IxDyn(&[1]), b);
        batch.op(Op::BinaryCrossEntropy { logit: None }, Some(Op::Sigmoid), &[b, scalar(t.into())], seed)?;
        batch.check()?;
    }

    #[test]
    fn cross_entropy(
        (probs, logits, class) in (2usize..6).prop_flat_map(|n| {
            (array(vec![n], 0.1, 1.0), array(vec![n], -3.0, 3.0), 0..n)
        }),
        seed in 0u64..1000,
    ) {
        let mut batch = Batch::default();
        let yhat = &probs / probs.sum();
        let class = scalar(class as f64);
        batch.op(Op::CrossEntropy { logit: None }, None, &[yhat, class.clone()], seed)?;
        batch.op(Op::CrossEntropy { logit: None }, Some(Op::Softmax), &[logits, class], seed)?;
        batch.check()?;
    }
}
