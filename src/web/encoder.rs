//! Where a frame becomes an image: in the engine's Worker ([`super::worker`]), so the page's
//! thread only hands the frame over, or on the page's thread where no Worker can be used.
//!
//! A job transfers the `VideoFrame` (no copy); the worker copies its pixels once into wasm
//! memory, in the camera's own I420/NV12 planes where it has them, encodes, and answers with
//! a Blob. A job with a [`ChangeCheck`] (a periodic task's ChangeThreshold) is first compared
//! with its stream's last kept image there, on the pixels already copied: one that has not
//! changed enough is answered "unchanged" and never encoded.
//!
//! The page path is the fallback: no `Worker` (a Content-Security-Policy without
//! `worker-src blob:`), a browser that cannot send a `WebAssembly.Module` or transfer a
//! `VideoFrame`, a worker that fails to start or dies, or `worker: false` in the options.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, VideoFrame};

use super::capture::Frame;
use super::wait::Canceller;
use super::watermark::Drawn;
use super::worker::{Answer, Request, Started, WorkerLink};
use crate::core::change::{Thumb, THUMB_LEN};
use crate::core::error::{Code, Error, Result};
use crate::core::protocol;
use crate::core::snapshot::SnapshotSpec;

#[wasm_bindgen]
extern "C" {
    /// A job for the worker, `{ id, frame, spec }`. Typed property accessors: the glue names
    /// the property, so no key string crosses from wasm and nothing is wrapped for exceptions
    /// (these are plain objects of ours).
    #[wasm_bindgen(extends = Request)]
    type JobMessage;
    #[wasm_bindgen(method, setter)]
    fn set_frame(this: &JobMessage, frame: &VideoFrame);
    #[wasm_bindgen(method, setter)]
    fn set_spec(this: &JobMessage, spec: &JsValue);
    #[wasm_bindgen(method, setter)]
    fn set_change(this: &JobMessage, change: &ChangeMessage);
    #[wasm_bindgen(method, setter)]
    fn set_watermark(this: &JobMessage, watermark: &WatermarkMessage);

    /// A job's `watermark`: `{ pixels, width, height, corner, opacity }` (see [`Drawn`]).
    #[wasm_bindgen(extends = Object)]
    type WatermarkMessage;
    #[wasm_bindgen(method, setter)]
    fn set_pixels(this: &WatermarkMessage, pixels: &JsValue);
    #[wasm_bindgen(method, setter)]
    fn set_width(this: &WatermarkMessage, width: u32);
    #[wasm_bindgen(method, setter)]
    fn set_height(this: &WatermarkMessage, height: u32);
    #[wasm_bindgen(method, setter)]
    fn set_corner(this: &WatermarkMessage, corner: u32);
    #[wasm_bindgen(method, setter)]
    fn set_opacity(this: &WatermarkMessage, opacity: f64);

    /// A job's `change`: `{ threshold, reference }` (see [`ChangeCheck`]).
    #[wasm_bindgen(extends = Object)]
    type ChangeMessage;
    #[wasm_bindgen(method, setter)]
    fn set_threshold(this: &ChangeMessage, threshold: f64);
    #[wasm_bindgen(method, setter)]
    fn set_reference(this: &ChangeMessage, reference: &Uint8Array);

    /// The `spec` of a job: `{ words, type }`, the words of [`protocol::spec_words`] (the
    /// worker hands them to wasm unread) and the image's MIME type, for its Blob.
    #[wasm_bindgen(extends = Object)]
    type SpecMessage;
    #[wasm_bindgen(method, setter)]
    fn set_words(this: &SpecMessage, words: &Uint32Array);
    #[wasm_bindgen(method, setter)]
    fn set_type(this: &SpecMessage, mime_type: &str);

    /// A job's answer: `{ id, blob, width, height, thumb }`, `{ id, unchanged }`,
    /// `{ id, code, message }` or `{ id, message }`.
    #[wasm_bindgen(extends = Answer)]
    type JobAnswer;
    #[wasm_bindgen(method, getter)]
    fn unchanged(this: &JobAnswer) -> Option<bool>;
    #[wasm_bindgen(method, getter)]
    fn thumb(this: &JobAnswer) -> Option<Uint8Array>;
    #[wasm_bindgen(method, getter)]
    fn blob(this: &JobAnswer) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn width(this: &JobAnswer) -> Option<f64>;
    #[wasm_bindgen(method, getter)]
    fn height(this: &JobAnswer) -> Option<f64>;
}

/// An encoded image.
pub struct Image {
    pub blob: Blob,
    pub width: u32,
    pub height: u32,
    pub size: usize,
    /// Its frame's thumbnail, when a [`ChangeCheck`] asked for one.
    pub thumb: Option<Thumb>,
}

/// Capture only on change: compare the frame with its stream's last kept image before
/// encoding it (see [`crate::core::change`]).
pub struct ChangeCheck {
    /// Percent, above 0.
    pub threshold: f64,
    /// The last kept image's thumbnail; `None`: the frame is kept.
    pub reference: Option<Thumb>,
}

/// The engine's encoder: the worker while it works, else nothing (the page path).
pub struct Encoder {
    link: RefCell<Option<Rc<WorkerLink>>>,
    /// The last job's spec and its message: snapshots mostly ask for the same image, and a
    /// posted message is cloned, so the same object can go out again.
    last_spec: RefCell<Option<(SnapshotSpec, JsValue)>>,
}

impl Encoder {
    /// An encoder that uses `link`'s worker while it works.
    pub fn new(link: Option<Rc<WorkerLink>>) -> Encoder {
        Encoder {
            link: RefCell::new(link),
            last_spec: RefCell::new(None),
        }
    }

    /// `"worker"` or `"page"`: where the next frame will be encoded.
    pub fn placement(&self) -> &'static str {
        match &*self.link.borrow() {
            Some(link) if link.usable() => "worker",
            _ => "page",
        }
    }

    /// Waits until the worker has started or failed to (at most the link's start timeout).
    pub async fn settle(&self, cancel: &Canceller) {
        let link = self.link.borrow().clone();
        if let Some(link) = link {
            if let Started::No = link.started(cancel).await {
                self.stop();
            }
        }
    }

    /// Encodes `frame` in the worker, with `watermark` laid on it; `None` when `change` found
    /// it unchanged. Gives the frame back when the worker cannot take it, so the caller
    /// encodes it on the page instead.
    pub async fn encode(
        &self,
        frame: Frame,
        spec: &SnapshotSpec,
        change: Option<&ChangeCheck>,
        watermark: Option<&Drawn>,
        cancel: &Canceller,
    ) -> std::result::Result<Result<Option<Image>>, Frame> {
        let Some(link) = self.link.borrow().clone() else {
            return Err(frame);
        };
        match link.started(cancel).await {
            Started::Yes => {}
            Started::Cancelled => return Ok(Err(Error::destroyed())),
            // Not ready in time or failed to start: the page encodes from now on.
            Started::No => {
                self.stop();
                return Err(frame);
            }
        }
        let message: JobMessage = Object::new().unchecked_into();
        message.set_frame(frame.video_frame());
        message.set_spec(&self.spec_message(spec));
        if let Some(change) = change {
            message.set_change(&change_message(change));
        }
        if let Some(drawn) = watermark {
            // Cloned with the message, not transferred: a few hundred KB at most, and still
            // ours if the frame goes to the page path instead.
            let o: WatermarkMessage = Object::new().unchecked_into();
            o.set_pixels(&drawn.pixels);
            o.set_width(drawn.width);
            o.set_height(drawn.height);
            o.set_corner(drawn.placing.corner.index());
            o.set_opacity(drawn.placing.opacity);
            message.set_watermark(&o);
        }
        let Some(answer) = link.request(&message, &Array::of1(frame.video_frame())) else {
            // This browser cannot transfer a VideoFrame: the frame is still ours.
            self.stop();
            return Err(frame);
        };
        // Transferred: the worker closes it.
        frame.forget();
        // Settled by the worker's answer, by the link's watchdog, or by its `stop()` (the
        // engine's `destroy()`, or a worker that failed): no race, no timer of its own.
        Ok(match JsFuture::from(answer).await {
            Ok(answer) => read_answer(&answer),
            Err(_) => Err(Error::destroyed()),
        })
    }

    /// `spec` as the worker reads it, made once for a run of snapshots with the same spec.
    fn spec_message(&self, spec: &SnapshotSpec) -> JsValue {
        let mut last = self.last_spec.borrow_mut();
        match &*last {
            Some((s, message)) if s == spec => message.clone(),
            _ => {
                let message = spec_value(spec);
                *last = Some((spec.clone(), message.clone()));
                message
            }
        }
    }

    /// Ends the worker; later frames are encoded on the page. Jobs still waiting (only at the
    /// engine's `destroy()`: a worker that failed has answered its own) fail with
    /// `ERR_DESTROYED`.
    pub fn stop(&self) {
        if let Some(link) = self.link.borrow_mut().take() {
            link.stop();
        }
    }
}

/// The job's `change` as the worker reads it.
fn change_message(change: &ChangeCheck) -> ChangeMessage {
    let o: ChangeMessage = Object::new().unchecked_into();
    o.set_threshold(change.threshold);
    if let Some(reference) = &change.reference {
        o.set_reference(&Uint8Array::from(reference.as_bytes()));
    }
    o
}

/// The job's `spec` as the worker reads it.
fn spec_value(spec: &SnapshotSpec) -> JsValue {
    let o: SpecMessage = Object::new().unchecked_into();
    o.set_words(&Uint32Array::from(&protocol::spec_words(spec)[..]));
    o.set_type(spec.format.mime_type());
    o.into()
}

fn read_answer(answer: &JsValue) -> Result<Option<Image>> {
    let answer: &JobAnswer = answer.unchecked_ref();
    if answer.unchanged() == Some(true) {
        return Ok(None);
    }
    if let Ok(blob) = answer.blob().dyn_into::<Blob>() {
        return Ok(Some(Image {
            size: blob.size() as usize,
            blob,
            width: answer.width().unwrap_or(0.0) as u32,
            height: answer.height().unwrap_or(0.0) as u32,
            thumb: answer.thumb().and_then(|t| {
                let mut bytes = [0; THUMB_LEN];
                (t.length() as usize == THUMB_LEN).then(|| t.copy_to(&mut bytes))?;
                Thumb::from_bytes(&bytes)
            }),
        }));
    }
    // A failure the worker's script reports itself has no code: it failed to encode.
    let code = match answer.code().and_then(Code::from_value) {
        Some(Code::Ok) | None => Code::EncodeFailed,
        Some(code) => code,
    };
    let message = answer
        .message()
        .unwrap_or_else(|| "the encoder worker failed".into());
    Err(Error::new(code, message))
}
