//! `bptui MODEL.yaml`: opens the interactive debugger, with another implementation's trace
//! beside bptui's numbers when `--against` names one.

use super::{load, TuiArgs};
use crate::error::{Error, Result};

pub(super) fn open(args: TuiArgs) -> Result<i32> {
    let Some(path) = &args.model else {
        return Err(Error::Usage("usage: bptui MODEL.yaml (the debugger), or bptui --help for the commands".into()));
    };
    let (mut model, aliases) = load(path, &args.data, &args.alias)?;
    model.require_examples()?;
    let against = match &args.against {
        Some(p) => {
            let theirs = crate::diff::Theirs::load_streaming(p, &model.graph, &aliases)?;
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
