//! From a frame's pixels to an encoded image: size rules, fit, mirror, encode.
//!
//! Pure and synchronous over reused buffers, so it runs the same on the host, on the page's
//! thread, or in a Worker.

use super::encode::{encode_rgba, ImageFormat};
use super::error::{Code, Error, Result};
use super::input::DEFAULT_QUALITY;
use super::scale::Scaler;
use super::size::{output_size, placement, Fit};

/// What the caller asked the image to be.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotSpec {
    pub format: ImageFormat,
    /// JPEG quality 1..=100 (ignored for PNG).
    pub quality: u8,
    /// Asked width; 0 = not given (see [`output_size`]).
    pub width: u32,
    /// Asked height; 0 = not given.
    pub height: u32,
    pub fit: Fit,
    pub mirror: bool,
}

impl Default for SnapshotSpec {
    fn default() -> Self {
        SnapshotSpec {
            format: ImageFormat::Jpeg,
            quality: DEFAULT_QUALITY,
            width: 0,
            height: 0,
            fit: Fit::Fill,
            mirror: false,
        }
    }
}

/// The frame waiting in [`Pipeline::input_mut`]: its pixel size and its display size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// Size of the RGBA pixels.
    pub width: u32,
    pub height: u32,
    /// The size the frame is meant to be shown at (the stream's size for the size rules).
    /// Differs from the pixel size only for non-square pixels.
    pub display_width: u32,
    pub display_height: u32,
}

impl FrameInfo {
    /// A frame whose pixels are square.
    pub fn square(width: u32, height: u32) -> Self {
        FrameInfo {
            width,
            height,
            display_width: width,
            display_height: height,
        }
    }
}

/// An encoded image, borrowed from the pipeline until the next call.
#[derive(Debug)]
pub struct Encoded<'a> {
    pub width: u32,
    pub height: u32,
    pub bytes: &'a [u8],
}

/// Scales and encodes frames, reusing every buffer from one snapshot to the next.
#[derive(Default)]
pub struct Pipeline {
    input: Vec<u8>,
    scaled: Vec<u8>,
    out: Vec<u8>,
    scratch: Vec<u8>,
    scaler: Scaler,
}

impl Pipeline {
    pub fn new() -> Self {
        Pipeline::default()
    }

    /// The input buffer, sized for `len` bytes of RGBA: the one place a frame's pixels are
    /// copied to.
    pub fn input_mut(&mut self, len: usize) -> &mut [u8] {
        self.input.resize(len, 0);
        &mut self.input
    }

    /// Turns the pixels in the input buffer into an image as `spec` asks.
    pub fn process(&mut self, frame: FrameInfo, spec: &SnapshotSpec) -> Result<Encoded<'_>> {
        let expected = frame.width as usize * frame.height as usize * 4;
        if frame.width == 0 || frame.height == 0 || self.input.len() != expected {
            return Err(Error::new(
                Code::CaptureFailed,
                format!(
                    "the frame is {}×{} but {} bytes of pixels arrived",
                    frame.width,
                    frame.height,
                    self.input.len()
                ),
            ));
        }
        let stream = (frame.display_width, frame.display_height);
        let size = output_size(stream, (spec.width, spec.height))?;
        let src = (frame.width, frame.height);
        let aspect = f64::from(frame.display_width) / f64::from(frame.display_height);
        let place = placement(spec.fit, src, aspect, size);
        let whole_src = place.src.left == 0.0
            && place.src.top == 0.0
            && place.src.width == f64::from(src.0)
            && place.src.height == f64::from(src.1);
        let untouched = size == src && whole_src && place.dst == (0, 0, size.0, size.1);
        let pixels: &[u8] = if untouched && !spec.mirror {
            &self.input
        } else {
            self.scaler.render(
                &self.input,
                src,
                &place,
                &mut self.scaled,
                size,
                spec.mirror,
            )?;
            &self.scaled
        };
        encode_rgba(
            pixels,
            size.0,
            size.1,
            spec.format,
            spec.quality,
            &mut self.out,
            &mut self.scratch,
        )?;
        Ok(Encoded {
            width: size.0,
            height: size.1,
            bytes: &self.out,
        })
    }
}
