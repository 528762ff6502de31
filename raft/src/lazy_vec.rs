//! [`LazyVec`]: a vector that costs one word until it is first used.

use std::ops::{Deref, DerefMut};

/// A `Vec<T>` behind a pointer that is null until the first push: 8 bytes
/// instead of 24 while empty, for the queues that most nodes never use
/// (votes outside elections, read-index requests, pending batch appends),
/// which matters to a process hosting many mostly idle groups. Reads go
/// through the slice it dereferences to; an emptied vector keeps its
/// buffer until [`take`](LazyVec::take) or [`release`](LazyVec::release).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
// The box is the point: it makes the empty vector one word wide.
#[allow(clippy::box_collection)]
pub struct LazyVec<T>(Option<Box<Vec<T>>>);

impl<T> LazyVec<T> {
    /// An empty vector; allocates nothing.
    pub const fn new() -> LazyVec<T> {
        LazyVec(None)
    }

    /// The vector, allocated on first use.
    #[inline]
    pub fn vec_mut(&mut self) -> &mut Vec<T> {
        self.0.get_or_insert_with(Box::default)
    }

    /// Appends `v`.
    #[inline]
    pub fn push(&mut self, v: T) {
        self.vec_mut().push(v);
    }

    /// Removes every element, keeping the buffer.
    #[inline]
    pub fn clear(&mut self) {
        if let Some(v) = self.0.as_deref_mut() {
            v.clear();
        }
    }

    /// Removes every element and gives the buffer back.
    #[inline]
    pub fn release(&mut self) {
        self.0 = None;
    }

    /// Moves the elements out, leaving the vector unallocated.
    #[inline]
    pub fn take(&mut self) -> Vec<T> {
        self.0.take().map_or_else(Vec::new, |b| *b)
    }
}

impl<T> Deref for LazyVec<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl<T> DerefMut for LazyVec<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        match self.0.as_deref_mut() {
            Some(v) => v.as_mut_slice(),
            None => &mut [],
        }
    }
}

impl<'a, T> IntoIterator for &'a LazyVec<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> From<Vec<T>> for LazyVec<T> {
    fn from(v: Vec<T>) -> LazyVec<T> {
        LazyVec(Some(Box::new(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::LazyVec;

    #[test]
    fn allocates_on_first_push_and_reads_as_a_slice() {
        assert_eq!(std::mem::size_of::<LazyVec<u64>>(), 8);
        let mut v: LazyVec<u64> = LazyVec::new();
        assert!(v.is_empty());
        assert!(v.0.is_none());
        v.push(3);
        v.push(4);
        assert_eq!(&v[..], &[3, 4]);
        v[0] = 5;
        v.clear();
        assert!(v.is_empty() && v.0.is_some());
        v.vec_mut().extend([1, 2]);
        assert_eq!(v.take(), vec![1, 2]);
        assert!(v.0.is_none());
        v.push(1);
        v.release();
        assert!(v.0.is_none() && v.is_empty());
    }
}
