//! The JPEG encoder alone, as a wasm module with no JS glue, for the benchmark's encoder
//! table (`www/bench/encoder.js`): the page times each call itself, so the figures are the
//! encoder's and nothing else's.
//!
//! `cargo build --release --example encoder_wasm --target wasm32-unknown-unknown`. Exports
//! C functions over one input and one output buffer kept between calls; every import the
//! linked crate declares is left unused (the page gives each a stub).

use std::cell::RefCell;

use tracksnap::core::encode::{encode_rgba, ImageFormat, JpegSettings};
use tracksnap::core::yuv::{encode_jpeg_yuv420, ChromaLayout, Yuv420, YuvColor, YuvMatrix};

#[derive(Default)]
struct Buffers {
    input: Vec<u8>,
    out: Vec<u8>,
    scratch: Vec<u8>,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

/// The input buffer, resized to `len` bytes: the caller writes the frame there.
#[no_mangle]
pub extern "C" fn encoder_input(len: usize) -> *mut u8 {
    BUFFERS.with_borrow_mut(|b| {
        b.input.resize(len, 0);
        b.input.as_mut_ptr()
    })
}

/// The last output's bytes.
#[no_mangle]
pub extern "C" fn encoder_output() -> *const u8 {
    BUFFERS.with_borrow(|b| b.out.as_ptr())
}

fn settings(quality: u32, size_first: u32) -> JpegSettings {
    JpegSettings {
        quality: quality.clamp(1, 100) as u8,
        size_first: size_first != 0,
    }
}

/// Encodes the input as an I420 frame (`full_range`: 1 for full-range BT.601, the JFIF
/// identity; 0 for limited-range BT.601, a camera's). The output's length, or −1.
#[no_mangle]
pub extern "C" fn encoder_i420(
    width: u32,
    height: u32,
    quality: u32,
    full_range: u32,
    size_first: u32,
) -> i32 {
    BUFFERS.with_borrow_mut(|b| {
        let color = YuvColor {
            matrix: YuvMatrix::Bt601,
            full_range: full_range != 0,
        };
        let Ok(planes) = Yuv420::new(&b.input, width, height, ChromaLayout::I420) else {
            return -1;
        };
        let result = encode_jpeg_yuv420(
            planes,
            color,
            false,
            settings(quality, size_first),
            &mut b.out,
        );
        result.map_or(-1, |()| b.out.len() as i32)
    })
}

/// Encodes the input as RGBA pixels. The output's length, or −1.
#[no_mangle]
pub extern "C" fn encoder_rgba(width: u32, height: u32, quality: u32, size_first: u32) -> i32 {
    BUFFERS.with_borrow_mut(|b| {
        let Buffers {
            input,
            out,
            scratch,
        } = b;
        let jpeg = settings(quality, size_first);
        let result = encode_rgba(input, width, height, ImageFormat::Jpeg, jpeg, out, scratch);
        result.map_or(-1, |()| out.len() as i32)
    })
}
