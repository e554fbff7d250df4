//! Uploads through presigned URLs in a real browser (Chromium and Firefox, headless), against
//! a real S3-compatible store (s3s-fs) behind the dev server, with injected faults: bytes in
//! the bucket, fresh URLs, retries, the outbox, recovery names. Scenarios:
//! `tests/browser/uploads.js`.
#![cfg(target_arch = "wasm32")]

mod support;

use wasm_bindgen::prelude::*;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/browser/uploads.js")]
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
    bytes_reach_the_store,
    presign_callback_and_post_policy,
    fresh_url_after_a_refused_signature,
    retries_through_server_errors,
    outbox_then_flush,
    the_engine_retries_its_outbox,
    next_engine_uploads_the_outbox,
    a_full_outbox_says_so,
    a_task_uploads_every_image,
    recovered_tasks_name_their_files_bak,
);
