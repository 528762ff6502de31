//! The handler for etcd's `quorum` scripts: `committed` checks the commit
//! index and `vote` the election outcome of a majority or joint config.
//!
//! Arguments (each a list, e.g. `cfg=(1,2,3)`):
//! - `cfg`: the voters of the (first) majority config;
//! - `cfgj`: the voters of the second majority config; present means the
//!   case is joint, and `cfgj=zero` makes it joint with an empty second half;
//! - `idx`: the acknowledged index of each voter, in the order the voters
//!   appear in `cfg` then `cfgj`, each voter once; `_` means "unknown"
//!   (which differs from 0, so 0 itself is not allowed);
//! - `votes`: `y`, `n` or `_` (not voted) per voter, in the same order.
//!
//! Like etcd's harness, each case is also computed in ways that must agree
//! (the naive commit computation, the config joint with nothing or with
//! itself, swapped halves, lowered indexes); any disagreement is printed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use raft::quorum::{
    alternative_majority_committed_index, Index, IndexDisplay, JointConfig, MajorityConfig,
};

use crate::datadriven::{unknown_command, CmdArg, Handler, ScriptError, TestData};

/// A fresh handler for one `quorum` script file.
pub fn new_handler() -> Box<dyn Handler> {
    Box::new(QuorumHandler)
}

/// Stateless: every stanza stands alone.
struct QuorumHandler;

impl Handler for QuorumHandler {
    fn handle(&mut self, d: &TestData) -> Result<String, ScriptError> {
        handle(d)
    }
}

/// A vote as the scripts encode it; etcd shares the index plumbing between
/// votes and indexes, so these are numbers too (0 is "not voted").
const VOTE_NO: Index = 1;
const VOTE_YES: Index = 2;

/// The parsed arguments of a stanza.
#[derive(Default)]
struct Args {
    joint: bool,
    ids: Vec<u64>,
    idsj: Vec<u64>,
    idxs: Vec<Index>,
    votes: Vec<Index>,
}

fn parse_u64(d: &TestData, arg: &CmdArg, val: &str) -> Result<u64, ScriptError> {
    val.parse().map_err(|_| {
        d.error(format_args!(
            "{}: expected an unsigned integer, got {:?}",
            arg.key, val
        ))
    })
}

fn parse_args(d: &TestData) -> Result<Args, ScriptError> {
    let mut a = Args::default();
    for arg in &d.cmd_args {
        if !matches!(arg.key.as_str(), "cfg" | "cfgj" | "idx" | "votes") {
            return Err(d.error(format_args!(
                "unknown argument {:?} (expected cfg, cfgj, idx or votes)",
                arg.key
            )));
        }
        if arg.key == "cfgj" {
            a.joint = true;
        }
        for val in &arg.vals {
            let val = val.trim();
            match arg.key.as_str() {
                "cfg" => a.ids.push(parse_u64(d, arg, val)?),
                "cfgj" if val == "zero" => {
                    if arg.vals.len() != 1 {
                        return Err(d.error(
                            "cannot mix 'zero' into configuration (expected cfgj=zero on its own)",
                        ));
                    }
                }
                "cfgj" => a.idsj.push(parse_u64(d, arg, val)?),
                "idx" if val == "_" => a.idxs.push(0),
                "idx" => {
                    let n = parse_u64(d, arg, val)?;
                    // 0 is how `_` is recorded, so it cannot also be an index.
                    if n == 0 {
                        return Err(d.error(
                            "cannot use 0 as idx (expected an index above 0, or _ for none)",
                        ));
                    }
                    a.idxs.push(n);
                }
                _ => a.votes.push(match val {
                    "y" => VOTE_YES,
                    "n" => VOTE_NO,
                    "_" => 0,
                    _ => {
                        return Err(
                            d.error(format_args!("unknown vote: {val} (expected y, n or _)"))
                        )
                    }
                }),
            }
        }
    }
    Ok(a)
}

/// Maps the voters of `ids` then `idsj`, each once, to `vals` in order;
/// a zero value (a `_`) leaves the voter out.
fn make_lookup(vals: &[Index], ids: &[u64], idsj: &[u64]) -> BTreeMap<u64, Index> {
    let mut l = BTreeMap::new();
    let mut vals = vals.iter();
    for &id in ids.iter().chain(idsj) {
        if l.contains_key(&id) {
            continue;
        }
        match vals.next() {
            Some(&v) => {
                l.insert(id, v);
            }
            None => break,
        }
    }
    l.retain(|_, v| *v != 0);
    l
}

/// `map[1:{} 2:{}]`: how Go prints the id set in etcd's mismatch message.
fn go_id_set(ids: &MajorityConfig) -> String {
    let mut s = String::from("map[");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{id}:{{}}");
    }
    s.push(']');
    s
}

/// `[1 2 ∞]`: how Go prints a slice of indexes.
fn go_index_slice(idxs: &[Index]) -> String {
    let items: Vec<String> = idxs.iter().map(|&i| IndexDisplay(i).to_string()).collect();
    format!("[{}]", items.join(" "))
}

fn handle(d: &TestData) -> Result<String, ScriptError> {
    if d.cmd != "committed" && d.cmd != "vote" {
        return Err(unknown_command(d, &["committed", "vote"]));
    }
    let a = parse_args(d)?;
    let cfg = JointConfig::new(
        a.ids.iter().copied().collect(),
        a.idsj.iter().copied().collect(),
    );

    let input = if d.cmd == "vote" { &a.votes } else { &a.idxs };
    let voters = cfg.ids();
    if voters.len() != input.len() {
        // etcd reports this as the stanza's output, not as a failure.
        return Ok(format!(
            "error: mismatched input (explicit or _) for voters {}: {}\n",
            go_id_set(&voters),
            go_index_slice(input)
        ));
    }

    let mut buf = String::new();
    if d.cmd == "committed" {
        let l = make_lookup(&a.idxs, &a.ids, &a.idsj);
        if a.joint {
            committed_joint(&mut buf, &cfg, &l);
        } else {
            committed_majority(&mut buf, &cfg[0], &l);
        }
    } else {
        let l: BTreeMap<u64, bool> = make_lookup(&a.votes, &a.ids, &a.idsj)
            .into_iter()
            .map(|(id, v)| (id, v != VOTE_NO))
            .collect();
        if a.joint {
            let r = cfg.vote_result(&l);
            let swapped = JointConfig::new(cfg[1].clone(), cfg[0].clone()).vote_result(&l);
            if swapped != r {
                let _ = writeln!(buf, "{swapped} <-- via symmetry");
            }
            let _ = writeln!(buf, "{r}");
        } else {
            let _ = writeln!(buf, "{}", cfg[0].vote_result(&l));
        }
    }
    Ok(buf)
}

fn committed_majority(buf: &mut String, c: &MajorityConfig, l: &BTreeMap<u64, Index>) {
    let idx = c.committed_index(l);
    buf.push_str(&c.describe(l));
    // Each of these must agree with the plain computation.
    let alt = alternative_majority_committed_index(c, l);
    if alt != idx {
        let _ = writeln!(buf, "{} <-- via alternative computation", IndexDisplay(alt));
    }
    let zero_joint = JointConfig::new(c.clone(), MajorityConfig::new()).committed_index(l);
    if zero_joint != idx {
        let _ = writeln!(
            buf,
            "{} <-- via zero-joint quorum",
            IndexDisplay(zero_joint)
        );
    }
    let self_joint = JointConfig::new(c.clone(), c.clone()).committed_index(l);
    if self_joint != idx {
        let _ = writeln!(
            buf,
            "{} <-- via self-joint quorum",
            IndexDisplay(self_joint)
        );
    }
    // Lowering an index that is already below the commit index cannot
    // change the commit index.
    let overlay = |id: u64, to: Index| -> BTreeMap<u64, Index> {
        c.iter()
            .filter_map(|iid| {
                if iid == id {
                    Some((iid, to))
                } else {
                    l.get(&iid).map(|&v| (iid, v))
                }
            })
            .collect()
    };
    for id in c.iter() {
        let iidx = l.get(&id).copied().unwrap_or(0);
        if idx > iidx && iidx > 0 {
            // etcd writes these two without a line break; kept so that a
            // failure reads the same.
            let lowered = c.committed_index(&overlay(id, iidx - 1));
            if lowered != idx {
                let _ = write!(buf, "{} <-- overlaying {id}->{iidx}", IndexDisplay(lowered));
            }
            let zeroed = c.committed_index(&overlay(id, 0));
            if zeroed != idx {
                let _ = write!(buf, "{} <-- overlaying {id}->0", IndexDisplay(zeroed));
            }
        }
    }
    let _ = writeln!(buf, "{}", IndexDisplay(idx));
}

fn committed_joint(buf: &mut String, cc: &JointConfig, l: &BTreeMap<u64, Index>) {
    buf.push_str(&cc.describe(l));
    let idx = cc.committed_index(l);
    // Which half is which must not matter.
    let swapped = JointConfig::new(cc[1].clone(), cc[0].clone()).committed_index(l);
    if swapped != idx {
        let _ = writeln!(buf, "{} <-- via symmetry", IndexDisplay(swapped));
    }
    let _ = writeln!(buf, "{}", IndexDisplay(idx));
}
