//! tracksnap: still images of live `MediaStreamTrack`s, scaled and encoded in WebAssembly.
//!
//! - [`core`]: pure Rust (rules, sizes, encoding, naming), tested on the host.
//! - `web`: the browser side (the exported `SnapshotEngine`, frame capture, events);
//!   compiled for `wasm32` only.

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;

/// Runs once when the module is instantiated: a panic (a bug; nothing a caller passes should
/// cause one) prints to the console with its message instead of a bare "unreachable", and
/// every engine fires an `error` event (code 30001) instead of going silently dead.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        web::events::report_panic(&info.to_string());
    }));
}
