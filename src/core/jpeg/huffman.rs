//! Huffman coding for JPEG: symbol counts, code lengths optimal for those counts (limited to
//! 16 bits, with no code of all ones, as the standard requires), the canonical codes, and
//! the bit prices the trellis uses.

/// The number of bits of a magnitude category: 0 for 0, else ⌊log2 |v|⌋ + 1.
#[inline]
pub fn magnitude_size(v: u16) -> u8 {
    (16 - v.leading_zeros()) as u8
}

/// How often each of the 256 symbols of one table occurs.
#[derive(Clone)]
pub struct Counts(pub [u32; 256]);

impl Default for Counts {
    fn default() -> Self {
        Counts([0; 256])
    }
}

impl Counts {
    #[inline]
    pub fn add(&mut self, symbol: u8) {
        if let Some(c) = self.0.get_mut(usize::from(symbol)) {
            *c = c.saturating_add(1);
        }
    }
}

/// A table as DHT stores it (how many codes of each length 1..=16, then the symbols in code
/// order) and as the coder uses it (code and length per symbol).
pub struct Table {
    pub bits: [u8; 16],
    pub values: Vec<u8>,
    pub code: [u16; 256],
    pub len: [u8; 256],
}

impl Table {
    /// A table with no codes (for a table index a scan does not use).
    pub fn empty() -> Table {
        Table {
            bits: [0; 16],
            values: Vec::new(),
            code: [0; 256],
            len: [0; 256],
        }
    }

    /// The optimal table for `counts` (symbols never seen get no code).
    pub fn optimal(counts: &Counts) -> Table {
        let len = code_lengths(counts);
        Table::from_lengths(&len)
    }

    fn from_lengths(len: &[u8; 256]) -> Table {
        let mut bits = [0u8; 16];
        let mut values = Vec::new();
        for l in 1..=16u8 {
            for (s, &sl) in len.iter().enumerate() {
                if sl == l {
                    values.push(s as u8);
                    if let Some(b) = bits.get_mut(usize::from(l - 1)) {
                        *b += 1;
                    }
                }
            }
        }
        // Canonical codes: consecutive within a length, doubled at each longer length.
        let mut code = [0u16; 256];
        let mut next = 0u32;
        let mut v = values.iter();
        for &n in bits.iter() {
            for _ in 0..n {
                if let Some(&s) = v.next() {
                    if let Some(c) = code.get_mut(usize::from(s)) {
                        *c = next as u16;
                    }
                }
                next += 1;
            }
            next <<= 1;
        }
        Table {
            bits,
            values,
            code,
            len: *len,
        }
    }
}

/// Code lengths for `counts`: Huffman's, with a reserved pseudo-symbol so that no real code
/// is all ones, then lengths over 16 folded back as JPEG's Annex K.3 describes (a pair of
/// leaves at the deepest level moves up and one shorter leaf moves down).
fn code_lengths(counts: &Counts) -> [u8; 256] {
    // Leaves: the used symbols plus the reserved one (index 256) with count 1.
    let mut freq: Vec<(u64, usize)> = counts
        .0
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(s, &c)| (u64::from(c), s))
        .collect();
    freq.push((1, 256));
    let leaves = freq.len();
    // Nodes 0..leaves are the leaves; merged nodes follow. parent[n] links to the merge.
    let mut parent = vec![usize::MAX; 2 * leaves];
    let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(u64, usize)>> = freq
        .iter()
        .enumerate()
        .map(|(n, &(c, _))| std::cmp::Reverse((c, n)))
        .collect();
    let mut next = leaves;
    while heap.len() > 1 {
        let (Some(std::cmp::Reverse((ca, a))), Some(std::cmp::Reverse((cb, b)))) =
            (heap.pop(), heap.pop())
        else {
            break;
        };
        if let Some(p) = parent.get_mut(a) {
            *p = next;
        }
        if let Some(p) = parent.get_mut(b) {
            *p = next;
        }
        heap.push(std::cmp::Reverse((ca + cb, next)));
        next += 1;
    }
    // Depth of each leaf; with a single leaf plus the reserved one both get depth 1.
    let mut count_at = [0u32; 64];
    let mut depth_of = vec![0usize; leaves];
    for (leaf, d) in depth_of.iter_mut().enumerate() {
        let mut n = leaf;
        let mut depth = 0;
        while let Some(&p) = parent.get(n) {
            if p == usize::MAX {
                break;
            }
            depth += 1;
            n = p;
        }
        *d = depth.clamp(1, 63);
        if let Some(c) = count_at.get_mut(*d) {
            *c += 1;
        }
    }
    // Fold lengths over 16 (Annex K.3, Figure K.3).
    let mut i = 63;
    while i > 16 {
        while count_at.get(i).copied().unwrap_or(0) > 0 {
            // The nearest shorter length with a leaf to push down.
            let mut j = i - 2;
            while j > 0 && count_at.get(j).copied().unwrap_or(0) == 0 {
                j -= 1;
            }
            let add = |c: &mut [u32; 64], at: usize, d: i64| {
                if let Some(v) = c.get_mut(at) {
                    *v = (i64::from(*v) + d).max(0) as u32;
                }
            };
            add(&mut count_at, i, -2);
            add(&mut count_at, i - 1, 1);
            add(&mut count_at, j + 1, 2);
            add(&mut count_at, j, -1);
        }
        i -= 1;
    }
    // The reserved symbol takes one of the longest codes.
    let mut longest = 16;
    while longest > 0 && count_at.get(longest).copied().unwrap_or(0) == 0 {
        longest -= 1;
    }
    if let Some(c) = count_at.get_mut(longest) {
        *c = c.saturating_sub(1);
    }
    // Hand the lengths out again: the most frequent symbols get the shortest codes.
    let mut order: Vec<(u64, usize)> = freq.into_iter().filter(|&(_, s)| s < 256).collect();
    // Symbols are distinct, so the order is total and an unstable sort gives the same one
    // (without linking the stable sort's code: about 3 KB of gzipped wasm).
    order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut len = [0u8; 256];
    let mut it = order.iter();
    for l in 1..=16usize {
        for _ in 0..count_at.get(l).copied().unwrap_or(0) {
            if let Some(&(_, s)) = it.next() {
                if let Some(x) = len.get_mut(s) {
                    *x = l as u8;
                }
            }
        }
    }
    len
}

/// Bit prices for the trellis: the code length of each AC run/size symbol (from counts of a
/// first look at the picture, each count raised by one so unseen symbols get a long but
/// finite price) plus the magnitude bits.
pub struct RateModel {
    /// `price[run][size]` in bits, code plus magnitude, for run 0..=15, size 0..=10.
    price: [[f32; 11]; 16],
    zrl: f32,
    eob: f32,
}

impl RateModel {
    pub fn from_counts(counts: &Counts) -> RateModel {
        let mut smoothed = Counts::default();
        for run in 0..16u8 {
            for size in 1..=10u8 {
                let s = (run << 4) | size;
                if let Some(c) = smoothed.0.get_mut(usize::from(s)) {
                    *c = counts.0.get(usize::from(s)).copied().unwrap_or(0) + 1;
                }
            }
        }
        for s in [0x00u8, 0xF0] {
            if let Some(c) = smoothed.0.get_mut(usize::from(s)) {
                *c = counts.0.get(usize::from(s)).copied().unwrap_or(0) + 1;
            }
        }
        let len = code_lengths(&smoothed);
        let l = |s: u8| f32::from(len.get(usize::from(s)).copied().unwrap_or(16));
        let mut price = [[0.0f32; 11]; 16];
        for (run, row) in price.iter_mut().enumerate() {
            for (size, p) in row.iter_mut().enumerate().skip(1) {
                *p = l(((run as u8) << 4) | size as u8) + size as f32;
            }
        }
        RateModel {
            price,
            zrl: l(0xF0),
            eob: l(0x00),
        }
    }

    /// Bits for a coefficient of magnitude category `size` after `run` zeros (ZRLs included).
    #[inline]
    pub fn ac_bits(&self, run: usize, size: u8) -> f32 {
        let zrls = (run / 16) as f32 * self.zrl;
        let p = self
            .price
            .get(run % 16)
            .and_then(|r| r.get(usize::from(size)))
            .copied()
            .unwrap_or(32.0);
        zrls + p
    }

    #[inline]
    pub fn eob_bits(&self) -> f32 {
        self.eob
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn kraft(t: &Table) -> f64 {
        t.bits
            .iter()
            .enumerate()
            .map(|(i, &n)| f64::from(n) / f64::from(1u32 << (i + 1)))
            .sum()
    }

    #[test]
    fn lengths_are_limited_and_leave_room() {
        // Fibonacci counts make a maximally deep Huffman tree.
        let mut c = Counts::default();
        let (mut a, mut b) = (1u32, 1u32);
        for s in 0..40 {
            c.0[s] = a;
            (a, b) = (b, a.saturating_add(b));
        }
        let t = Table::optimal(&c);
        assert_eq!(t.values.len(), 40);
        assert!(t.len.iter().all(|&l| l <= 16));
        assert!(kraft(&t) < 1.0, "an all-ones code must stay free");
    }

    #[test]
    fn one_symbol_gets_a_code() {
        let mut c = Counts::default();
        c.0[0] = 100;
        let t = Table::optimal(&c);
        assert_eq!(t.values, vec![0]);
        assert_eq!(t.len[0], 1);
        assert_eq!(t.code[0], 0);
    }
}
