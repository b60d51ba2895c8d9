//! Why an epoch's mean loss differs: the ways an epoch mean is taken wrongly, each computed from
//! bptui's own run (the rows' losses with the end-of-epoch parameters, with the start-of-epoch
//! ones, the losses of the epoch's training steps) and said only when it gives their number.
//! An epoch's metric is not a value of an example, so this is asked on its own, not through the
//! `CHECKS` table.

use ndarray::ArrayD;

use crate::data::Dataset;
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
    let metric = Metric::new(session, key, (o, t), tol);
    let mut out = Vec::new();
    if metric.k.ends_with("loss") {
        let end = session.param_values();
        if let Some(data) = metric.set {
            out.extend(set_mean_taken_wrongly(&metric, session, history, epoch, &end, data));
        }
        out.extend(training_losses(&metric, session, epoch));
        if let Some(data) = metric.other {
            out.extend(other_set(&metric, session, &end, data, their));
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

/// Their epoch metric beside ours, with the words its sentences use.
struct Metric<'a> {
    /// Their name of it (`validation_loss`).
    key: &'a str,
    /// The name as bptui reads it (`test_loss`).
    k: String,
    o: f64,
    t: f64,
    tol: &'a Tolerance,
    /// The data set the metric is taken over, and the other one.
    set: Option<&'a Dataset>,
    other: Option<&'a Dataset>,
    set_word: &'a str,
    other_word: &'a str,
    /// "your train_loss 0.25": how each sentence starts.
    yours: String,
}

impl<'a> Metric<'a> {
    fn new(session: &'a Session, key: &'a str, (o, t): (f64, f64), tol: &'a Tolerance) -> Metric<'a> {
        let model = session.model();
        let k = key.replace("validation", "test");
        let test_word = model.test_key();
        let (set, other, other_word) = if k.starts_with("train") {
            (model.train_data(), model.test_data(), test_word)
        } else {
            (model.test_data(), model.train_data(), "training")
        };
        let set_word = if k.starts_with("train") { "training" } else { test_word };
        let yours = format!("your {key} {}", py_repr(t));
        Metric { key, k, o, t, tol, set, other, set_word, other_word, yours }
    }

    /// Whether a way of taking the metric that gives `c` gives their number and not ours.
    fn is(&self, c: f64) -> bool {
        self.tol.close(c, self.t, c.abs()) && !self.tol.close(c, self.o, self.o.abs())
    }
}

/// The mean over the set's rows taken wrongly: their sum, divided by the other set's size,
/// divided at every step, the last row alone, or with the parameters of the epoch's start.
fn set_mean_taken_wrongly(
    metric: &Metric,
    session: &Session,
    history: &History,
    epoch: usize,
    end: &[ArrayD<f64>],
    data: &Dataset,
) -> Vec<String> {
    let mut out = Vec::new();
    let (yours, set_word, other_word, o) = (&metric.yours, metric.set_word, metric.other_word, metric.o);
    let losses = session.row_losses(end, data);
    let n = losses.len() as f64;
    let sum: f64 = losses.iter().sum();
    if metric.is(sum) {
        out.push(format!(
            "{yours} is the sum of the {} rows' losses ({}), not their mean: divide by N = {n} (bptui's mean {}).",
            losses.len(),
            short(sum),
            short(o)
        ));
    }
    if let Some(other) = metric.other.filter(|o| o.len() != losses.len()) {
        let m = other.len() as f64;
        if metric.is(sum / m) {
            out.push(format!(
                "{yours} is the sum of the {set_word} set's {} losses divided by {m}, the size of the {other_word} \
                 set: divide by the {set_word} set's own N = {n}.",
                losses.len()
            ));
        }
    }
    let running = losses.iter().fold(0.0, |m, j| (m + j) / n);
    if metric.is(running) {
        out.push(format!(
            "{yours} is a running mean divided at every step: (((J₁/N + J₂)/N + J₃)/N …) = {}, as `loss += J; \
             loss /= N` inside the loop gives. Add up the {} losses and divide once, after the loop.",
            short(running),
            losses.len()
        ));
    }
    if let Some(&last) = losses.last() {
        if metric.is(last) {
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
        if metric.is(stale) {
            out.push(format!(
                "{yours} is the mean over the {set_word} set with the parameters of the start of epoch {epoch} \
                 ({}): the epoch's metrics use the parameters at its end, after its last update.",
                short(stale)
            ));
        }
    }
    out
}

/// Their metric made of the training steps' own losses: the epoch's last J, or the mean of the
/// J's its steps computed (each with the parameters of its own step).
fn training_losses(metric: &Metric, session: &Session, epoch: usize) -> Vec<String> {
    let mut out = Vec::new();
    let (yours, set_word) = (&metric.yours, metric.set_word);
    let trained: Vec<f64> = session.losses().iter().filter(|l| l.epoch == epoch).map(|l| l.loss).collect();
    if let Some(&last) = trained.last() {
        if metric.is(last) {
            out.push(format!(
                "{yours} is the J of the epoch's last training example ({}), not a mean over the {set_word} set: a \
                 variable left over from the training loop?",
                short(last)
            ));
        }
    }
    if metric.k.starts_with("train") && !trained.is_empty() {
        let during = trained.iter().sum::<f64>() / trained.len() as f64;
        if metric.is(during) {
            out.push(format!(
                "{yours} is the mean of the J's computed during the epoch's training ({}), each with the parameters of \
                 its own step: the epoch's train loss is a fresh pass over the training set with the parameters at \
                 the end of the epoch (lecture's SGD, lines 12–13).",
                short(during)
            ));
        }
    }
    out
}

/// Their metric taken over the other data set: its mean loss there, or the very number of their
/// own metric of the other set.
fn other_set(
    metric: &Metric,
    session: &Session,
    end: &[ArrayD<f64>],
    data: &Dataset,
    their: &EpochRecord,
) -> Option<String> {
    let (key, k, t) = (metric.key, &metric.k, metric.t);
    let (yours, set_word, other_word) = (&metric.yours, metric.set_word, metric.other_word);
    let on_other = session.row_losses(end, data).iter().sum::<f64>() / data.len() as f64;
    let own_other = their
        .metrics
        .iter()
        .find(|(name, _)| {
            let n = name.replace("validation", "test");
            n != *k && n.ends_with("loss")
        })
        .map(|(name, v)| (name.clone(), *v));
    let same_as_their_other = own_other.as_ref().filter(|(_, v)| v.to_bits() == t.to_bits());
    if metric.is(on_other) {
        let also = same_as_their_other.map(|(name, _)| format!(" (it equals your own {name})")).unwrap_or_default();
        Some(format!(
            "{yours} is the mean loss over the {other_word} set{also}, where {key} is the mean over the \
             {set_word} set: the {set_word} loss is computed on the wrong data set."
        ))
    } else if let Some((name, _)) = same_as_their_other {
        Some(format!("{yours} is exactly your own {name}: is the {set_word} loss computed on the {other_word} set?"))
    } else {
        None
    }
}
