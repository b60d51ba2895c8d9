//! A session's run as trace records (contract §3): what `bptui trace` writes and what `diff`
//! and the debugger compare with. The format itself is [`crate::trace`]'s; this is the one
//! place that reads a session into it.

use crate::engine::{NodeId, Op};
use crate::error::Result;
use crate::trace::{EpochRecord, ExampleRecord, Record};

use super::{EpochMetrics, Finished, Position, Session};

/// The record of the example at `at`, from the session's workspace as that example left it.
pub fn example_record(session: &Session, at: Position) -> ExampleRecord {
    record_of(session, at, |_| true, |_| true)
}

/// The record of a step in the middle of an example (the debugger's `s`): only the values this
/// example has computed and the adjoints that are final, so that a zero in the file is a zero
/// of the computation and never an adjoint not reached yet.
pub fn step_record(session: &Session, at: Position) -> ExampleRecord {
    record_of(session, at, |id| session.value_ready(id), |id| session.adjoint_ready(id))
}

/// The record of the values and adjoints that `value` and `adjoint` keep, and the parameters.
fn record_of(
    session: &Session,
    at: Position,
    value: impl Fn(NodeId) -> bool,
    adjoint: impl Fn(NodeId) -> bool,
) -> ExampleRecord {
    let graph = session.graph();
    let ws = session.workspace();
    let mut forward = Vec::new();
    let mut adjoints = Vec::new();
    for (id, node) in graph.nodes().iter().enumerate() {
        if !matches!(node.op, Op::Param | Op::Label | Op::Const(_)) && value(id) {
            forward.push((node.name.clone(), ws.values[id].clone()));
        }
    }
    for &id in graph.backward_order().iter().filter(|&&id| adjoint(id)) {
        adjoints.push((graph.node(id).name.clone(), ws.adjoints[id].clone()));
    }
    let params = graph.params().iter().map(|&p| (graph.node(p).name.clone(), ws.values[p].clone())).collect();
    ExampleRecord { epoch: at.epoch, example: at.example, row: at.row, forward, adjoints, params }
}

/// The record of an epoch's metrics.
pub fn epoch_record(m: &EpochMetrics) -> EpochRecord {
    let mut metrics = Vec::new();
    if let Some(s) = m.train {
        metrics.push(("train_loss".to_string(), s.loss));
        if let Some(e) = s.error {
            metrics.push(("train_error".to_string(), e));
        }
    }
    if let Some(s) = m.test {
        metrics.push(("test_loss".to_string(), s.loss));
        if let Some(e) = s.error {
            metrics.push(("test_error".to_string(), e));
        }
    }
    EpochRecord { epoch: m.epoch, metrics }
}

/// Runs `session` and collects the records of the first `max_examples` examples of each epoch
/// (all when `None`) and every epoch's metrics.
pub fn record_run(
    session: &mut Session,
    max_examples: Option<usize>,
    mut sink: impl FnMut(Record) -> Result<()>,
) -> Result<()> {
    while let Some(done) = session.finish_next() {
        match done {
            Finished::Evaluation(m) => sink(Record::Epoch(epoch_record(&m)))?,
            Finished::Example(at) if max_examples.is_none_or(|k| at.example <= k) => {
                sink(Record::Example(example_record(session, at)))?
            }
            Finished::Example(_) => {}
        }
    }
    Ok(())
}
