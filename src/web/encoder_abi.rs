//! The plain wasm exports the encoder worker calls (src/web/encoder_worker.js).
//!
//! The worker instantiates this same module without the JS glue, so these functions take and
//! return numbers only and never call into JavaScript: the pixels arrive in the buffer
//! [`tracksnap_encoder_input`] hands out, the image is read back through
//! [`tracksnap_encoded`]. All state is one [`Pipeline`] with its reused buffers.

use std::cell::RefCell;

use crate::core::encode::ImageFormat;
use crate::core::error::{Code, Error, Result};
use crate::core::size::Fit;
use crate::core::snapshot::{FrameInfo, Pipeline, SnapshotSpec};
use crate::core::yuv::{ChromaLayout, YuvColor, YuvMatrix};

#[derive(Default)]
struct State {
    pipeline: Pipeline,
    /// Where the last image is (inside the pipeline's output buffer) and its size.
    encoded: (usize, usize, u32, u32),
    message: String,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// The pixel layouts the worker copies frames in.
const RGBA: u32 = 0;
const I420: u32 = 1;
const NV12: u32 = 2;
/// RGBA with red and blue swapped (WebKit's own frames).
const BGRA: u32 = 3;

/// Sizes the input buffer for `len` bytes and returns where it starts (0 if it is busy).
#[no_mangle]
pub extern "C" fn tracksnap_encoder_input(len: usize) -> *mut u8 {
    STATE.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => s.pipeline.input_mut(len).as_mut_ptr(),
        Err(_) => std::ptr::null_mut(),
    })
}

/// Encodes the pixels in the input buffer; 0 or an error code (the message is at
/// [`tracksnap_encoder_message`]).
///
/// `kind`: 0 RGBA, 1 I420, 2 NV12, 3 BGRA; `width`/`height` the pixels' size, `display_*` the
/// frame's display size; `matrix` 0 BT.601, 1 BT.709; `format` 0 JPEG, 1 PNG; `fit` 0 fill,
/// 1 contain, 2 cover; `out_*` the asked size (0 = not given).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn tracksnap_encode(
    kind: u32,
    width: u32,
    height: u32,
    display_width: u32,
    display_height: u32,
    matrix: u32,
    full_range: u32,
    format: u32,
    quality: u32,
    out_width: u32,
    out_height: u32,
    fit: u32,
    mirror: u32,
    size_first: u32,
) -> i32 {
    STATE.with(|s| {
        let Ok(mut s) = s.try_borrow_mut() else {
            return Code::EncodeFailed.value();
        };
        let frame = FrameInfo {
            width,
            height,
            display_width,
            display_height,
        };
        let spec = SnapshotSpec {
            format: if format == 1 {
                ImageFormat::Png
            } else {
                ImageFormat::Jpeg
            },
            quality: quality.clamp(1, 100) as u8,
            width: out_width,
            height: out_height,
            fit: match fit {
                1 => Fit::Contain,
                2 => Fit::Cover,
                _ => Fit::Fill,
            },
            mirror: mirror != 0,
            size_first: size_first != 0,
        };
        let color = YuvColor {
            matrix: if matrix == 1 {
                YuvMatrix::Bt709
            } else {
                YuvMatrix::Bt601
            },
            full_range: full_range != 0,
        };
        let state = &mut *s;
        let outcome: Result<(usize, usize, u32, u32)> = match kind {
            RGBA => state
                .pipeline
                .process(frame, &spec)
                .map(|e| (e.bytes.as_ptr() as usize, e.bytes.len(), e.width, e.height)),
            BGRA => state
                .pipeline
                .process_bgra(frame, &spec)
                .map(|e| (e.bytes.as_ptr() as usize, e.bytes.len(), e.width, e.height)),
            I420 | NV12 => {
                let layout = if kind == I420 {
                    ChromaLayout::I420
                } else {
                    ChromaLayout::Nv12
                };
                state
                    .pipeline
                    .process_yuv420(frame, layout, color, &spec)
                    .map(|e| (e.bytes.as_ptr() as usize, e.bytes.len(), e.width, e.height))
            }
            other => Err(Error::new(
                Code::EncodeFailed,
                format!("unknown pixel layout {other}"),
            )),
        };
        match outcome {
            Ok(encoded) => {
                state.encoded = encoded;
                state.message.clear();
                0
            }
            Err(e) => {
                state.encoded = (0, 0, 0, 0);
                state.message = e.message;
                e.code.value()
            }
        }
    })
}

/// Where the last image's bytes start.
#[no_mangle]
pub extern "C" fn tracksnap_encoded() -> usize {
    read(|s| s.encoded.0)
}

#[no_mangle]
pub extern "C" fn tracksnap_encoded_len() -> usize {
    read(|s| s.encoded.1)
}

#[no_mangle]
pub extern "C" fn tracksnap_encoded_width() -> u32 {
    read(|s| s.encoded.2)
}

#[no_mangle]
pub extern "C" fn tracksnap_encoded_height() -> u32 {
    read(|s| s.encoded.3)
}

/// The last failure's message, UTF-8.
#[no_mangle]
pub extern "C" fn tracksnap_encoder_message() -> usize {
    read(|s| s.message.as_ptr() as usize)
}

#[no_mangle]
pub extern "C" fn tracksnap_encoder_message_len() -> usize {
    read(|s| s.message.len())
}

fn read<T: Default>(f: impl FnOnce(&State) -> T) -> T {
    STATE.with(|s| s.try_borrow().map(|s| f(&s)).unwrap_or_default())
}
