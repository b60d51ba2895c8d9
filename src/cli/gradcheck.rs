//! `bptui gradcheck`: backprop's gradient against central differences (J(θ+ε) − J(θ−ε)) / 2ε
//! for every element of every parameter, and of every given input of a graph model, on the
//! first example.

use super::{emit, load, GradcheckArgs};
use crate::engine::check::{central_difference, relative_error};
use crate::engine::{numbers, Backward, Op, Workspace};
use crate::error::Result;
use crate::limits::Limits;
use crate::model::Model;
use crate::notation::shape_str;
use crate::numfmt::{py_repr, short};

/// Exit 0 when every relative error is within `--tol`, 1 otherwise.
pub(super) fn run(args: GradcheckArgs, limits: Limits) -> Result<i32> {
    let (model, _) = load(&args.model, &args.data, &[], limits)?;
    model.require_examples()?;
    let (report, ok) = gradcheck(&model, args.eps, args.tol, args.all);
    emit(&report)?;
    Ok(if ok { 0 } else { 1 })
}

/// Central differences against backprop for every parameter (and every given input of a graph
/// model) on the first example. Returns the report and whether all relative errors ≤ tol.
pub fn gradcheck(model: &Model, eps: f64, tol: f64, all: bool) -> (String, bool) {
    let g = &model.graph();
    let mut ws = Workspace::new(g);
    for (id, v) in model.initial() {
        ws.values[*id].assign(v);
    }
    if let Some(d) = &model.train_data() {
        crate::session::load_row(g, &mut ws, d, 0);
    }
    ws.forward_all(g);
    ws.backward_all(g, Backward::B);
    let targets: Vec<usize> =
        (0..g.len()).filter(|&i| matches!(g.node(i).op, Op::Param | Op::Input) && g.needs_grad(i)).collect();
    let mut out = format!(
        "gradcheck {}: first example, central differences with eps {}, tolerance {}\nrelative error = |backprop − numeric| / max(|backprop|, |numeric|, 1e-8)\n",
        model.name(),
        py_repr(eps),
        py_repr(tol)
    );
    let mut ok = true;
    for id in targets {
        let node = g.node(id);
        let analytic = ws.adjoints[id].clone();
        let mut worst = (0.0f64, 0usize, 0.0, 0.0);
        let n = analytic.len();
        let show = all || n <= 24;
        out += &format!(
            "{} {} ({}):\n",
            if node.op == Op::Param { "parameter" } else { "input" },
            node.name,
            shape_str(&node.shape)
        );
        for i in 0..n {
            let numeric = central_difference(g, &mut ws, id, i, eps, |ws| ws.loss_value(g));
            let a = numbers(&analytic)[i];
            let rel = relative_error(a, numeric);
            if rel > worst.0 || i == 0 {
                worst = (rel, i, a, numeric);
            }
            if show {
                out += &format!(
                    "  {:<10} backprop {:>24}  numeric {:>24}  rel {:.2e}{}\n",
                    crate::notation::entry_str(&node.shape, i),
                    py_repr(a),
                    py_repr(numeric),
                    rel,
                    if rel > tol { "  ✗" } else { "" }
                );
            }
        }
        ws.forward_all(g);
        let pass = worst.0 <= tol;
        ok &= pass;
        out += &format!(
            "  worst {} at {}: backprop {} numeric {} → {}\n",
            format_args!("{:.2e}", worst.0),
            crate::notation::entry_str(&node.shape, worst.1),
            short(worst.2),
            short(worst.3),
            if pass { "ok" } else { "FAIL" }
        );
    }
    out += if ok { "all gradients agree\n" } else { "some gradients disagree beyond the tolerance\n" };
    (out, ok)
}
