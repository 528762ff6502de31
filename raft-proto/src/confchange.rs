//! etcd's helpers for configuration changes (`raftpb/confchange.go`): a
//! common view of the two encodings, joint-consensus predicates, and the
//! compact `v1 l2 r3 u4` string form the test scripts use.

use std::fmt;

use bytes::Bytes;
use prost::Message as _;

use crate::{
    ConfChange, ConfChangeSingle, ConfChangeTransition, ConfChangeType, ConfChangeV2, EntryType,
};

/// A configuration change in either encoding, so that raft can handle
/// [`ConfChange`] and [`ConfChangeV2`] alike (etcd `ConfChangeI`).
pub trait ConfChangeI {
    /// The same operation as a [`ConfChangeV2`].
    fn as_v2(&self) -> ConfChangeV2;
    /// The [`ConfChange`] itself if this is one, `None` for a V2 change.
    fn as_v1(&self) -> Option<&ConfChange>;
}

impl ConfChangeI for ConfChange {
    fn as_v2(&self) -> ConfChangeV2 {
        ConfChangeV2 {
            transition: ConfChangeTransition::ConfChangeTransitionAuto as i32,
            changes: vec![ConfChangeSingle {
                change_type: self.change_type,
                node_id: self.node_id,
            }],
            context: self.context.clone(),
        }
    }

    fn as_v1(&self) -> Option<&ConfChange> {
        Some(self)
    }
}

impl ConfChangeI for ConfChangeV2 {
    fn as_v2(&self) -> ConfChangeV2 {
        self.clone()
    }

    fn as_v1(&self) -> Option<&ConfChange> {
        None
    }
}

/// Encodes a configuration change for an entry, with the entry type that
/// says how to decode it (etcd `MarshalConfChange`). `None` encodes as an
/// empty V2 change: no data, so it never counts against size limits.
pub fn marshal_conf_change(cc: Option<&dyn ConfChangeI>) -> (EntryType, Bytes) {
    match cc {
        None => (EntryType::EntryConfChangeV2, Bytes::new()),
        Some(cc) => match cc.as_v1() {
            Some(v1) => (EntryType::EntryConfChange, v1.encode_to_vec().into()),
            None => (
                EntryType::EntryConfChangeV2,
                cc.as_v2().encode_to_vec().into(),
            ),
        },
    }
}

impl ConfChangeV2 {
    /// Whether this change uses joint consensus, and if so whether raft
    /// leaves the joint config by itself: `Some(auto_leave)` when joint,
    /// `None` for the simple protocol (etcd `EnterJoint`, whose two bools
    /// are folded into the option).
    ///
    /// Joint consensus is used for more than one change or when asked for
    /// explicitly. An unknown transition value reads as `Auto`, as in etcd,
    /// where proto2's closed enums drop unknown values on decoding.
    pub fn enter_joint(&self) -> Option<bool> {
        let transition = self.transition();
        if transition != ConfChangeTransition::ConfChangeTransitionAuto || self.changes.len() > 1 {
            let auto_leave = match transition {
                ConfChangeTransition::ConfChangeTransitionAuto
                | ConfChangeTransition::ConfChangeTransitionJointImplicit => true,
                ConfChangeTransition::ConfChangeTransitionJointExplicit => false,
            };
            return Some(auto_leave);
        }
        None
    }

    /// Whether this change leaves a joint configuration: the zero change,
    /// except possibly for its context (etcd `LeaveJoint`).
    pub fn leave_joint(&self) -> bool {
        self.transition() == ConfChangeTransition::ConfChangeTransitionAuto
            && self.changes.is_empty()
    }
}

impl ConfChangeSingle {
    /// A single change of the given type to `node_id`.
    #[inline]
    pub fn new(change_type: ConfChangeType, node_id: u64) -> ConfChangeSingle {
        ConfChangeSingle {
            change_type: change_type as i32,
            node_id,
        }
    }
}

/// Why [`conf_changes_from_string`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfChangeParseError {
    /// A token shorter than an operation letter plus a node id.
    UnknownToken(String),
    /// A token whose first letter is not one of `v`, `l`, `r`, `u`.
    UnknownInput(String),
    /// A node id that is not a decimal `u64`.
    BadNodeId {
        /// The whole token.
        token: String,
        /// Why the number did not parse.
        reason: crate::strconv::NumError,
    },
}

impl fmt::Display for ConfChangeParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfChangeParseError::UnknownToken(t) => write!(f, "unknown token {t}"),
            ConfChangeParseError::UnknownInput(t) => write!(f, "unknown input: {t}"),
            ConfChangeParseError::BadNodeId { token, reason } => {
                // Go's strconv error names the function and the number.
                write!(
                    f,
                    "strconv.ParseUint: parsing {}: {reason}",
                    crate::quote::go_quote(&token.as_bytes()[1..])
                )
            }
        }
    }
}

impl std::error::Error for ConfChangeParseError {}

/// Parses space-separated operations into changes (etcd
/// `ConfChangesFromString`): `vN` makes N a voter, `lN` a learner, `rN`
/// removes N and `uN` updates N. The empty (or all-blank) string is no
/// changes.
pub fn conf_changes_from_string(s: &str) -> Result<Vec<ConfChangeSingle>, ConfChangeParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    // etcd splits on single spaces, so two spaces in a row make an empty
    // token, which is refused as too short.
    s.split(' ')
        .map(|tok| {
            if tok.len() < 2 {
                return Err(ConfChangeParseError::UnknownToken(tok.to_string()));
            }
            let change_type = match tok.as_bytes()[0] {
                b'v' => ConfChangeType::ConfChangeAddNode,
                b'l' => ConfChangeType::ConfChangeAddLearnerNode,
                b'r' => ConfChangeType::ConfChangeRemoveNode,
                b'u' => ConfChangeType::ConfChangeUpdateNode,
                _ => return Err(ConfChangeParseError::UnknownInput(tok.to_string())),
            };
            // The first byte is ASCII here, so slicing after it is on a
            // character boundary.
            let id = crate::strconv::parse_uint(&tok[1..]).map_err(|reason| {
                ConfChangeParseError::BadNodeId {
                    token: tok.to_string(),
                    reason,
                }
            })?;
            Ok(ConfChangeSingle::new(change_type, id))
        })
        .collect()
}

/// The inverse of [`conf_changes_from_string`] (etcd
/// `ConfChangesToString`). An unknown change type reads as `v` (add
/// voter), as etcd reads a decoded one: proto2's closed enums drop unknown
/// values.
pub fn conf_changes_to_string(ccs: &[ConfChangeSingle]) -> String {
    let mut buf = String::with_capacity(ccs.len() * 4);
    for (i, cc) in ccs.iter().enumerate() {
        if i > 0 {
            buf.push(' ');
        }
        buf.push(match cc.change_type() {
            ConfChangeType::ConfChangeAddNode => 'v',
            ConfChangeType::ConfChangeAddLearnerNode => 'l',
            ConfChangeType::ConfChangeRemoveNode => 'r',
            ConfChangeType::ConfChangeUpdateNode => 'u',
        });
        use fmt::Write as _;
        let _ = write!(buf, "{}", cc.node_id);
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(transition: ConfChangeTransition, changes: Vec<ConfChangeSingle>) -> ConfChangeV2 {
        ConfChangeV2 {
            transition: transition as i32,
            changes,
            context: Bytes::new(),
        }
    }

    #[test]
    fn test_leave_joint() {
        use ConfChangeTransition::*;
        let add0 = ConfChangeSingle::new(ConfChangeType::ConfChangeAddNode, 0);
        let rm0 = ConfChangeSingle::new(ConfChangeType::ConfChangeRemoveNode, 0);
        let mut with_ctx = v2(ConfChangeTransitionAuto, vec![]);
        with_ctx.context = Bytes::from_static(b"some context");
        let cases = [
            ("empty conf change", ConfChangeV2::default(), true),
            (
                "auto transition explicitly set",
                v2(ConfChangeTransitionAuto, vec![]),
                true,
            ),
            ("context is ignored", with_ctx, true),
            (
                "non-empty changes",
                v2(ConfChangeTransitionAuto, vec![add0]),
                false,
            ),
            (
                "joint implicit with no changes",
                v2(ConfChangeTransitionJointImplicit, vec![]),
                false,
            ),
            (
                "joint explicit with no changes",
                v2(ConfChangeTransitionJointExplicit, vec![]),
                false,
            ),
            (
                "auto with several changes",
                v2(ConfChangeTransitionAuto, vec![add0, rm0]),
                false,
            ),
        ];
        for (name, cc, want) in cases {
            assert_eq!(cc.leave_joint(), want, "{name}");
        }
        // The V2 change has exactly three fields: a struct literal naming
        // them all fails to compile if one is added, as etcd's reflection
        // check fails.
        let ConfChangeV2 {
            transition: _,
            changes: _,
            context: _,
        } = ConfChangeV2::default();
    }

    #[test]
    fn test_enter_joint() {
        use ConfChangeTransition::*;
        let add = |id| ConfChangeSingle::new(ConfChangeType::ConfChangeAddNode, id);
        assert_eq!(v2(ConfChangeTransitionAuto, vec![]).enter_joint(), None);
        assert_eq!(
            v2(ConfChangeTransitionAuto, vec![add(1)]).enter_joint(),
            None
        );
        assert_eq!(
            v2(ConfChangeTransitionAuto, vec![add(1), add(2)]).enter_joint(),
            Some(true)
        );
        assert_eq!(
            v2(ConfChangeTransitionJointImplicit, vec![add(1)]).enter_joint(),
            Some(true)
        );
        assert_eq!(
            v2(ConfChangeTransitionJointExplicit, vec![add(1)]).enter_joint(),
            Some(false)
        );
        let mut unknown = v2(ConfChangeTransitionAuto, vec![add(1)]);
        unknown.transition = 7;
        assert_eq!(unknown.enter_joint(), None);
        unknown.changes.clear();
        assert!(unknown.leave_joint());
    }

    #[test]
    fn test_as_v1_as_v2() {
        let v1 = ConfChange {
            id: 9,
            change_type: ConfChangeType::ConfChangeAddLearnerNode as i32,
            node_id: 4,
            context: Bytes::from_static(b"ctx"),
        };
        assert_eq!(v1.as_v1(), Some(&v1));
        let got = v1.as_v2();
        assert_eq!(
            got.changes,
            vec![ConfChangeSingle::new(
                ConfChangeType::ConfChangeAddLearnerNode,
                4
            )]
        );
        assert_eq!(got.context, v1.context);
        assert!(got.as_v1().is_none());
        assert_eq!(got.as_v2(), got);
    }

    #[test]
    fn test_marshal_conf_change() {
        let v1 = ConfChange {
            change_type: ConfChangeType::ConfChangeRemoveNode as i32,
            node_id: 2,
            ..Default::default()
        };
        let (t, data) = marshal_conf_change(Some(&v1));
        assert_eq!(t, EntryType::EntryConfChange);
        assert_eq!(ConfChange::decode(data).unwrap(), v1);
        let cc = v1.as_v2();
        let (t, data) = marshal_conf_change(Some(&cc));
        assert_eq!(t, EntryType::EntryConfChangeV2);
        assert_eq!(ConfChangeV2::decode(data).unwrap(), cc);
        let (t, data) = marshal_conf_change(None);
        assert_eq!(t, EntryType::EntryConfChangeV2);
        assert!(data.is_empty());
        assert!(ConfChangeV2::decode(data).unwrap().leave_joint());
    }

    #[test]
    fn test_conf_changes_string_round_trip() {
        for s in ["", "v1", "v1 l2 r3 u4", "l18446744073709551615"] {
            let ccs = conf_changes_from_string(s).unwrap();
            assert_eq!(conf_changes_to_string(&ccs), s);
        }
        assert_eq!(conf_changes_from_string("  v1  ").unwrap().len(), 1);
        let ccs = conf_changes_from_string("v1 l2 r3 u4").unwrap();
        assert_eq!(
            ccs,
            vec![
                ConfChangeSingle::new(ConfChangeType::ConfChangeAddNode, 1),
                ConfChangeSingle::new(ConfChangeType::ConfChangeAddLearnerNode, 2),
                ConfChangeSingle::new(ConfChangeType::ConfChangeRemoveNode, 3),
                ConfChangeSingle::new(ConfChangeType::ConfChangeUpdateNode, 4),
            ]
        );
        let odd = ConfChangeSingle {
            change_type: 42,
            node_id: 5,
        };
        assert_eq!(conf_changes_to_string(&[odd]), "v5");
    }

    #[test]
    fn test_conf_changes_from_string_errors() {
        let cases = [
            ("v", "unknown token v"),
            ("v1  v2", "unknown token "),
            ("x1", "unknown input: x1"),
            ("vx", "strconv.ParseUint: parsing \"x\": invalid syntax"),
            ("v-1", "strconv.ParseUint: parsing \"-1\": invalid syntax"),
            (
                "v18446744073709551616",
                "strconv.ParseUint: parsing \"18446744073709551616\": value out of range",
            ),
            ("é1", "unknown input: é1"),
            ("vé", "strconv.ParseUint: parsing \"é\": invalid syntax"),
            // Only spaces separate tokens: the line break of a two-line
            // input stays in the token and prints as Go escapes it.
            (
                "v1\nv2\tv\u{1}\u{85}9",
                "strconv.ParseUint: parsing \"1\\nv2\\tv\\x01\\u00859\": invalid syntax",
            ),
            // Non-printable characters that are not controls (a zero-width
            // space, a private-use character) are escaped too, as by Go.
            (
                "v\u{200b}1\u{e000}",
                "strconv.ParseUint: parsing \"\\u200b1\\ue000\": invalid syntax",
            ),
        ];
        for (input, want) in cases {
            let err = conf_changes_from_string(input).unwrap_err();
            assert_eq!(err.to_string(), want, "{input:?}");
        }
    }
}
