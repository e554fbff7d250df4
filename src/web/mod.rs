//! Everything that touches the browser.
//!
//! - [`engine`]: the exported `SnapshotEngine` class; it builds the services below and hands
//!   each call to one of them
//! - [`streams`]: the streams the engine knows (the call-timing session), shared by them all
//! - [`camera`]: one frame of a track as an encoded image (capture, then encode)
//! - [`snapshot`]: on-demand snapshots from call to result (camera, upload, delivery)
//! - [`periodic`]: periodic snapshot tasks (startSnapshot / updateSnapshot / stopSnapshot)
//! - [`clock`]: the worker timer that drives them; [`callback`]: their metadata POSTs
//! - [`upload`]: uploads through presigned URLs and the outbox; [`idb`]: IndexedDB;
//!   [`locks`]: which upload may send an outbox record; [`oneshot`]: a value handed once
//! - [`capture`]: one fresh `VideoFrame` from a track, and its pixels
//! - [`encoder`]: frames into images, in the Worker or on the page ([`encoder_abi`]: the
//!   Worker's wasm side)
//! - [`watermark`]: a watermark drawn for one image (text in the browser's fonts, a logo)
//! - [`worker`]: the engine's Worker, shared by the encoder and, in Safari, capture; and
//!   making Workers from a Blob, the clock's too
//! - [`track`]: checking that a caller's track is a live video track
//! - [`events`]: the result handler and DOM events
//! - [`js`]: safe reads of caller values, setting properties, errors with codes, warnings
//! - [`wait`]: timers, waits with a time limit and a cancel switch, fetch aborts, clocks
//! - [`types`]: the TypeScript declarations of options, results and events

// Nothing a caller or a browser hands us may reach a panic: these lints make CI prove it.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

pub mod callback;
pub mod camera;
pub mod capture;
pub mod clock;
pub mod encoder;
pub mod encoder_abi;
pub mod engine;
pub mod events;
pub mod idb;
pub mod js;
pub mod latest;
pub mod locks;
pub mod oneshot;
pub mod outbox;
pub mod periodic;
pub mod snapshot;
pub mod streams;
pub mod track;
pub mod types;
pub mod upload;
pub mod wait;
pub mod watermark;
pub mod worker;

pub use engine::SnapshotEngine;
