//! The expression language of graph models: `y = exp(t) + t / log(x)`.
//!
//! A line is parsed into a small syntax tree with column positions, then every
//! sub-expression becomes a graph node named by its own text (`exp(t)`, `t / log(x)`);
//! a sub-expression written twice is one node with two consumers, as the lecture reuses
//! shared computation.

use std::collections::HashMap;

use crate::engine::{GraphBuilder, NodeId, Op};

/// A parse or build error at a 0-based character column of the line.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprError {
    pub column: usize,
    pub message: String,
}

fn err<T>(column: usize, message: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError { column, message: message.into() })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64, String),
    Name(String),
    Sym(char),
    End,
}

fn tokenize(line: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let Ok(v) = text.parse::<f64>() else {
                return err(start, format!("`{text}` is not a number"));
            };
            out.push((Tok::Num(v, text), start));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Name(chars[start..i].iter().collect()), start));
        } else if "+-*/^(),=".contains(c) {
            out.push((Tok::Sym(c), i));
            i += 1;
        } else {
            return err(i, format!("unexpected character `{c}`"));
        }
    }
    out.push((Tok::End, chars.len()));
    Ok(out)
}

/// A syntax tree node with the column where it starts.
#[derive(Debug, Clone)]
enum Expr {
    Num(f64, String, usize),
    Name(String, usize),
    Neg(Box<Expr>, usize),
    Bin(char, Box<Expr>, Box<Expr>, usize),
    Call(String, Vec<Expr>, usize),
}

impl Expr {
    fn column(&self) -> usize {
        match self {
            Expr::Num(_, _, c) | Expr::Name(_, c) | Expr::Neg(_, c) | Expr::Bin(_, _, _, c) | Expr::Call(_, _, c) => *c,
        }
    }
}

/// The deepest nesting of parentheses, calls and unary minus signs in one expression.
pub const MAX_DEPTH: usize = 100;
/// The most tokens in one line of `compute` (longer sums go over several lines).
pub const MAX_TOKENS: usize = 1000;

/// The refusal of nesting deeper than [`MAX_DEPTH`] at a 0-based column.
fn too_deep<T>(column: usize) -> Result<T, ExprError> {
    err(
        column,
        format!(
            "nested too deeply at column {} of the expression: at most {MAX_DEPTH} levels of parentheses, calls \
             and signs",
            column + 1
        ),
    )
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn col(&self) -> usize {
        self.toks[self.pos].1
    }
    fn bump(&mut self) -> (Tok, usize) {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn expect(&mut self, c: char, what: &str) -> Result<(), ExprError> {
        if *self.peek() == Tok::Sym(c) {
            self.bump();
            Ok(())
        } else {
            err(self.col(), format!("expected `{c}` {what}, found {}", describe(self.peek())))
        }
    }
    /// One level deeper, refused beyond [`MAX_DEPTH`] (the parser and the graph builder recurse).
    fn descend(&mut self, col: usize) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return too_deep(col);
        }
        Ok(())
    }
    fn expr(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.term()?;
        while let Tok::Sym(c @ ('+' | '-')) = *self.peek() {
            let col = left.column();
            self.bump();
            let right = self.term()?;
            left = Expr::Bin(c, Box::new(left), Box::new(right), col);
        }
        Ok(left)
    }
    fn term(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.unary()?;
        while let Tok::Sym(c @ ('*' | '/')) = *self.peek() {
            let col = left.column();
            self.bump();
            let right = self.unary()?;
            left = Expr::Bin(c, Box::new(left), Box::new(right), col);
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Expr, ExprError> {
        if *self.peek() == Tok::Sym('-') {
            let col = self.col();
            self.descend(col)?;
            self.bump();
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner), col));
        }
        self.power()
    }
    fn power(&mut self) -> Result<Expr, ExprError> {
        let base = self.atom()?;
        if *self.peek() == Tok::Sym('^') {
            let col = base.column();
            self.bump();
            let exponent = self.unary()?;
            return Ok(Expr::Bin('^', Box::new(base), Box::new(exponent), col));
        }
        Ok(base)
    }
    fn atom(&mut self) -> Result<Expr, ExprError> {
        let (tok, col) = self.bump();
        match tok {
            Tok::Num(v, text) => Ok(Expr::Num(v, text, col)),
            Tok::Name(name) => {
                if *self.peek() == Tok::Sym('(') {
                    self.descend(col)?;
                    self.bump();
                    let mut args = Vec::new();
                    if *self.peek() != Tok::Sym(')') {
                        loop {
                            args.push(self.expr()?);
                            if *self.peek() == Tok::Sym(',') {
                                self.bump();
                            } else {
                                break;
                            }
                        }
                    }
                    self.expect(')', &format!("to close the call of {name}"))?;
                    self.depth -= 1;
                    Ok(Expr::Call(name, args, col))
                } else {
                    Ok(Expr::Name(name, col))
                }
            }
            Tok::Sym('(') => {
                self.descend(col)?;
                let inner = self.expr()?;
                self.expect(')', "to close `(`")?;
                self.depth -= 1;
                Ok(inner)
            }
            other => err(col, format!("expected a number, a name or `(`, found {}", describe(&other))),
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(_, s) => format!("the number `{s}`"),
        Tok::Name(n) => format!("the name `{n}`"),
        Tok::Sym(c) => format!("`{c}`"),
        Tok::End => "the end of the line".into(),
    }
}

/// The functions' names, as messages list them.
pub fn function_names() -> Vec<&'static str> {
    Op::FUNCTIONS.iter().map(Op::name).collect()
}

pub fn is_function(name: &str) -> bool {
    Op::function(name).is_some()
}

/// The value of an expression of numbers only (`2^3`, `-1/2`), as `^`'s exponent must be:
/// `x^2^3` is `x^(2^3)`, as `^` groups to the right.
/// `Err(())` where an expression of numbers only is not finite on the way (`1/0`, `2^1024`:
/// Python refuses both).
fn constant(e: &Expr) -> Option<Result<f64, ()>> {
    let v = match e {
        Expr::Num(v, _, _) => *v,
        Expr::Neg(a, _) => match constant(a)? {
            Ok(v) => -v,
            Err(()) => return Some(Err(())),
        },
        Expr::Bin(op, a, b, _) => {
            let (a, b) = (constant(a)?, constant(b)?);
            let (Ok(a), Ok(b)) = (a, b) else { return Some(Err(())) };
            match op {
                '+' => a + b,
                '-' => a - b,
                '*' => a * b,
                '/' if b == 0.0 => return Some(Err(())),
                '/' => a / b,
                _ => a.powf(b),
            }
        }
        _ => return None,
    };
    Some(if v.is_finite() { Ok(v) } else { Err(()) })
}

/// Turns assignment lines into graph nodes, remembering names and shared sub-expressions.
#[derive(Default)]
pub struct ExprBuilder {
    /// Name → node, for names assigned or declared.
    pub names: HashMap<String, NodeId>,
    /// Sub-expression text → node, so that a repeated sub-expression is one node.
    shared: HashMap<String, NodeId>,
}

fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Bin('+' | '-', ..) => 1,
        Expr::Bin('*' | '/', ..) => 2,
        Expr::Neg(..) => 3,
        Expr::Bin('^', ..) => 4,
        _ => 5,
    }
}

impl ExprBuilder {
    /// Declares a leaf's name.
    pub fn declare(&mut self, name: &str, id: NodeId) {
        self.names.insert(name.to_string(), id);
    }

    /// Parses `target = expression` and adds its nodes; returns the node named `target`.
    pub fn assignment(&mut self, g: &mut GraphBuilder, line: &str) -> Result<NodeId, ExprError> {
        let toks = tokenize(line)?;
        // Nesting first (parentheses and runs of signs), so that it is named as such.
        let (mut parens, mut signs) = (0usize, 0usize);
        for (tok, col) in &toks {
            match tok {
                Tok::Sym('(') => parens += 1,
                Tok::Sym(')') => parens = parens.saturating_sub(1),
                _ => {}
            }
            signs = if *tok == Tok::Sym('-') { signs + 1 } else { 0 };
            if parens + signs > MAX_DEPTH {
                return too_deep(*col);
            }
        }
        if toks.len() > MAX_TOKENS {
            return err(
                toks[MAX_TOKENS].1,
                format!(
                    "the expression is too long at column {} of the expression: at most {MAX_TOKENS} numbers, \
                     names and signs on one line; split it over several lines (s1 = ..., s2 = s1 + ...)",
                    toks[MAX_TOKENS].1 + 1
                ),
            );
        }
        let mut p = Parser { toks, pos: 0, depth: 0 };
        let (target, tcol) = match p.bump() {
            (Tok::Name(n), c) if Op::function(&n).is_none() => (n, c),
            (t, c) => return err(c, format!("expected `name = expression`, found {}", describe(&t))),
        };
        p.expect('=', &format!("after `{target}` (each line is `name = expression`)"))?;
        let expr = p.expr()?;
        if *p.peek() != Tok::End {
            return err(p.col(), format!("expected an operator or the end of the line, found {}", describe(p.peek())));
        }
        if self.names.contains_key(&target) {
            return err(tcol, format!("`{target}` is already defined; each name is assigned once"));
        }
        if let Some(message) = super::clashes_with_notation(&target) {
            return err(tcol, message);
        }
        let before = g.nodes().len();
        let id = self.build(g, &expr)?;
        let text = self.text(&expr);
        if id >= before && g.nodes()[id].name == text {
            // A node made by this line takes the assignment's name.
            g.rename(id, &target, format!("{target} = {text}"));
        }
        self.names.insert(target, id);
        Ok(id)
    }

    /// The readable text of an expression, with its operands' names.
    fn text(&self, e: &Expr) -> String {
        let wrap = |child: &Expr, min: u8| {
            let t = self.text(child);
            if precedence(child) < min {
                format!("({t})")
            } else {
                t
            }
        };
        match e {
            Expr::Num(_, s, _) => s.clone(),
            Expr::Name(n, _) => n.clone(),
            Expr::Neg(inner, _) => format!("-{}", wrap(inner, 4)),
            Expr::Bin(op, a, b, _) => {
                let p = precedence(e);
                let right_min = if matches!(op, '-' | '/') { p + 1 } else { p };
                let (left_min, right_min) = if *op == '^' { (p + 1, p) } else { (p, right_min) };
                let sep = if *op == '^' { "^".to_string() } else { format!(" {op} ") };
                format!("{}{}{}", wrap(a, left_min), sep, wrap(b, right_min))
            }
            Expr::Call(f, args, _) => {
                let args: Vec<String> = args.iter().map(|a| self.text(a)).collect();
                format!("{f}({})", args.join(", "))
            }
        }
    }

    fn build(&mut self, g: &mut GraphBuilder, e: &Expr) -> Result<NodeId, ExprError> {
        match e {
            Expr::Name(n, col) => match self.names.get(n) {
                Some(&id) => Ok(id),
                None if Op::function(n).is_some() => err(*col, format!("`{n}` is a function: call it as {n}(...)")),
                None => {
                    err(*col, format!("`{n}` is not defined (define it on an earlier line, or under inputs or params)"))
                }
            },
            Expr::Num(v, s, _) => {
                let key = s.clone();
                if let Some(&id) = self.shared.get(&key) {
                    return Ok(id);
                }
                let id = g.leaf(s, Op::Const(*v), vec![]);
                self.shared.insert(key, id);
                Ok(id)
            }
            _ => {
                let text = self.text(e);
                if let Some(&id) = self.shared.get(&text) {
                    return Ok(id);
                }
                let (op, args, col): (Op, Vec<&Expr>, usize) = match e {
                    Expr::Neg(a, c) => (Op::Neg, vec![a], *c),
                    Expr::Bin('^', a, b, c) => {
                        let exponent = match constant(b) {
                            Some(Ok(v)) => v,
                            Some(Err(())) => return err(b.column(), "the exponent of `^` is not a finite number"),
                            None => {
                                return err(
                                    b.column(),
                                    "the exponent of `^` must be a number, or numbers only (`x^(1/2)`, `x^2^3`)",
                                )
                            }
                        };
                        (Op::Pow(exponent), vec![a], *c)
                    }
                    Expr::Bin(op, a, b, c) => {
                        let op = match op {
                            '+' => Op::Add,
                            '-' => Op::Sub,
                            '*' => Op::Mul,
                            _ => Op::Div,
                        };
                        (op, vec![a, b], *c)
                    }
                    Expr::Call(f, args, c) => {
                        let Some(op) = Op::function(f) else {
                            return err(*c, format!("unknown function `{f}`; known: {}", function_names().join(", ")));
                        };
                        (op, args.iter().collect(), *c)
                    }
                    _ => unreachable!("leaves handled above"),
                };
                op.check_arity(args.len()).map_err(|message| ExprError { column: col, message })?;
                let mut inputs = Vec::with_capacity(args.len());
                for a in &args {
                    inputs.push(self.build(g, a)?);
                }
                let op = op.with_logits(&g.nodes()[inputs[0]]);
                let id = g.op(&text, op, inputs, text.clone()).map_err(|m| ExprError { column: col, message: m })?;
                self.shared.insert(text, id);
                Ok(id)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(g: &GraphBuilder) -> Vec<String> {
        g.nodes().iter().map(|n| n.name.clone()).collect()
    }

    #[test]
    fn quiz_shares_log_x_and_names_sub_expressions() {
        let mut g = GraphBuilder::new();
        let mut b = ExprBuilder::default();
        let x = g.leaf("x", Op::Input, vec![]);
        let z = g.leaf("z", Op::Input, vec![]);
        b.declare("x", x);
        b.declare("z", z);
        b.assignment(&mut g, "t = x * z").unwrap();
        b.assignment(&mut g, "y = exp(t) + t / log(x) + sin(log(x)) / t").unwrap();
        assert_eq!(
            names(&g),
            [
                "x",
                "z",
                "t",
                "exp(t)",
                "log(x)",
                "t / log(x)",
                "exp(t) + t / log(x)",
                "sin(log(x))",
                "sin(log(x)) / t",
                "y"
            ]
        );
    }

    #[test]
    fn errors_point_at_the_column() {
        let mut g = GraphBuilder::new();
        let mut b = ExprBuilder::default();
        let x = g.leaf("x", Op::Input, vec![]);
        b.declare("x", x);
        assert_eq!(b.assignment(&mut g, "y = x + q").unwrap_err().column, 8);
        assert_eq!(b.assignment(&mut g, "y = foo(x)").unwrap_err().column, 4);
        assert_eq!(b.assignment(&mut g, "y = (x + 1").unwrap_err().column, 10);
        assert_eq!(b.assignment(&mut g, "y = x $ 1").unwrap_err().column, 6);
    }

    #[test]
    fn precedence_and_parentheses_survive_in_names() {
        let mut g = GraphBuilder::new();
        let mut b = ExprBuilder::default();
        let x = g.leaf("x", Op::Input, vec![]);
        b.declare("x", x);
        let j = b.assignment(&mut g, "J = cos(sin(x^2) + 3 * x^2)").unwrap();
        assert_eq!(g.nodes()[j].equation, "J = cos(sin(x^2) + 3 * x^2)");
        let k = b.assignment(&mut g, "k = (x - 1) / (x + 1)").unwrap();
        assert_eq!(g.nodes()[k].equation, "k = (x - 1) / (x + 1)");
    }

    /// `^` groups to the right and takes an exponent of numbers only, as Python's `**`:
    /// `x^2^3` is x⁸, `x^(1/2)` is √x, `x^-1` is 1/x; an exponent with a node is refused.
    #[test]
    fn exponents_of_numbers_only_group_to_the_right() {
        let mut g = GraphBuilder::new();
        let mut b = ExprBuilder::default();
        let x = g.leaf("x", Op::Input, vec![]);
        b.declare("x", x);
        for (text, exponent) in [("a = x^2^3", 8.0), ("c = x^(1/2)", 0.5), ("d = x^-1", -1.0), ("e = x^(2^-1)", 0.5)] {
            let id = b.assignment(&mut g, text).unwrap();
            assert_eq!(g.nodes()[id].op, Op::Pow(exponent), "{text}");
        }
        let e = b.assignment(&mut g, "f = x^x").unwrap_err();
        assert_eq!(e.column, 6);
        assert!(e.message.contains("numbers only"), "{}", e.message);
        for text in ["h = x^(1/0)", "i = x^(1/(1/0))", "k = x^(2^1024)", "m = x^(0^-1)"] {
            let e = b.assignment(&mut g, text).unwrap_err();
            assert!(e.message.contains("not a finite number"), "{text}: {}", e.message);
        }
    }
}
