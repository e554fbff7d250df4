//! From a frame's pixels to an encoded image: rotation, size rules, fit, mirror, encode.
//!
//! Pure and synchronous over reused buffers, so it runs the same on the host, on the page's
//! thread, or in a Worker.

use super::encode::{encode_rgba, ImageFormat, JpegSettings, DEFAULT_QUALITY};
use super::error::{Code, Error, Result};
use super::rotate::{rotate_pixels, Rotation};
use super::scale::{mirror_rows, Scaler};
use super::size::{output_size, placement, Fit, Placement, MAX_SIDE};
use super::watermark::{composite_rgba, composite_yuv420, Overlay, Placing};
use super::yuv::{
    encode_jpeg_yuv420, rotate_yuv420, scale_yuv420, yuv420_to_rgba, ChromaLayout, Yuv420, YuvColor,
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
    /// Turned clockwise first: the size rules, the fit and the mirror see the turned picture.
    pub rotate: Rotation,
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
            rotate: Rotation::None,
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

    /// The image's size for a frame shown at `display` (width, height): turned, then the size
    /// rules. Known before the frame's pixels are read, so a watermark can be drawn for it.
    pub fn output_size(&self, display: (u32, u32)) -> Result<(u32, u32)> {
        output_size(self.rotate.size(display), (self.width, self.height))
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

    /// The frame once turned by `rotation`: pixel and display sizes alike.
    pub fn rotated(self, rotation: Rotation) -> Self {
        let (width, height) = rotation.size((self.width, self.height));
        let (display_width, display_height) =
            rotation.size((self.display_width, self.display_height));
        FrameInfo {
            width,
            height,
            display_width,
            display_height,
        }
    }

    /// The frame, if it has pixels to show.
    pub fn checked(self) -> Result<Self> {
        if self.width == 0
            || self.height == 0
            || self.display_width == 0
            || self.display_height == 0
        {
            return Err(Error::new(Code::CaptureFailed, "the frame has no pixels"));
        }
        Ok(self)
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
    /// The input turned, when the spec asks for a rotation (same length as the input).
    turned: Vec<u8>,
    mark: Mark,
    work: Work,
}

/// The next image's watermark, as the browser drew it (see [`Pipeline::watermark_mut`]).
#[derive(Default)]
struct Mark {
    rgba: Vec<u8>,
    size: (u32, u32),
    /// Set for the next image only: processing takes it, so a mark never lands on a later
    /// image that did not ask for it.
    placing: Option<Placing>,
}

impl Mark {
    fn take(&mut self) -> Result<Option<(Overlay<'_>, Placing)>> {
        let Some(placing) = self.placing.take() else {
            return Ok(None);
        };
        Overlay::new(&self.rgba, self.size.0, self.size.1).map(|o| Some((o, placing)))
    }
}

/// Everything after the input: separate from it so it can be read while these are written.
#[derive(Default)]
struct Work {
    /// RGBA pixels of the output size: scaled RGBA, or a YUV frame converted for PNG.
    scaled: Vec<u8>,
    /// A YUV frame scaled as planes: a 4:2:0 frame of the output size.
    planes: Vec<u8>,
    out: Vec<u8>,
    scratch: Vec<u8>,
    scaler: Scaler,
    /// The watermark flipped, for planes that are mirrored as they are encoded.
    flipped: Vec<u8>,
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
    /// `frame` is already turned: its sizes are the picture's.
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

    /// The pixels waiting in the input buffer (for a change check before encoding).
    pub fn input(&self) -> &[u8] {
        &self.input
    }

    /// The buffer for the next image's watermark, sized for `width × height` straight-alpha
    /// RGBA pixels (as `getImageData` gives them), to be laid as `placing` says on the next
    /// image only, at its output size, after the fit and the mirror.
    pub fn watermark_mut(
        &mut self,
        width: u32,
        height: u32,
        placing: Placing,
    ) -> Result<&mut [u8]> {
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            self.mark.placing = None;
            return Err(Error::new(
                Code::EncodeFailed,
                format!(
                    "a {width}×{height} watermark cannot be laid (1 to {MAX_SIDE} pixels a side)"
                ),
            ));
        }
        let len = width as usize * height as usize * 4;
        self.mark.rgba.resize(len, 0);
        self.mark.size = (width, height);
        self.mark.placing = Some(placing);
        Ok(&mut self.mark.rgba)
    }

    /// Drops a watermark laid out for an image that will not be processed.
    pub fn forget_watermark(&mut self) {
        self.mark.placing = None;
    }

    /// Turns the RGBA pixels in the input buffer into an image as `spec` asks.
    pub fn process(&mut self, frame: FrameInfo, spec: &SnapshotSpec) -> Result<Encoded<'_>> {
        // Taken first: a failure below must not leave it for a later image.
        let mark = self.mark.take()?;
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
        let (src, frame) = if spec.rotate == Rotation::None {
            (&self.input, frame)
        } else {
            let size = (frame.width, frame.height);
            rotate_pixels::<4>(&self.input, size, spec.rotate, &mut self.turned)?;
            (&self.turned, frame.rotated(spec.rotate))
        };
        let plan = Plan::new(frame, spec)?;
        self.work.finish(src, &plan, spec, mark)
    }

    /// [`Pipeline::process`] for pixels in B, G, R, A order (WebKit's frames, which its
    /// `copyTo` hands out as they are, whatever `format` asks): swapped in place first.
    pub fn process_bgra(&mut self, frame: FrameInfo, spec: &SnapshotSpec) -> Result<Encoded<'_>> {
        bgra_to_rgba(&mut self.input);
        self.process(frame, spec)
    }

    /// Turns the 4:2:0 frame in the input buffer (a `frame.width × frame.height` luma plane,
    /// then its chroma as `layout` says, tightly packed) into an image as `spec` asks, with
    /// the same rotation, sizes, fit, bars and mirror as [`Pipeline::process`].
    ///
    /// A rotation turns the planes themselves (4:2:0 stays 4:2:0), then goes on as below.
    /// A frame that is scaled, cropped or letterboxed is resampled plane by plane into a 4:2:0
    /// frame of the output size (bars are `color`'s black), never at full size in 4-byte
    /// pixels. JPEG then never goes through RGB: it is encoded from the planes, the mirror
    /// applied as they are read. PNG converts the (output-sized) planes to RGBA with `color`.
    pub fn process_yuv420(
        &mut self,
        frame: FrameInfo,
        layout: ChromaLayout,
        color: YuvColor,
        spec: &SnapshotSpec,
    ) -> Result<Encoded<'_>> {
        let mark = self.mark.take()?;
        let planes = Yuv420::new(&self.input, frame.width, frame.height, layout)?;
        let (planes, frame) = if spec.rotate == Rotation::None {
            (planes, frame)
        } else {
            let turned = rotate_yuv420(planes, spec.rotate, &mut self.turned)?;
            (turned, frame.rotated(spec.rotate))
        };
        let plan = Plan::new(frame, spec)?;
        self.work.finish_yuv420(planes, color, &plan, spec, mark)
    }
}

impl Work {
    /// Scales, letterboxes, mirrors, watermarks and encodes RGBA pixels of the planned frame.
    fn finish(
        &mut self,
        src: &[u8],
        plan: &Plan,
        spec: &SnapshotSpec,
        mark: Option<(Overlay<'_>, Placing)>,
    ) -> Result<Encoded<'_>> {
        let size = plan.size;
        let pixels: &[u8] = if plan.untouched && !spec.mirror && mark.is_none() {
            src
        } else {
            if plan.untouched && !spec.mirror {
                // Only the watermark changes the frame: a copy to lay it on.
                self.scaled.clear();
                self.scaled.extend_from_slice(src);
            } else {
                self.scaler.render(
                    src,
                    plan.src,
                    &plan.place,
                    &mut self.scaled,
                    size,
                    spec.mirror,
                )?;
            }
            if let Some((overlay, placing)) = &mark {
                composite_rgba(&mut self.scaled, size, overlay, *placing)?;
            }
            &self.scaled
        };
        encode_rgba(
            pixels,
            size.0,
            size.1,
            spec.format,
            spec.jpeg_settings(),
            &mut self.out,
            &mut self.scratch,
        )?;
        Ok(self.encoded(size))
    }

    /// Scales, letterboxes, mirrors, watermarks and encodes a 4:2:0 frame as planned.
    fn finish_yuv420(
        &mut self,
        planes: Yuv420<'_>,
        color: YuvColor,
        plan: &Plan,
        spec: &SnapshotSpec,
        mark: Option<(Overlay<'_>, Placing)>,
    ) -> Result<Encoded<'_>> {
        let size = plan.size;
        let layout = planes.layout();
        // JPEG lays the watermark on the planes; PNG on its RGBA, after the mirror.
        let planes_mark = mark.filter(|_| spec.format == ImageFormat::Jpeg);
        let frame = if plan.untouched && planes_mark.is_none() {
            planes
        } else {
            if plan.untouched {
                planes.copy_into(&mut self.planes);
            } else {
                let (scaler, out) = (&mut self.scaler, &mut self.planes);
                scale_yuv420(planes, &plan.place, size, color, scaler, out)?;
            }
            if let Some((overlay, placing)) = &planes_mark {
                // The planes are mirrored as they are encoded: lay the overlay flipped, in the
                // flipped corner, so that the image shows it the right way round.
                let (overlay, placing) = if spec.mirror {
                    let flipped = overlay.mirrored_into(&mut self.flipped);
                    let corner = placing.corner.mirrored();
                    (flipped, Placing { corner, ..*placing })
                } else {
                    (*overlay, *placing)
                };
                composite_yuv420(&mut self.planes, size, layout, color, &overlay, placing)?;
            }
            Yuv420::new(&self.planes, size.0, size.1, layout)?
        };
        match spec.format {
            ImageFormat::Jpeg => {
                let settings = spec.jpeg_settings();
                encode_jpeg_yuv420(frame, color, spec.mirror, settings, &mut self.out)?;
            }
            ImageFormat::Png => {
                yuv420_to_rgba(frame, color, &mut self.scaled)?;
                if spec.mirror {
                    mirror_rows(&mut self.scaled, size.0);
                }
                if let Some((overlay, placing)) = &mark {
                    composite_rgba(&mut self.scaled, size, overlay, *placing)?;
                }
                encode_rgba(
                    &self.scaled,
                    size.0,
                    size.1,
                    ImageFormat::Png,
                    spec.jpeg_settings(),
                    &mut self.out,
                    &mut self.scratch,
                )?;
            }
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

/// Swaps the first and third byte of every 4-byte pixel, a 32-bit word at a time (the compiler
/// vectorises the word form; a byte swap per pixel it does not).
fn bgra_to_rgba(pixels: &mut [u8]) {
    for px in pixels.chunks_exact_mut(4) {
        if let Ok(bytes) = <[u8; 4]>::try_from(&*px) {
            let w = u32::from_le_bytes(bytes);
            let swapped = (w & 0xff00_ff00) | ((w >> 16) & 0xff) | ((w & 0xff) << 16);
            px.copy_from_slice(&swapped.to_le_bytes());
        }
    }
}
