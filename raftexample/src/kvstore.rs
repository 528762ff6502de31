//! The replicated state: the key-value map, the peer addresses that conf
//! changes brought in, and the ids of removed nodes, with the encoding of
//! all three in a snapshot.
//!
//! The state is volatile, as in etcd's raftexample: a restarted node
//! rebuilds it from its newest snapshot, then by re-applying the committed
//! entries after it. Peer addresses are part of it because the `AddNode`
//! entry that introduced a peer may be compacted into a snapshot; a node
//! restarted from that snapshot still needs to reach the peer. Removed
//! ids are part of it for the same reason: a node must go on telling a
//! removed node that it was removed (etcd's `ErrMemberRemoved`) after the
//! `RemoveNode` entry was compacted, and across restarts.
//!
//! Snapshot data (integers little-endian):
//!
//! ```text
//! data    := version:u8 (= 2) peers:u32 peer* removed:u32 id:u64* pairs:u64 pair*
//! peer    := id:u64 addr_len:u32 addr
//! pair    := key_len:u32 key value_len:u32 value
//! ```
//!
//! Version 1, written before removed ids were kept, is the same without
//! the `removed` list; it is still read.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::command::Put;

const VERSION: u8 = 2;
/// The version without the removed ids.
const VERSION_1: u8 = 1;

/// The key-value map and the known peer addresses.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KvStore {
    map: HashMap<String, Bytes>,
    peers: BTreeMap<u64, String>,
    removed: BTreeSet<u64>,
}

/// Why snapshot data cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotDataError {
    /// The version byte is unknown.
    #[error("unknown snapshot data version {0}")]
    Version(u8),
    /// The data ends early.
    #[error("snapshot data truncated at byte {0}")]
    Truncated(usize),
    /// A key or address is not UTF-8.
    #[error("snapshot data has a non-UTF-8 string at byte {0}")]
    NotUtf8(usize),
}

impl KvStore {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        self.map.get(key).cloned()
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// A fingerprint of the map that does not depend on the order of
    /// insertion: nodes that applied the same puts report the same value.
    /// It reads every pair (for tests and operators, not a hot path).
    pub fn digest(&self) -> u64 {
        self.map.iter().fold(0u64, |acc, (k, v)| {
            let h = fnv1a(fnv1a(FNV_OFFSET, k.as_bytes()), &[0xff]);
            acc.wrapping_add(fnv1a(h, v))
        })
    }

    /// Applies a committed put.
    pub fn apply(&mut self, put: Put) {
        self.map.insert(put.key, put.value);
    }

    /// The address of peer `id`, if a conf change or snapshot gave it.
    pub fn peer(&self, id: u64) -> Option<&str> {
        self.peers.get(&id).map(String::as_str)
    }

    /// The known peer addresses.
    pub fn peers(&self) -> impl Iterator<Item = (u64, &str)> {
        self.peers.iter().map(|(id, a)| (*id, a.as_str()))
    }

    /// Records the address of `id` from a committed `AddNode`.
    pub fn set_peer(&mut self, id: u64, addr: String) {
        self.peers.insert(id, addr);
    }

    /// Forgets the address of `id` and remembers the id as removed, after
    /// a committed `RemoveNode`.
    pub fn remove_peer(&mut self, id: u64) {
        self.peers.remove(&id);
        self.removed.insert(id);
    }

    /// Takes `id` off the removed ids, after a committed `AddNode` brought
    /// it back.
    pub fn readmit(&mut self, id: u64) {
        self.removed.remove(&id);
    }

    /// The ids of the nodes removed from the cluster.
    pub fn removed(&self) -> impl Iterator<Item = u64> + '_ {
        self.removed.iter().copied()
    }

    /// The snapshot data of this state.
    pub fn encode(&self) -> Bytes {
        let size = 1
            + 4
            + self.peers.values().map(|a| 12 + a.len()).sum::<usize>()
            + 4
            + 8 * self.removed.len()
            + 8
            + self
                .map
                .iter()
                .map(|(k, v)| 8 + k.len() + v.len())
                .sum::<usize>();
        let mut b = BytesMut::with_capacity(size);
        b.put_u8(VERSION);
        b.put_u32_le(self.peers.len() as u32);
        for (id, addr) in &self.peers {
            b.put_u64_le(*id);
            put_bytes(&mut b, addr.as_bytes());
        }
        b.put_u32_le(self.removed.len() as u32);
        for id in &self.removed {
            b.put_u64_le(*id);
        }
        b.put_u64_le(self.map.len() as u64);
        for (k, v) in &self.map {
            put_bytes(&mut b, k.as_bytes());
            put_bytes(&mut b, v);
        }
        b.freeze()
    }

    /// The state encoded in snapshot `data` (empty data: the empty state,
    /// as in a snapshot taken before anything was applied).
    pub fn decode(data: &Bytes) -> Result<KvStore, SnapshotDataError> {
        let mut st = KvStore::default();
        if data.is_empty() {
            return Ok(st);
        }
        let mut r = Reader {
            total: data.len(),
            rest: data.clone(),
        };
        let version = r.u8()?;
        if version != VERSION && version != VERSION_1 {
            return Err(SnapshotDataError::Version(version));
        }
        for _ in 0..r.u32()? {
            let id = r.u64()?;
            let addr = r.string()?;
            st.peers.insert(id, addr);
        }
        if version == VERSION {
            for _ in 0..r.u32()? {
                st.removed.insert(r.u64()?);
            }
        }
        for _ in 0..r.u64()? {
            let k = r.string()?;
            let v = r.bytes()?;
            st.map.insert(k, v);
        }
        Ok(st)
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

// 64-bit FNV-1a, continuing from `h`.
fn fnv1a(mut h: u64, data: &[u8]) -> u64 {
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn put_bytes(b: &mut BytesMut, s: &[u8]) {
    b.put_u32_le(s.len() as u32);
    b.put_slice(s);
}

/// Reads snapshot data, naming the offset of what is missing.
struct Reader {
    total: usize,
    rest: Bytes,
}

impl Reader {
    fn at(&self) -> usize {
        self.total - self.rest.remaining()
    }

    fn truncated<E>(&self) -> impl FnOnce(E) -> SnapshotDataError {
        let at = self.at();
        move |_| SnapshotDataError::Truncated(at)
    }

    fn u8(&mut self) -> Result<u8, SnapshotDataError> {
        let e = self.truncated();
        self.rest.try_get_u8().map_err(e)
    }

    fn u32(&mut self) -> Result<u32, SnapshotDataError> {
        let e = self.truncated();
        self.rest.try_get_u32_le().map_err(e)
    }

    fn u64(&mut self) -> Result<u64, SnapshotDataError> {
        let e = self.truncated();
        self.rest.try_get_u64_le().map_err(e)
    }

    fn bytes(&mut self) -> Result<Bytes, SnapshotDataError> {
        let at = self.at();
        let len = self.u32()? as usize;
        if self.rest.remaining() < len {
            return Err(SnapshotDataError::Truncated(at));
        }
        Ok(self.rest.split_to(len))
    }

    fn string(&mut self) -> Result<String, SnapshotDataError> {
        let at = self.at();
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| SnapshotDataError::NotUtf8(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> KvStore {
        let mut st = KvStore::default();
        st.set_peer(1, "127.0.0.1:1".into());
        st.set_peer(4, "localhost:4".into());
        st.set_peer(3, "localhost:3".into());
        st.remove_peer(3);
        for i in 0..50u64 {
            st.apply(Put {
                id: i,
                key: format!("k{i}"),
                value: Bytes::from(vec![i as u8; i as usize]),
            });
        }
        st
    }

    #[test]
    fn snapshot_data_round_trips() {
        let st = sample();
        let data = st.encode();
        assert_eq!(KvStore::decode(&data).unwrap(), st);
        assert_eq!(
            KvStore::decode(&data)
                .unwrap()
                .removed()
                .collect::<Vec<_>>(),
            [3]
        );
        assert_eq!(KvStore::decode(&Bytes::new()).unwrap(), KvStore::default());
    }

    #[test]
    fn version_1_data_reads_with_no_removed_ids() {
        let mut b = BytesMut::new();
        b.put_u8(VERSION_1);
        b.put_u32_le(1);
        b.put_u64_le(2);
        put_bytes(&mut b, b"h:2");
        b.put_u64_le(1);
        put_bytes(&mut b, b"k");
        put_bytes(&mut b, b"v");
        let st = KvStore::decode(&b.freeze()).unwrap();
        assert_eq!(st.peer(2), Some("h:2"));
        assert_eq!(st.get("k"), Some(Bytes::from_static(b"v")));
        assert_eq!(st.removed().count(), 0);
    }

    #[test]
    fn digest_ignores_order_and_sees_values() {
        let a = sample();
        let mut b = KvStore::decode(&a.encode()).unwrap();
        assert_eq!(a.digest(), b.digest());
        b.apply(Put {
            id: 0,
            key: "k1".into(),
            value: Bytes::from_static(b"other"),
        });
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn truncated_snapshot_data_is_an_error() {
        let data = sample().encode();
        for cut in [1, 2, 9, 20, data.len() / 2, data.len() - 1] {
            assert!(KvStore::decode(&data.slice(..cut)).is_err(), "cut {cut}");
        }
        assert_eq!(
            KvStore::decode(&Bytes::from_static(&[3])),
            Err(SnapshotDataError::Version(3))
        );
    }
}
