//! Comparing configurations (etcd `raftpb/confstate.go`).

use std::fmt;

use crate::ConfState;

/// Why two [`ConfState`]s are not equivalent: both sorted forms and both
/// inputs, in etcd's layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotEquivalent {
    /// The left input with its id lists sorted.
    pub left_sorted: ConfState,
    /// The right input with its id lists sorted.
    pub right_sorted: ConfState,
    /// The left input as given.
    pub left: ConfState,
    /// The right input as given.
    pub right: ConfState,
}

impl fmt::Display for NotEquivalent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ConfStates not equivalent after sorting:\n{:?}\n{:?}\nInputs were:\n{:?}\n{:?}",
            self.left_sorted, self.right_sorted, self.left, self.right
        )
    }
}

impl std::error::Error for NotEquivalent {}

impl ConfState {
    /// `Ok` if both describe the same configuration, regardless of the order
    /// of ids within each list (etcd `Equivalent`). The error is boxed: it
    /// holds four configurations and is only built on the failure path.
    pub fn equivalent(&self, other: &ConfState) -> Result<(), Box<NotEquivalent>> {
        let sorted = |cs: &ConfState| {
            let mut cs = cs.clone();
            cs.voters.sort_unstable();
            cs.learners.sort_unstable();
            cs.voters_outgoing.sort_unstable();
            cs.learners_next.sort_unstable();
            cs
        };
        let (l, r) = (sorted(self), sorted(other));
        if l == r {
            return Ok(());
        }
        Err(Box::new(NotEquivalent {
            left_sorted: l,
            right_sorted: r,
            left: self.clone(),
            right: other.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(voters: &[u64], learners: &[u64], outgoing: &[u64], next: &[u64]) -> ConfState {
        ConfState {
            voters: voters.to_vec(),
            learners: learners.to_vec(),
            voters_outgoing: outgoing.to_vec(),
            learners_next: next.to_vec(),
            auto_leave: false,
        }
    }

    #[test]
    fn test_conf_state_equivalent() {
        let cases = [
            // Order within each list does not matter.
            (
                cs(&[1, 2, 3], &[5, 4, 6], &[9, 8, 7], &[10, 20, 15]),
                cs(&[1, 2, 3], &[4, 5, 6], &[7, 9, 8], &[20, 10, 15]),
                true,
            ),
            (cs(&[], &[], &[], &[]), ConfState::default(), true),
            // Different voters.
            (
                cs(&[1, 2, 3, 4], &[], &[], &[]),
                cs(&[2, 1, 3], &[], &[], &[]),
                false,
            ),
            (
                cs(&[1, 4, 3], &[], &[], &[]),
                cs(&[2, 1, 3], &[], &[], &[]),
                false,
            ),
            // Different learners.
            (
                cs(&[], &[1, 2], &[], &[]),
                cs(&[], &[2, 3], &[], &[]),
                false,
            ),
            // A voter is not a learner.
            (cs(&[1], &[], &[], &[]), cs(&[], &[1], &[], &[]), false),
            // AutoLeave counts.
            (
                ConfState {
                    auto_leave: true,
                    ..Default::default()
                },
                ConfState::default(),
                false,
            ),
        ];
        for (i, (a, b, ok)) in cases.into_iter().enumerate() {
            assert_eq!(a.equivalent(&b).is_ok(), ok, "#{i}");
            assert_eq!(b.equivalent(&a).is_ok(), ok, "#{i} reversed");
        }
    }

    #[test]
    fn test_not_equivalent_text() {
        let a = cs(&[2, 1], &[], &[], &[]);
        let b = cs(&[3], &[], &[], &[]);
        let err = a.equivalent(&b).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("ConfStates not equivalent after sorting:\n"));
        assert!(text.contains("\nInputs were:\n"));
        assert!(text.contains("voters: [1, 2]"), "{text}");
        assert!(text.contains("voters: [2, 1]"), "{text}");
    }
}
