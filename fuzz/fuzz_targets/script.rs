//! The datadriven parser and the interaction handler on arbitrary script
//! text: a mistake in a script is an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raft_harness::datadriven::run_script;
use raft_harness::interaction::InteractionEnv;

fuzz_target!(|data: &[u8]| {
    // Long scripts only slow the search down.
    if data.len() > 2048 {
        return;
    }
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    // Numbers of more than three digits only make scripts slow (add-nodes
    // with a billion nodes runs out of memory, as etcd's harness would).
    let mut digits = 0;
    for c in src.chars() {
        digits = if c.is_ascii_digit() { digits + 1 } else { 0 };
        if digits > 3 {
            return;
        }
    }
    let _ = run_script("fuzz.txt", src, &mut InteractionEnv::new());
});
