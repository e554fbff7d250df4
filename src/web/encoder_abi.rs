//! The plain wasm exports the encoder worker calls (src/web/encoder_worker.js).
//!
//! The worker instantiates this same module without the JS glue, so these functions take and
//! return numbers only and never call into JavaScript: the pixels, the page's spec words and
//! the frame's names arrive in buffers these functions hand out ([`crate::core::protocol`]
//! says what they hold), the image is read back through [`tracksnap_encoded`]. All state is
//! one [`Pipeline`] with its reused buffers, and the thumbnails of a change check
//! ([`tracksnap_change`]).

use std::cell::RefCell;

use crate::core::change::{self, Thumb, THUMB_LEN};
use crate::core::error::Code;
use crate::core::protocol::{self, Pixels, SPEC_WORDS};
use crate::core::snapshot::{FrameInfo, Pipeline};
use crate::core::watermark::{Corner, Placing};
use crate::core::yuv::ChromaLayout;

#[derive(Default)]
struct State {
    pipeline: Pipeline,
    /// The job's spec, as the page wrote it ([`protocol::spec_words`]).
    spec: [u32; SPEC_WORDS],
    /// The frame's names ([`protocol::read_frame`]), UTF-8.
    names: Vec<u8>,
    /// Where the last image is (inside the pipeline's output buffer) and its size.
    encoded: (usize, usize, u32, u32),
    message: String,
    /// The stream's last kept thumbnail, as the page sent it (empty: none yet).
    reference: Vec<u8>,
    /// The frame's thumbnail, made by the last [`tracksnap_change`].
    thumb: Option<Thumb>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Sizes the input buffer for `len` bytes and returns where it starts (0 if it is busy).
#[no_mangle]
pub extern "C" fn tracksnap_encoder_input(len: usize) -> *mut u8 {
    STATE.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => s.pipeline.input_mut(len).as_mut_ptr(),
        Err(_) => std::ptr::null_mut(),
    })
}

/// Where the job's `len` spec words go (0 if that is not [`SPEC_WORDS`], or it is busy).
#[no_mangle]
pub extern "C" fn tracksnap_encoder_spec(len: usize) -> *mut u32 {
    STATE.with(|s| match s.try_borrow_mut() {
        Ok(mut s) if len == SPEC_WORDS => s.spec.as_mut_ptr(),
        _ => std::ptr::null_mut(),
    })
}

/// Sizes the buffer for the frame's names (`len` bytes of UTF-8) and returns where it starts
/// (0 if it is busy).
#[no_mangle]
pub extern "C" fn tracksnap_encoder_names(len: usize) -> *mut u8 {
    STATE.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => {
            s.names.resize(len, 0);
            s.names.as_mut_ptr()
        }
        Err(_) => std::ptr::null_mut(),
    })
}

/// Sizes the buffer for the stream's last kept thumbnail (`len`: [`THUMB_LEN`], or 0 when the
/// stream has none yet) and returns where it starts (0 for another length, or if it is busy).
#[no_mangle]
pub extern "C" fn tracksnap_change_reference(len: usize) -> *mut u8 {
    STATE.with(|s| match s.try_borrow_mut() {
        Ok(mut s) if len == 0 || len == THUMB_LEN => {
            s.reference.resize(len, 0);
            s.reference.as_mut_ptr()
        }
        _ => std::ptr::null_mut(),
    })
}

/// Sizes the buffer for the next image's watermark, `width × height` RGBA pixels the page
/// drew, laid in corner `corner` ([`Corner::from_index`]) at `opacity`, and returns where it
/// starts (0 for a size or corner out of range, or if it is busy).
#[no_mangle]
pub extern "C" fn tracksnap_watermark(
    width: u32,
    height: u32,
    corner: u32,
    opacity: f64,
) -> *mut u8 {
    STATE.with(|s| {
        let (Ok(mut s), Some(corner)) = (s.try_borrow_mut(), Corner::from_index(corner)) else {
            return std::ptr::null_mut();
        };
        let placing = Placing { corner, opacity };
        match s.pipeline.watermark_mut(width, height, placing) {
            Ok(buffer) => buffer.as_mut_ptr(),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// Capture only on change, before encoding: the thumbnail of the pixels in the input buffer
/// (described by the names written before), compared with the reference written before. 1: the
/// picture differs from it by less than `threshold` percent, so the tick is not kept and needs
/// no encoding; 0: encode it, and keep [`tracksnap_thumb`] as the stream's new reference.
#[no_mangle]
pub extern "C" fn tracksnap_change(width: u32, height: u32, threshold: f64) -> i32 {
    STATE.with(|s| {
        let Ok(mut s) = s.try_borrow_mut() else {
            return 0;
        };
        let state = &mut *s;
        let names = String::from_utf8_lossy(&state.names);
        // A frame that cannot be read has no thumbnail: it goes on to the encoder, which
        // reports what is wrong with it.
        state.thumb = protocol::read_frame(&names)
            .ok()
            .and_then(|(pixels, color)| {
                Thumb::of_frame(state.pipeline.input(), pixels, color, width, height)
            });
        let reference = Thumb::from_bytes(&state.reference);
        match &state.thumb {
            Some(thumb) => i32::from(change::unchanged(thumb, reference.as_ref(), threshold)),
            None => 0,
        }
    })
}

/// Where the last [`tracksnap_change`]'s thumbnail is ([`tracksnap_thumb_len`] bytes: 0 when the
/// frame had none).
#[no_mangle]
pub extern "C" fn tracksnap_thumb() -> usize {
    read(|s| {
        s.thumb
            .as_ref()
            .map_or(0, |t| t.as_bytes().as_ptr() as usize)
    })
}

#[no_mangle]
pub extern "C" fn tracksnap_thumb_len() -> usize {
    read(|s| s.thumb.as_ref().map_or(0, |t| t.as_bytes().len()))
}

/// Encodes the pixels in the input buffer with the spec and names written before; 0 or an
/// error code (the message is at [`tracksnap_encoder_message`]).
///
/// `width`/`height`: the pixels' size; `display_*`: the frame's display size.
#[no_mangle]
pub extern "C" fn tracksnap_encode(
    width: u32,
    height: u32,
    display_width: u32,
    display_height: u32,
) -> i32 {
    STATE.with(|s| {
        let Ok(mut s) = s.try_borrow_mut() else {
            return Code::EncodeFailed.value();
        };
        let state = &mut *s;
        let spec = protocol::spec_from_words(state.spec);
        let pipeline = &mut state.pipeline;
        let outcome = FrameInfo {
            width,
            height,
            display_width,
            display_height,
        }
        .checked()
        .and_then(|frame| {
            let names = String::from_utf8_lossy(&state.names);
            let (pixels, color) = protocol::read_frame(&names)?;
            match pixels {
                Pixels::Rgba => pipeline.process(frame, &spec),
                Pixels::Bgra => pipeline.process_bgra(frame, &spec),
                Pixels::I420 => pipeline.process_yuv420(frame, ChromaLayout::I420, color, &spec),
                Pixels::Nv12 => pipeline.process_yuv420(frame, ChromaLayout::Nv12, color, &spec),
            }
        })
        .map(|e| (e.bytes.as_ptr() as usize, e.bytes.len(), e.width, e.height));
        match outcome {
            Ok(encoded) => {
                state.encoded = encoded;
                state.message.clear();
                0
            }
            Err(e) => {
                // Failed before the pipeline took it: not for the next job.
                state.pipeline.forget_watermark();
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
