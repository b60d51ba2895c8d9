//! Why an epoch's mean loss differs: the ways an epoch mean is taken wrongly, each computed from
//! bptui's own run (the rows' losses with the end-of-epoch parameters, with the start-of-epoch
//! ones, the losses of the epoch's training steps) and said only when it gives their number.

use crate::numfmt::{py_repr, short};
use crate::session::Session;
use crate::trace::EpochRecord;

use super::super::tolerance::Tolerance;
use super::History;

/// The sentences that explain their epoch metric `key` (theirs `t`, ours `o`), or the rule.
pub fn metric_diagnosis(
    session: &Session,
    history: &History,
    epoch: usize,
    key: &str,
    (o, t): (f64, f64),
    their: &EpochRecord,
    tol: &Tolerance,
) -> Vec<String> {
    let mut out = Vec::new();
    let model = session.model();
    let k = key.replace("validation", "test");
    let test_word = model.test_key.as_str();
    let (set, other, other_word) = if k.starts_with("train") {
        (model.train_data.as_ref(), model.test_data.as_ref(), test_word)
    } else {
        (model.test_data.as_ref(), model.train_data.as_ref(), "training")
    };
    let set_word = if k.starts_with("train") { "training" } else { test_word };
    let is = |c: f64| tol.close(c, t, c.abs()) && !tol.close(c, o, o.abs());
    let yours = format!("your {key} {}", py_repr(t));
    if k.ends_with("loss") {
        let end = session.param_values();
        if let Some(data) = set {
            let losses = session.row_losses(&end, data);
            let n = losses.len() as f64;
            let sum: f64 = losses.iter().sum();
            if is(sum) {
                out.push(format!(
                    "{yours} is the sum of the {} rows' losses ({}), not their mean: divide by N = {n} (bptui's mean {}).",
                    losses.len(),
                    short(sum),
                    short(o)
                ));
            }
            if let Some(other) = other.filter(|o| o.len() != losses.len()) {
                let m = other.len() as f64;
                if is(sum / m) {
                    out.push(format!(
                        "{yours} is the sum of the {set_word} set's {} losses divided by {m}, the size of the {other_word} \
                         set: divide by the {set_word} set's own N = {n}.",
                        losses.len()
                    ));
                }
            }
            let running = losses.iter().fold(0.0, |m, j| (m + j) / n);
            if is(running) {
                out.push(format!(
                    "{yours} is a running mean divided at every step: (((J₁/N + J₂)/N + J₃)/N …) = {}, as `loss += J; \
                     loss /= N` inside the loop gives. Add up the {} losses and divide once, after the loop.",
                    short(running),
                    losses.len()
                ));
            }
            if let Some(&last) = losses.last() {
                if is(last) {
                    out.push(format!(
                        "{yours} is the loss of the {set_word} set's last row alone ({}), not the mean over its {} rows: a \
                         variable left over from the loop?",
                        short(last),
                        losses.len()
                    ));
                }
            }
            if let Some(start) = history.epoch_start(epoch) {
                let stale = session.row_losses(start, data).iter().sum::<f64>() / n;
                if is(stale) {
                    out.push(format!(
                        "{yours} is the mean over the {set_word} set with the parameters of the start of epoch {epoch} \
                         ({}): the epoch's metrics use the parameters at its end, after its last update.",
                        short(stale)
                    ));
                }
            }
        }
        let trained: Vec<f64> = session.losses().iter().filter(|l| l.epoch == epoch).map(|l| l.loss).collect();
        if let Some(&last) = trained.last() {
            if is(last) {
                out.push(format!(
                    "{yours} is the J of the epoch's last training example ({}), not a mean over the {set_word} set: a \
                     variable left over from the training loop?",
                    short(last)
                ));
            }
        }
        if k.starts_with("train") && !trained.is_empty() {
            let during = trained.iter().sum::<f64>() / trained.len() as f64;
            if is(during) {
                out.push(format!(
                    "{yours} is the mean of the J's computed during the epoch's training ({}), each with the parameters of \
                     its own step: the epoch's train loss is a fresh pass over the training set with the parameters at \
                     the end of the epoch (lecture's SGD, lines 12–13).",
                    short(during)
                ));
            }
        }
        if let Some(data) = other {
            let on_other = session.row_losses(&end, data).iter().sum::<f64>() / data.len() as f64;
            let own_other = their
                .metrics
                .iter()
                .find(|(name, _)| {
                    let n = name.replace("validation", "test");
                    n != k && n.ends_with("loss")
                })
                .map(|(name, v)| (name.clone(), *v));
            let same_as_their_other = own_other.as_ref().filter(|(_, v)| v.to_bits() == t.to_bits());
            if is(on_other) {
                let also =
                    same_as_their_other.map(|(name, _)| format!(" (it equals your own {name})")).unwrap_or_default();
                out.push(format!(
                    "{yours} is the mean loss over the {other_word} set{also}, where {key} is the mean over the \
                     {set_word} set: the {set_word} loss is computed on the wrong data set."
                ));
            } else if let Some((name, _)) = same_as_their_other {
                out.push(format!(
                    "{yours} is exactly your own {name}: is the {set_word} loss computed on the {other_word} set?"
                ));
            }
        }
    }
    if out.is_empty() {
        out.push(
            "no wrong way of averaging that bptui knows gives your number: the metric is the mean over the whole data \
             set with the parameters at the end of the epoch (lecture's SGD, lines 12–13)."
                .into(),
        );
    }
    out
}
