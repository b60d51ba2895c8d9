//! The closed set of operations a graph node can perform, and all that is known about each.
//!
//! Adding an op touches this file only: a variant of [`Op`], then an arm in each `match` the
//! compiler names, and a place in [`Op::FUNCTIONS`] if model files may call it:
//! - [`Op::info`]: its name, its number of inputs, and its local derivative in words;
//! - [`Op::output_shape`]: the shape of its result;
//! - [`Op::forward`] and [`Op::accumulate_vjp`]: its forward rule and its local derivative,
//!   the numbers, always in denominator layout: an adjoint has its node's shape;
//! - [`Op::formula`]: its rule as a node's equation writes it (`σ({0})`);
//! - [`Op::forward_text`] and [`Op::derivative`]: the same two rules as the screen writes them,
//!   in the lecture's notation ([`rules`](super::rules) names their operands and substitutes
//!   their numbers).

use std::borrow::Cow;
use std::cell::OnceCell;

use ndarray::{linalg::general_mat_vec_mul, s, ArrayD, ArrayViewD, Ix1, Ix2, Zip};

use super::exp::exp;
use super::kernels;
use super::rules::{Entry, Local, Operand, Piece};
use super::{numbers as sl, numbers_mut as sl_mut, Node, NodeId};
use crate::notation::shape_str;
use crate::numfmt::Digits;

/// What a node computes from its inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// A trainable parameter (θ, α, β, …): its value is set by initialisation and SGD updates.
    Param,
    /// The current example's feature vector x.
    Features,
    /// The current example's label y*.
    Label,
    /// A named input of a graph model with a value from the model file (differentiable).
    Input,
    /// A number written in an expression.
    Const(f64),
    /// u = a + b
    Add,
    /// u = a − b
    Sub,
    /// u = a ⊙ b
    Mul,
    /// u = a / b
    Div,
    /// u = −a
    Neg,
    /// u = a^c for a constant exponent c
    Pow(f64),
    /// u = exp(a)
    Exp,
    /// u = log(a)
    Log,
    /// u = sin(a)
    Sin,
    /// u = cos(a)
    Cos,
    /// u = tanh(a)
    Tanh,
    /// u = σ(a) = 1 / (1 + exp(−a))
    Sigmoid,
    /// u = max(a, 0)
    Relu,
    /// u = √a
    Sqrt,
    /// u = Σ_i a_i
    Sum,
    /// u = a · b (vectors)
    Dot,
    /// u = A b (matrix · vector or matrix · matrix)
    MatMul,
    /// u_i = exp(a_i) / Σ_j exp(a_j)
    Softmax,
    /// u = [1; a]
    Prepend1,
    /// u = W [1; x]: the folded-bias linear map, column 0 of W is the bias
    Linear,
    /// u = W x + b: a linear map with a separate bias vector
    Affine,
    /// J = −[y* log y + (1 − y*) log(1 − y)]; inputs y, y*. When y = σ(b), `logit` names b so
    /// that J is computed as a log-sigmoid of b and never takes log(0) needlessly.
    BinaryCrossEntropy { logit: Option<NodeId> },
    /// J = −log ŷ_{y*}; inputs ŷ, y*. When ŷ = softmax(b), `logit` names b so that J is
    /// computed as logsumexp(b) − b_{y*}.
    CrossEntropy { logit: Option<NodeId> },
    /// J = ½ Σ (y − y*)²; inputs y, y*.
    SquaredError,
}

/// What is fixed about an op, whatever its inputs (see [`Op::info`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpInfo {
    /// Short lowercase name, as written in model files and shown in the graph pane.
    pub name: &'static str,
    /// The number of inputs the op takes.
    pub arity: usize,
    /// Its local derivative in words, as `diff` names it when a gradient lacks it (`{0}`
    /// stands for the node's name).
    pub derivative_words: Option<&'static str>,
}

impl Op {
    /// The functions an expression may call, each by its [`name`](Op::name), in the order
    /// messages list them.
    pub const FUNCTIONS: &'static [Op] = &[
        Op::Exp,
        Op::Log,
        Op::Sin,
        Op::Cos,
        Op::Tanh,
        Op::Sigmoid,
        Op::Relu,
        Op::Sqrt,
        Op::Sum,
        Op::Softmax,
        Op::Prepend1,
        Op::Dot,
        Op::MatMul,
        Op::Linear,
        Op::BinaryCrossEntropy { logit: None },
        Op::CrossEntropy { logit: None },
        Op::SquaredError,
    ];

    /// The function an expression calls by this name.
    pub fn function(name: &str) -> Option<Op> {
        Op::FUNCTIONS.iter().find(|op| op.name() == name).cloned()
    }

    /// Its name, number of inputs and local derivative in words.
    pub fn info(&self) -> OpInfo {
        let op = |name, arity| OpInfo { name, arity, derivative_words: None };
        match self {
            Op::Param => op("param", 0),
            Op::Features => op("features", 0),
            Op::Label => op("label", 0),
            Op::Input => op("input", 0),
            Op::Const(_) => op("const", 0),
            Op::Add => op("add", 2),
            Op::Sub => op("sub", 2),
            Op::Mul => op("mul", 2),
            Op::Div => op("div", 2),
            Op::Neg => op("neg", 1),
            Op::Pow(_) => op("pow", 1),
            Op::Exp => op("exp", 1),
            Op::Log => op("log", 1),
            Op::Sin => op("sin", 1),
            Op::Cos => op("cos", 1),
            Op::Tanh => OpInfo { derivative_words: Some("tanh'(·) = 1 − {0}²"), ..op("tanh", 1) },
            Op::Sigmoid => OpInfo { derivative_words: Some("σ'(·) = {0}(1 − {0})"), ..op("sigmoid", 1) },
            Op::Relu => {
                OpInfo { derivative_words: Some("relu'(·) (1 where the input is positive, else 0)"), ..op("relu", 1) }
            }
            Op::Sqrt => op("sqrt", 1),
            Op::Sum => op("sum", 1),
            Op::Dot => op("dot", 2),
            Op::MatMul => op("matmul", 2),
            Op::Softmax => OpInfo { derivative_words: Some("the softmax Jacobian"), ..op("softmax", 1) },
            Op::Prepend1 => op("prepend1", 1),
            Op::Linear => op("linear", 2),
            Op::Affine => op("affine", 3),
            Op::BinaryCrossEntropy { .. } => op("binary_cross_entropy", 2),
            Op::CrossEntropy { .. } => op("cross_entropy", 2),
            Op::SquaredError => op("squared_error", 2),
        }
    }

    /// Short lowercase name, as written in model files and shown in the graph pane.
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// The number of inputs the op takes.
    pub fn arity(&self) -> usize {
        self.info().arity
    }

    /// What is wrong with giving the op `n` inputs, if anything.
    pub fn check_arity(&self, n: usize) -> Result<(), String> {
        let OpInfo { name, arity, .. } = self.info();
        if n == arity {
            Ok(())
        } else {
            Err(format!("{name} takes {arity} argument(s), got {n}"))
        }
    }

    /// Leaves take their value from outside the graph; every other op computes it.
    pub fn is_leaf(&self) -> bool {
        matches!(self, Op::Param | Op::Features | Op::Label | Op::Input | Op::Const(_))
    }

    /// Whether J can be differentiated through input `k` (a class index cannot).
    pub fn differentiable_input(&self, k: usize) -> bool {
        !matches!(self, Op::CrossEntropy { .. } if k == 1)
    }

    /// Whether the term for input `k`, (dJ/du)·(∂u/∂v_k), gives entry i of dJ/dv_k from
    /// entry i of each operand alone (a scalar standing for every entry), so that one entry of
    /// it can be written out with its numbers.
    pub fn entrywise_term(&self, k: usize) -> bool {
        match self {
            // Element-wise rules: entry i of the result reads entry i of the operands.
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Neg | Op::Pow(_) | Op::Exp | Op::Log => true,
            Op::Sin | Op::Cos | Op::Tanh | Op::Sigmoid | Op::Relu | Op::Sqrt => true,
            // A scalar's adjoint, added to every entry; a dot product's, times the other vector.
            Op::Sum | Op::Dot => true,
            // Entry-wise in the prediction (and the label, of the same shape or a scalar).
            Op::BinaryCrossEntropy { .. } | Op::SquaredError => true,
            // The bias vector's adjoint is the output's, entry by entry.
            Op::Affine => k == 2,
            // Σ over every entry (softmax), one entry picked by the label (cross-entropy),
            // sums over a row and a column (a product of matrices), the bias entry dropped
            // (prepending the 1), a weight matrix's outer product: no entry on its own.
            Op::Softmax | Op::CrossEntropy { .. } | Op::MatMul | Op::Prepend1 | Op::Linear => false,
            // No inputs.
            Op::Param | Op::Features | Op::Label | Op::Input | Op::Const(_) => false,
        }
    }

    /// Whether this op is a loss whose first input is a class prediction.
    pub fn is_classifier_loss(&self) -> bool {
        matches!(self, Op::BinaryCrossEntropy { .. } | Op::CrossEntropy { .. })
    }

    /// The op as built on its first input `prediction`: a loss computed from a sigmoid or
    /// softmax node reads the logits for stability.
    pub fn with_logits(self, prediction: &Node) -> Op {
        match self {
            Op::BinaryCrossEntropy { .. } if prediction.op == Op::Sigmoid => {
                Op::BinaryCrossEntropy { logit: Some(prediction.inputs[0]) }
            }
            Op::CrossEntropy { .. } if prediction.op == Op::Softmax => {
                Op::CrossEntropy { logit: Some(prediction.inputs[0]) }
            }
            op => op,
        }
    }
}

// The numbers: each op's shape, forward rule and local derivative, with their helpers.

type Shape = Vec<usize>;

fn is_scalar(s: &[usize]) -> bool {
    s.is_empty()
}

fn elementwise_shape(a: &[usize], b: &[usize]) -> Result<Shape, String> {
    if a == b || is_scalar(b) {
        Ok(a.to_vec())
    } else if is_scalar(a) {
        Ok(b.to_vec())
    } else {
        Err(format!(
            "operands must have the same shape or one must be a scalar, got {} and {}",
            shape_str(a),
            shape_str(b)
        ))
    }
}

/// log(1 + e^x) without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + exp(-x.abs()).ln_1p()
}

fn sum_all(a: &ArrayD<f64>) -> f64 {
    a.iter().sum()
}

/// Adds `scale(i) · g_i` to `acc`, summing over g when `acc` is a broadcast scalar.
fn add_elementwise(acc: &mut ArrayD<f64>, g: &ArrayD<f64>, f: impl Fn(f64, usize) -> f64) {
    if acc.ndim() == 0 && g.ndim() != 0 {
        let total: f64 = g.iter().enumerate().map(|(i, &gi)| f(gi, i)).sum();
        acc[[]] += total;
    } else if let (Some(a), Some(g)) = (acc.as_slice_mut(), g.as_slice()) {
        for (i, (a, &gi)) in a.iter_mut().zip(g).enumerate() {
            *a += f(gi, i);
        }
    } else {
        for (i, (a, &gi)) in acc.iter_mut().zip(g.iter()).enumerate() {
            *a += f(gi, i);
        }
    }
}

/// The i-th element of `a` in row-major order, treating a scalar as broadcast.
#[inline]
fn at(a: &ArrayD<f64>, i: usize) -> f64 {
    if a.ndim() == 0 {
        a[[]]
    } else {
        a.as_slice().map(|s| s[i]).unwrap_or_else(|| a.iter().nth(i).copied().unwrap_or(f64::NAN))
    }
}

/// An array's numbers in row-major order, read once so that a loop indexes a slice: as
/// [`at`], a scalar is broadcast.
enum Flat<'a> {
    Scalar(f64),
    Slice(std::borrow::Cow<'a, [f64]>),
}

impl<'a> Flat<'a> {
    fn of(a: &'a ArrayD<f64>) -> Flat<'a> {
        if a.ndim() == 0 {
            Flat::Scalar(a[[]])
        } else {
            match a.as_slice() {
                Some(s) => Flat::Slice(std::borrow::Cow::Borrowed(s)),
                None => Flat::Slice(std::borrow::Cow::Owned(a.iter().copied().collect())),
            }
        }
    }

    #[inline]
    fn at(&self, i: usize) -> f64 {
        match self {
            Flat::Scalar(v) => *v,
            Flat::Slice(s) => s.get(i).copied().unwrap_or(f64::NAN),
        }
    }
}

fn view1(a: &ArrayD<f64>) -> ndarray::ArrayView1<'_, f64> {
    a.view().into_dimensionality::<Ix1>().expect("shape checked when the graph was built")
}

fn view2(a: &ArrayD<f64>) -> ndarray::ArrayView2<'_, f64> {
    a.view().into_dimensionality::<Ix2>().expect("shape checked when the graph was built")
}

impl Op {
    /// The shape of the result, or what is wrong with the inputs' shapes.
    pub fn output_shape(&self, ins: &[&[usize]]) -> Result<Shape, String> {
        match self {
            Op::Param | Op::Features | Op::Label | Op::Input | Op::Const(_) => {
                Err("a leaf has no inputs to infer a shape from".into())
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => elementwise_shape(ins[0], ins[1]),
            Op::Neg
            | Op::Pow(_)
            | Op::Exp
            | Op::Log
            | Op::Sin
            | Op::Cos
            | Op::Tanh
            | Op::Sigmoid
            | Op::Relu
            | Op::Sqrt => Ok(ins[0].to_vec()),
            Op::Sum => Ok(vec![]),
            Op::Dot => match (ins[0], ins[1]) {
                ([n], [m]) if n == m => Ok(vec![]),
                (a, b) => {
                    Err(format!("dot needs two vectors of one length, got {} and {}", shape_str(a), shape_str(b)))
                }
            },
            Op::MatMul => match (ins[0], ins[1]) {
                ([m, n], [k]) if n == k => Ok(vec![*m]),
                ([m, n], [k, p]) if n == k => Ok(vec![*m, *p]),
                (a, b) => Err(format!(
                    "matmul needs a matrix [m × n] and a vector [n] or matrix [n × p], got {} and {}",
                    shape_str(a),
                    shape_str(b)
                )),
            },
            Op::Softmax => match ins[0] {
                [n] => Ok(vec![*n]),
                a => Err(format!("softmax needs a vector, got {}", shape_str(a))),
            },
            Op::Prepend1 => match ins[0] {
                [n] => Ok(vec![n + 1]),
                a => Err(format!("prepend1 needs a vector, got {}", shape_str(a))),
            },
            Op::Linear => match (ins[0], ins[1]) {
                ([m, n1], [n]) if *n1 == n + 1 => Ok(vec![*m]),
                (w, x) => Err(format!(
                    "weights {} do not fit an input {} with a folded bias (expected [units × {}])",
                    shape_str(w),
                    shape_str(x),
                    x.first().map(|n| n + 1).unwrap_or(1)
                )),
            },
            Op::Affine => match (ins[0], ins[1], ins[2]) {
                ([m, n], [k], [mb]) if n == k && m == mb => Ok(vec![*m]),
                (w, x, b) => Err(format!(
                    "weights {}, input {} and bias {} do not fit W x + b",
                    shape_str(w),
                    shape_str(x),
                    shape_str(b)
                )),
            },
            Op::BinaryCrossEntropy { .. } | Op::SquaredError => {
                let y = ins[0];
                let t = ins[1];
                if y.iter().product::<usize>() != 1 && !(t == y || is_scalar(t)) {
                    return Err(format!(
                        "{} needs one output and a scalar label, got {} and {}",
                        self.name(),
                        shape_str(y),
                        shape_str(t)
                    ));
                }
                if !is_scalar(t) && t != y {
                    return Err(format!("the label must be a scalar or have the output's shape, got {}", shape_str(t)));
                }
                Ok(vec![])
            }
            Op::CrossEntropy { .. } => match (ins[0], ins[1]) {
                ([_], []) => Ok(vec![]),
                (y, t) => Err(format!(
                    "cross_entropy needs a vector of class probabilities and a scalar class index, got {} and {}",
                    shape_str(y),
                    shape_str(t)
                )),
            },
        }
    }

    /// Forward rule: computes the node's value into `out` from the values of earlier nodes.
    ///
    /// `values` holds every node before this one (index order is a topological order), so
    /// inputs and `logit` can be read while `out` is written.
    pub fn forward(&self, inputs: &[NodeId], values: &[ArrayD<f64>], out: &mut ArrayD<f64>) {
        let x = |k: usize| &values[inputs[k]];
        match self {
            // Leaves are set from outside; nothing to compute.
            Op::Param | Op::Features | Op::Label | Op::Input | Op::Const(_) => {}
            // u = a + b, u = a − b, u = a ⊙ b, u = a / b (a scalar operand is broadcast)
            Op::Add => binary(out, x(0), x(1), |a, b| a + b),
            Op::Sub => binary(out, x(0), x(1), |a, b| a - b),
            Op::Mul => binary(out, x(0), x(1), |a, b| a * b),
            Op::Div => binary(out, x(0), x(1), |a, b| a / b),
            // u = −a
            Op::Neg => unary(out, x(0), |a| -a),
            // u = a^c
            Op::Pow(c) => {
                let c = *c;
                unary(out, x(0), |a| a.powf(c))
            }
            // u = e^a, log a, sin a, cos a, tanh a
            Op::Exp => unary(out, x(0), exp),
            Op::Log => unary(out, x(0), f64::ln),
            Op::Sin => unary(out, x(0), f64::sin),
            Op::Cos => unary(out, x(0), f64::cos),
            Op::Tanh => unary(out, x(0), f64::tanh),
            // u = σ(a) = 1 / (1 + e^−a)
            Op::Sigmoid => kernels::sigmoid(sl(x(0)), sl_mut(out)),
            // u = max(a, 0)
            Op::Relu => unary(out, x(0), |a| if a > 0.0 { a } else { 0.0 }),
            // u = √a
            Op::Sqrt => unary(out, x(0), f64::sqrt),
            // u = Σ_i a_i
            Op::Sum => sl_mut(out)[0] = sum_all(x(0)),
            // u = Σ_i a_i b_i
            Op::Dot => sl_mut(out)[0] = view1(x(0)).dot(&view1(x(1))),
            // u = A b
            Op::MatMul => {
                let a = view2(x(0));
                match x(1).ndim() {
                    1 => {
                        let mut o = out.view_mut().into_dimensionality::<Ix1>().expect("vector");
                        general_mat_vec_mul(1.0, &a, &view1(x(1)), 0.0, &mut o);
                    }
                    _ => {
                        let prod = a.dot(&view2(x(1)));
                        out.assign(&prod);
                    }
                }
            }
            // u_i = e^(a_i − max a) / Σ_j e^(a_j − max a): subtracting the max avoids overflow
            Op::Softmax => kernels::softmax(sl(x(0)), sl_mut(out)),
            // u = [1; a]
            Op::Prepend1 => {
                let a = x(0);
                let mut o = out.view_mut().into_dimensionality::<Ix1>().expect("vector");
                o[0] = 1.0;
                o.slice_mut(s![1..]).assign(&view1(a));
            }
            // u_j = W_j0 · 1 + Σ_i W_ji x_i
            Op::Linear => {
                let cols = x(0).shape()[1];
                let w = sl(x(0));
                kernels::affine(sl_mut(out), w, cols, 1, |i| w[i * cols], sl(x(1)));
            }
            // u = W x + b
            Op::Affine => {
                let cols = x(0).shape()[1];
                let b = sl(x(2));
                kernels::affine(sl_mut(out), sl(x(0)), cols, 0, |i| b[i], sl(x(1)));
            }
            // J = −Σ [y* log y + (1 − y*) log(1 − y)]; from the logit b of y = σ(b) it is
            // Σ [y* softplus(−b) + (1 − y*) softplus(b)], finite wherever b is.
            Op::BinaryCrossEntropy { logit } => {
                let (y, t) = (x(0), x(1));
                let mut j = 0.0;
                for i in 0..y.len() {
                    let ti = at(t, i);
                    j += match logit {
                        Some(b) => {
                            let bi = at(&values[*b], i);
                            ti * softplus(-bi) + (1.0 - ti) * softplus(bi)
                        }
                        None => {
                            let yi = at(y, i);
                            -(ti * yi.ln() + (1.0 - ti) * (-yi).ln_1p())
                        }
                    };
                }
                sl_mut(out)[0] = j;
            }
            // J = −log ŷ_{y*}; from the logits b of ŷ = softmax(b) it is logsumexp(b) − b_{y*}.
            Op::CrossEntropy { logit } => {
                let label = sl(x(1))[0] as usize;
                sl_mut(out)[0] = match logit {
                    Some(b) => kernels::cross_entropy_of_logits(sl(&values[*b]), label),
                    None => -at(x(0), label).ln(),
                };
            }
            // J = ½ Σ (y − y*)²
            Op::SquaredError => {
                let (y, t) = (x(0), x(1));
                sl_mut(out)[0] = (0..y.len()).map(|i| 0.5 * (at(y, i) - at(t, i)).powi(2)).sum();
            }
        }
    }

    /// Local derivative rule: adds input `k`'s share of the chain rule,
    /// (dJ/du)·(∂u/∂v_k) in the shape of v_k, to `acc`.
    ///
    /// `g` is dJ/du, `u` the node's own value and `values` the value of every node.
    #[allow(clippy::too_many_arguments)]
    pub fn accumulate_vjp(
        &self,
        k: usize,
        inputs: &[NodeId],
        values: &[ArrayD<f64>],
        u: &ArrayD<f64>,
        g: &ArrayD<f64>,
        acc: &mut ArrayD<f64>,
    ) {
        let x = |j: usize| &values[inputs[j]];
        // Each input's numbers and the node's own, read once when a rule first needs them.
        let flats: [OnceCell<Flat>; 3] = Default::default();
        let f = |j: usize| flats[j].get_or_init(|| Flat::of(x(j)));
        let own = OnceCell::new();
        let fu = || own.get_or_init(|| Flat::of(u));
        match (self, k) {
            (Op::Param | Op::Features | Op::Label | Op::Input | Op::Const(_), _) => {}
            // ∂(a + b)/∂a = 1, ∂(a + b)/∂b = 1
            (Op::Add, _) => add_elementwise(acc, g, |gi, _| gi),
            // ∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1
            (Op::Sub, 0) => add_elementwise(acc, g, |gi, _| gi),
            (Op::Sub, _) => add_elementwise(acc, g, |gi, _| -gi),
            // ∂(a ⊙ b)/∂a = b, ∂(a ⊙ b)/∂b = a
            (Op::Mul, 0) => add_elementwise(acc, g, |gi, i| gi * f(1).at(i)),
            (Op::Mul, _) => add_elementwise(acc, g, |gi, i| gi * f(0).at(i)),
            // ∂(a / b)/∂a = 1/b, ∂(a / b)/∂b = −a/b²
            (Op::Div, 0) => add_elementwise(acc, g, |gi, i| gi / f(1).at(i)),
            (Op::Div, _) => add_elementwise(acc, g, |gi, i| {
                let b = f(1).at(i);
                -gi * f(0).at(i) / (b * b)
            }),
            // ∂(−a)/∂a = −1
            (Op::Neg, _) => add_elementwise(acc, g, |gi, _| -gi),
            // ∂a^c/∂a = c a^(c−1)
            (Op::Pow(c), _) => {
                let c = *c;
                add_elementwise(acc, g, |gi, i| gi * c * f(0).at(i).powf(c - 1.0))
            }
            // ∂e^a/∂a = e^a = u
            (Op::Exp, _) => add_elementwise(acc, g, |gi, i| gi * fu().at(i)),
            // ∂ log a/∂a = 1/a
            (Op::Log, _) => add_elementwise(acc, g, |gi, i| gi / f(0).at(i)),
            // ∂ sin a/∂a = cos a
            (Op::Sin, _) => add_elementwise(acc, g, |gi, i| gi * f(0).at(i).cos()),
            // ∂ cos a/∂a = −sin a
            (Op::Cos, _) => add_elementwise(acc, g, |gi, i| -gi * f(0).at(i).sin()),
            // ∂ tanh a/∂a = 1 − u²
            (Op::Tanh, _) => add_elementwise(acc, g, |gi, i| gi * (1.0 - fu().at(i) * fu().at(i))),
            // ∂σ(a)/∂a = u(1 − u)
            (Op::Sigmoid, _) => kernels::sigmoid_vjp(sl_mut(acc), sl(g), sl(u)),
            // ∂ max(a, 0)/∂a = 1 where a > 0, else 0
            (Op::Relu, _) => add_elementwise(acc, g, |gi, i| if f(0).at(i) > 0.0 { gi } else { 0.0 }),
            // ∂√a/∂a = 1/(2u)
            (Op::Sqrt, _) => add_elementwise(acc, g, |gi, i| gi / (2.0 * fu().at(i))),
            // ∂(Σ a_i)/∂a_i = 1
            (Op::Sum, _) => {
                let gs = sl(g)[0];
                acc.mapv_inplace(|a| a + gs);
            }
            // ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
            (Op::Dot, _) => {
                let gs = sl(g)[0];
                let other = x(1 - k);
                Zip::from(acc).and(other).for_each(|a, &o| *a += gs * o);
            }
            // ∂(A b)/∂A = g bᵀ (outer product), ∂(A b)/∂b = Aᵀ g
            (Op::MatMul, _) => matmul_vjp(k, x(0), x(1), g, acc),
            // dJ/da = u ⊙ (g − (g·u)): the softmax Jacobian diag(u) − u uᵀ applied to g
            (Op::Softmax, _) => kernels::softmax_vjp(sl_mut(acc), sl(g), sl(u)),
            // ∂[1; a]/∂a drops the first entry
            (Op::Prepend1, _) => {
                let mut a1 = acc.view_mut().into_dimensionality::<Ix1>().expect("vector");
                a1 += &view1(g).slice(s![1..]);
            }
            // ∂(W[1; x])/∂W = g [1; x]ᵀ (column 0 gets g), ∂(W[1; x])/∂x = W[:, 1:]ᵀ g
            (Op::Linear, _) => layer_vjp(k, 1, x(0), x(1), g, acc),
            // ∂(W x + b)/∂W = g xᵀ, ∂/∂x = Wᵀ g, ∂/∂b = g
            (Op::Affine, 0 | 1) => layer_vjp(k, 0, x(0), x(1), g, acc),
            (Op::Affine, _) => Zip::from(acc).and(g).for_each(|a, &gi| *a += gi),
            // ∂J/∂y = −y*/y + (1 − y*)/(1 − y), ∂J/∂y* = log(1 − y) − log y
            (Op::BinaryCrossEntropy { .. }, _) => binary_cross_entropy_vjp(k, x(0), x(1), sl(g)[0], acc),
            // ∂J/∂ŷ_{y*} = −1/ŷ_{y*}, zero for every other class
            (Op::CrossEntropy { .. }, 0) => {
                let label = sl(x(1))[0] as usize;
                kernels::cross_entropy_vjp(sl_mut(acc), sl(g)[0], at(x(0), label), label);
            }
            // a class index has no derivative
            (Op::CrossEntropy { .. }, _) => {}
            // ∂J/∂y = y − y*, ∂J/∂y* = −(y − y*)
            (Op::SquaredError, _) => squared_error_vjp(k, x(0), x(1), sl(g)[0], acc),
        }
    }
}

fn unary(out: &mut ArrayD<f64>, a: &ArrayD<f64>, f: impl Fn(f64) -> f64) {
    match (out.as_slice_mut(), a.as_slice()) {
        (Some(o), Some(a)) => {
            for (o, &ai) in o.iter_mut().zip(a) {
                *o = f(ai);
            }
        }
        _ => Zip::from(out).and(a).for_each(|o, &ai| *o = f(ai)),
    }
}

fn binary(out: &mut ArrayD<f64>, a: &ArrayD<f64>, b: &ArrayD<f64>, f: impl Fn(f64, f64) -> f64) {
    let shape = out.raw_dim();
    let av: ArrayViewD<f64> = a.broadcast(shape.clone()).expect("shape checked when built");
    let bv: ArrayViewD<f64> = b.broadcast(shape).expect("shape checked when built");
    Zip::from(out).and(&av).and(&bv).for_each(|o, &ai, &bi| *o = f(ai, bi));
}

/// acc += g xᵀ
fn add_outer(
    acc: &mut ndarray::ArrayViewMut2<'_, f64>,
    g: &ndarray::ArrayView1<'_, f64>,
    x: ndarray::ArrayView1<'_, f64>,
) {
    for (mut row, &gi) in acc.rows_mut().into_iter().zip(g.iter()) {
        row.scaled_add(gi, &x);
    }
}

/// ∂(A b)/∂A = g bᵀ (outer product) for `k` = 0, ∂(A b)/∂b = Aᵀ g for `k` = 1, b a vector or
/// a matrix.
fn matmul_vjp(k: usize, a: &ArrayD<f64>, b: &ArrayD<f64>, g: &ArrayD<f64>, acc: &mut ArrayD<f64>) {
    if k == 0 {
        let mut a2 = acc.view_mut().into_dimensionality::<Ix2>().expect("matrix");
        if b.ndim() == 1 {
            add_outer(&mut a2, &view1(g), view1(b));
        } else {
            a2 += &view2(g).dot(&view2(b).t());
        }
    } else {
        let a = view2(a);
        if g.ndim() == 1 {
            let mut a1 = acc.view_mut().into_dimensionality::<Ix1>().expect("vector");
            general_mat_vec_mul(1.0, &a.t(), &view1(g), 1.0, &mut a1);
        } else {
            let mut a2 = acc.view_mut().into_dimensionality::<Ix2>().expect("matrix");
            a2 += &a.t().dot(&view2(g));
        }
    }
}

/// The weights' (`k` = 0) and the input's (`k` = 1) share through u = W[1; x] when `off` is 1
/// (column 0 of W is the bias, and gets g) or u = W x when it is 0: ∂u/∂W = g [1; x]ᵀ or g xᵀ,
/// ∂u/∂x = W[:, off..]ᵀ g.
fn layer_vjp(k: usize, off: usize, w: &ArrayD<f64>, x: &ArrayD<f64>, g: &ArrayD<f64>, acc: &mut ArrayD<f64>) {
    let cols = w.shape()[1];
    let g = sl(g);
    if k == 0 {
        let a = sl_mut(acc);
        if off == 1 {
            for (i, &gi) in g.iter().enumerate() {
                a[i * cols] += gi;
            }
        }
        kernels::add_outer(a, cols, off, g, sl(x));
    } else {
        let w = sl(w);
        kernels::add_wt_g(sl_mut(acc), w, cols, off, g);
    }
}

/// ∂J/∂y = −y*/y + (1 − y*)/(1 − y) for `k` = 0, the lecture's dJ/dy with the loss's minus
/// sign; ∂J/∂y* = log(1 − y) − log y for `k` = 1. `gs` is dJ/du.
fn binary_cross_entropy_vjp(k: usize, y: &ArrayD<f64>, t: &ArrayD<f64>, gs: f64, acc: &mut ArrayD<f64>) {
    if k == 0 {
        for (i, a) in acc.iter_mut().enumerate() {
            let (yi, ti) = (at(y, i), at(t, i));
            *a += gs * (-ti / yi + (1.0 - ti) / (1.0 - yi));
        }
    } else if acc.ndim() == 0 {
        let per: f64 = (0..y.len()).map(|i| (-at(y, i)).ln_1p() - at(y, i).ln()).sum();
        acc[[]] += gs * per;
    } else {
        for (i, a) in acc.iter_mut().enumerate() {
            *a += gs * ((-at(y, i)).ln_1p() - at(y, i).ln());
        }
    }
}

/// ∂J/∂y = y − y* for `k` = 0, ∂J/∂y* = −(y − y*) for `k` = 1. `gs` is dJ/du.
fn squared_error_vjp(k: usize, y: &ArrayD<f64>, t: &ArrayD<f64>, gs: f64, acc: &mut ArrayD<f64>) {
    let sign = if k == 0 { 1.0 } else { -1.0 };
    if acc.ndim() == 0 && y.len() != 1 {
        let total: f64 = (0..y.len()).map(|i| at(y, i) - at(t, i)).sum();
        acc[[]] += sign * gs * total;
    } else {
        for (i, a) in acc.iter_mut().enumerate() {
            *a += sign * gs * (at(y, i) - at(t, i));
        }
    }
}

// The text: each op's two rules as the screen writes them.

impl Op {
    /// The local derivative rule for input `k` in the lecture's notation: the term
    /// (dJ/du)·(∂u/∂v_k) that [`Op::accumulate_vjp`] adds, e.g. `dJ/dz ⊙ z(1 − z)`; a power's
    /// constant in `digits`.
    pub fn derivative(&self, k: usize, digits: Digits) -> Vec<Piece> {
        use Piece::{Adjoint as G, Text as T};
        let (u, x) = (Piece::Value(Operand::Out), |j: usize| Piece::Value(Operand::In(j)));
        let local =
            |j: usize, text: &'static str, map: Local| Piece::Local { text: text.into(), of: Operand::In(j), map };
        let own = |text: &'static str, map: Local| Piece::Local { text: text.into(), of: Operand::Out, map };
        match (self, k) {
            (Op::Add, _) | (Op::Sub, 0) | (Op::Affine, 2) => vec![G],
            (Op::Sub, _) | (Op::Neg, _) => vec![T("−"), G],
            (Op::Mul, _) => vec![G, T(" ⊙ "), x(1 - k)],
            (Op::Div, 0) => vec![G, T(" ⊙ "), local(1, "1/{}", Local::Recip)],
            (Op::Div, _) => vec![G, T(" ⊙ (−"), x(0), T("/"), x(1), T("²)")],
            (Op::Pow(c), _) => {
                let c = *c;
                let text = if c == 2.0 {
                    "2{}".into()
                } else {
                    format!("{}·{{}}^{}", digits.number(c), digits.number(c - 1.0)).into()
                };
                vec![G, T(" ⊙ "), Piece::Local { text, of: Operand::In(0), map: Local::Power(c) }]
            }
            (Op::Exp, _) => vec![G, T(" ⊙ "), u],
            (Op::Log, _) => vec![G, T(" ⊙ "), local(0, "1/{}", Local::Recip)],
            (Op::Sin, _) => vec![G, T(" ⊙ "), local(0, "cos({})", Local::Cos)],
            (Op::Cos, _) => vec![G, T(" ⊙ "), local(0, "(−sin({}))", Local::NegSin)],
            (Op::Tanh, _) => vec![G, T(" ⊙ "), own("(1 − {}²)", Local::OneMinusSquare)],
            (Op::Sigmoid, _) => vec![G, T(" ⊙ "), own("{0}(1 − {0})", Local::Logistic)],
            (Op::Relu, _) => vec![G, T(" ⊙ "), local(0, "[{} > 0]", Local::Step)],
            (Op::Sqrt, _) => vec![G, T(" ⊙ "), own("1/(2·{})", Local::HalfRecip)],
            (Op::Sum, _) => vec![G, T(" (added to every entry)")],
            (Op::Dot, _) => vec![G, T(" · "), x(1 - k)],
            (Op::MatMul, 0) => vec![G, T(" · "), x(1), T("ᵀ")],
            (Op::MatMul, _) => vec![x(0), T("ᵀ · "), G],
            // Σ(·) sums a vector to one number: g·u, the dot product, written so that · keeps
            // meaning a product of numbers.
            (Op::Softmax, _) => vec![u.clone(), T(" ⊙ ("), G, T(" − Σ("), G, T(" ⊙ "), u, T("))")],
            (Op::Prepend1, _) => vec![T("("), G, T(")[1:]  (the entry of the 1 is dropped)")],
            (Op::Linear, 0) => vec![G, T(" · "), Piece::WithOne(1), T("ᵀ")],
            (Op::Linear, _) => vec![x(0), T("[:,1:]ᵀ · "), G],
            (Op::Affine, 0) => vec![G, T(" · "), x(1), T("ᵀ")],
            (Op::Affine, _) => vec![x(0), T("ᵀ · "), G],
            (Op::BinaryCrossEntropy { .. }, 0) => {
                vec![G, T(" · (−"), x(1), T("/"), x(0), T(" + (1 − "), x(1), T(")/(1 − "), x(0), T("))")]
            }
            (Op::BinaryCrossEntropy { .. }, _) => vec![G, T(" · (log(1 − "), x(0), T(") − log "), x(0), T(")")],
            (Op::CrossEntropy { .. }, _) => {
                vec![G, T(" · (−1/"), x(0), T("["), x(1), T("]) at entry "), x(1), T(", 0 elsewhere")]
            }
            (Op::SquaredError, 0) => vec![G, T(" · ("), x(0), T(" − "), x(1), T(")")],
            (Op::SquaredError, _) => vec![T("−"), G, T(" · ("), x(0), T(" − "), x(1), T(")")],
            (Op::Param | Op::Features | Op::Label | Op::Input | Op::Const(_), _) => vec![T("0")],
        }
    }

    /// The op's rule as a node's equation writes it, `{k}` standing for input k: `σ({0})`,
    /// `{0} + {1}`, `{0}·[1; {1}]` (a weight matrix first); a loss writes its label as y*.
    /// `None` for a leaf and for the ops bptui never writes so (a graph model's equations are
    /// its own lines; a sum or dot product is written out entry by entry). A power's constant
    /// is in `digits`.
    pub fn formula(&self, digits: Digits) -> Option<Cow<'static, str>> {
        let text = match self {
            Op::Add => "{0} + {1}",
            Op::Sub => "{0} − {1}",
            Op::Mul => "{0} · {1}",
            Op::Div => "{0} / {1}",
            Op::Neg => "−{0}",
            Op::Pow(c) => return Some(format!("{{0}}^{}", digits.number(*c)).into()),
            Op::Exp => "exp({0})",
            Op::Log => "log({0})",
            Op::Sin => "sin({0})",
            Op::Cos => "cos({0})",
            Op::Tanh => "tanh({0})",
            Op::Sigmoid => "σ({0})",
            Op::Relu => "max(0, {0})",
            Op::Sqrt => "√({0})",
            Op::Softmax => "softmax({0})",
            Op::MatMul => "{0}·{1}",
            Op::Linear => "{0}·[1; {1}]",
            Op::Affine => "{0}·{1} + {2}",
            Op::BinaryCrossEntropy { .. } => "−[y* log {0} + (1−y*) log(1−{0})]",
            Op::CrossEntropy { .. } => "−log {0}[y*]",
            Op::SquaredError => "½({0} − y*)²",
            Op::Sum | Op::Dot | Op::Prepend1 => return None,
            Op::Param | Op::Features | Op::Label | Op::Input | Op::Const(_) => return None,
        };
        Some(text.into())
    }

    /// [`Op::formula`] with each input written as `inputs` says: `σ(a1)` for `["a1"]`.
    pub fn written(&self, inputs: &[&str], digits: Digits) -> Option<String> {
        let formula = self.formula(digits)?;
        let (mut out, mut rest) = (String::new(), &*formula);
        while let Some(open) = rest.find('{') {
            let close = open + rest[open..].find('}')?;
            out.push_str(&rest[..open]);
            out.push_str(inputs.get(rest[open + 1..close].parse::<usize>().ok()?)?);
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// The forward rule for one entry of the node, with symbols and then numbers:
    /// `a[0] = α[0,0]·1 + α[0,1]·x[0] + … = 0.1·1 + (−0.2)·1.08 + … = −0.1142`; `None` where
    /// the node's equation says it all.
    ///
    /// An element-wise op substitutes its entries in its [`formula`](Op::formula); ops whose
    /// numbers need more than substituting write their text below.
    pub fn forward_text(&self, e: &Entry) -> Option<String> {
        match self {
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Neg | Op::Pow(_) => e.formula(&self.formula(e.digits())?),
            Op::Exp | Op::Log | Op::Sin | Op::Cos | Op::Tanh | Op::Sqrt | Op::Relu => {
                e.formula(&self.formula(e.digits())?)
            }
            Op::Sigmoid => {
                let i = e.entry();
                let symbols = self.written(&[&e.idx(0, i)], e.digits())?;
                // Substituted as written (e^−a), so the minus of the rule stays visible.
                Some(e.equation(&symbols, &format!("1/(1 + e^−{})", e.factor(e.at(0, i)?))))
            }
            Op::Softmax => {
                let i = e.entry();
                let total: f64 = e.value(0).iter().map(|&v| exp(v)).sum();
                Some(e.equation(
                    &format!("e^{} / Σ_j e^{}[j]", e.idx(0, i), e.name(0)),
                    &format!("e^{} / {}", e.factor(e.at(0, i)?), e.number(total)),
                ))
            }
            Op::Sum => Some(e.sum((0..e.value(0).len()).map(|i| (e.idx(0, i), e.factor(e.at_or_nan(0, i)))).collect())),
            Op::Dot => Some(dot_text(e)),
            Op::Linear => linear_text(e),
            Op::Affine => affine_text(e),
            Op::CrossEntropy { logit } => cross_entropy_text(e, &self.written(&[&e.name(0)], e.digits())?, *logit),
            Op::BinaryCrossEntropy { logit } => binary_cross_entropy_text(e, *logit),
            Op::Param | Op::Features | Op::Label | Op::Input | Op::Const(_) => None,
            Op::MatMul | Op::Prepend1 | Op::SquaredError => None,
        }
    }
}

/// `u = a[0]·b[0] + a[1]·b[1] + …` with numbers.
fn dot_text(e: &Entry) -> String {
    let term = |i: usize| {
        let symbols = format!("{}·{}", e.idx(0, i), e.idx(1, i));
        (symbols, format!("{}·{}", e.factor(e.at_or_nan(0, i)), e.factor(e.at_or_nan(1, i))))
    };
    e.sum((0..e.value(0).len()).map(term).collect())
}

/// `a[j] = W[j,0]·1 + W[j,1]·x[0] + …` with numbers.
fn linear_text(e: &Entry) -> Option<String> {
    let (j, w) = (e.entry(), e.value(0));
    let cols = w.shape().get(1).copied()?;
    let mut terms = vec![(format!("{}[{j},0]·1", e.name(0)), format!("{}·1", e.factor(w[[j, 0]])))];
    for c in 1..cols {
        terms.push((
            format!("{}[{j},{c}]·{}", e.name(0), e.idx(1, c - 1)),
            format!("{}·{}", e.factor(w[[j, c]]), e.factor(e.at(1, c - 1)?)),
        ));
    }
    Some(e.sum(terms))
}

/// `a[j] = W[j,0]·x[0] + … + b[j]` with numbers.
fn affine_text(e: &Entry) -> Option<String> {
    let (j, w) = (e.entry(), e.value(0));
    let cols = w.shape().get(1).copied()?;
    let mut terms: Vec<(String, String)> = (0..cols)
        .map(|c| {
            (
                format!("{}[{j},{c}]·{}", e.name(0), e.idx(1, c)),
                format!("{}·{}", e.factor(w[[j, c]]), e.factor(e.at_or_nan(1, c))),
            )
        })
        .collect();
    terms.push((e.idx(2, j), e.factor(e.at(2, j)?)));
    Some(e.sum(terms))
}

/// Whether the lecture's formula, with the prediction `p` on screen, gives the loss: not so
/// where p is exactly 0 or 1 in floating point (log 0, or log 1 = 0 for a loss that is not 0)
/// and the loss was computed from the logits.
fn shows_result(p: f64) -> bool {
    p != 0.0 && p != 1.0 && p.is_finite()
}

/// `J = −log ŷ[y*] = −log ŷ[2] = −log(0.7)`, and the result; `symbols` is the first part. When
/// ŷ[y*] rounded to 0, the value computed from the logits b: logsumexp(b) − b[y*].
fn cross_entropy_text(e: &Entry, symbols: &str, logit: Option<NodeId>) -> Option<String> {
    let k = e.at(1, 0)? as usize;
    let y = e.name(0);
    let p = e.at(0, k)?;
    let lecture = e.equation(symbols, &format!("−log {y}[{k}] = −log({})", e.number(p)));
    match logit {
        Some(b) if !shows_result(p) => {
            let (bv, bn) = e.node(b);
            let bk = bv.iter().nth(k).copied()?;
            Some(format!(
                "{lecture}: {y}[{k}] is {} in floating point, so J is computed from the logits {bn} ({y} = \
                 softmax({bn})) as logsumexp({bn}) − {bn}[{k}] = {} − {} = {}",
                e.number(p),
                e.number(e.result() + bk),
                e.factor(bk),
                e.number(e.result())
            ))
        }
        _ => Some(lecture),
    }
}

/// `J = −[y* log y + (1 − y*) log(1 − y)]` with numbers. When y rounded to 0 or 1, the value
/// computed from the logit b (y = σ(b)): y*·softplus(−b) + (1 − y*)·softplus(b).
fn binary_cross_entropy_text(e: &Entry, logit: Option<NodeId>) -> Option<String> {
    let (yv, tv) = (e.at(0, 0)?, e.at(1, 0)?);
    let yn = e.name(0);
    let symbols = format!("−[y* log {yn} + (1 − y*) log(1 − {yn})]");
    match logit {
        Some(b) if !shows_result(yv) => {
            let (bv, bn) = e.node(b);
            let b0 = bv.iter().next().copied()?;
            Some(format!(
                "{} = {symbols}: {yn} = {} in floating point, so J is computed from the logit {bn} ({yn} = σ({bn})) as \
                 y*·softplus(−{bn}) + (1 − y*)·softplus({bn}) = {}·softplus({}) + {}·softplus({}) = {}",
                e.name_of_self(),
                e.number(yv),
                e.number(tv),
                e.number(-b0),
                e.number(1.0 - tv),
                e.number(b0),
                e.number(e.result())
            ))
        }
        _ => Some(e.equation(
            &symbols,
            &format!("−[{} log {} + {} log {}]", e.number(tv), e.number(yv), e.number(1.0 - tv), e.number(1.0 - yv)),
        )),
    }
}
