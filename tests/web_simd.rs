//! The encoder's wasm SIMD kernels against their portable versions, run by the browsers' own
//! wasm engines (Chromium's and Firefox's V8 and SpiderMonkey): both must give the same bits,
//! so the host tests of `src/core/jpeg` speak for the files the browsers make.
#![cfg(target_arch = "wasm32")]

use tracksnap::core::jpeg::dct::{forward_transposed, forward_transposed_portable};
use tracksnap::core::jpeg::planes::{
    block_at, block_at_portable, chroma_cells_420, chroma_cells_420_portable, luma_row,
    luma_row_portable,
};
use tracksnap::core::jpeg::quantise::{
    ac_mask, ac_mask_portable, zigzag_levels, zigzag_levels_portable,
};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// A xorshift generator: the same numbers in every run.
fn numbers(mut seed: u32) -> impl FnMut() -> u32 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    }
}

/// The DCT's SIMD path (four columns, then four rows, at once) gives the same bits as the
/// portable path: random blocks, flat ones, and the extremes of level-shifted 8-bit samples
/// with fractions.
#[wasm_bindgen_test::wasm_bindgen_test]
fn simd_dct_gives_the_same_bits_as_the_portable_dct() {
    let mut next = numbers(0x2545_f491);
    let mut blocks: Vec<[[f32; 8]; 8]> = vec![[[-128.0; 8]; 8], [[127.9375; 8]; 8]];
    for _ in 0..2000 {
        let mut b = [[0.0f32; 8]; 8];
        for row in b.iter_mut() {
            for x in row.iter_mut() {
                // A sample with FRACTION = 4 bits, level-shifted: -128 ..= 127.9375.
                *x = (next() % 4096) as f32 / 16.0 - 128.0;
            }
        }
        blocks.push(b);
    }
    let bits = |o: &[[f32; 8]; 8]| {
        o.as_flattened()
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<_>>()
    };
    for (i, b) in blocks.iter().enumerate() {
        let simd = forward_transposed(b);
        let portable = forward_transposed_portable(b);
        assert_eq!(bits(&simd), bits(&portable), "block {i}");
    }
}

/// The non-zero mask of a block's levels with SIMD equals the portable loop's, for signed
/// levels and for magnitudes, from empty to full blocks.
#[wasm_bindgen_test::wasm_bindgen_test]
fn simd_ac_mask_gives_the_same_mask_as_the_portable_one() {
    let mut next = numbers(0x9e37_79b9);
    for density in [0u32, 1, 4, 16, 64, 100] {
        for _ in 0..500 {
            let mut signed = [0i16; 64];
            let mut magnitudes = [0u16; 64];
            for (s, m) in signed.iter_mut().zip(magnitudes.iter_mut()) {
                if next() % 100 < density {
                    let v = (next() % 2047) as i16 + 1;
                    *s = if next().is_multiple_of(2) { v } else { -v };
                    *m = v as u16;
                }
            }
            assert_eq!(ac_mask(&signed), ac_mask_portable(&signed), "{signed:?}");
            assert_eq!(
                ac_mask(&magnitudes),
                ac_mask_portable(&magnitudes),
                "{magnitudes:?}"
            );
        }
    }
}

/// RGBA → JFIF with SIMD (eight pixels' luma, four 2×2 cells' chroma at a time) gives the same
/// samples as the portable loops: random and extreme pixels, every width up to 37 (the SIMD
/// part's remainders, odd last cells).
#[wasm_bindgen_test::wasm_bindgen_test]
fn simd_rgba_reading_gives_the_same_samples_as_the_portable_loops() {
    let mut next = numbers(0x6a09_e667);
    for width in 1..=37usize {
        for round in 0..40 {
            let mut rows = [vec![0u8; width * 4], vec![0u8; width * 4]];
            for (i, byte) in rows.iter_mut().flatten().enumerate() {
                *byte = match round {
                    0 => 0,
                    1 => 255,
                    // Pure red, green, blue and white pixels: the weights' extremes.
                    2 => [
                        255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255,
                    ][i % 16],
                    _ => next() as u8,
                };
            }
            let [top, bottom] = &rows;
            let (mut a, mut b) = (vec![0u16; width], vec![0u16; width]);
            luma_row(top, &mut a);
            luma_row_portable(top, &mut b);
            assert_eq!(a, b, "luma, width {width}, round {round}");
            let cells = width.div_ceil(2);
            let mut simd = [vec![0u16; cells], vec![0u16; cells]];
            let mut portable = simd.clone();
            let [sb, sr] = &mut simd;
            chroma_cells_420(top, bottom, sb, sr);
            let [pb, pr] = &mut portable;
            chroma_cells_420_portable(top, bottom, pb, pr);
            assert_eq!(simd, portable, "chroma, width {width}, round {round}");
        }
    }
}

/// The zig-zag gather by byte shuffles puts every level where the portable loop does: each
/// position marked by its own index, and random levels (both bytes of each matter).
#[wasm_bindgen_test::wasm_bindgen_test]
fn simd_zigzag_gives_the_same_order_as_the_portable_loop() {
    let mut next = numbers(0xbb67_ae85);
    let mut blocks = vec![core::array::from_fn::<i16, 64, _>(|i| {
        i as i16 * 257 - 8000
    })];
    for _ in 0..1000 {
        blocks.push(core::array::from_fn(|_| next() as i16));
    }
    for b in &blocks {
        assert_eq!(zigzag_levels(b), zigzag_levels_portable(b), "{b:?}");
    }
}

/// A block read from a plane with SIMD (a row per load, exact conversions) has the same bits
/// as the portable loop: every sample value, the scales of 1, 2 and 4 summed samples; and
/// zeros, not a trap, from a plane too short for the block (`Plane::block` checks first).
#[wasm_bindgen_test::wasm_bindgen_test]
fn simd_block_reading_gives_the_same_bits_as_the_portable_loop() {
    let mut next = numbers(0x3c6e_f372);
    let stride = 24;
    let plane: Vec<u16> = (0..stride * 8)
        .map(|i| {
            if i < 64 {
                (i * 255) as u16
            } else {
                (next() % 16321) as u16
            }
        })
        .collect();
    let bits = |b: [[f32; 8]; 8]| {
        b.as_flattened()
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<_>>()
    };
    for samples in [1u32, 2, 4] {
        let scale = 1.0 / (samples << 4) as f32;
        for offset in [0, 1, 8, 16] {
            let data = &plane[offset..];
            assert_eq!(
                bits(block_at(data, stride, scale)),
                bits(block_at_portable(data, stride, scale)),
                "offset {offset}, scale {scale}"
            );
        }
        let short = &plane[..7 * stride + 7];
        assert_eq!(bits(block_at(short, stride, scale)), bits([[0.0; 8]; 8]));
    }
}
