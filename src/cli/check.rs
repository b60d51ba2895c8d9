//! `bptui check`: validates the model and its data and prints what was read, in the model
//! file's own spellings, then the graph.

use super::{emit, graph::graph_text, load, CheckArgs};
use crate::engine::optim::Optimizer;
use crate::error::Result;
use crate::limits::Limits;
use crate::model::Model;
use crate::numfmt::py_repr;

pub(super) fn check(args: CheckArgs, limits: Limits) -> Result<i32> {
    let (model, _) = load(&args.model, &args.data, &[], limits)?;
    emit(&check_report(&model))?;
    Ok(0)
}

/// `check`'s report: the model, its data, and its nodes in topological order.
pub fn check_report(model: &Model) -> String {
    let mut out = format!("model {} ({}): ok\n", model.name(), model.file().display());
    if let Some(about) = &model.about() {
        out += &format!("  {about}\n");
    }
    for (data, key) in [(model.train_data(), "train"), (model.test_data(), model.test_key())] {
        if let Some(d) = data {
            out += &format!("data.{key}: {} examples × {} features ({})\n", d.len(), d.width(), d.source);
        }
    }
    let c = &model.config();
    if model.train_data().is_some() {
        // As the model file spells them.
        let optimizer = match c.optimizer {
            Optimizer::Sgd => "sgd".to_string(),
            Optimizer::Adagrad { epsilon } => format!("adagrad (epsilon {})", py_repr(epsilon)),
        };
        out += &format!(
            "train: learning_rate {}, epochs {}, seed {}, optimizer {optimizer}, shuffle {}\n",
            py_repr(c.learning_rate),
            c.epochs,
            c.seed,
            c.shuffle.name(),
        );
    }
    out += &graph_text(model);
    out
}
