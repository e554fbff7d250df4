//! The forward 8×8 DCT-II by Arai, Agui and Nakajima's factorisation (5 multiplications per
//! 8-point pass). Each output comes out multiplied by a known factor, `8 · s(u) · s(v)` with
//! `s(0) = 1` and `s(k) = √2 · cos(kπ/16)`, so that a quantiser
//! ([`scale`]) can fold them into its divisors (the plain path) or take them out to get JPEG's
//! orthonormal `F(u, v)` (the trellis, whose errors are measured on those).

type Row = [f32; 8];

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

/// One scaled 8-point pass (libjpeg's `jfdctflt` arithmetic).
#[inline(always)]
fn pass(x: Row) -> Row {
    let [d0, d1, d2, d3, d4, d5, d6, d7] = x;
    let (t0, t7) = (d0 + d7, d0 - d7);
    let (t1, t6) = (d1 + d6, d1 - d6);
    let (t2, t5) = (d2 + d5, d2 - d5);
    let (t3, t4) = (d3 + d4, d3 - d4);
    // Even part.
    let (t10, t13) = (t0 + t3, t0 - t3);
    let (t11, t12) = (t1 + t2, t1 - t2);
    let z1 = (t12 + t13) * 0.707_106_77;
    // Odd part.
    let (o10, o11, o12) = (t4 + t5, t5 + t6, t6 + t7);
    let z5 = (o10 - o12) * 0.382_683_43;
    let z2 = 0.541_196_1 * o10 + z5;
    let z4 = 1.306_563 * o12 + z5;
    let z3 = o11 * 0.707_106_77;
    let (z11, z13) = (t7 + z3, t7 - z3);
    [
        t10 + t11,
        z11 + z4,
        t13 + z1,
        z13 - z2,
        t10 - t11,
        z13 + z2,
        t13 - z1,
        z11 - z4,
    ]
}

/// The scaled 2-D transform of one block of level-shifted samples (rows of 8, top to bottom),
/// **transposed**: row `u`, column `v` holds `F(u, v) · scale(8u + v)` (horizontal frequency
/// `u`, vertical `v`). Along the rows, one transpose, then along the rows again (each a column
/// of the original).
#[inline]
pub fn forward_transposed(block: &[Row; 8]) -> [Row; 8] {
    let rows = block.map(pass);
    let mut cols = [[0.0f32; 8]; 8];
    for (j, row) in rows.iter().enumerate() {
        for (i, &x) in row.iter().enumerate() {
            if let Some(o) = cols.get_mut(i).and_then(|r| r.get_mut(j)) {
                *o = x;
            }
        }
    }
    cols.map(pass)
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
