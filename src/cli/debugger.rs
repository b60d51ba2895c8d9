//! `bptui MODEL.yaml`: opens the interactive debugger, with another implementation's trace
//! beside bptui's numbers when `--against` names one, or what their program computes when
//! `--against -- python3 neuralnet.py ...` runs it.

use super::{load, DiffArgs, TuiArgs};
use crate::error::{Error, Result};
use crate::limits::Limits;

pub(super) fn open(args: TuiArgs, limits: Limits) -> Result<i32> {
    let program = args.against.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if !args.command.is_empty() && !program {
        return Err(Error::Usage(
            "a command after `--` is run with `--against`: bptui [MODEL.yaml] --against -- python3 neuralnet.py ARGS..."
                .into(),
        ));
    }
    if program {
        if args.command.is_empty() {
            return Err(Error::Usage(
                "--against needs their trace (--against THEIRS) or their program after `--` (--against -- python3 \
                 neuralnet.py ARGS...)"
                    .into(),
            ));
        }
        let diff = DiffArgs {
            model: args.model.clone(),
            theirs: None,
            command: args.command.clone(),
            keep: None,
            save_model: None,
            timeout: args.timeout,
            tol: args.tol,
            alias: args.alias.clone(),
            backward: args.backward,
            data: args.data.clone(),
            limits,
        };
        let Some((model, theirs)) = super::program::capture_for_debugger(diff)? else { return Ok(130) };
        crate::tui::run(model, args.backward.into(), Some(theirs), args.tol)
            .map_err(|e| Error::Usage(format!("the terminal failed: {e}")))?;
        return Ok(0);
    }
    let Some(path) = &args.model else {
        return Err(Error::Usage("usage: bptui MODEL.yaml (the debugger), or bptui --help for the commands".into()));
    };
    let (mut model, aliases) = load(path, &args.data, &args.alias, limits)?;
    model.require_examples()?;
    let against = match &args.against {
        Some(p) => {
            let theirs = crate::diff::Theirs::load_streaming(p, model.graph(), &aliases, limits)?;
            // Their initial weights and epochs, as `diff` runs them.
            model = crate::diff::prepare(&model, &theirs)?.0;
            Some(theirs)
        }
        None => None,
    };
    crate::tui::run(model, args.backward.into(), against, args.tol)
        .map_err(|e| Error::Usage(format!("the terminal failed: {e}")))?;
    Ok(0)
}
