//! `bptui run`: trains headless, printing each epoch's train and test mean loss (and error rate)
//! with a progress bar on a terminal, then writes the homework's metrics and label files.

use crate::limits::Limits;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::{emit, load, report_non_finite, RunArgs};
use crate::engine::Backward;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::numfmt::py_repr;
use crate::session::{EpochMetrics, Session};

/// The files `run` writes besides standard output.
struct Outputs {
    metrics: Option<PathBuf>,
    train: Option<PathBuf>,
    test: Option<PathBuf>,
}

pub(super) fn run(args: RunArgs, limits: Limits) -> Result<i32> {
    let (mut model, _) = load(&args.model, &args.data, &[], limits)?;
    if let Some(e) = args.epochs {
        model.set_epochs(e);
    }
    if let Some(lr) = args.learning_rate {
        model.set_learning_rate(lr);
    }
    model.require_examples()?;
    let outputs = Outputs { metrics: args.metrics_out, train: args.train_out, test: args.test_out };
    let backward = args.backward.into();
    if model.train_data().is_none() {
        return without_data(model, backward, &outputs);
    }
    if (outputs.train.is_some() || outputs.test.is_some()) && !model.is_classifier() {
        return Err(Error::Usage(
            "--train-out and --test-out need a classifier (binary_cross_entropy or cross_entropy loss)".into(),
        ));
    }
    if outputs.test.is_some() && model.test_data().is_none() {
        return Err(Error::Usage("--test-out needs data.test (or data.validation) in the model".into()));
    }
    let mut session = train(model, backward)?;
    if let Some(path) = &outputs.metrics {
        crate::output::write_text(path, &metrics_file(&session))?;
    }
    for (path, train) in [(&outputs.train, true), (&outputs.test, false)] {
        let Some(path) = path else { continue };
        write_labels(&mut session, path, train)?;
    }
    Ok(0)
}

/// A graph model without data: one forward and backward pass; prints its output's value.
fn without_data(model: Model, backward: Backward, outputs: &Outputs) -> Result<i32> {
    if outputs.metrics.is_some() || outputs.train.is_some() || outputs.test.is_some() {
        return Err(Error::Usage(format!(
            "{}: the model has no data.train, so there are no metrics or labels to write",
            model.file().display()
        )));
    }
    let mut session = Session::new(model, backward);
    session.run_to_end();
    let g = session.graph();
    emit(&format!("{} = {}\n", g.node(g.loss()).name, py_repr(session.workspace().loss_value(g))))?;
    report_non_finite(&session);
    Ok(0)
}

/// Trains to the end, printing each epoch's line as it finishes (and the progress bar on a
/// terminal); returns the trained session.
fn train(model: Model, backward: Backward) -> Result<Session> {
    let test_key = model.test_key().to_string();
    let epochs = model.config().epochs;
    let per_epoch = model.train_data().map(|d| d.len()).unwrap_or(1);
    let tty = std::io::stderr().is_terminal();
    let mut session = Session::new(model, backward);
    let total = epochs * per_epoch;
    let mut shown = 0;
    let mut printed = 0;
    // Whole examples at a time, with the micro-steps' numbers (see `Session::run_fast`). A
    // failed write to stdout (a closed pipe) is reported once the run ends.
    let mut failed: Option<Error> = None;
    session.run_fast(|session| {
        let done = session.losses().len();
        if tty && done != shown && (done.is_multiple_of(25) || done == total) {
            shown = done;
            progress(done, total);
        }
        for m in &session.metrics()[printed..] {
            if tty {
                eprint!("\r\x1b[K");
            }
            if failed.is_none() {
                failed = emit(&epoch_line(m, &test_key)).err();
            }
        }
        printed = session.metrics().len();
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if tty {
        eprint!("\r\x1b[K");
    }
    report_non_finite(&session);
    Ok(session)
}

/// `epoch   1  train loss …  train error …  test loss …  test error …`
fn epoch_line(m: &EpochMetrics, test_key: &str) -> String {
    let mut line = format!("epoch {:>3}", m.epoch);
    if let Some(s) = m.train {
        line += &format!("  train loss {}", py_repr(s.loss));
        // An error rate from NaN outputs would be a made-up number.
        if let Some(e) = s.error.filter(|_| s.loss.is_finite()) {
            line += &format!("  train error {}", py_repr(e));
        }
    }
    if let Some(s) = m.test {
        line += &format!("  {test_key} loss {}", py_repr(s.loss));
        if let Some(e) = s.error.filter(|_| s.loss.is_finite()) {
            line += &format!("  {test_key} error {}", py_repr(e));
        }
    }
    line + "\n"
}

/// The course homework's metrics file: each epoch's mean losses, then the last error rates.
fn metrics_file(session: &Session) -> String {
    let model = session.model();
    let test_key = &model.test_key();
    // The homework's word for its loss; a regression model's file names its own.
    let loss_word = if model.is_classifier() { "crossentropy" } else { "squared_error" };
    let mut text = String::new();
    for m in session.metrics() {
        if let Some(s) = m.train {
            text += &format!("epoch={} {loss_word}(train): {}\n", m.epoch, py_repr(s.loss));
        }
        if let Some(s) = m.test {
            text += &format!("epoch={} {loss_word}({}): {}\n", m.epoch, test_key, py_repr(s.loss));
        }
    }
    if let Some(last) = session.metrics().last() {
        if let Some(e) = last.train.and_then(|s| s.error) {
            text += &format!("error(train): {}\n", py_repr(e));
        }
        if let Some(e) = last.test.and_then(|s| s.error) {
            text += &format!("error({}): {}\n", test_key, py_repr(e));
        }
    }
    text
}

/// One predicted label per line for the training (`train`) or the test data.
fn write_labels(session: &mut Session, path: &Path, train: bool) -> Result<()> {
    let model = session.model();
    if let Some(data) = if train { model.train_data().cloned() } else { model.test_data().cloned() } {
        let labels = session.predict(&data).unwrap_or_default();
        let text: String = labels.iter().map(|l| format!("{l}\n")).collect();
        crate::output::write_text(path, &text)?;
    }
    Ok(())
}

/// `[#########---------------------] 300/1000 examples` on stderr, redrawn in place.
fn progress(done: usize, total: usize) {
    let width = 30;
    let filled = (done * width / total.max(1)).min(width);
    eprint!("\r[{}{}] {}/{} examples", "#".repeat(filled), "-".repeat(width - filled), done, total);
    let _ = std::io::stderr().flush();
}
