//! The interactive debugger.

use std::path::Path;

use crate::engine::Backward;
use crate::error::Result;
use crate::model::Model;

/// Another implementation's trace, shown beside bptui's numbers.
pub struct Against;

impl Against {
    pub fn load(_path: &Path) -> Result<Against> {
        Ok(Against)
    }
}

pub fn run(_model: Model, _backward: Backward, _against: Option<Against>) -> std::io::Result<()> {
    Ok(())
}
