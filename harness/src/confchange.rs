//! The handler for etcd's `confchange` scripts. (To be written.)

use crate::datadriven::{Handler, ScriptError, TestData};

/// A fresh handler for one `confchange` script file.
pub fn new_handler() -> Box<dyn Handler> {
    Box::new(Unimplemented)
}

struct Unimplemented;

impl Handler for Unimplemented {
    fn handle(&mut self, d: &TestData) -> Result<String, ScriptError> {
        Err(ScriptError(format!(
            "{}: unknown command {:?}",
            d.pos, d.cmd
        )))
    }
}
