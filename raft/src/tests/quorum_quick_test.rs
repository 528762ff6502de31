//! Port of etcd's `quorum/quick_test.go`: the fast commit index computation
//! agrees with a naive one on random inputs.

use std::collections::HashMap;

use proptest::prelude::*;

use crate::quorum::{alternative_majority_committed_index, MajorityConfig};

/// A small random map of ids to acked indexes, shaped like etcd's
/// generator: `n < 10` distinct ids below `2n`, each with an index below `n`.
fn small_idx_map() -> impl Strategy<Value = HashMap<u64, u64>> {
    (0u64..10).prop_flat_map(|n| {
        (
            Just((0..2 * n).collect::<Vec<u64>>()).prop_shuffle(),
            proptest::collection::vec(0..n.max(1), n as usize),
        )
            .prop_map(move |(ids, idxs)| ids.into_iter().zip(idxs).collect())
    })
}

proptest! {
    // etcd runs 50000 cases; a fifth keeps this debug-build test at about
    // two seconds, and the inputs are small enough to be well covered.
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn test_quick(members in small_idx_map(), l in small_idx_map()) {
        let c: MajorityConfig = members.keys().copied().collect();
        prop_assert_eq!(
            c.committed_index(&l),
            alternative_majority_committed_index(&c, &l)
        );
    }
}
