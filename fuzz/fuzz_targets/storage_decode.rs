//! The storage crate's pure decoders on arbitrary bytes: a WAL segment and
//! a snapshot file. Neither may panic; a decoded segment's end lies within
//! the bytes.
#![no_main]

use etcdraft_storage::decode_segment;
use etcdraft_storage::snapshotter::decode_snapshot_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let seg = decode_segment(data);
    assert!(seg.end as usize <= data.len());
    let _ = decode_snapshot_file(data);
});
