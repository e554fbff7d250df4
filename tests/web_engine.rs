//! The on-demand engine in a real browser (Chromium and Firefox, headless): canvas tracks,
//! the fake camera, screen capture, WebRTC loopback. The scenarios are written in JavaScript
//! against the public API (`tests/browser/engine.js`); each test here runs one of them.
#![cfg(target_arch = "wasm32")]

use tracksnap::web::SnapshotEngine;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/browser/media.js")]
extern "C" {
    // Imported so the helpers' module is shipped next to the scenarios that import it.
    #[wasm_bindgen(js_name = isChromium)]
    fn is_chromium() -> bool;
}

#[wasm_bindgen(module = "/tests/browser/engine.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn run(name: &str, engine_class: JsValue) -> Result<JsValue, JsValue>;
}

/// The `SnapshotEngine` class as JavaScript sees it.
fn engine_class() -> JsValue {
    let engine = SnapshotEngine::new(None).expect("an engine with default options");
    js_sys::Reflect::get(&JsValue::from(engine), &"constructor".into()).expect("its class")
}

async fn scenario(name: &str) {
    match run(name, engine_class()).await {
        Ok(note) => {
            let browser = if is_chromium() { "chromium" } else { "firefox" };
            web_sys::console::log_1(
                &format!(
                    "{name} [{browser}]: {}",
                    note.as_string().unwrap_or_default()
                )
                .into(),
            );
        }
        Err(e) => {
            let field = |k: &str| {
                js_sys::Reflect::get(&e, &k.into())
                    .ok()
                    .and_then(|s| s.as_string())
            };
            let message = field("message").unwrap_or_else(|| format!("{e:?}"));
            panic!("{name}: {message}\n{}", field("stack").unwrap_or_default());
        }
    }
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test]
            async fn $name() {
                scenario(stringify!($name)).await;
            }
        )*
    };
}

scenarios!(
    local_streams_keep_their_colours,
    new_colour_shows_in_next_snapshot,
    snapshot_options,
    fake_camera,
    screen_share,
    remote_streams,
    ended_tracks,
    bad_arguments,
    timing_walk,
    destroy_ends_in_flight,
    frame_timeout,
    one_event_per_accepted_call,
    default_names,
);
