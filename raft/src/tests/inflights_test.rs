//! Port of etcd's `tracker/inflights_test.go`.

use super::support::panics;
use crate::tracker::{InflightLimits, Inflights};

/// The buffer as `(index, bytes)` per slot, from parallel lists.
fn buffer(indices: &[u64], sizes: &[u64]) -> Vec<(u64, u64)> {
    assert_eq!(indices.len(), sizes.len());
    indices.iter().copied().zip(sizes.iter().copied()).collect()
}

#[test]
fn test_inflights_add() {
    let lim = InflightLimits::new(10, 0);
    // No wrap-around.
    let mut inf = Inflights::with_full_buffer(10, 0);
    for i in 0..5 {
        inf.add(i, 100 + i, lim);
    }
    assert_eq!(
        inf.layout(),
        (
            0,
            5,
            510,
            buffer(
                &[0, 1, 2, 3, 4, 0, 0, 0, 0, 0],
                &[100, 101, 102, 103, 104, 0, 0, 0, 0, 0]
            )
        )
    );
    for i in 5..10 {
        inf.add(i, 100 + i, lim);
    }
    assert_eq!(
        inf.layout(),
        (
            0,
            10,
            1045,
            buffer(
                &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
                &[100, 101, 102, 103, 104, 105, 106, 107, 108, 109]
            )
        )
    );

    // Wrapping around the end of the buffer.
    let mut inf = Inflights::with_full_buffer(10, 5);
    for i in 0..5 {
        inf.add(i, 100 + i, lim);
    }
    assert_eq!(
        inf.layout(),
        (
            5,
            5,
            510,
            buffer(
                &[0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
                &[0, 0, 0, 0, 0, 100, 101, 102, 103, 104]
            )
        )
    );
    for i in 5..10 {
        inf.add(i, 100 + i, lim);
    }
    assert_eq!(
        inf.layout(),
        (
            5,
            10,
            1045,
            buffer(
                &[5, 6, 7, 8, 9, 0, 1, 2, 3, 4],
                &[105, 106, 107, 108, 109, 100, 101, 102, 103, 104]
            )
        )
    );
}

#[test]
fn test_inflight_free_to() {
    let full = buffer(
        &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        &[100, 101, 102, 103, 104, 105, 106, 107, 108, 109],
    );
    let lim = InflightLimits::new(10, 0);
    // No wrap-around.
    let mut inf = Inflights::new();
    for i in 0..10 {
        inf.add(i, 100 + i, lim);
    }

    inf.free_le(0);
    assert_eq!(inf.layout(), (1, 9, 945, full.clone()));

    inf.free_le(4);
    assert_eq!(inf.layout(), (5, 5, 535, full.clone()));

    inf.free_le(8);
    assert_eq!(inf.layout(), (9, 1, 109, full));

    // Wrapping around.
    for i in 10..15 {
        inf.add(i, 100 + i, lim);
    }
    let wrapped = buffer(
        &[10, 11, 12, 13, 14, 5, 6, 7, 8, 9],
        &[110, 111, 112, 113, 114, 105, 106, 107, 108, 109],
    );

    inf.free_le(12);
    assert_eq!(inf.layout(), (3, 2, 227, wrapped.clone()));

    inf.free_le(14);
    assert_eq!(inf.layout(), (0, 0, 0, wrapped));
}

#[test]
fn test_inflights_full() {
    // (name, size, max bytes, full at, free_le, full again at)
    let cases: [(&str, usize, u64, u64, u64, u64); 7] = [
        ("always-full", 0, 0, 0, 0, 0),
        ("single-entry", 1, 0, 1, 1, 2),
        ("single-entry-overflow", 1, 10, 1, 1, 2),
        ("multi-entry", 15, 0, 15, 6, 22),
        ("slight-overflow", 8, 400, 4, 2, 7),
        ("exact-max-bytes", 8, 406, 4, 3, 8),
        ("larger-overflow", 15, 408, 5, 1, 6),
    ];
    for (name, size, max_bytes, full_at, free_le, again_at) in cases {
        let lim = InflightLimits::new(size, max_bytes);
        let mut inf = Inflights::new();
        let add_until_full = |inf: &mut Inflights, begin: u64, end: u64| {
            for i in begin..end {
                assert!(!inf.full(lim), "{name}: full at {i}, want {end}");
                inf.add(i, 100 + i, lim);
            }
            assert!(inf.full(lim), "{name}: not full at {end}");
        };
        add_until_full(&mut inf, 0, full_at);
        inf.free_le(free_le);
        add_until_full(&mut inf, full_at, again_at);

        assert!(
            panics(|| inf.add(100, 1024, lim)),
            "{name}: add did not panic"
        );
    }
}

#[test]
fn test_inflights_reset() {
    let lim = InflightLimits::new(10, 1000);
    let mut inf = Inflights::new();
    // A semi-realistic flow with periodic resets: byte usage must not leak
    // from one epoch into the next.
    let mut index = 0;
    for _ in 0..100 {
        inf.reset();
        // Five appends stay under the limits.
        for _ in 0..5 {
            assert!(!inf.full(lim));
            index += 1;
            inf.add(index, 16, lim);
        }
        // Acknowledge all but the last two.
        inf.free_le(index - 2);
        assert!(!inf.full(lim));
        assert_eq!(inf.count(), 2);
    }
    inf.free_le(index);
    assert_eq!(inf.count(), 0);
}
