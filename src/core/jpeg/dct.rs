//! The forward 8×8 DCT-II, orthonormal: the output is JPEG's `F(u, v)` (the coefficient that
//! quantisation divides), and the sum of squared errors of the coefficients equals that of
//! the samples, so distortion can be measured in either domain.
//!
//! Each 1-D pass splits the 8 inputs into their sums and differences (`x[n] ± x[7 − n]`): the
//! even outputs come from the 4 sums (two of them from a further split), the odd ones from the
//! 4 differences by a 4×4 product.

use std::f32::consts::FRAC_1_SQRT_2;

/// cos(kπ/16) for k = 1, 2, 3, 5, 6, 7.
const C1: f32 = 0.980_785_3;
const C2: f32 = 0.923_879_5;
const C3: f32 = 0.831_469_6;
const C5: f32 = 0.555_570_2;
const C6: f32 = 0.382_683_43;
const C7: f32 = 0.195_090_32;
/// The orthonormal scale of outputs 1..7 (1/2) and of output 0 (1/(2√2)).
const S: f32 = 0.5;
const S0: f32 = 0.5 * FRAC_1_SQRT_2;

type Row = [f32; 8];

fn transpose(m: &[Row; 8]) -> [Row; 8] {
    let mut out = [[0.0f32; 8]; 8];
    for (j, row) in m.iter().enumerate() {
        for (i, &x) in row.iter().enumerate() {
            if let Some(o) = out.get_mut(i).and_then(|r| r.get_mut(j)) {
                *o = x;
            }
        }
    }
    out
}

/// One orthonormal 8-point DCT-II.
#[inline(always)]
fn dct8(x: Row) -> Row {
    let [x0, x1, x2, x3, x4, x5, x6, x7] = x;
    let (a0, a1, a2, a3) = (x0 + x7, x1 + x6, x2 + x5, x3 + x4);
    let (b0, b1, b2, b3) = (x0 - x7, x1 - x6, x2 - x5, x3 - x4);
    let (e0, e1) = (a0 + a3, a1 + a2);
    let (d0, d1) = (a0 - a3, a1 - a2);
    let half_r2 = S * FRAC_1_SQRT_2;
    [
        S0 * (e0 + e1),
        S * C1 * b0 + S * C3 * b1 + S * C5 * b2 + S * C7 * b3,
        S * C2 * d0 + S * C6 * d1,
        S * C3 * b0 - S * C7 * b1 - S * C1 * b2 - S * C5 * b3,
        half_r2 * (e0 - e1),
        S * C5 * b0 - S * C1 * b1 + S * C7 * b2 + S * C3 * b3,
        S * C6 * d0 - S * C2 * d1,
        S * C7 * b0 - S * C5 * b1 + S * C3 * b2 - S * C1 * b3,
    ]
}

/// The 2-D transform of one block of level-shifted samples (rows of 8, top to bottom),
/// **transposed**: output row `u`, column `v` holds `F(u, v)` (horizontal frequency `u`,
/// vertical `v`). Along the rows, then a transpose, then along the rows again (each a
/// column of the original): one transpose instead of two, and scalar code that keeps its
/// values in registers (faster here, native and wasm, than eight transforms side by side
/// over arrays).
pub fn forward_transposed(block: &[Row; 8]) -> [Row; 8] {
    let mut rows = [[0.0f32; 8]; 8];
    for (o, &r) in rows.iter_mut().zip(block.iter()) {
        *o = dct8(r);
    }
    let mut out = transpose(&rows);
    for r in out.iter_mut() {
        *r = dct8(*r);
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::needless_range_loop)]
mod tests {
    use super::*;

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
                let cu = if u == 0 { FRAC_1_SQRT_2 as f64 } else { 1.0 };
                let cv = if v == 0 { FRAC_1_SQRT_2 as f64 } else { 1.0 };
                out[v][u] = 0.25 * cu * cv * s;
            }
        }
        out
    }

    #[test]
    fn matches_the_definition() {
        let mut block = [[0.0f32; 8]; 8];
        let mut seed = 12345u32;
        for row in block.iter_mut() {
            for p in row.iter_mut() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *p = ((seed >> 16) % 256) as f32 - 128.0;
            }
        }
        let ours = transpose(&forward_transposed(&block));
        let theirs = reference(&block);
        for v in 0..8 {
            for u in 0..8 {
                assert!(
                    (f64::from(ours[v][u]) - theirs[v][u]).abs() < 1e-2,
                    "F({u},{v}): {} vs {}",
                    ours[v][u],
                    theirs[v][u]
                );
            }
        }
    }
}
