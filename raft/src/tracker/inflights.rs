//! The window of appends sent to a follower but not yet acknowledged
//! (etcd `Inflights`).

/// One in-flight append.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Inflight {
    /// The index of the last entry in the append.
    index: u64,
    /// The total payload size of the entries in the append.
    bytes: u64,
}

/// The limits of a follower's in-flight window (etcd's tracker
/// `MaxInflight` and `MaxInflightBytes`).
///
/// They are the same for every follower of a node, so the node's tracker
/// keeps them once (as [`Status::inflight_limits`](crate::Status::inflight_limits)
/// reports them) and passes them to the window operations that need them,
/// rather than every window carrying a copy: an idle node keeps a window
/// per peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InflightLimits {
    /// The most appends allowed in flight.
    pub max_inflight: usize,
    /// The most bytes allowed in flight; 0 means no limit.
    pub max_bytes: u64,
}

impl InflightLimits {
    /// Limits of `max_inflight` appends and, unless `max_bytes` is 0,
    /// `max_bytes` bytes in flight.
    pub const fn new(max_inflight: usize, max_bytes: u64) -> InflightLimits {
        InflightLimits {
            max_inflight,
            max_bytes,
        }
    }
}

/// The appends in flight to one follower, bounded by count and by bytes
/// (etcd `Inflights`, whose limits live in [`InflightLimits`] here).
///
/// Each append is represented by the index of its last entry. The leader
/// checks [`full`](Inflights::full) before sending, records each sent
/// append with [`add`](Inflights::add), and releases the window with
/// [`free_le`](Inflights::free_le) as acknowledgements arrive.
///
/// Nothing is allocated until the first append is added: every node keeps
/// a progress (and so a window) per peer, but only a leader sends appends,
/// and a process may host many raft groups whose members are mostly idle.
/// The ring buffer then grows on demand (doubling up to the count limit);
/// once grown, adding never allocates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inflights {
    /// The window's contents; `None` until the first append.
    ring: Option<Box<Ring>>,
}

/// The appends in flight, as a ring buffer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Ring {
    /// The buffer position of the oldest in-flight append.
    start: usize,
    /// The number of appends in flight.
    count: usize,
    /// The total bytes in flight.
    bytes: u64,
    /// The ring buffer. Positions wrap at the count limit, and it only
    /// reaches that length before any wrap-around can happen, so positions
    /// past the oldest wrap at its length.
    buffer: Vec<Inflight>,
}

/// What a window without a ring reads as.
static EMPTY: Ring = Ring {
    start: 0,
    count: 0,
    bytes: 0,
    buffer: Vec::new(),
};

impl Inflights {
    /// An empty window (etcd `NewInflights`, whose limits are passed to
    /// the operations that need them here).
    pub const fn new() -> Inflights {
        Inflights { ring: None }
    }

    #[inline]
    fn ring(&self) -> &Ring {
        self.ring.as_deref().unwrap_or(&EMPTY)
    }

    // The position `offset` slots after the oldest append, `offset` being
    // below the count in flight.
    #[inline]
    fn slot(r: &Ring, offset: usize) -> usize {
        let mut i = r.start + offset;
        if i >= r.buffer.len() {
            i -= r.buffer.len();
        }
        i
    }

    /// Records an append whose last entry is `index` and whose entries total
    /// `bytes`.
    ///
    /// # Panics
    ///
    /// If the window is [`full`](Inflights::full) under `limits`: callers
    /// must check first. Indexes of consecutive calls must increase.
    #[inline]
    pub fn add(&mut self, index: u64, bytes: u64, limits: InflightLimits) {
        assert!(!self.full(limits), "cannot add into a Full inflights");
        let size = limits.max_inflight;
        let r = self.ring.get_or_insert_with(Box::default);
        let mut next = r.start + r.count;
        if next >= size {
            next -= size;
        }
        if next >= r.buffer.len() {
            // Doubles the buffer (at least 1, at most `size` slots),
            // keeping the positions of what is in it.
            let new_len = match r.buffer.len() * 2 {
                0 => 1,
                n => n.min(size),
            };
            r.buffer.resize(new_len, Inflight::default());
        }
        r.buffer[next] = Inflight { index, bytes };
        r.count += 1;
        r.bytes += bytes;
    }

    /// Makes the newest append in flight end at `index` and carry `bytes`
    /// more: more entries joined it before it was sent (batch_append).
    ///
    /// # Panics
    ///
    /// If nothing is in flight.
    pub fn extend_last(&mut self, index: u64, bytes: u64) {
        let r = match self.ring.as_deref_mut() {
            Some(r) if r.count > 0 => r,
            _ => panic!("no append in flight to extend"),
        };
        let last = Self::slot(r, r.count - 1);
        let inflight = &mut r.buffer[last];
        inflight.index = index;
        inflight.bytes += bytes;
        r.bytes += bytes;
    }

    /// The last index of the newest append in flight, if any.
    pub fn last_index(&self) -> Option<u64> {
        let r = self.ring();
        if r.count == 0 {
            return None;
        }
        Some(r.buffer[Self::slot(r, r.count - 1)].index)
    }

    /// Releases every append whose last index is `<= to` (etcd `FreeLE`).
    pub fn free_le(&mut self, to: u64) {
        let Some(r) = self.ring.as_deref_mut() else {
            return;
        };
        if r.count == 0 || to < r.buffer[r.start].index {
            // Nothing in flight is that old.
            return;
        }
        let size = r.buffer.len();
        let mut idx = r.start;
        let mut freed = 0;
        let mut bytes = 0;
        while freed < r.count {
            let inflight = r.buffer[idx];
            if to < inflight.index {
                break;
            }
            bytes += inflight.bytes;
            freed += 1;
            idx += 1;
            if idx >= size {
                idx -= size;
            }
        }
        r.count -= freed;
        r.bytes -= bytes;
        r.start = idx;
        if r.count == 0 {
            // Starting over at 0 keeps the buffer from growing needlessly.
            r.start = 0;
        }
    }

    /// Releases the oldest append in flight, if any.
    pub fn free_first_one(&mut self) {
        let r = self.ring();
        if r.count > 0 {
            let first = r.buffer[r.start].index;
            self.free_le(first);
        }
    }

    /// Whether no more appends may be sent right now: the count limit is
    /// reached, or the byte limit (if any) is reached or exceeded.
    #[inline]
    pub fn full(&self, limits: InflightLimits) -> bool {
        self.ring().count == limits.max_inflight || self.bytes_full(limits)
    }

    /// Whether the byte limit (if any) is reached or exceeded.
    #[inline]
    pub fn bytes_full(&self, limits: InflightLimits) -> bool {
        limits.max_bytes != 0 && self.ring().bytes >= limits.max_bytes
    }

    /// The number of appends in flight.
    #[inline]
    pub fn count(&self) -> usize {
        self.ring().count
    }

    /// The total bytes in flight.
    pub fn bytes(&self) -> u64 {
        self.ring().bytes
    }

    /// Releases everything in flight, keeping the buffer.
    pub fn reset(&mut self) {
        if let Some(r) = self.ring.as_deref_mut() {
            r.start = 0;
            r.count = 0;
            r.bytes = 0;
        }
    }
}

/// Test-only views used by the port of etcd's tests (raft/src/tests), which
/// compare the whole ring buffer, as etcd's tests do with struct literals.
#[cfg(test)]
impl Inflights {
    /// A window for a count limit of `size` whose ring buffer is allocated
    /// in full (zeroed) and whose oldest slot is `start`.
    pub(crate) fn with_full_buffer(size: usize, start: usize) -> Inflights {
        let mut inf = Inflights::new();
        inf.ring = Some(Box::new(Ring {
            start,
            buffer: vec![Inflight::default(); size],
            ..Ring::default()
        }));
        inf
    }

    /// `(start, count, bytes, buffer)`, the buffer as `(index, bytes)` per
    /// slot.
    pub(crate) fn layout(&self) -> (usize, usize, u64, Vec<(u64, u64)>) {
        let r = self.ring();
        let buffer = r.buffer.iter().map(|f| (f.index, f.bytes)).collect();
        (r.start, r.count, r.bytes, buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-flight (index, bytes) pairs, oldest first.
    fn contents(inf: &Inflights) -> Vec<(u64, u64)> {
        let r = inf.ring();
        (0..r.count)
            .map(|i| {
                let f = r.buffer[Inflights::slot(r, i)];
                (f.index, f.bytes)
            })
            .collect()
    }

    #[test]
    fn add_grows_by_doubling_up_to_size() {
        let lim = InflightLimits::new(10, 0);
        let mut inf = Inflights::new();
        let mut lens = vec![];
        for i in 0..10 {
            inf.add(i, 1, lim);
            lens.push(inf.ring().buffer.len());
        }
        assert_eq!(lens, vec![1, 2, 4, 4, 8, 8, 8, 8, 10, 10]);
        assert!(inf.full(lim));
        assert_eq!(inf.count(), 10);
        assert_eq!(inf.bytes(), 10);
    }

    #[test]
    #[should_panic(expected = "cannot add into a Full inflights")]
    fn add_when_full_panics() {
        let lim = InflightLimits::new(2, 0);
        let mut inf = Inflights::new();
        inf.add(1, 0, lim);
        inf.add(2, 0, lim);
        inf.add(3, 0, lim);
    }

    #[test]
    fn wrap_around() {
        let lim = InflightLimits::new(5, 0);
        let mut inf = Inflights::new();
        for i in 1..=5 {
            inf.add(i, 100 + i, lim);
        }
        inf.free_le(3);
        assert_eq!(inf.ring().start, 3);
        assert_eq!(contents(&inf), vec![(4, 104), (5, 105)]);
        // These land in slots 0..=2, before `start`.
        for i in 6..=8 {
            inf.add(i, 100 + i, lim);
        }
        assert!(inf.full(lim));
        assert_eq!(inf.ring().buffer.len(), 5);
        assert_eq!(
            contents(&inf),
            vec![(4, 104), (5, 105), (6, 106), (7, 107), (8, 108)]
        );
        assert_eq!(inf.bytes(), 104 + 105 + 106 + 107 + 108);
        // Freeing across the wrap point.
        inf.free_le(6);
        assert_eq!(inf.ring().start, 1);
        assert_eq!(contents(&inf), vec![(7, 107), (8, 108)]);
        assert_eq!(inf.bytes(), 215);
        inf.free_le(8);
        assert_eq!((inf.count(), inf.ring().start, inf.bytes()), (0, 0, 0));
    }

    #[test]
    fn free_le_edges() {
        let lim = InflightLimits::new(10, 0);
        let mut inf = Inflights::new();
        // Freeing an empty window is a no-op.
        inf.free_le(100);
        assert_eq!(inf.count(), 0);
        for i in [3, 5, 9] {
            inf.add(i, 10, lim);
        }
        // Below the window: nothing happens.
        inf.free_le(2);
        assert_eq!(contents(&inf), vec![(3, 10), (5, 10), (9, 10)]);
        // Between entries: frees up to the last one not above `to`.
        inf.free_le(6);
        assert_eq!(contents(&inf), vec![(9, 10)]);
        assert_eq!(inf.ring().start, 2);
        // Far beyond: frees everything and rewinds start.
        inf.free_le(1000);
        assert_eq!((inf.count(), inf.ring().start, inf.bytes()), (0, 0, 0));
    }

    #[test]
    fn free_first_one() {
        let lim = InflightLimits::new(10, 0);
        let mut inf = Inflights::new();
        inf.free_first_one();
        for i in 0..10 {
            inf.add(i, 1, lim);
        }
        inf.free_first_one();
        assert_eq!(inf.ring().start, 1);
        assert_eq!(inf.count(), 9);
        assert_eq!(contents(&inf)[0], (1, 1));
    }

    #[test]
    fn byte_limit_is_soft() {
        let lim = InflightLimits::new(10, 1000);
        let mut inf = Inflights::new();
        inf.add(1, 400, lim);
        inf.add(2, 500, lim);
        assert!(!inf.full(lim));
        // This one crosses the limit and is still accepted...
        inf.add(3, 300, lim);
        assert_eq!(inf.bytes(), 1200);
        // ...but then the window is full.
        assert!(inf.full(lim));
        inf.free_le(1);
        assert_eq!(inf.bytes(), 800);
        assert!(!inf.full(lim));
        // Reaching the limit exactly also fills it.
        inf.add(4, 200, lim);
        assert!(inf.full(lim));
        assert_eq!(inf.count(), 3);
    }

    #[test]
    fn zero_byte_limit_means_unlimited() {
        let lim = InflightLimits::new(3, 0);
        let mut inf = Inflights::new();
        inf.add(1, u64::MAX / 4, lim);
        inf.add(2, u64::MAX / 4, lim);
        assert!(!inf.full(lim));
        inf.add(3, 0, lim);
        assert!(inf.full(lim));
    }

    #[test]
    fn reset_keeps_buffer() {
        let lim = InflightLimits::new(4, 50);
        let mut inf = Inflights::new();
        for i in 0..3 {
            inf.add(i, 10, lim);
        }
        inf.free_le(0);
        inf.reset();
        assert_eq!((inf.count(), inf.ring().start, inf.bytes()), (0, 0, 0));
        assert_eq!(inf.ring().buffer.len(), 4);
        assert!(!inf.full(lim));
    }

    #[test]
    fn nothing_is_allocated_until_the_first_append() {
        let lim = InflightLimits::new(4, 10);
        let mut inf = Inflights::new();
        inf.free_le(5);
        inf.free_first_one();
        inf.reset();
        assert!(inf.ring.is_none());
        assert_eq!((inf.count(), inf.bytes(), inf.last_index()), (0, 0, None));
        assert!(!inf.full(lim) && !inf.bytes_full(lim));
        inf.add(3, 10, lim);
        assert!(inf.ring.is_some());
        assert_eq!(inf.last_index(), Some(3));
        assert!(inf.full(lim));
    }

    #[test]
    fn clone_is_independent() {
        let lim = InflightLimits::new(4, 0);
        let mut a = Inflights::new();
        a.add(1, 1, lim);
        let mut b = a.clone();
        b.add(2, 1, lim);
        a.free_le(1);
        assert_eq!(a.count(), 0);
        assert_eq!(contents(&b), vec![(1, 1), (2, 1)]);
    }
}
