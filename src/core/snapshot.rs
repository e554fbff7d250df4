//! From a frame's pixels to an encoded image: size rules, fit, mirror, encode.
//!
//! Pure and synchronous over reused buffers, so it runs the same on the host, on the page's
//! thread, or in a Worker.

use super::encode::{encode_rgba, ImageFormat, JpegSettings};
use super::error::{Code, Error, Result};
use super::input::DEFAULT_QUALITY;
use super::scale::{Scaler, Target, RGBA_BLACK};
use super::size::{output_size, placement, Fit, Placement};
use super::yuv::{
    encode_jpeg_yuv420, encode_jpeg_yuvx, yuv420_to_rgba, yuv420_to_yuvx, ChromaLayout, Yuv420,
    YuvColor,
};

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
    /// JPEG only: the smallest file rather than the fastest encode (see
    /// [`super::jpeg`]'s size-first preset); the same pixels.
    pub size_first: bool,
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
            size_first: false,
        }
    }
}

impl SnapshotSpec {
    /// The JPEG settings this spec asks for.
    pub fn jpeg_settings(&self) -> JpegSettings {
        JpegSettings {
            quality: self.quality,
            size_first: self.size_first,
        }
    }
}

/// The frame waiting in [`Pipeline::input_mut`]: its pixel size and its display size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// Size of the pixels (RGBA, or the luma plane of a YUV frame).
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
    /// A YUV frame as 4-byte pixels at full size: RGBA for PNG, packed YUV for a JPEG that is
    /// scaled, cropped or letterboxed.
    converted: Vec<u8>,
    work: Work,
}

/// Everything after the input and its conversion: separate from them so they can be read
/// while these are written.
#[derive(Default)]
struct Work {
    scaled: Vec<u8>,
    out: Vec<u8>,
    scratch: Vec<u8>,
    scaler: Scaler,
}

/// What a snapshot of one frame turns into.
struct Plan {
    src: (u32, u32),
    size: (u32, u32),
    place: Placement,
    /// The output is the frame itself: no scaling, no crop, no bars.
    untouched: bool,
}

impl Plan {
    fn new(frame: FrameInfo, spec: &SnapshotSpec) -> Result<Plan> {
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
        Ok(Plan {
            src,
            size,
            place,
            untouched,
        })
    }
}

/// What 4-byte pixels hold.
#[derive(Clone, Copy)]
enum Pixels {
    Rgba,
    /// Y, U, V in this colour, and a spare byte.
    Yuvx(YuvColor),
}

impl Pipeline {
    pub fn new() -> Self {
        Pipeline::default()
    }

    /// The input buffer, sized for `len` bytes: the one place a frame's pixels are copied to
    /// (RGBA for [`Pipeline::process`], 4:2:0 planes for [`Pipeline::process_yuv420`]).
    pub fn input_mut(&mut self, len: usize) -> &mut [u8] {
        self.input.resize(len, 0);
        &mut self.input
    }

    /// Turns the RGBA pixels in the input buffer into an image as `spec` asks.
    pub fn process(&mut self, frame: FrameInfo, spec: &SnapshotSpec) -> Result<Encoded<'_>> {
        let expected = (frame.width as usize)
            .checked_mul(frame.height as usize)
            .and_then(|n| n.checked_mul(4));
        if frame.width == 0 || frame.height == 0 || expected != Some(self.input.len()) {
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
        let plan = Plan::new(frame, spec)?;
        self.work.finish(&self.input, Pixels::Rgba, &plan, spec)
    }

    /// Turns the 4:2:0 frame in the input buffer (a `frame.width × frame.height` luma plane,
    /// then its chroma as `layout` says, tightly packed) into an image as `spec` asks, with
    /// the same sizes, fit, bars and mirror as [`Pipeline::process`].
    ///
    /// JPEG never goes through RGB: straight from the planes when the frame is kept whole (a
    /// mirror is applied as the planes are read), else the planes are packed into 4-byte
    /// pixels, scaled like RGBA (bars are `color`'s black) and converted to JFIF YCbCr as they
    /// are encoded. PNG converts to RGBA with `color` first.
    pub fn process_yuv420(
        &mut self,
        frame: FrameInfo,
        layout: ChromaLayout,
        color: YuvColor,
        spec: &SnapshotSpec,
    ) -> Result<Encoded<'_>> {
        let planes = Yuv420::new(&self.input, frame.width, frame.height, layout)?;
        let plan = Plan::new(frame, spec)?;
        match spec.format {
            ImageFormat::Jpeg if plan.untouched => {
                let work = &mut self.work;
                encode_jpeg_yuv420(
                    planes,
                    color,
                    spec.mirror,
                    spec.jpeg_settings(),
                    &mut work.out,
                )?;
                Ok(work.encoded(plan.size))
            }
            ImageFormat::Jpeg => {
                yuv420_to_yuvx(planes, &mut self.converted)?;
                self.work
                    .finish(&self.converted, Pixels::Yuvx(color), &plan, spec)
            }
            ImageFormat::Png => {
                yuv420_to_rgba(planes, color, &mut self.converted)?;
                self.work.finish(&self.converted, Pixels::Rgba, &plan, spec)
            }
        }
    }
}

impl Work {
    /// Scales, letterboxes, mirrors and encodes 4-byte pixels of the planned frame.
    fn finish(
        &mut self,
        src: &[u8],
        kind: Pixels,
        plan: &Plan,
        spec: &SnapshotSpec,
    ) -> Result<Encoded<'_>> {
        let size = plan.size;
        let pixels: &[u8] = if plan.untouched && !spec.mirror {
            src
        } else {
            let bar = match kind {
                Pixels::Rgba => RGBA_BLACK,
                Pixels::Yuvx(color) => color.black_yuvx(),
            };
            let target = Target {
                pixels: &mut self.scaled,
                size,
                bar,
                mirror: spec.mirror,
            };
            self.scaler
                .render_into(src, plan.src, &plan.place, target)?;
            &self.scaled
        };
        let settings = spec.jpeg_settings();
        match kind {
            Pixels::Rgba => encode_rgba(
                pixels,
                size.0,
                size.1,
                spec.format,
                settings,
                &mut self.out,
                &mut self.scratch,
            )?,
            Pixels::Yuvx(color) => encode_jpeg_yuvx(pixels, size, color, settings, &mut self.out)?,
        }
        Ok(self.encoded(size))
    }

    fn encoded(&self, size: (u32, u32)) -> Encoded<'_> {
        Encoded {
            width: size.0,
            height: size.1,
            bytes: &self.out,
        }
    }
}
