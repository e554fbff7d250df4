//! Periodic snapshot tasks in a real browser (Chromium and Firefox, headless): two local
//! streams and a WebRTC loopback remote stream, the worker clock, a real HTTP endpoint for
//! CallbackUrl (the dev server that scripts/test.sh starts). Scenarios: `tests/browser/tasks.js`.
#![cfg(target_arch = "wasm32")]

mod support;

use wasm_bindgen::prelude::*;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/browser/tasks.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = run)]
    async fn run_js(
        name: &str,
        engine_class: JsValue,
        dev_url: JsValue,
    ) -> Result<JsValue, JsValue>;
}

async fn run(name: &str) -> Result<JsValue, JsValue> {
    let dev_url = support::DEV_URL.map_or(JsValue::NULL, JsValue::from);
    run_js(name, support::engine_class(), dev_url).await
}

scenarios!(run:
    task_over_three_streams,
    stop_and_resume_one_stream,
    idle_auto_stop,
    repeated_start,
    update_interval,
    two_tasks_at_once,
    no_events_after_stop,
    callback_url,
);
