//! One frame of a track as an encoded image: captured, then encoded in the engine's Worker,
//! or on the page for frames the Worker cannot take. Used by on-demand snapshots and periodic
//! tasks alike.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Uint8Array, Uint8ClampedArray};
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, MediaStreamTrack};

use super::capture::{Capture, Frame, Reader};
use super::encoder::{ChangeCheck, Encoder, Image};
use super::js;
use super::wait;
use super::watermark::{Drawn, WatermarkOrder, WatermarkPainter};
use super::worker::WorkerLink;
use crate::core::change::{self, Thumb};
use crate::core::error::{Code, Error, Result};
use crate::core::snapshot::{Pipeline, SnapshotSpec};

pub(crate) struct Camera {
    capture: Capture,
    encoder: Encoder,
    /// The page-side pipeline, for frames the worker cannot take.
    pipeline: RefCell<Pipeline>,
    painter: WatermarkPainter,
}

/// What a successful capture produced: the encoded image, and when its frame was taken.
pub(crate) struct Captured {
    pub(crate) image: Image,
    pub(crate) timestamp: f64,
}

impl Camera {
    /// `link`: the engine's Worker, if it has one (it encodes, and in Safari reads frames).
    pub(crate) fn new(frame_timeout_ms: u32, link: Option<Rc<WorkerLink>>) -> Camera {
        Camera {
            capture: Capture::new(frame_timeout_ms, link.clone()),
            encoder: Encoder::new(link),
            pipeline: RefCell::new(Pipeline::new()),
            painter: WatermarkPainter::default(),
        }
    }

    /// Resolves once the Worker has started or failed to: the frame reader and the encoder's
    /// placement are settled from then on.
    pub(crate) async fn settle(&self) {
        self.encoder.settle(self.capture.canceller()).await;
    }

    pub(crate) fn frame_reader(&self) -> Reader {
        self.capture.reader()
    }

    pub(crate) fn encoder_placement(&self) -> &'static str {
        self.encoder.placement()
    }

    /// Ends the frame readers kept for tracks that are not among `live` any more.
    pub(crate) fn keep_only(&self, live: &[&MediaStreamTrack]) {
        self.capture.keep_only(live);
    }

    /// `destroy()`: captures in flight end with code 30105, and the Worker stops.
    pub(crate) fn stop(&self) {
        self.capture.cancel_all();
        self.encoder.stop();
    }

    /// One frame of `track`, encoded as `spec` says, with `watermark` on it: in the worker, or
    /// on the page.
    pub(crate) async fn take(
        &self,
        track: &MediaStreamTrack,
        spec: &SnapshotSpec,
        watermark: Option<&WatermarkOrder>,
    ) -> Result<Captured> {
        self.take_if_changed(track, spec, None, watermark)
            .await?
            .ok_or_else(|| Error::new(Code::CaptureFailed, "no change check was asked for"))
    }

    /// [`Camera::take`], but `None` when `change` finds the frame unchanged: then it is not
    /// encoded. The comparison runs where the frame's pixels are copied (the worker, or the
    /// page), on that copy.
    pub(crate) async fn take_if_changed(
        &self,
        track: &MediaStreamTrack,
        spec: &SnapshotSpec,
        change: Option<&ChangeCheck>,
        watermark: Option<&WatermarkOrder>,
    ) -> Result<Option<Captured>> {
        // A logo is decoded before the frame is taken, so no frame is held meanwhile.
        let logo = match watermark {
            Some(order) => self.painter.logo(order).await?,
            None => None,
        };
        let frame = self.capture.grab(track).await?;
        let timestamp = wait::now_ms();
        // Drawn for the image's size, known from the frame's display size before any pixel is
        // read. A frame without one is refused by the encoder, as without a watermark.
        let display = {
            let f = frame.video_frame();
            (f.display_width(), f.display_height())
        };
        let drawn = match watermark {
            Some(order) if display.0 > 0 && display.1 > 0 => {
                let size = spec.output_size(display)?;
                Some(self.painter.draw(order, logo.as_ref(), size)?)
            }
            _ => None,
        };
        let drawn = drawn.as_ref();
        let image = match self
            .encoder
            .encode(frame, spec, change, drawn, self.capture.canceller())
            .await
        {
            Ok(image) => image?,
            Err(frame) => self.encode_on_page(frame, spec, change, drawn).await?,
        };
        Ok(image.map(|image| Captured { image, timestamp }))
    }

    /// The page path: RGBA pixels from the browser, one copy into wasm, compared (with
    /// `change`) and encoded here.
    async fn encode_on_page(
        &self,
        frame: Frame,
        spec: &SnapshotSpec,
        change: Option<&ChangeCheck>,
        watermark: Option<&Drawn>,
    ) -> Result<Option<Image>> {
        let pixels = self.capture.read(&frame).await?;
        drop(frame);
        // From here on nothing awaits: the pipeline's buffers are ours alone.
        let mut pipeline = self.pipeline.borrow_mut();
        let (info, bgra) = (pixels.info, pixels.bgra);
        let len = pixels.byte_len();
        self.capture.copy_into(pixels, pipeline.input_mut(len))?;
        let thumb =
            change.and_then(|_| Thumb::from_rgba(pipeline.input(), info.width, info.height, bgra));
        if let (Some(c), Some(t)) = (change, &thumb) {
            if change::unchanged(t, c.reference.as_ref(), c.threshold) {
                return Ok(None);
            }
        }
        if let Some(drawn) = watermark {
            lay_out(&mut pipeline, drawn)?;
        }
        let encoded = if bgra {
            pipeline.process_bgra(info, spec)?
        } else {
            pipeline.process(info, spec)?
        };
        let blob = make_blob(encoded.bytes, spec.format.mime_type())?;
        Ok(Some(Image {
            width: encoded.width,
            height: encoded.height,
            size: encoded.bytes.len(),
            blob,
            thumb,
        }))
    }
}

/// Copies a drawn watermark into the pipeline for the next image.
fn lay_out(pipeline: &mut Pipeline, drawn: &Drawn) -> Result<()> {
    let pixels = drawn
        .pixels
        .dyn_ref::<Uint8ClampedArray>()
        .ok_or_else(|| Error::new(Code::EncodeFailed, "the watermark was drawn without pixels"))?;
    let buffer = pipeline.watermark_mut(drawn.width, drawn.height, drawn.placing)?;
    if pixels.length() as usize != buffer.len() {
        pipeline.forget_watermark();
        return Err(Error::new(
            Code::EncodeFailed,
            format!(
                "the watermark is {}×{} but {} bytes were drawn",
                drawn.width,
                drawn.height,
                pixels.length()
            ),
        ));
    }
    pixels.copy_to(buffer);
    Ok(())
}

fn make_blob(bytes: &[u8], mime: &str) -> Result<Blob> {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let parts = Array::new();
    // SAFETY: the view lives only until `new Blob` returns, which copies it synchronously;
    // nothing in between allocates in wasm memory, so the view cannot be detached.
    let view = unsafe { Uint8Array::view(bytes) };
    parts.push(&view);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options);
    drop(view);
    blob.map_err(|e| js::browser_error(Code::EncodeFailed, "new Blob", &e))
}
