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
    destroy_ends_encoding,
    a_freed_engine_leaves_no_listener,
    frame_timeout,
    one_event_per_accepted_call,
    default_names,
    every_video_frame_is_closed,
    worker_and_page_give_the_same_pictures,
    size_first_images,
    kept_clones_end_with_their_streams,
    frame_reader_tells_the_truth,
    yuv_frames_keep_their_colours,
    colours_outside_the_gamut,
    rotated_snapshots,
    rotated_yuv_frames,
    watermarked_snapshots,
    watermark_options_and_logos,
    without_workers_the_page_encodes,
    a_bug_inside_becomes_an_error_event,
);
