//! Quantisation tables and rate–distortion optimised quantisation.
//!
//! Two sets of tables, each scaled by quality as the IJG's `jpeg_quality_scaling` does and
//! limited to 8 bits (baseline): N. Robidoux's (the set MozJPEG uses by default, one table
//! for luma and chroma) and the standard's Annex K pair (what libjpeg, and so the browsers'
//! own encoders, use: the same quality number gives the same steps as `toBlob`'s).
//!
//! [`Trellis::quantise`] chooses each block's AC levels to minimise
//! `distortion + λ · bits`: for every coefficient that rounds to a non-zero level it considers
//! that level, zero, and one less when that saves a magnitude bit, and finds the best choice over the whole zig-zag sequence
//! by dynamic programming over "the last non-zero coefficient so far", pricing each run/size
//! symbol with the Huffman code lengths of [`super::huffman::RateModel`] plus its magnitude bits.

use super::huffman::{magnitude_size, RateModel};

/// The natural (row-major) index of each zig-zag position.
pub const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Robidoux's table at quality 50, row-major (symmetric, so the same read by columns).
const ROBIDOUX: [u16; 64] = [
    16, 16, 16, 18, 25, 37, 56, 85, //
    16, 17, 20, 27, 34, 40, 53, 75, //
    16, 20, 24, 31, 43, 62, 91, 135, //
    18, 27, 31, 40, 53, 74, 106, 156, //
    25, 34, 43, 53, 69, 94, 131, 189, //
    37, 40, 62, 74, 94, 124, 169, 238, //
    56, 53, 91, 106, 131, 169, 226, 311, //
    85, 75, 135, 156, 189, 238, 311, 418,
];

/// The example tables of the standard's Annex K (K.1 luma, K.2 chroma), row-major.
const ANNEX_K_LUMA: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, //
    12, 12, 14, 19, 26, 58, 60, 55, //
    14, 13, 16, 24, 40, 57, 69, 56, //
    14, 17, 22, 29, 51, 87, 80, 62, //
    18, 22, 37, 56, 68, 109, 103, 77, //
    24, 35, 55, 64, 81, 104, 113, 92, //
    49, 64, 78, 87, 103, 121, 120, 101, //
    72, 92, 95, 98, 112, 100, 103, 99,
];
const ANNEX_K_CHROMA: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, //
    18, 21, 26, 66, 99, 99, 99, 99, //
    24, 26, 56, 99, 99, 99, 99, 99, //
    47, 66, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99,
];

/// Which quantisation tables a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableSet {
    /// Robidoux's, for luma and chroma alike.
    Robidoux,
    /// Annex K's luma and chroma tables.
    AnnexK,
}

impl TableSet {
    /// The (luma, chroma) tables for `quality`, in zig-zag order.
    pub fn tables(self, quality: u8) -> [[u8; 64]; 2] {
        match self {
            TableSet::Robidoux => {
                let t = scaled(&ROBIDOUX, quality);
                [t, t]
            }
            TableSet::AnnexK => [
                scaled(&ANNEX_K_LUMA, quality),
                scaled(&ANNEX_K_CHROMA, quality),
            ],
        }
    }
}

/// The IJG's percentage for a quality of 1..=100.
pub fn quality_scale(quality: u8) -> u32 {
    let q = u32::from(quality.clamp(1, 100));
    if q < 50 {
        5000 / q
    } else {
        200 - 2 * q
    }
}

/// A row-major base table scaled for `quality`, in zig-zag order (as DQT stores it).
fn scaled(base: &[u16; 64], quality: u8) -> [u8; 64] {
    let scale = quality_scale(quality);
    let mut out = [1u8; 64];
    for (o, &n) in out.iter_mut().zip(ZIGZAG.iter()) {
        let base = u32::from(base.get(usize::from(n)).copied().unwrap_or(16));
        let v = ((base * scale + 50) / 100).clamp(1, 255);
        *o = u8::try_from(v).unwrap_or(255);
    }
    out
}

/// For each zig-zag position, the index of its coefficient in the transposed DCT output
/// (row = horizontal frequency), see [`super::dct::forward_transposed`]: for [`ZIGZAG`]'s
/// `n`, `(n % 8) · 8 + n / 8` (checked by a test).
const ZIGZAG_TRANSPOSED: [u8; 64] = [
    0, 8, 1, 2, 9, 16, 24, 17, 10, 3, 4, 11, 18, 25, 32, 40, 33, 26, 19, 12, 5, 6, 13, 20, 27, 34,
    41, 48, 56, 49, 42, 35, 28, 21, 14, 7, 15, 22, 29, 36, 43, 50, 57, 58, 51, 44, 37, 30, 23, 31,
    38, 45, 52, 59, 60, 53, 46, 39, 47, 54, 61, 62, 55, 63,
];

/// One block's orthonormal coefficients `F(u, v)` in zig-zag order, from the scaled,
/// transposed output of [`super::dct::forward_transposed`].
pub fn zigzag(scaled_transposed: &[[f32; 8]; 8], steps: &Steps) -> [f32; 64] {
    let flat = scaled_transposed.as_flattened();
    let mut out = [0.0f32; 64];
    for ((o, &n), &d) in out
        .iter_mut()
        .zip(ZIGZAG_TRANSPOSED.iter())
        .zip(steps.descale.iter())
    {
        *o = flat.get(usize::from(n)).copied().unwrap_or(0.0) * d;
    }
    out
}

/// A table's steps as floats and their reciprocals, in zig-zag order; the reciprocals of
/// the divisors that take the scaled DCT's output straight to levels, in its layout; and
/// the factors that take it to orthonormal coefficients, in zig-zag order.
pub struct Steps {
    pub step: [f32; 64],
    pub recip: [f32; 64],
    scaled_recip: [f32; 64],
    descale: [f32; 64],
}

impl Steps {
    pub fn new(table: &[u8; 64]) -> Steps {
        let mut step = [1.0f32; 64];
        let mut recip = [1.0f32; 64];
        for ((s, r), &q) in step.iter_mut().zip(recip.iter_mut()).zip(table.iter()) {
            *s = f32::from(q.max(1));
            *r = 1.0 / *s;
        }
        let mut scaled_recip = [0.0f32; 64];
        let mut descale = [0.0f32; 64];
        for ((&n, &q), d) in ZIGZAG_TRANSPOSED
            .iter()
            .zip(step.iter())
            .zip(descale.iter_mut())
        {
            let n = usize::from(n);
            let s = super::dct::scale(n);
            if let Some(o) = scaled_recip.get_mut(n) {
                *o = (1.0 / (f64::from(q) * s)) as f32;
            }
            *d = (1.0 / s) as f32;
        }
        Steps {
            step,
            recip,
            scaled_recip,
            descale,
        }
    }
}

/// Rounds every coefficient of a block from [`super::dct::forward_transposed`] to the
/// nearest level (ties to even), in zig-zag order: what a plain encoder does, with the DCT's
/// scale folded into the divisors.
// Not inlined in wasm, as `dct::forward_transposed` (why there).
#[cfg_attr(target_arch = "wasm32", inline(never))]
#[cfg_attr(not(target_arch = "wasm32"), inline)]
pub fn round_scaled(scaled_transposed: &[[f32; 8]; 8], steps: &Steps) -> [i16; 64] {
    // 1.5 · 2²³: adding it leaves round(x) in the low mantissa bits for |x| < 2²², without
    // libm's `round` or a saturating conversion. No clamp is needed: an orthonormal
    // coefficient of 8-bit samples is at most 2048 in size, and a step at least 1.
    const MAGIC: f32 = 12_582_912.0;
    let mut natural = [0i16; 64];
    for ((o, &x), &r) in natural
        .iter_mut()
        .zip(scaled_transposed.as_flattened())
        .zip(steps.scaled_recip.iter())
    {
        let v = x * r + MAGIC;
        *o = (v.to_bits().wrapping_sub(MAGIC.to_bits())) as i32 as i16;
    }
    zigzag_levels(&natural)
}

/// Levels in the DCT's transposed layout put in zig-zag order. With wasm SIMD, each eight
/// outputs are gathered from the eight rows by byte shuffles: the scalar gather, bounds-checked, was a fifth of a 1080p JPEG's time in wasm.
#[inline]
pub fn zigzag_levels(natural: &[i16; 64]) -> [i16; 64] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd::zigzag_levels(natural)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        zigzag_levels_portable(natural)
    }
}

/// [`zigzag_levels`] without explicit vectors.
#[inline]
pub fn zigzag_levels_portable(natural: &[i16; 64]) -> [i16; 64] {
    let mut out = [0i16; 64];
    for (o, &n) in out.iter_mut().zip(ZIGZAG_TRANSPOSED.iter()) {
        *o = natural.get(usize::from(n)).copied().unwrap_or(0);
    }
    out
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::ZIGZAG_TRANSPOSED;
    use core::arch::wasm32::{u8x16_splat, u8x16_swizzle, v128, v128_load, v128_or, v128_store};

    /// `SHUFFLES[k][s]`: the bytes of row `s` (eight levels) that output group `k` takes, at
    /// their places in the group; 0x80 (no byte) elsewhere.
    const SHUFFLES: [[[u8; 16]; 8]; 8] = shuffles();

    #[allow(clippy::indexing_slicing)] // const evaluation: an index out of range fails the build
    const fn shuffles() -> [[[u8; 16]; 8]; 8] {
        let mut m = [[[0x80u8; 16]; 8]; 8];
        let mut i = 0;
        while i < 64 {
            let (k, j) = (i / 8, i % 8);
            let n = ZIGZAG_TRANSPOSED[i] as usize;
            let (s, e) = (n / 8, (n % 8) as u8);
            m[k][s][2 * j] = 2 * e;
            m[k][s][2 * j + 1] = 2 * e + 1;
            i += 1;
        }
        m
    }

    #[inline]
    pub fn zigzag_levels(natural: &[i16; 64]) -> [i16; 64] {
        let mut rows = [u8x16_splat(0); 8];
        for (r, chunk) in rows.iter_mut().zip(natural.chunks_exact(8)) {
            // SAFETY: `chunk` is eight i16s, 16 bytes; v128 loads need no alignment.
            *r = unsafe { v128_load(chunk.as_ptr().cast()) };
        }
        let mut out = [0i16; 64];
        // All 64 shuffles: skipping the 24 empty ones by a table measured slower (branches).
        for (o, shuffles) in out.chunks_exact_mut(8).zip(SHUFFLES.iter()) {
            let mut acc = u8x16_splat(0);
            for (&row, shuffle) in rows.iter().zip(shuffles) {
                // SAFETY: `shuffle` is 16 bytes.
                let s = unsafe { v128_load(shuffle.as_ptr().cast::<v128>()) };
                acc = v128_or(acc, u8x16_swizzle(row, s));
            }
            // SAFETY: `o` is eight i16s, 16 bytes.
            unsafe { v128_store(o.as_mut_ptr().cast(), acc) };
        }
        out
    }
}

/// |level| rounded to nearest (ties to even), for `a · recip` < 2²²: adding 2²³ leaves the
/// rounded integer in the float's low mantissa bits. Branch-free and without libm's `round`
/// or a saturating conversion, so loops of it vectorise (and stay cheap in wasm).
#[inline(always)]
fn level(a: f32, recip: f32) -> u16 {
    const MAGIC: f32 = 8_388_608.0;
    let bits = (a * recip + MAGIC).to_bits().wrapping_sub(MAGIC.to_bits());
    bits.min(2047) as u16
}

/// The 16-bit levels [`ac_mask`] reads: `i16` (signed levels) and `u16` (magnitudes).
pub trait Level: Copy + Default + PartialEq + sealed::Sealed {}
impl Level for i16 {}
impl Level for u16 {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for i16 {}
    impl Sealed for u16 {}
}

/// Bit `i` set when zig-zag position `i` (1..=63) holds a non-zero level. With wasm SIMD,
/// eight levels per comparison and one `bitmask` each (the portable loop was a tenth of a
/// 1080p JPEG's time in wasm).
#[inline]
pub fn ac_mask<T: Level>(levels: &[T; 64]) -> u64 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::{i16x8_bitmask, i16x8_ne, i16x8_splat, v128, v128_load};
        let mut m = 0u64;
        for (k, chunk) in levels.chunks_exact(8).enumerate() {
            // SAFETY: `chunk` is eight 16-bit levels (`Level` is sealed to `i16` and `u16`),
            // 16 bytes; wasm's v128 loads need no alignment.
            let v = unsafe { v128_load(chunk.as_ptr().cast::<v128>()) };
            m |= u64::from(i16x8_bitmask(i16x8_ne(v, i16x8_splat(0)))) << (8 * k);
        }
        m & !1
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        ac_mask_portable(levels)
    }
}

/// [`ac_mask`] without explicit vectors. (Eight at a time with constant shifts: a shift by
/// a varying amount per lane vectorises badly.)
#[inline]
pub fn ac_mask_portable<T: Level>(levels: &[T; 64]) -> u64 {
    let z = T::default();
    let mut m = 0u64;
    for (k, chunk) in levels.chunks_exact(8).enumerate() {
        if let [a, b, c, d, e, f, g, h] = *chunk {
            let byte = u64::from(a != z)
                | u64::from(b != z) << 1
                | u64::from(c != z) << 2
                | u64::from(d != z) << 3
                | u64::from(e != z) << 4
                | u64::from(f != z) << 5
                | u64::from(g != z) << 6
                | u64::from(h != z) << 7;
            m |= byte << (8 * k);
        }
    }
    m & !1
}

/// A coefficient the trellis may keep (its rounded level is non-zero), and the trellis's
/// state after keeping it.
#[derive(Debug, Clone, Copy, Default)]
struct Candidate {
    /// Zig-zag position.
    pos: u8,
    neg: bool,
    /// The levels tried: the rounded one, and one less when that saves a magnitude bit
    /// (else the same again), with their magnitude sizes and squared errors.
    level: [u16; 2],
    size: [u8; 2],
    err: [f32; 2],
    /// The squared error of zeroing the candidates before this one, and up to and with it.
    zeroed_before: f32,
    zeroed_after: f32,
    /// The least cost of everything up to this candidate when it is kept; the state before
    /// (0 = the start, j + 1 = candidate j) and which level.
    best: f32,
    from: u8,
    choice: u8,
}

/// Rate–distortion optimised quantisation of blocks with one table and one rate model.
pub struct Trellis<'a> {
    steps: &'a Steps,
    /// `λ · bits` of an AC coefficient of each magnitude size after each run of zeros
    /// (0..=62, ZRLs included).
    price: Box<[[f32; 11]; 63]>,
    /// `λ · bits` of an end of block.
    eob: f32,
    /// How far back (in candidates) a run may reach: zeroing more than this many candidates
    /// in a row to reach the next one is not considered.
    window: usize,
    cands: [Candidate; 63],
}

impl<'a> Trellis<'a> {
    /// Bits are worth `lambda` units of squared error (in this component's weighting).
    pub fn new(steps: &'a Steps, rate: &RateModel, lambda: f32, window: usize) -> Self {
        let mut price = Box::new([[0.0f32; 11]; 63]);
        for (run, row) in price.iter_mut().enumerate() {
            for (size, p) in row.iter_mut().enumerate() {
                *p = lambda * rate.ac_bits(run, size as u8);
            }
        }
        Trellis {
            steps,
            price,
            eob: lambda * rate.eob_bits(),
            window: window.max(1),
            cands: [Candidate::default(); 63],
        }
    }

    /// The levels for one block (zig-zag order): DC rounded, AC optimised; and the
    /// [`ac_mask`] of the result.
    pub fn quantise(&mut self, coef: &[f32; 64]) -> ([i16; 64], u64) {
        let mut out = [0i16; 64];
        // All levels first, in a loop the compiler can vectorise.
        let mut rounded = [0u16; 64];
        for ((l, &c), &r) in rounded
            .iter_mut()
            .zip(coef.iter())
            .zip(self.steps.recip.iter())
        {
            *l = level(c.abs(), r);
        }
        if let (Some(o), Some(&dc), Some(&l)) = (out.first_mut(), coef.first(), rounded.first()) {
            let l = l.min(2047) as i16;
            *o = if dc < 0.0 { -l } else { l };
        }
        // The candidates.
        let mut k = 0usize;
        let mut zeroed = 0.0f32;
        let mut mask = ac_mask(&rounded);
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let (Some(&c), Some(&q), Some(&l), Some(cand)) = (
                coef.get(i),
                self.steps.step.get(i),
                rounded.get(i),
                self.cands.get_mut(k),
            ) else {
                break;
            };
            let l = l.min(1023);
            let a = c.abs();
            let lower = if l > 1 && l.is_power_of_two() {
                l - 1
            } else {
                l
            };
            cand.pos = i as u8;
            cand.neg = c < 0.0;
            cand.level = [l, lower];
            cand.size = [magnitude_size(l), magnitude_size(lower)];
            cand.err = [
                (a - f32::from(l) * q).powi(2),
                (a - f32::from(lower) * q).powi(2),
            ];
            cand.zeroed_before = zeroed;
            zeroed += a * a;
            cand.zeroed_after = zeroed;
            k += 1;
        }
        if k == 0 {
            return (out, 0);
        }
        let cands = self.cands.get_mut(..k).unwrap_or_default();
        // Forward: the best way to reach each candidate kept.
        for i in 0..k {
            let Some((done, rest)) = cands.split_at_mut_checked(i) else {
                break;
            };
            let Some(cur) = rest.first_mut() else {
                break;
            };
            let tries = if cur.level[0] == cur.level[1] { 1 } else { 2 };
            let p_i = usize::from(cur.pos);
            let mut best = f32::INFINITY;
            let (mut from, mut choice) = (0u8, 0u8);
            let mut consider = |state: u8, base: f32, prev_pos: usize| {
                let Some(row) = self.price.get(p_i - prev_pos - 1) else {
                    return;
                };
                for (t, (&size, &err)) in
                    cur.size.iter().zip(cur.err.iter()).take(tries).enumerate()
                {
                    let cost = base + err + row.get(usize::from(size)).copied().unwrap_or(f32::MAX);
                    if cost < best {
                        best = cost;
                        from = state;
                        choice = t as u8;
                    }
                }
            };
            // From the start (the DC), zeroing every candidate before.
            consider(0, cur.zeroed_before, 0);
            let first = i.saturating_sub(self.window);
            for (j, prev) in done.iter().enumerate().skip(first) {
                let base = prev.best + (cur.zeroed_before - prev.zeroed_after);
                consider(j as u8 + 1, base, usize::from(prev.pos));
            }
            cur.best = best;
            cur.from = from;
            cur.choice = choice;
        }
        // The end: the rest zeroed, then an EOB unless the last kept one is at 63.
        let mut end_cost = zeroed + self.eob;
        let mut state = 0usize;
        for (j, c) in cands.iter().enumerate() {
            let tail = if c.pos == 63 { 0.0 } else { self.eob };
            let cost = c.best + (zeroed - c.zeroed_after) + tail;
            if cost < end_cost {
                end_cost = cost;
                state = j + 1;
            }
        }
        // Back, setting the kept levels.
        let mut out_mask = 0u64;
        while state > 0 {
            let Some(c) = cands.get(state - 1) else {
                break;
            };
            let [first, second] = c.level;
            let l = if c.choice == 0 { first } else { second } as i16;
            if let Some(o) = out.get_mut(usize::from(c.pos)) {
                *o = if c.neg { -l } else { l };
                out_mask |= 1u64 << c.pos;
            }
            state = usize::from(c.from);
        }
        (out, out_mask)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn transposed_zigzag_matches_zigzag() {
        for (k, &n) in ZIGZAG.iter().enumerate() {
            assert_eq!(ZIGZAG_TRANSPOSED[k], (n % 8) * 8 + n / 8);
        }
        let mut seen = [false; 64];
        for &n in &ZIGZAG {
            seen[usize::from(n)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
