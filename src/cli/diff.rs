//! `bptui diff`: runs the model beside another implementation's trace and reports the first
//! number that differs (exit 1), or that every number agrees (exit 0).

use super::{emit, load, DiffArgs};
use crate::diff::{prepare, render, Theirs};
use crate::error::Result;
use crate::limits::Limits;
use crate::session::Session;

pub(super) fn diff(args: DiffArgs, limits: Limits) -> Result<i32> {
    if !args.command.is_empty() {
        return super::program::diff_program(DiffArgs { limits, ..args });
    }
    let (Some(model_path), Some(theirs_path)) = (&args.model, &args.theirs) else {
        return Err(crate::error::Error::Usage(
            "bptui diff MODEL.yaml THEIRS.jsonl, or bptui diff [MODEL.yaml] -- python3 neuralnet.py ARGS... \
             (your program, run as it is)"
                .into(),
        ));
    };
    let (model, aliases) = load(model_path, &args.data, &args.alias, limits)?;
    model.require_examples()?;
    let theirs = Theirs::load_streaming(theirs_path, model.graph(), &aliases, limits)?;
    let (model, notes) = prepare(&model, &theirs)?;
    let mut session = Session::new(model, args.backward.into());
    let mut report = crate::diff::run(&mut session, &theirs, args.tol)?;
    report.notes.splice(0..0, notes);
    emit(&render(&report, &theirs))?;
    Ok(if report.divergence.is_some() { 1 } else { 0 })
}
