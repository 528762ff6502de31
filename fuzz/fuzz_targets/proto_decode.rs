//! Every wire type decoded from arbitrary bytes: no panic, and whatever
//! decodes re-encodes to bytes that decode to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raft_proto::{
    ConfChange, ConfChangeSingle, ConfChangeV2, ConfState, Entry, HardState, Message, Snapshot,
    SnapshotMetadata,
};

fn round_trip<M: prost::Message + Default + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(m) = M::decode(data) {
        let again = M::decode(m.encode_to_vec().as_slice()).expect("re-encoded value decodes");
        assert_eq!(m, again);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 9 {
        0 => round_trip::<Entry>(rest),
        1 => round_trip::<Message>(rest),
        2 => round_trip::<HardState>(rest),
        3 => round_trip::<ConfState>(rest),
        4 => round_trip::<ConfChange>(rest),
        5 => round_trip::<ConfChangeV2>(rest),
        6 => round_trip::<ConfChangeSingle>(rest),
        7 => round_trip::<Snapshot>(rest),
        _ => round_trip::<SnapshotMetadata>(rest),
    }
});
