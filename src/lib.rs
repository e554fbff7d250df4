//! tracksnap: still images of live `MediaStreamTrack`s, scaled and encoded in WebAssembly.
//!
//! - [`core`]: pure Rust (rules, sizes, encoding, naming), tested on the host.
//! - `web`: the browser side (the exported `SnapshotEngine`, frame capture, events);
//!   compiled for `wasm32` only.

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;

/// Runs once when the module is instantiated: panics print to the console with their message
/// instead of a bare "unreachable".
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}
