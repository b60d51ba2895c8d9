//! The interactive debugger (placeholder in this branch; the real one is merged from main).

use crate::diff::Theirs;
use crate::engine::Backward;
use crate::model::Model;

pub fn run(_model: Model, _backward: Backward, _against: Option<Theirs>) -> std::io::Result<()> {
    Ok(())
}
