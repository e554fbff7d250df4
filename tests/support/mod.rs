//! Shared by the browser test crates: each test runs one JavaScript scenario, written against
//! the public API, and fails with the scenario's message.
// Each test crate uses a part of this module.
#![allow(dead_code)]

use tracksnap::web::SnapshotEngine;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/tests/browser/media.js")]
extern "C" {
    // Imported so the helpers' module is shipped next to the scenarios that import it.
    #[wasm_bindgen(js_name = browserName)]
    fn browser_name() -> String;
}

/// The dev server's origin (for CallbackUrl), set by scripts/test.sh when it compiles the tests.
pub const DEV_URL: Option<&str> = option_env!("TRACKSNAP_DEV_URL");

/// The `SnapshotEngine` class as JavaScript sees it.
pub fn engine_class() -> JsValue {
    let engine = SnapshotEngine::new(None).expect("an engine with default options");
    js_sys::Reflect::get(&JsValue::from(engine), &"constructor".into()).expect("its class")
}

/// Logs a scenario's note, or panics with its error's message and stack.
pub fn check(name: &str, outcome: Result<JsValue, JsValue>) {
    match outcome {
        Ok(note) => {
            let note = note.as_string().unwrap_or_default();
            let browser = browser_name();
            web_sys::console::log_1(&format!("{name} [{browser}]: {note}").into());
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

/// One `#[wasm_bindgen_test]` per scenario name, each calling `$run(name)`.
#[macro_export]
macro_rules! scenarios {
    ($run:ident: $($name:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn $name() {
                let name = stringify!($name);
                support::check(name, $run(name).await);
            }
        )*
    };
}

/// A test crate whose scenarios, in the JavaScript module `$module`, take the engine class and
/// the dev server's origin: declares the module's `run` and one test per scenario name.
#[macro_export]
macro_rules! scenarios_with_dev_server {
    ($module:tt: $($name:ident),* $(,)?) => {
        #[wasm_bindgen::prelude::wasm_bindgen(module = $module)]
        extern "C" {
            #[wasm_bindgen(catch, js_name = run)]
            async fn run_js(
                name: &str,
                engine_class: wasm_bindgen::JsValue,
                dev_url: wasm_bindgen::JsValue,
            ) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>;
        }

        async fn run(name: &str) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
            let dev_url = support::DEV_URL.map_or(wasm_bindgen::JsValue::NULL, wasm_bindgen::JsValue::from);
            run_js(name, support::engine_class(), dev_url).await
        }

        scenarios!(run: $($name),*);
    };
}
