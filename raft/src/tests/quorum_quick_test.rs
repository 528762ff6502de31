//! Port of etcd's `quorum/quick_test.go`: the fast commit index computation
//! agrees with a naive one on random inputs.

use std::collections::HashMap;

use super::support::TestRng;
use crate::quorum::{alternative_majority_committed_index, MajorityConfig};

/// A small random map of ids to acked indexes, drawn like etcd's
/// `smallRandIdxMap`: `n < 10` distinct ids out of `0..2n`, each with an
/// index below `n`.
fn small_idx_map(rng: &mut TestRng) -> HashMap<u64, u64> {
    let n = rng.below(10);
    // The first n of a random permutation of 0..2n (Fisher-Yates).
    let mut ids: Vec<u64> = (0..2 * n).collect();
    for i in (1..ids.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        ids.swap(i, j);
    }
    ids.truncate(n as usize);
    ids.into_iter().map(|id| (id, rng.below(n))).collect()
}

/// etcd's `TestQuick` with its 50000 cases. The inputs hold fewer than ten
/// entries, so a failing pair is printed as is rather than shrunk (which is
/// also why this is a plain seeded loop: under proptest the same count took
/// over ten times as long in a debug build).
#[test]
fn test_quick() {
    let mut rng = TestRng::new(0x51_c0de);
    for case in 0..50_000 {
        let members = small_idx_map(&mut rng);
        let l = small_idx_map(&mut rng);
        let c: MajorityConfig = members.keys().copied().collect();
        assert_eq!(
            c.committed_index(&l),
            alternative_majority_committed_index(&c, &l),
            "case {case}: members {members:?}, acked {l:?}"
        );
    }
}
