//! `bptui trace`: writes every node value, adjoint and updated parameter of every example, and
//! each epoch's metrics, as JSON Lines or .npz, streaming (a trace can be far larger than memory).

use super::{load, report_non_finite, TraceArgs};
use crate::error::Result;
use crate::limits::Limits;
use crate::session::record_run;
use crate::session::Session;
use crate::trace::{write_streaming, Record};

pub(super) fn trace(args: TraceArgs, limits: Limits) -> Result<i32> {
    let (mut model, _) = load(&args.model, &args.data, &[], limits)?;
    if let Some(e) = args.epochs {
        model.set_epochs(e);
    }
    model.require_examples()?;
    let mut session = Session::new(model, args.backward.into());
    // Each record goes to the file as it is made.
    let (examples, epochs) = write_streaming(&args.out, |put| {
        let (mut examples, mut epochs) = (0usize, 0usize);
        record_run(&mut session, args.examples, |r| {
            match r {
                Record::Example(_) => examples += 1,
                _ => epochs += 1,
            }
            put(&r)
        })?;
        Ok((examples, epochs))
    })?;
    eprintln!("wrote {} ({} example records, {} epoch records)", args.out.display(), examples, epochs);
    report_non_finite(&session);
    Ok(0)
}
