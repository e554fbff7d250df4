//! `CallbackUrl`: each image's metadata POSTed as JSON, retried, never blocking capture.

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{RequestInit, RequestMode, Response};

use super::js::{self, timer, wait_for};
use crate::core::retry::{RetryPolicy, Verdict};

#[wasm_bindgen]
extern "C" {
    // The global `fetch`: the same in a page and a Worker.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_with_init(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;
}

/// Sends `body` (JSON) to `url` in the background, with [`RetryPolicy::CALLBACK`].
pub fn post_json(url: String, body: String) {
    spawn_local(async move {
        let policy = RetryPolicy::CALLBACK;
        let mut attempt = 1;
        loop {
            let status = send(&url, &body).await;
            match policy.verdict(attempt, status) {
                Verdict::Done => return,
                // `verdict` never asks for a fresh URL; a callback has none.
                Verdict::Retry | Verdict::Refresh => {
                    let wait = policy.delay_ms(attempt, js_sys::Math::random());
                    wait_for(None, Some(&timer(wait)), None).await;
                    attempt += 1;
                }
                Verdict::GiveUp => {
                    let said = status.map_or("no answer".to_string(), |s| format!("HTTP {s}"));
                    js::warn(
                        &format!(
                            "tracksnap: CallbackUrl {url} failed after {attempt} attempts ({said})"
                        ),
                        &JsValue::from_str(&body),
                    );
                    return;
                }
            }
        }
    });
}

/// One POST; the HTTP status, or `None` when the request failed on the network.
async fn send(url: &str, body: &str) -> Option<u16> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_mode(RequestMode::Cors);
    init.set_body(&JsValue::from_str(body));
    let headers = Object::new();
    js::set(
        &headers,
        "content-type",
        &JsValue::from_str("application/json"),
    );
    init.set_headers(&headers);
    let promise = fetch_with_init(url, &init).ok()?;
    let response: Response = JsFuture::from(promise).await.ok()?.dyn_into().ok()?;
    Some(response.status())
}
