//! A linearizability checker for histories of a key-value store whose
//! writes carry unique values (Wing and Gong's search, with the memoized,
//! backtracking form of Lowe and of Porcupine).
//!
//! A history is a list of [`Operation`]s: a write of a value or a read
//! that saw a value (or found nothing), each with the time it was invoked
//! and the time its answer came. A write whose outcome is unknown (a
//! timeout, a reset connection, a 503 after the request went out) has no
//! completion: it may take effect at any time after its invocation, or
//! never. Operations that definitely did not happen (refused before
//! anything was proposed) and reads that got no value are left out of the
//! history by the caller: they constrain nothing.
//!
//! A register's operations compose per key (P-compositionality): the
//! history is linearizable when each key's sub-history is, so each key is
//! searched on its own. The search is exponential in the worst case; a
//! budget of steps bounds it, and a search that runs out of budget says
//! [`Verdict::Unknown`] rather than hanging.

use std::collections::{BTreeMap, HashMap, HashSet};

/// What an operation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Wrote this value.
    Put(String),
    /// Read this value; `None`: the key was not found.
    Get(Option<String>),
}

/// One operation of the history, on one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Which client ran it (for messages).
    pub client: usize,
    /// The key.
    pub key: String,
    /// What it did.
    pub kind: Kind,
    /// When it was invoked (any monotonic unit, e.g. µs since the start).
    pub call: u64,
    /// When its answer came; `None`: unknown whether it took effect (a
    /// write only: a read without an answer is left out).
    pub ret: Option<u64>,
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Put(v) => write!(f, "client {} PUT {}={v}", self.client, self.key)?,
            Kind::Get(Some(v)) => write!(f, "client {} GET {} -> {v}", self.client, self.key)?,
            Kind::Get(None) => write!(f, "client {} GET {} -> not found", self.client, self.key)?,
        }
        match self.ret {
            Some(r) => write!(f, " [{}..{}]", self.call, r),
            None => write!(f, " [{}..?] (outcome unknown)", self.call),
        }
    }
}

/// The outcome of checking one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A linearization exists.
    Linearizable,
    /// None exists: the operation that could never be placed, at the
    /// deepest point the search reached.
    NotLinearizable {
        /// That operation, as text.
        stuck: String,
        /// How many operations were placed before it.
        placed: usize,
    },
    /// The search ran out of budget.
    Unknown,
}

/// The verdict of every key, in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Key, number of operations checked, verdict.
    pub keys: Vec<(String, usize, Verdict)>,
}

impl Report {
    /// Whether every key is linearizable.
    pub fn linearizable(&self) -> bool {
        self.keys
            .iter()
            .all(|(_, _, v)| *v == Verdict::Linearizable)
    }

    /// `yes`, `no` (some key refuted), or `unknown` (none refuted, but
    /// some search ran out of budget), for a summary line.
    pub fn summary(&self) -> &'static str {
        let verdicts = || self.keys.iter().map(|(_, _, v)| v);
        if verdicts().any(|v| matches!(v, Verdict::NotLinearizable { .. })) {
            "no"
        } else if verdicts().any(|v| *v == Verdict::Unknown) {
            "unknown"
        } else {
            "yes"
        }
    }

    /// The keys that are not (or not known to be) linearizable, as text.
    pub fn failures(&self) -> Vec<String> {
        self.keys
            .iter()
            .filter(|(_, _, v)| *v != Verdict::Linearizable)
            .map(|(k, n, v)| format!("key {k} ({n} ops): {v:?}"))
            .collect()
    }
}

/// Checks every key of `history`, each within `budget` search steps.
pub fn check(history: &[Operation], budget: u64) -> Report {
    let mut by_key: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for op in history {
        by_key.entry(&op.key).or_default().push(op);
    }
    let keys = by_key
        .into_iter()
        .map(|(key, ops)| {
            let ops = drop_unobserved_unknown_writes(ops);
            let n = ops.len();
            (key.to_owned(), n, check_key(&ops, budget))
        })
        .collect();
    Report { keys }
}

// A write of unknown outcome whose value nobody read may be taken as never
// applied: any linearization that places it has no read between it and
// the next write, so it can be removed from that linearization. Dropping
// such writes keeps the verdict and spares the search their many places.
fn drop_unobserved_unknown_writes(ops: Vec<&Operation>) -> Vec<&Operation> {
    let read: HashSet<&str> = ops
        .iter()
        .filter_map(|op| match &op.kind {
            Kind::Get(Some(v)) => Some(v.as_str()),
            _ => None,
        })
        .collect();
    ops.into_iter()
        .filter(|op| match &op.kind {
            Kind::Put(v) => op.ret.is_some() || read.contains(v.as_str()),
            Kind::Get(_) => true,
        })
        .collect()
}

// One entry of the event list: the call or the return of an operation.
#[derive(Debug, Clone, Copy)]
struct Event {
    op: usize,
    is_call: bool,
    // A return that never came (unknown outcome): sorted after all others.
    never: bool,
}

// The event list as a doubly linked list over `events`, index 0 being the
// head sentinel, so that placed operations can be unlinked and relinked.
struct Events {
    ev: Vec<Event>,
    prev: Vec<usize>,
    next: Vec<usize>,
    // The list index of each operation's call and return.
    call_at: Vec<usize>,
    ret_at: Vec<usize>,
}

const END: usize = usize::MAX;

impl Events {
    fn new(ops: &[&Operation]) -> Events {
        // (time, returns after calls at the same instant, op, is_call)
        let mut keyed: Vec<(u64, u8, usize, bool)> = Vec::with_capacity(2 * ops.len());
        for (i, op) in ops.iter().enumerate() {
            keyed.push((op.call, 0, i, true));
            keyed.push((op.ret.unwrap_or(u64::MAX), 1, i, false));
        }
        keyed.sort();
        let mut ev = vec![Event {
            op: usize::MAX,
            is_call: false,
            never: false,
        }];
        let mut call_at = vec![0; ops.len()];
        let mut ret_at = vec![0; ops.len()];
        for (_, _, op, is_call) in keyed {
            if is_call {
                call_at[op] = ev.len();
            } else {
                ret_at[op] = ev.len();
            }
            ev.push(Event {
                op,
                is_call,
                never: !is_call && ops[op].ret.is_none(),
            });
        }
        let n = ev.len();
        let prev = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let next = (0..n)
            .map(|i| if i + 1 < n { i + 1 } else { END })
            .collect();
        Events {
            ev,
            prev,
            next,
            call_at,
            ret_at,
        }
    }

    fn unlink(&mut self, i: usize) {
        let (p, n) = (self.prev[i], self.next[i]);
        self.next[p] = n;
        if n != END {
            self.prev[n] = p;
        }
    }

    // Relinks `i` where it was (its neighbours' links still point past it).
    fn relink(&mut self, i: usize) {
        let (p, n) = (self.prev[i], self.next[i]);
        self.next[p] = i;
        if n != END {
            self.prev[n] = i;
        }
    }

    fn lift(&mut self, op: usize) {
        self.unlink(self.call_at[op]);
        self.unlink(self.ret_at[op]);
    }

    // The exact reverse of `lift`.
    fn unlift(&mut self, op: usize) {
        self.relink(self.ret_at[op]);
        self.relink(self.call_at[op]);
    }
}

// The register's value as an index into the key's distinct values.
type Value = Option<u32>;

fn check_key(ops: &[&Operation], budget: u64) -> Verdict {
    let mut ids: HashMap<&str, u32> = HashMap::new();
    // What each operation does to, or requires of, the register.
    let model: Vec<(bool, Value)> = ops
        .iter()
        .map(|op| {
            let (is_write, v) = match &op.kind {
                Kind::Put(v) => (true, Some(v.as_str())),
                Kind::Get(v) => (false, v.as_deref()),
            };
            let n = ids.len() as u32;
            (is_write, v.map(|v| *ids.entry(v).or_insert(n)))
        })
        .collect();

    let mut events = Events::new(ops);
    let mut placed = vec![0u64; ops.len().div_ceil(64)];
    let mut seen: HashSet<(Vec<u64>, Value)> = HashSet::new();
    // The placed operations, with the value before each.
    let mut stack: Vec<(usize, Value)> = Vec::new();
    let mut value: Value = None;
    let mut deepest: Option<(usize, usize)> = None;
    let mut steps = 0u64;
    let mut at = events.next[0];
    loop {
        if at == END {
            return Verdict::Linearizable;
        }
        steps += 1;
        if steps > budget {
            return Verdict::Unknown;
        }
        let e = events.ev[at];
        if e.is_call {
            let (is_write, v) = model[e.op];
            let after = match (is_write, v == value) {
                (true, _) => Some(v),
                (false, true) => Some(value),
                (false, false) => None,
            };
            if let Some(after) = after {
                placed[e.op / 64] |= 1 << (e.op % 64);
                if seen.insert((placed.clone(), after)) {
                    stack.push((e.op, value));
                    value = after;
                    events.lift(e.op);
                    at = events.next[0];
                    continue;
                }
                placed[e.op / 64] &= !(1 << (e.op % 64));
            }
            at = events.next[at];
        } else {
            if e.never {
                // Every operation that completed is placed; the writes of
                // unknown outcome still unplaced never took effect.
                return Verdict::Linearizable;
            }
            if deepest.is_none_or(|(n, _)| stack.len() > n) {
                deepest = Some((stack.len(), e.op));
            }
            let Some((op, before)) = stack.pop() else {
                let (placed, stuck) = deepest.expect("set just above");
                return Verdict::NotLinearizable {
                    stuck: ops[stuck].to_string(),
                    placed,
                };
            };
            placed[op / 64] &= !(1 << (op % 64));
            value = before;
            events.unlift(op);
            at = events.next[events.call_at[op]];
        }
    }
}

/// An acknowledged write that the final state does not reflect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostWrite {
    /// The write.
    pub write: String,
    /// What the key holds at the end.
    pub finally: Option<String>,
}

/// The acknowledged writes of `history` lost by the end: a key's final
/// value (`finals`, read after the cluster healed) must be the value of a
/// write that did not complete before an acknowledged write of that key
/// was invoked (else that write was overwritten by nothing, i.e. lost).
pub fn lost_writes(
    history: &[Operation],
    finals: &BTreeMap<String, Option<String>>,
) -> Vec<LostWrite> {
    let mut writes: HashMap<(&str, &str), &Operation> = HashMap::new();
    for op in history {
        if let Kind::Put(v) = &op.kind {
            writes.insert((&op.key, v), op);
        }
    }
    let mut lost = Vec::new();
    for op in history {
        let (Kind::Put(_), Some(_)) = (&op.kind, op.ret) else {
            continue;
        };
        let finally = finals.get(&op.key).cloned().flatten();
        let last = finally
            .as_deref()
            .and_then(|v| writes.get(&(op.key.as_str(), v)));
        // Lost unless the final value's write may come after this one:
        // either it is this one, or it did not end before this one began.
        let kept = last.is_some_and(|w| w.kind == op.kind || w.ret.is_none_or(|r| r >= op.call));
        if !kept {
            lost.push(LostWrite {
                write: op.to_string(),
                finally,
            });
        }
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: u64 = 1_000_000;

    fn put(client: usize, key: &str, v: &str, call: u64, ret: Option<u64>) -> Operation {
        Operation {
            client,
            key: key.into(),
            kind: Kind::Put(v.into()),
            call,
            ret,
        }
    }

    fn get(client: usize, key: &str, v: Option<&str>, call: u64, ret: u64) -> Operation {
        Operation {
            client,
            key: key.into(),
            kind: Kind::Get(v.map(Into::into)),
            call,
            ret: Some(ret),
        }
    }

    fn verdict(h: &[Operation]) -> Verdict {
        let r = check(h, BUDGET);
        assert_eq!(r.keys.len(), 1, "{r:?}");
        r.keys[0].2.clone()
    }

    fn rejected(h: &[Operation]) -> bool {
        matches!(verdict(h), Verdict::NotLinearizable { .. })
    }

    #[test]
    fn sequential_history_is_linearizable() {
        let h = [
            get(0, "k", None, 0, 1),
            put(0, "k", "a", 2, Some(3)),
            get(1, "k", Some("a"), 4, 5),
            put(1, "k", "b", 6, Some(7)),
            get(0, "k", Some("b"), 8, 9),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        assert_eq!(check(&h, BUDGET).summary(), "yes");
    }

    #[test]
    fn overlapping_operations_may_take_effect_in_either_order() {
        // Two writes overlap; readers during and after them see an order
        // that exists: b before a.
        let h = [
            put(0, "k", "a", 0, Some(10)),
            put(1, "k", "b", 1, Some(9)),
            get(2, "k", Some("b"), 2, 3),
            get(3, "k", Some("a"), 4, 12),
            get(2, "k", Some("a"), 13, 14),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        // A read concurrent with a write may see the old or the new value.
        let h = [
            put(0, "k", "a", 0, Some(1)),
            put(1, "k", "b", 2, Some(10)),
            get(2, "k", Some("a"), 3, 4),
            get(3, "k", Some("b"), 5, 6),
            get(2, "k", Some("b"), 11, 12),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
    }

    #[test]
    fn writes_of_unknown_outcome_may_apply_late_or_never() {
        // "a" timed out and was applied long after; "b" timed out and
        // was never applied; "c" was acknowledged in between.
        let h = [
            put(0, "k", "a", 0, None),
            put(1, "k", "b", 1, None),
            put(2, "k", "c", 2, Some(3)),
            get(3, "k", Some("c"), 4, 5),
            get(3, "k", Some("a"), 100, 101),
            get(4, "k", Some("a"), 102, 103),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        // ...but not before they were invoked.
        let h = [get(3, "k", Some("a"), 0, 1), put(0, "k", "a", 2, None)];
        assert!(rejected(&h));
    }

    #[test]
    fn a_stale_read_is_rejected() {
        // "b" was acknowledged before the read began, yet the read saw "a".
        let h = [
            put(0, "k", "a", 0, Some(1)),
            put(0, "k", "b", 2, Some(3)),
            get(1, "k", Some("a"), 4, 5),
        ];
        assert!(rejected(&h));
        // Two reads that see the values go back in time.
        let h = [
            put(0, "k", "a", 0, Some(1)),
            put(1, "k", "b", 2, Some(20)),
            get(2, "k", Some("b"), 3, 4),
            get(3, "k", Some("a"), 5, 6),
        ];
        assert!(rejected(&h));
    }

    #[test]
    fn a_lost_acknowledged_write_is_rejected() {
        // "b" was acknowledged, then a read finds "a" again.
        let h = [
            put(0, "k", "a", 0, Some(1)),
            get(1, "k", Some("a"), 2, 3),
            put(0, "k", "b", 4, Some(5)),
            get(1, "k", Some("a"), 6, 7),
        ];
        assert!(rejected(&h));
        // Or finds nothing at all.
        let h = [put(0, "k", "a", 0, Some(1)), get(1, "k", None, 2, 3)];
        assert!(rejected(&h));
        assert_eq!(
            lost_writes(&h, &BTreeMap::from([("k".into(), None)])).len(),
            1
        );
    }

    #[test]
    fn a_read_of_a_value_never_written_is_rejected() {
        let h = [put(0, "k", "a", 0, Some(1)), get(1, "k", Some("zzz"), 2, 3)];
        match verdict(&h) {
            Verdict::NotLinearizable { stuck, .. } => {
                assert!(stuck.contains("zzz"), "{stuck}")
            }
            v => panic!("accepted: {v:?}"),
        }
    }

    #[test]
    fn keys_are_checked_apart() {
        // Each key alone is fine; a violation on one key names that key.
        let h = [
            put(0, "x", "a", 0, Some(1)),
            put(1, "y", "a", 0, Some(1)),
            get(0, "x", Some("a"), 2, 3),
            put(1, "y", "b", 2, Some(3)),
            get(0, "y", Some("a"), 4, 5),
        ];
        let r = check(&h, BUDGET);
        assert!(!r.linearizable());
        assert_eq!(r.keys[0].2, Verdict::Linearizable);
        assert!(matches!(r.keys[1].2, Verdict::NotLinearizable { .. }));
        assert_eq!(r.failures().len(), 1);
        assert!(r.failures()[0].starts_with("key y"), "{:?}", r.failures());
    }

    #[test]
    fn a_search_over_budget_says_unknown() {
        // Many concurrent writes and a read of an impossible order make the
        // search try many orders; a tiny budget stops it.
        let mut h: Vec<Operation> = (0..12)
            .map(|i| put(i, "k", &format!("v{i}"), 0, Some(100)))
            .collect();
        h.push(get(20, "k", Some("nope"), 101, 102));
        assert_eq!(check(&h, 50).keys[0].2, Verdict::Unknown);
        assert_eq!(check(&h, 50).summary(), "unknown");
        assert_eq!(check(&h, BUDGET).summary(), "no");
        assert!(rejected(&h));
    }

    #[test]
    fn a_long_valid_history_is_checked_within_budget() {
        // Ten clients writing and reading one key in overlapping rounds,
        // with some writes of unknown outcome that later reads observe.
        let mut h = Vec::new();
        let mut value: Option<String> = None;
        for round in 0..300u64 {
            let t = round * 10;
            let v = format!("r{round}");
            let unknown = round % 7 == 3;
            h.push(put(0, "k", &v, t, if unknown { None } else { Some(t + 5) }));
            for c in 1..10 {
                // Readers overlapping the write see the old or new value.
                let seen = if c % 2 == 0 {
                    value.clone()
                } else {
                    Some(v.clone())
                };
                h.push(get(c, "k", seen.as_deref(), t + 1, t + 9));
            }
            value = Some(v);
        }
        assert_eq!(verdict(&h), Verdict::Linearizable);
    }

    #[test]
    fn lost_writes_are_the_acknowledged_ones_the_end_does_not_reflect() {
        let h = [
            put(0, "k", "a", 0, Some(1)),
            put(1, "k", "b", 2, Some(5)),
            put(2, "k", "c", 3, None),
            put(0, "j", "x", 0, Some(1)),
        ];
        let finals = |k: Option<&str>, j: Option<&str>| {
            BTreeMap::from([
                ("k".to_owned(), k.map(Into::into)),
                ("j".to_owned(), j.map(Into::into)),
            ])
        };
        // "c" (unknown, concurrent with "b") may be last; "a" may not.
        assert!(lost_writes(&h, &finals(Some("c"), Some("x"))).is_empty());
        assert!(lost_writes(&h, &finals(Some("b"), Some("x"))).is_empty());
        let lost = lost_writes(&h, &finals(Some("a"), Some("x")));
        assert_eq!(lost.len(), 1, "{lost:?}");
        assert!(lost[0].write.contains("k=b"), "{lost:?}");
        // A key emptied or holding a value nobody wrote lost everything.
        assert_eq!(lost_writes(&h, &finals(Some("b"), None)).len(), 1);
        assert_eq!(lost_writes(&h, &finals(Some("q"), Some("x"))).len(), 2);
    }
}
