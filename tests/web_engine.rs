//! The on-demand engine in a real browser (Chromium and Firefox, headless): canvas tracks,
//! the fake camera, screen capture, WebRTC loopback. The scenarios are written in JavaScript
//! against the public API (`tests/browser/engine.js`); each test here runs one of them.
#![cfg(target_arch = "wasm32")]

mod support;

use wasm_bindgen::prelude::*;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/browser/engine.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = run)]
    async fn run_js(name: &str, engine_class: JsValue, fail: JsValue) -> Result<JsValue, JsValue>;
}

async fn run(name: &str) -> Result<JsValue, JsValue> {
    // What the panic hook installed by the module's start function does with a panic.
    let fail = Closure::<dyn FnMut(String)>::new(|message: String| {
        tracksnap::web::events::report_panic(&message)
    });
    let outcome = run_js(name, support::engine_class(), fail.as_ref().clone()).await;
    drop(fail);
    outcome
}

scenarios!(run:
    local_streams_keep_their_colours,
    new_colour_shows_in_next_snapshot,
    snapshot_options,
    fake_camera,
    screen_share,
    remote_streams,
    ended_tracks,
    timing_walk,
    destroy_ends_in_flight,
    frame_timeout,
    one_event_per_accepted_call,
    default_names,
    every_video_frame_is_closed,
    worker_and_page_give_the_same_pictures,
    size_first_images,
    kept_clones_end_with_their_streams,
    yuv_frames_keep_their_colours,
    colours_outside_the_gamut,
    without_workers_the_page_encodes,
    a_bug_inside_becomes_an_error_event,
);

/// The DCT's wasm SIMD path (four columns, then four rows, at once) gives the same bits as
/// the portable path the host runs: random blocks, flat ones, and the extremes
/// of level-shifted 8-bit samples with fractions.
#[wasm_bindgen_test::wasm_bindgen_test]
fn simd_dct_gives_the_same_bits_as_the_portable_dct() {
    use tracksnap::core::jpeg::dct::{forward_transposed, forward_transposed_portable};
    let mut seed = 0x2545_f491_u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
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
    for (i, b) in blocks.iter().enumerate() {
        let simd = forward_transposed(b);
        let portable = forward_transposed_portable(b);
        let bits = |o: &[[f32; 8]; 8]| {
            o.as_flattened()
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&simd), bits(&portable), "block {i}");
    }
}

/// The non-zero mask of a block's levels with wasm SIMD equals the portable loop's, for
/// signed levels and for magnitudes, from empty to full blocks.
#[wasm_bindgen_test::wasm_bindgen_test]
fn simd_ac_mask_gives_the_same_mask_as_the_portable_one() {
    use tracksnap::core::jpeg::quantise::{ac_mask, ac_mask_portable};
    let mut seed = 0x9e37_79b9_u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for density in [0u32, 1, 4, 16, 64, 100] {
        for _ in 0..500 {
            let mut signed = [0i16; 64];
            let mut magnitudes = [0u16; 64];
            for (s, m) in signed.iter_mut().zip(magnitudes.iter_mut()) {
                if next() % 100 < density {
                    let v = (next() % 2047) as i16 + 1;
                    *s = if next() % 2 == 0 { v } else { -v };
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
