//! Port of etcd's `quorum/majority_test.go`.

use std::collections::HashMap;

use crate::quorum::MajorityConfig;

/// A case: its name, the voters, their acked indexes and the expected table.
type Case = (
    &'static str,
    &'static [u64],
    &'static [(u64, u64)],
    &'static str,
);

#[test]
fn test_describe() {
    let cases: [Case; 4] = [
        (
            "different commit index for each voter",
            &[1, 2, 3],
            &[(1, 101), (2, 102), (3, 103)],
            "       idx\n\
             >      101    (id=1)\n\
             x>     102    (id=2)\n\
             xx>    103    (id=3)\n",
        ),
        (
            "same commit index for all voters",
            &[1, 2, 3],
            &[(1, 100), (2, 100), (3, 100)],
            "       idx\n\
             >      100    (id=1)\n\
             >      100    (id=2)\n\
             >      100    (id=3)\n",
        ),
        (
            "same commit index for part of the voters",
            &[1, 2, 3],
            &[(1, 100), (2, 102), (3, 102)],
            "       idx\n\
             >      100    (id=1)\n\
             x>     102    (id=2)\n\
             x>     102    (id=3)\n",
        ),
        (
            "missing some commit indexes",
            &[1, 2, 3],
            &[(1, 101), (3, 103)],
            "       idx\n\
             x>     101    (id=1)\n\
             ?        0    (id=2)\n\
             xx>    103    (id=3)\n",
        ),
    ];
    for (name, voters, acked, want) in cases {
        let c: MajorityConfig = voters.into();
        let l: HashMap<u64, u64> = acked.iter().copied().collect();
        assert_eq!(c.describe(&l), want, "{name}");
    }
}
