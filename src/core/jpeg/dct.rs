//! The forward 8×8 DCT-II by Arai, Agui and Nakajima's factorisation (5 multiplications per
//! 8-point pass). Each output comes out multiplied by a known factor, `8 · s(u) · s(v)` with
//! `s(0) = 1` and `s(k) = √2 · cos(kπ/16)`, so that a quantiser
//! ([`scale`]) can fold them into its divisors (the plain path) or take them out to get JPEG's
//! orthonormal `F(u, v)` (the trellis, whose errors are measured on those).

/// `s(k) = √2 · cos(kπ/16)`, with `s(0) = 1`.
const FACTOR: [f64; 8] = [
    1.0,
    1.387_039_845,
    1.306_562_965,
    1.175_875_602,
    1.0,
    0.785_694_958,
    0.541_196_100,
    0.275_899_379,
];

/// The factor `8 · s(u) · s(v)` of output `i = 8u + v` of [`forward_transposed`].
pub fn scale(i: usize) -> f64 {
    let s = |k: usize| FACTOR.get(k).copied().unwrap_or(1.0);
    8.0 * s(i / 8) * s(i % 8)
}

/// Eight samples side by side: one row of a block, or one sample of each of eight rows.
type Lanes = [f32; 8];

/// What the 8-point pass computes on, lane by lane: [`Lanes`] (portable; the compiler
/// vectorises it natively), or a wasm SIMD vector of four.
trait Lanewise: Copy {
    fn add(self, b: Self) -> Self;
    fn sub(self, b: Self) -> Self;
    fn mul(self, k: f32) -> Self;
}

impl Lanewise for Lanes {
    #[inline(always)]
    fn add(mut self, b: Self) -> Self {
        for (x, y) in self.iter_mut().zip(b) {
            *x += y;
        }
        self
    }

    #[inline(always)]
    fn sub(mut self, b: Self) -> Self {
        for (x, y) in self.iter_mut().zip(b) {
            *x -= y;
        }
        self
    }

    #[inline(always)]
    fn mul(self, k: f32) -> Self {
        self.map(|x| x * k)
    }
}

/// The scaled 8-point transform (libjpeg's `jfdctflt` arithmetic) of several sequences at
/// once: lane `i` of output `k` is coefficient `k` of the sequence made of lane `i` of each
/// input. Every lane type runs the same operations in the same order, so gives the same bits.
#[inline(always)]
fn pass<V: Lanewise>(x: [V; 8]) -> [V; 8] {
    let [d0, d1, d2, d3, d4, d5, d6, d7] = x;
    let (t0, t7) = (d0.add(d7), d0.sub(d7));
    let (t1, t6) = (d1.add(d6), d1.sub(d6));
    let (t2, t5) = (d2.add(d5), d2.sub(d5));
    let (t3, t4) = (d3.add(d4), d3.sub(d4));
    // Even part.
    let (t10, t13) = (t0.add(t3), t0.sub(t3));
    let (t11, t12) = (t1.add(t2), t1.sub(t2));
    let z1 = t12.add(t13).mul(0.707_106_77);
    // Odd part.
    let (o10, o11, o12) = (t4.add(t5), t5.add(t6), t6.add(t7));
    let z5 = o10.sub(o12).mul(0.382_683_43);
    let z2 = o10.mul(0.541_196_1).add(z5);
    let z4 = o12.mul(1.306_563).add(z5);
    let z3 = o11.mul(0.707_106_77);
    let (z11, z13) = (t7.add(z3), t7.sub(z3));
    [
        t10.add(t11),
        z11.add(z4),
        t13.add(z1),
        z13.sub(z2),
        t10.sub(t11),
        z13.add(z2),
        t13.sub(z1),
        z11.sub(z4),
    ]
}

/// The scaled 2-D transform of one block of level-shifted samples (rows of 8, top to bottom),
/// **transposed**: row `u`, column `v` holds `F(u, v) · scale(8u + v)` (horizontal frequency
/// `u`, vertical `v`). Down the columns first, then along the rows. With wasm SIMD the same
/// [`pass`] runs on explicit vectors of four lanes ([`simd`]): the compiler does not vectorise
/// [`forward_transposed_portable`] for wasm, which then takes a third longer for a 1080p JPEG.
// Not inlined in wasm: one function holding the whole block loop made V8 spill more; kept
// apart, the DCT and the rounding cut 5–15 % from a 1080p JPEG (node 20 and Chromium 156).
#[cfg_attr(target_arch = "wasm32", inline(never))]
#[cfg_attr(not(target_arch = "wasm32"), inline)]
pub fn forward_transposed(block: &[Lanes; 8]) -> [Lanes; 8] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd::forward_transposed(block)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        forward_transposed_portable(block)
    }
}

/// [`forward_transposed`] without explicit vectors: down all eight columns at once (the
/// rows are the lanes), one transpose, then along all eight rows at once.
#[inline]
pub fn forward_transposed_portable(block: &[Lanes; 8]) -> [Lanes; 8] {
    // `vertical[v][c]`: vertical frequency `v` of column `c`.
    let vertical = pass(*block);
    let mut by_column = [[0.0f32; 8]; 8];
    for (v, row) in vertical.iter().enumerate() {
        for (c, &x) in row.iter().enumerate() {
            if let Some(o) = by_column.get_mut(c).and_then(|r| r.get_mut(v)) {
                *o = x;
            }
        }
    }
    pass(by_column)
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{pass, Lanes, Lanewise};
    use core::arch::wasm32::{
        f32x4_add, f32x4_mul, f32x4_splat, f32x4_sub, i32x4_shuffle, i64x2_shuffle, v128,
        v128_load, v128_store,
    };

    impl Lanewise for v128 {
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            f32x4_add(self, b)
        }

        #[inline(always)]
        fn sub(self, b: Self) -> Self {
            f32x4_sub(self, b)
        }

        #[inline(always)]
        fn mul(self, k: f32) -> Self {
            f32x4_mul(self, f32x4_splat(k))
        }
    }

    /// The 4×4 transpose of four vectors.
    #[inline(always)]
    fn transpose(a: v128, b: v128, c: v128, d: v128) -> [v128; 4] {
        let ab_lo = i32x4_shuffle::<0, 4, 1, 5>(a, b);
        let ab_hi = i32x4_shuffle::<2, 6, 3, 7>(a, b);
        let cd_lo = i32x4_shuffle::<0, 4, 1, 5>(c, d);
        let cd_hi = i32x4_shuffle::<2, 6, 3, 7>(c, d);
        [
            i64x2_shuffle::<0, 2>(ab_lo, cd_lo),
            i64x2_shuffle::<1, 3>(ab_lo, cd_lo),
            i64x2_shuffle::<0, 2>(ab_hi, cd_hi),
            i64x2_shuffle::<1, 3>(ab_hi, cd_hi),
        ]
    }

    #[inline]
    pub fn forward_transposed(block: &[Lanes; 8]) -> [Lanes; 8] {
        // SAFETY: each row is 8 f32s, 32 bytes; a load or store reads or writes 16 of them at
        // offset 0 or 16 (wasm's v128 loads and stores need no alignment).
        let load =
            |row: &Lanes, half: usize| unsafe { v128_load(row.as_ptr().add(4 * half).cast()) };
        // Down the columns, four at a time: `left[v]` is vertical frequency `v` of columns
        // 0–3, `right[v]` of columns 4–7.
        let left = pass(block.map(|row| load(&row, 0)));
        let right = pass(block.map(|row| load(&row, 1)));
        // Transposed: `a[c]` holds column `c`'s vertical frequencies 0–3, `b[c]` its 4–7.
        let [l0, l1, l2, l3, l4, l5, l6, l7] = left;
        let [r0, r1, r2, r3, r4, r5, r6, r7] = right;
        let [a0, a1, a2, a3] = transpose(l0, l1, l2, l3);
        let [a4, a5, a6, a7] = transpose(r0, r1, r2, r3);
        let [b0, b1, b2, b3] = transpose(l4, l5, l6, l7);
        let [b4, b5, b6, b7] = transpose(r4, r5, r6, r7);
        // Along the rows: `top[u]` holds (u, v) for v = 0–3, `bottom[u]` for v = 4–7.
        let top = pass([a0, a1, a2, a3, a4, a5, a6, a7]);
        let bottom = pass([b0, b1, b2, b3, b4, b5, b6, b7]);
        let mut out = [[0.0f32; 8]; 8];
        for ((row, t), b) in out.iter_mut().zip(top).zip(bottom) {
            // SAFETY: as above, within the row's 32 bytes.
            unsafe {
                v128_store(row.as_mut_ptr().cast(), t);
                v128_store(row.as_mut_ptr().add(4).cast(), b);
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::needless_range_loop)]
mod tests {
    use super::*;
    use std::f64::consts::FRAC_1_SQRT_2;

    fn reference(block: &[[f32; 8]; 8]) -> [[f64; 8]; 8] {
        let mut out = [[0.0; 8]; 8];
        for v in 0..8 {
            for u in 0..8 {
                let mut s = 0.0;
                for y in 0..8 {
                    for x in 0..8 {
                        s += f64::from(block[y][x])
                            * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos()
                            * ((2 * y + 1) as f64 * v as f64 * std::f64::consts::PI / 16.0).cos();
                    }
                }
                let cu = if u == 0 { FRAC_1_SQRT_2 } else { 1.0 };
                let cv = if v == 0 { FRAC_1_SQRT_2 } else { 1.0 };
                out[v][u] = 0.25 * cu * cv * s;
            }
        }
        out
    }

    #[test]
    fn matches_the_definition_after_scaling() {
        let mut block = [[0.0f32; 8]; 8];
        let mut seed = 12345u32;
        for row in block.iter_mut() {
            for p in row.iter_mut() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *p = ((seed >> 16) % 256) as f32 - 128.0;
            }
        }
        let ours = forward_transposed(&block);
        let theirs = reference(&block);
        for v in 0..8 {
            for u in 0..8 {
                let f = f64::from(ours[u][v]) / scale(8 * u + v);
                assert!(
                    (f - theirs[v][u]).abs() < 1e-2,
                    "F({u},{v}): {f} vs {}",
                    theirs[v][u]
                );
            }
        }
    }
}
