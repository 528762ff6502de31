//! Human-readable descriptions of raft's state, entries, messages and
//! `Ready`s, byte for byte as etcd's `Describe*` functions print them (the
//! printing half of etcd's `util.go`), so that etcd's golden test files
//! apply unchanged.
//!
//! Go formatting conventions are reproduced where they show: ids of message
//! endpoints in hex, id lists as `[1 2 3]`, entry data quoted as Go's `%q`
//! (see [`go_quote`]), enum values by their `raft.proto` names.

use std::fmt::{self, Write as _};

use prost::Message as _;
use raft_proto::{
    conf_changes_to_string, ConfChange, ConfChangeI, ConfChangeSingle, ConfChangeV2, ConfState,
    Entry, EntryType, HardState, Message, Snapshot,
};

use crate::config::{LOCAL_APPEND_THREAD, LOCAL_APPLY_THREAD, NONE};
use crate::raft::SoftState;
use crate::raw_node::Ready;
use crate::read_only::ReadState;

/// Formats an entry's application data for a description (etcd
/// `EntryFormatter`). Where a function takes `Option<&EntryFormatter>`,
/// `None` quotes the data with [`go_quote`], as etcd's nil formatter does.
pub type EntryFormatter = dyn Fn(&[u8]) -> String;

/// What etcd prints when a conf-change entry's data does not decode; Go's
/// protobuf runtime has one text for malformed input.
const DECODE_ERROR: &str = "proto: cannot parse invalid wire-format data";

pub use raft_proto::quote::{go_quote, go_quote_into};

/// Writes a list of numbers as Go's `%v` prints a slice: `[1 2 3]`.
fn write_go_list<T: fmt::Display>(out: &mut String, items: &[T]) {
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{x}");
    }
    out.push(']');
}

/// `Term:1 Vote:2 Commit:3`, without the vote when there is none (etcd
/// `DescribeHardState`).
pub fn describe_hard_state(hs: &HardState) -> String {
    let mut s = String::with_capacity(32);
    let _ = write!(s, "Term:{}", hs.term);
    if hs.vote != 0 {
        let _ = write!(s, " Vote:{}", hs.vote);
    }
    let _ = write!(s, " Commit:{}", hs.commit);
    s
}

/// `Lead:1 State:StateLeader` (etcd `DescribeSoftState`).
pub fn describe_soft_state(ss: &SoftState) -> String {
    format!("Lead:{} State:{}", ss.lead, ss.raft_state)
}

/// `Voters:[1 2] VotersOutgoing:[] Learners:[3] LearnersNext:[] AutoLeave:false`
/// (etcd `DescribeConfState`); lists print in their stored order.
pub fn describe_conf_state(cs: &ConfState) -> String {
    let mut s = String::with_capacity(80);
    s.push_str("Voters:");
    write_go_list(&mut s, &cs.voters);
    s.push_str(" VotersOutgoing:");
    write_go_list(&mut s, &cs.voters_outgoing);
    s.push_str(" Learners:");
    write_go_list(&mut s, &cs.learners);
    s.push_str(" LearnersNext:");
    write_go_list(&mut s, &cs.learners_next);
    let _ = write!(s, " AutoLeave:{}", cs.auto_leave);
    s
}

/// `Index:5 Term:2 ConfState:...` (etcd `DescribeSnapshot`).
pub fn describe_snapshot(snap: &Snapshot) -> String {
    let m = &snap.metadata;
    format!(
        "Index:{} Term:{} ConfState:{}",
        m.index,
        m.term,
        describe_conf_state(&m.conf_state)
    )
}

/// Read states as etcd prints them with `%v`: `[{12 [114 99 116 120]}]`,
/// each an index and the request context's bytes in decimal.
pub fn describe_read_states(read_states: &[ReadState]) -> String {
    let mut s = String::from("[");
    for (i, rs) in read_states.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{{{} ", rs.index);
        write_go_list(&mut s, &rs.request_ctx);
        s.push('}');
    }
    s.push(']');
    s
}

/// The parts of a `Ready` that etcd's `DescribeReady` prints, borrowed from
/// wherever they live, so the description does not depend on how `Ready`
/// itself is laid out.
#[derive(Clone, Copy)]
pub struct ReadyParts<'a> {
    /// The soft state, if the `Ready` carries one.
    pub soft_state: Option<&'a SoftState>,
    /// The hard state, if any; an empty one prints nothing, as in etcd.
    pub hard_state: Option<&'a HardState>,
    /// The read states; printed if any.
    pub read_states: &'a [ReadState],
    /// The entries to persist.
    pub entries: &'a [Entry],
    /// The snapshot to install, if any; an empty one prints nothing.
    pub snapshot: Option<&'a Snapshot>,
    /// The entries to apply.
    pub committed_entries: &'a [Entry],
    /// The messages to send.
    pub messages: &'a [Message],
    /// Whether the write must be durable.
    pub must_sync: bool,
}

/// A `Ready` described as etcd's `DescribeReady` does: one section per
/// non-empty part under a `Ready MustSync=...:` header, or `<empty Ready>`.
pub fn describe_ready_parts(rd: &ReadyParts<'_>, f: Option<&EntryFormatter>) -> String {
    let mut buf = String::new();
    if let Some(ss) = rd.soft_state {
        buf.push_str(&describe_soft_state(ss));
        buf.push('\n');
    }
    if let Some(hs) = rd.hard_state.filter(|hs| !hs.is_empty()) {
        let _ = writeln!(buf, "HardState {}", describe_hard_state(hs));
    }
    if !rd.read_states.is_empty() {
        let _ = writeln!(buf, "ReadStates {}", describe_read_states(rd.read_states));
    }
    if !rd.entries.is_empty() {
        buf.push_str("Entries:\n");
        describe_entries_into(&mut buf, rd.entries, f);
    }
    if let Some(snap) = rd.snapshot.filter(|s| !s.is_empty()) {
        let _ = writeln!(buf, "Snapshot {}", describe_snapshot(snap));
    }
    if !rd.committed_entries.is_empty() {
        buf.push_str("CommittedEntries:\n");
        describe_entries_into(&mut buf, rd.committed_entries, f);
    }
    if !rd.messages.is_empty() {
        buf.push_str("Messages:\n");
        for m in rd.messages {
            describe_message_into(&mut buf, "", m, f);
            buf.push('\n');
        }
    }
    if buf.is_empty() {
        return "<empty Ready>".to_string();
    }
    format!("Ready MustSync={}:\n{}", rd.must_sync, buf)
}

/// A [`Ready`] described as etcd's `DescribeReady` does; see
/// [`describe_ready_parts`].
pub fn describe_ready(rd: &Ready, f: Option<&EntryFormatter>) -> String {
    describe_ready_parts(
        &ReadyParts {
            soft_state: rd.soft_state.as_ref(),
            hard_state: rd.hard_state.as_ref(),
            read_states: &rd.read_states,
            entries: &rd.entries,
            snapshot: rd.snapshot.as_ref(),
            committed_entries: &rd.committed_entries,
            messages: &rd.messages,
            must_sync: rd.must_sync,
        },
        f,
    )
}

/// A message on one line (plus indented lines for several entries, a
/// snapshot, or nested responses), as etcd's `DescribeMessage` prints it:
/// `1->2 MsgApp Term:1 Log:1/10 Commit:10 Entries:[1/11 EntryNormal ""]`.
pub fn describe_message(m: &Message, f: Option<&EntryFormatter>) -> String {
    let mut s = String::with_capacity(64);
    describe_message_into(&mut s, "", m, f);
    s
}

/// Appends the description of `m` with every line indented by `indent`.
fn describe_message_into(buf: &mut String, indent: &str, m: &Message, f: Option<&EntryFormatter>) {
    let _ = write!(
        buf,
        "{indent}{}->{} {} Term:{} Log:{}/{}",
        Target(m.from),
        Target(m.to),
        m.get_type(),
        m.term,
        m.log_term,
        m.index
    );
    if m.reject {
        let _ = write!(buf, " Rejected (Hint: {})", m.reject_hint);
    }
    if m.commit != 0 {
        let _ = write!(buf, " Commit:{}", m.commit);
    }
    if m.vote != 0 {
        let _ = write!(buf, " Vote:{}", m.vote);
    }
    match m.entries.as_slice() {
        [] => {}
        [e] => {
            buf.push_str(" Entries:[");
            describe_entry_into(buf, e, f);
            buf.push(']');
        }
        ents => {
            buf.push_str(" Entries:[");
            for e in ents {
                let _ = write!(buf, "\n{indent}  ");
                describe_entry_into(buf, e, f);
            }
            let _ = write!(buf, "\n{indent}]");
        }
    }
    if let Some(snap) = m.snapshot.as_ref().filter(|s| !s.is_empty()) {
        let _ = write!(buf, "\n{indent}  Snapshot: {}", describe_snapshot(snap));
    }
    if !m.responses.is_empty() {
        buf.push_str(" Responses:[");
        let inner = format!("{indent}  ");
        for r in &m.responses {
            buf.push('\n');
            describe_message_into(buf, &inner, r, f);
        }
        let _ = write!(buf, "\n{indent}]");
    }
}

/// A message endpoint as etcd prints it: `None`, the local threads by name,
/// peers in hex.
struct Target(u64);

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            NONE => f.write_str("None"),
            LOCAL_APPEND_THREAD => f.write_str("AppendThread"),
            LOCAL_APPLY_THREAD => f.write_str("ApplyThread"),
            id => write!(f, "{id:x}"),
        }
    }
}

/// An entry as `term/index type data` (etcd `DescribeEntry`): normal data
/// through the formatter (default: Go-quoted), conf changes decoded and
/// shown in the `v1 l2 r3` form, or the decoding error.
pub fn describe_entry(e: &Entry, f: Option<&EntryFormatter>) -> String {
    let mut s = String::with_capacity(32 + e.data.len());
    describe_entry_into(&mut s, e, f);
    s
}

/// Appends the description of one entry.
fn describe_entry_into(buf: &mut String, e: &Entry, f: Option<&EntryFormatter>) {
    let t = e.get_type();
    let _ = write!(buf, "{}/{} {}", e.term, e.index, t);
    let formatted = match t {
        EntryType::EntryNormal => match f {
            Some(f) => f(&e.data),
            None => {
                // The default quoting is never empty, so it always follows
                // a space; write it in place.
                buf.push(' ');
                go_quote_into(buf, &e.data);
                return;
            }
        },
        EntryType::EntryConfChange => match ConfChange::decode(e.data.as_ref()) {
            Ok(cc) => {
                let single = ConfChangeSingle {
                    change_type: cc.change_type,
                    node_id: cc.node_id,
                };
                conf_changes_to_string(std::slice::from_ref(&single))
            }
            Err(_) => DECODE_ERROR.to_string(),
        },
        EntryType::EntryConfChangeV2 => match ConfChangeV2::decode(e.data.as_ref()) {
            Ok(cc) => conf_changes_to_string(&cc.changes),
            Err(_) => DECODE_ERROR.to_string(),
        },
    };
    if !formatted.is_empty() {
        buf.push(' ');
        buf.push_str(&formatted);
    }
}

/// Each entry's description followed by a newline (etcd `DescribeEntries`).
pub fn describe_entries(ents: &[Entry], f: Option<&EntryFormatter>) -> String {
    let mut s = String::with_capacity(ents.len() * 32);
    describe_entries_into(&mut s, ents, f);
    s
}

/// Appends each entry's description and a newline.
fn describe_entries_into(buf: &mut String, ents: &[Entry], f: Option<&EntryFormatter>) {
    for e in ents {
        describe_entry_into(buf, e, f);
        buf.push('\n');
    }
}

/// A configuration change in a stable text form (etcd `DescribeConfChange`):
/// `transition:ConfChangeTransitionAuto changes:{type:ConfChangeAddNode node_id:3}`,
/// one `changes:{...}` per change and a Go-quoted `context:` if there is one.
pub fn describe_conf_change(cc: &dyn ConfChangeI) -> String {
    let cc = cc.as_v2();
    let mut s = format!("transition:{}", cc.transition());
    for c in &cc.changes {
        let _ = write!(
            s,
            " changes:{{type:{} node_id:{}}}",
            c.change_type(),
            c.node_id
        );
    }
    if !cc.context.is_empty() {
        s.push_str(" context:");
        go_quote_into(&mut s, &cc.context);
    }
    s
}

#[cfg(test)]
mod tests;
