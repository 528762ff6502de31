//! A crash can cut the last segment anywhere: at every byte offset of its
//! last two batches, whether the file ends there or zeros (preallocation)
//! follow, the log opens with exactly the batches written before the cut,
//! never half of one, and goes on from there.

mod common;

use std::os::unix::fs::FileExt;

use common::{entries, hs, logger, options};
use etcdraft_storage::Wal;
use raft::eraftpb::{Entry, HardState, SnapshotMetadata};

/// One batch as saved: its entries and hard state, and the offset after it.
struct Batch {
    entries: Vec<Entry>,
    hard_state: HardState,
    end: u64,
}

#[test]
fn every_cut_of_the_last_two_batches_opens_with_the_whole_batches_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wal");
    let opts = options(64 * 1024);
    let mut wal = Wal::create(&dir, &opts, &logger()).unwrap();
    let mut batches = Vec::new();
    let mut next = 1;
    for b in 0..6u64 {
        // Batches of two entries of different sizes, then the hard state.
        let ents = vec![
            entries(next, next, 1, 20 + 7 * b as usize)[0].clone(),
            entries(next + 1, next + 1, 1, 3)[0].clone(),
        ];
        next += 2;
        let state = hs(1, 1, next - 3);
        wal.save(Some(&state), &ents).unwrap();
        batches.push(Batch {
            entries: ents,
            hard_state: state,
            end: wal.position().1,
        });
    }
    let (segment, _) = wal.position();
    drop(wal);
    let path = segment.path(&dir);
    let original = std::fs::read(&path).unwrap();
    let from = batches[batches.len() - 3].end;
    let to = batches[batches.len() - 1].end;

    for cut in from..=to {
        for zero_filled in [false, true] {
            // In place: truncating a file to zero and rewriting it costs a
            // flush on ext4.
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            file.write_all_at(&original, 0).unwrap();
            if zero_filled {
                file.write_all_at(&vec![0; original.len() - cut as usize], cut)
                    .unwrap();
            } else {
                file.set_len(cut).unwrap();
            }
            drop(file);

            // A batch is whole if all its bytes are there: zeroing its
            // padding changes nothing.
            let whole: Vec<&Batch> = batches
                .iter()
                .filter(|b| {
                    b.end <= cut
                        || (zero_filled
                            && original[cut as usize..b.end as usize]
                                .iter()
                                .all(|&x| x == 0))
                })
                .collect();
            let want: Vec<Entry> = whole.iter().flat_map(|b| b.entries.clone()).collect();
            let want_hs = whole.last().unwrap().hard_state;
            let (mut wal, got) = Wal::open_at(&dir, &SnapshotMetadata::default(), &opts, &logger())
                .unwrap_or_else(|e| panic!("cut at {cut} (zeros: {zero_filled}): {e}"));
            assert_eq!(got.entries, want, "cut at {cut} (zeros: {zero_filled})");
            assert_eq!(
                got.hard_state, want_hs,
                "cut at {cut} (zeros: {zero_filled})"
            );
            // The repaired log takes new batches where the torn one began.
            if cut % 5 == 0 {
                let index = want.last().unwrap().index + 1;
                let more = entries(index, index, 2, 9);
                wal.save(Some(&hs(2, 0, index)), &more).unwrap();
                drop(wal);
                let (_, again) =
                    Wal::open_at(&dir, &SnapshotMetadata::default(), &opts, &logger()).unwrap();
                let mut want = want.clone();
                want.extend(more);
                assert_eq!(again.entries, want, "cut at {cut}, then one more batch");
            }
        }
    }
}
