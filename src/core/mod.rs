//! Pure Rust: no web-sys, no js-sys, no clock. Everything here is tested on the host.
//!
//! - [`error`]: result codes and the error type
//! - [`digits`]: numbers in messages, as `Display` writes them (with `ryu`)
//! - [`value`]: a JavaScript value's shape, as the validators see it; the whole-number check
//! - [`input`]: validation of every argument and option a caller passes
//! - [`stream`]: stream types and owners
//! - [`timing`]: NERTC's call-timing rules as a state machine
//! - [`size`]: output size rules and fit
//! - [`rotate`]: quarter turns of a frame, before everything else
//! - [`scale`]: resampling, letterboxing, mirroring
//! - [`encode`]: JPEG and PNG
//! - [`png`]: PNG files of RGB pixels (filters, `fdeflate`, chunks)
//! - [`jpeg`]: the size-first JPEG encoder (trellis quantisation, optimised Huffman tables)
//! - [`yuv`]: camera YUV 4:2:0 planes (I420, NV12) → JPEG without RGB, and → RGBA
//! - [`map`]: a small ordered map over a sorted `Vec` (smaller wasm than `BTreeMap`)
//! - [`snapshot`]: frame pixels → encoded image, over reused buffers
//! - [`protocol`]: the encoder Worker's job as numbers, shared by the page, the Worker and wasm
//! - [`naming`]: default names, UTC stamps, path checks
//! - [`watermark`]: a drawn watermark composited into RGBA pixels or 4:2:0 planes
//! - [`change`]: a frame's luma thumbnail and how far two differ (capture only on change)

// Nothing a caller or a browser hands us may reach a panic: these lints make CI prove it.
// Unit tests inside core opt out with their own `#[allow]`.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

pub mod change;
pub mod digits;
pub mod encode;
pub mod error;
pub mod input;
pub mod jpeg;
pub mod map;
pub mod naming;
pub mod png;
pub mod protocol;
pub mod retry;
pub mod rotate;
pub mod scale;
pub mod schedule;
pub mod secret;
pub mod size;
pub mod snapshot;
pub mod storage;
pub mod stream;
pub mod task;
pub mod timing;
pub mod url;
pub mod value;
pub mod watermark;
pub mod yuv;
