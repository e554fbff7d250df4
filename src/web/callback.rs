//! `CallbackUrl`: each image's metadata POSTed as JSON, retried, never blocking capture. Every
//! attempt is aborted after [`ATTEMPT_TIMEOUT_MS`], and `destroy()` aborts them all.

use std::rc::Rc;

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{RequestInit, RequestMode, Response};

use super::js;
use super::wait::{timer, wait_for, Attempt, Canceller, Waited};
use crate::core::retry::{RetryPolicy, Verdict};

/// One POST that has not been answered in this time has failed (and is retried).
const ATTEMPT_TIMEOUT_MS: u32 = 10_000;

#[wasm_bindgen]
extern "C" {
    // The global `fetch`: the same in a page and a Worker.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_with_init(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;
}

/// The engine's CallbackUrl POSTs.
#[derive(Default)]
pub struct Callbacks {
    cancel: Rc<Canceller>,
}

impl Callbacks {
    pub fn new() -> Callbacks {
        Callbacks::default()
    }

    /// `destroy()`: aborts every POST in flight and every retry to come.
    pub fn cancel_all(&self) {
        self.cancel.cancel();
    }

    /// Sends `body` (JSON) to `url` in the background, with [`RetryPolicy::CALLBACK`].
    pub fn post_json(&self, url: String, body: String) {
        let cancel = self.cancel.clone();
        spawn_local(async move {
            let policy = RetryPolicy::CALLBACK;
            let mut attempt = 1;
            loop {
                let Some(status) = send(&url, &body, &cancel).await else {
                    return;
                };
                match policy.verdict(attempt, status) {
                    Verdict::Done => return,
                    // `verdict` never asks for a fresh URL; a callback has none.
                    Verdict::Retry | Verdict::Refresh => {
                        let wait = policy.delay_ms(attempt, js_sys::Math::random());
                        let cancelled = cancel.signal();
                        if let Waited::Cancelled =
                            wait_for(None, Some(&timer(wait)), Some(&cancelled)).await
                        {
                            return;
                        }
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
}

/// One POST: `Some(Some(status))`, `Some(None)` when it failed on the network or timed out,
/// `None` when `destroy()` cancelled it.
async fn send(url: &str, body: &str, cancel: &Canceller) -> Option<Option<u16>> {
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
    let Ok(_attempt) = Attempt::new(&init) else {
        return Some(None);
    };
    let Ok(promise) = fetch_with_init(url, &init) else {
        return Some(None);
    };
    let cancelled = cancel.signal();
    match wait_for(
        Some(&promise),
        Some(&timer(ATTEMPT_TIMEOUT_MS)),
        Some(&cancelled),
    )
    .await
    {
        Waited::Settled(Ok(r)) => Some(r.dyn_into::<Response>().ok().map(|r| r.status())),
        Waited::Cancelled => None,
        _ => Some(None),
    }
}
