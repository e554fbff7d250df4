//! [`VecMap`]: the engine's few maps (streams, users, tasks, waiting requests) as a sorted
//! `Vec`, with `BTreeMap`'s order and semantics for the operations they use.
//!
//! Each `BTreeMap<K, V>` type brought its own node-splitting and balancing code into the wasm
//! (37 kB over five types, and a stable sort for each `collect`); this is a binary search and
//! `Vec::insert`/`remove`. Those shift the entries after the key: fine for the tens of entries
//! these maps hold.

use std::borrow::Borrow;

/// A map ordered by key; iteration is in key order, as `BTreeMap`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    pub const fn new() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// Sets `key`'s value; returns the one it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => self
                .entries
                .get_mut(i)
                .map(|(_, v)| std::mem::replace(v, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// `key`'s value, made by `make` first if there is none (`entry(key).or_insert_with`).
    // `i` is an entry's place: found, or where the new entry went.
    #[allow(clippy::indexing_slicing)]
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, make()));
                i
            }
        };
        &mut self.entries[i].1
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|(_, v)| v)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key)
            .ok()
            .and_then(|i| self.entries.get_mut(i))
            .map(|(_, v)| v)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Moves every entry of `other` into `self` (`other`'s values win), leaving it empty.
    pub fn append(&mut self, other: &mut Self) {
        for (k, v) in std::mem::take(&mut other.entries) {
            self.insert(k, v);
        }
    }
}

impl<K, V> VecMap<K, V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.entries.into_iter().map(|(_, v)| v)
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    /// As `BTreeMap`'s: of equal keys, the last value stays.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = VecMap::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<'a, K, V> IntoIterator for &'a mut VecMap<K, V> {
    type Item = (&'a K, &'a mut V);
    type IntoIter =
        std::iter::Map<std::slice::IterMut<'a, (K, V)>, fn(&'a mut (K, V)) -> (&'a K, &'a mut V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The same operations on a `VecMap` and a `BTreeMap` give the same answers and order.
    #[test]
    fn behaves_as_btreemap() {
        let mut ours = VecMap::new();
        let mut theirs = BTreeMap::new();
        let mut seed = 0x9e37_79b9_u32;
        for step in 0..5000u32 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let key = format!("k{}", seed % 61);
            match seed % 5 {
                0 | 1 => assert_eq!(ours.insert(key.clone(), step), theirs.insert(key, step)),
                2 => assert_eq!(ours.remove(key.as_str()), theirs.remove(key.as_str())),
                3 => {
                    *ours.get_or_insert_with(key.clone(), || step) += 1;
                    *theirs.entry(key).or_insert_with(|| step) += 1;
                }
                _ => {
                    assert_eq!(ours.get(key.as_str()), theirs.get(key.as_str()));
                    assert_eq!(ours.contains_key(&key), theirs.contains_key(&key));
                    if let (Some(a), Some(b)) = (ours.get_mut(&key), theirs.get_mut(&key)) {
                        *a += 7;
                        *b += 7;
                    }
                }
            }
            assert_eq!(ours.len(), theirs.len());
        }
        assert!(ours.iter().eq(theirs.iter()));
        for ((_, a), (_, b)) in (&mut ours).into_iter().zip(&mut theirs) {
            *a += 1;
            *b += 1;
        }
        assert!(ours.iter().eq(theirs.iter()));
        assert!(ours.keys().eq(theirs.keys()));
        assert!(ours.values().eq(theirs.values()));

        let pairs = [(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd')];
        let collected: VecMap<_, _> = pairs.into_iter().collect();
        let expected: BTreeMap<_, _> = pairs.into_iter().collect();
        assert!(collected.into_iter().eq(expected));

        let mut a: VecMap<_, _> = [(1, 'a'), (2, 'b')].into_iter().collect();
        let mut b: VecMap<_, _> = [(2, 'x'), (5, 'y')].into_iter().collect();
        let mut c: BTreeMap<_, _> = [(1, 'a'), (2, 'b')].into_iter().collect();
        let mut d: BTreeMap<_, _> = [(2, 'x'), (5, 'y')].into_iter().collect();
        a.append(&mut b);
        c.append(&mut d);
        assert!(b.is_empty() && d.is_empty());
        assert!((&a).into_iter().eq(&c));
        assert!(a.into_values().eq(c.into_values()));
    }
}
