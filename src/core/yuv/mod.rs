//! Camera frames as YUV 4:2:0 planes (I420, NV12): JPEG straight from the planes, RGBA for PNG.
//!
//! Baseline JPEG (JFIF) stores full-range BT.601 YCbCr, often at 4:2:0. A camera's
//! YUV is that up to an affine map of (Y, Cb, Cr) — the identity for full-range BT.601, a range
//! expansion for limited-range BT.601, a 3×3 mix for BT.709 — so a snapshot can skip both the
//! browser's YUV→RGBA conversion and the encoder's RGB→YCbCr one.
//!
//! - `frame`: the planes of a frame as they arrive, checked once and borrowed ([`Yuv420`])
//! - `colour`: the maps from the camera's matrix and range ([`YuvColor`]) to JFIF's YCbCr and
//!   to RGB
//! - `gamut`: colours outside the RGB gamut, made as the browser draws and clips them
//! - `jfif`: the whole frame as the JPEG encoder reads it ([`JfifImage`],
//!   [`encode_jpeg_yuv420`])
//! - `scale`: scaled, cropped or letterboxed frames, plane by plane ([`scale_yuv420`])
//! - `rgba`: the frame as RGBA, for PNG ([`yuv420_to_rgba`])
//! - `rotate`: frames turned by quarter turns, plane by plane ([`rotate_yuv420`])
//!
//! Each file uses only those listed above it, so there is no circle to untangle.

mod colour;
mod frame;
mod gamut;
mod jfif;
mod rgba;
mod rotate;
mod scale;

pub use colour::{YuvColor, YuvMatrix};
pub use frame::{chroma_size, yuv420_len, ChromaLayout, Yuv420};
pub use jfif::{encode_jpeg_yuv420, JfifImage};
pub use rgba::yuv420_to_rgba;
pub use rotate::rotate_yuv420;
pub use scale::scale_yuv420;
