//! The interaction environment (etcd's `rafttest`): real `RawNode`s driven by
//! script commands. (To be written.)

use crate::datadriven::{Handler, ScriptError, TestData};

/// A fresh interaction environment for one script file.
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
