//! Watermarks drawn by the browser for one image: the text in the browser's own fonts (so
//! every script, CJK included) on a dark outline, and a logo above it, on an `OffscreenCanvas`
//! of the page, sized for the image's output size. The pixels go to wasm, which lays them on
//! the image after the fit and the mirror ([`crate::core::watermark`]), in the Worker or here.
//!
//! Drawn on the page because the Worker runs the module without its JS glue: one drawing,
//! for both places an image is encoded. A text is a few hundred pixels tall at most.

use std::cell::RefCell;

use js_sys::Promise;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::{Blob, ImageBitmap, OffscreenCanvas, OffscreenCanvasRenderingContext2d};

use super::js::{self, browser_error, get};
use super::wait::{self, Waited};
use crate::core::error::{Code, Error, Result};
use crate::core::watermark::{margin, Placing, Watermark};

/// How long a logo Blob may take to decode.
const LOGO_TIMEOUT_MS: u32 = 5000;

/// A watermark's logo as the caller gave it: checked to be something the browser can draw.
pub(crate) fn checked_image(v: &JsValue, field: &str) -> Result<JsValue> {
    if v.is_instance_of::<Blob>() || v.is_instance_of::<ImageBitmap>() {
        Ok(v.clone())
    } else {
        Err(Error::invalid_param(format!(
            "{field} must be a Blob or an ImageBitmap; got {}",
            js::to_value(v).describe()
        )))
    }
}

/// A watermark option with its logo, if it has one (the JavaScript object itself).
#[derive(Clone)]
pub(crate) struct WatermarkSource {
    pub(crate) watermark: Watermark,
    pub(crate) image: Option<JsValue>,
}

impl WatermarkSource {
    /// `watermark` as checked by the core, with `value`'s `image` (named `field`).
    pub(crate) fn new(watermark: Watermark, value: &JsValue, field: &str) -> Result<Self> {
        let image = if watermark.image {
            Some(checked_image(
                &get(value, "image"),
                &format!("{field}.image"),
            )?)
        } else {
            None
        };
        Ok(WatermarkSource { watermark, image })
    }
}

/// One image's watermark: its text already rendered from the image's facts.
pub(crate) struct WatermarkOrder {
    pub(crate) text: Option<String>,
    pub(crate) image: Option<JsValue>,
    pub(crate) placing: Placing,
}

/// A drawn watermark: straight-alpha RGBA pixels (a `Uint8ClampedArray`) and their size.
pub struct Drawn {
    pub pixels: JsValue,
    pub width: u32,
    pub height: u32,
    pub placing: Placing,
}

/// Draws watermarks, reusing one canvas and the last logo it decoded.
#[derive(Default)]
pub(crate) struct WatermarkPainter {
    canvas: RefCell<Option<(OffscreenCanvas, OffscreenCanvasRenderingContext2d)>>,
    /// The last logo Blob and its bitmap: an engine's logo is decoded once.
    logo: RefCell<Option<(JsValue, ImageBitmap)>>,
}

impl WatermarkPainter {
    /// The order's logo, ready to draw: a Blob is decoded (once per Blob, at most
    /// [`LOGO_TIMEOUT_MS`]); one that is not an image is `ERR_INVALID_PARAM`.
    pub(crate) async fn logo(&self, order: &WatermarkOrder) -> Result<Option<ImageBitmap>> {
        let Some(image) = &order.image else {
            return Ok(None);
        };
        let bitmap = match image.dyn_ref::<ImageBitmap>() {
            Some(bitmap) => bitmap.clone(),
            None => self.decode(image).await?,
        };
        if bitmap.width() == 0 || bitmap.height() == 0 {
            return Err(Error::invalid_param(
                "watermark.image has no pixels (a closed ImageBitmap?)",
            ));
        }
        Ok(Some(bitmap))
    }

    async fn decode(&self, blob: &JsValue) -> Result<ImageBitmap> {
        if let Some((b, bitmap)) = &*self.logo.borrow() {
            if js_sys::Object::is(b, blob) {
                return Ok(bitmap.clone());
            }
        }
        let fail = |e: &JsValue| {
            Error::invalid_param(format!(
                "watermark.image cannot be decoded as an image: {}",
                js::describe_exception(e)
            ))
        };
        let blob: &Blob = blob.unchecked_ref();
        let window = web_sys::window()
            .ok_or_else(|| Error::new(Code::NotSupported, "no window to decode a logo in"))?;
        let promise: Promise = window
            .create_image_bitmap_with_blob(blob)
            .map_err(|e| fail(&e))?;
        let limit = wait::timer(LOGO_TIMEOUT_MS);
        let bitmap: ImageBitmap = match wait::wait_for(Some(&promise), Some(&limit), None).await {
            Waited::Settled(Ok(b)) => b.unchecked_into(),
            Waited::Settled(Err(e)) => return Err(fail(&e)),
            Waited::TimedOut | Waited::Cancelled => {
                return Err(Error::invalid_param(format!(
                    "watermark.image was not decoded within {LOGO_TIMEOUT_MS} ms"
                )))
            }
        };
        if let Some((_, old)) = self.logo.replace(Some((blob.into(), bitmap.clone()))) {
            old.close();
        }
        Ok(bitmap)
    }

    /// Draws `order` for an image of `size`: the text, white on a dark outline, at a height
    /// proportional to the image's (smaller if it would not fit across), and the logo above
    /// it, scaled down to at most a quarter of the image's width; aligned to the corner's side.
    pub(crate) fn draw(
        &self,
        order: &WatermarkOrder,
        logo: Option<&ImageBitmap>,
        (width, height): (u32, u32),
    ) -> Result<Drawn> {
        let fail = |e: JsValue| browser_error(Code::EncodeFailed, "drawing the watermark", &e);
        let mut slot = self.canvas.borrow_mut();
        let (canvas, ctx) = match &*slot {
            Some(c) => c.clone(),
            None => {
                let canvas = OffscreenCanvas::new(1, 1).map_err(fail)?;
                let ctx: OffscreenCanvasRenderingContext2d = canvas
                    .get_context("2d")
                    .map_err(fail)?
                    .ok_or_else(|| {
                        Error::new(Code::EncodeFailed, "no 2d context to draw the watermark on")
                    })?
                    .unchecked_into();
                *slot = Some((canvas.clone(), ctx.clone()));
                (canvas, ctx)
            }
        };
        let room = f64::from(width.saturating_sub(2 * margin((width, height))).max(1));
        let text = order.text.as_deref().filter(|t| !t.is_empty());
        // The text's size: 1/24 of the image's height (45 px at 1080p), at least 10 px, less
        // for a text wider than the image.
        let (mut px, mut text_w) = (f64::from(height / 24).max(10.0), 0.0);
        if let Some(t) = text {
            ctx.set_font(&font(px));
            text_w = ctx.measure_text(t).map_err(fail)?.width();
            if text_w > room {
                px = (px * room / text_w).floor().max(6.0);
                ctx.set_font(&font(px));
                text_w = ctx.measure_text(t).map_err(fail)?.width();
            }
        }
        let outline = (px / 8.0).ceil();
        let (text_box_w, text_box_h) = match text {
            Some(_) => (
                (text_w + 2.0 * outline).ceil(),
                (px * 1.3 + 2.0 * outline).ceil(),
            ),
            None => (0.0, 0.0),
        };
        let (logo_w, logo_h) = match logo {
            Some(l) => {
                let (lw, lh) = (f64::from(l.width()), f64::from(l.height()));
                let scale = (f64::from(width) / 4.0 / lw).min(1.0);
                ((lw * scale).floor().max(1.0), (lh * scale).floor().max(1.0))
            }
            None => (0.0, 0.0),
        };
        let gap = if text.is_some() && logo.is_some() {
            outline.max(2.0)
        } else {
            0.0
        };
        let box_w = text_box_w.max(logo_w).min(f64::from(width)).max(1.0);
        let box_h = (text_box_h + gap + logo_h).min(f64::from(height)).max(1.0);
        // Resizing clears the canvas and its drawing state.
        canvas.set_width(box_w as u32);
        canvas.set_height(box_h as u32);
        let right = order.placing.corner.right();
        let x_of = |w: f64| if right { box_w - w } else { 0.0 };
        if let Some(l) = logo {
            ctx.draw_image_with_image_bitmap_and_dw_and_dh(l, x_of(logo_w), 0.0, logo_w, logo_h)
                .map_err(fail)?;
        }
        if let Some(t) = text {
            ctx.set_font(&font(px));
            ctx.set_text_baseline("top");
            ctx.set_line_join("round");
            ctx.set_line_width(2.0 * outline);
            ctx.set_stroke_style_str("rgba(0, 0, 0, 0.85)");
            ctx.set_fill_style_str("#fff");
            let (x, y) = (
                x_of(text_box_w) + outline,
                logo_h + gap + outline + px * 0.15,
            );
            ctx.stroke_text(t, x, y).map_err(fail)?;
            ctx.fill_text(t, x, y).map_err(fail)?;
        }
        let image = ctx.get_image_data(0.0, 0.0, box_w, box_h).map_err(fail)?;
        Ok(Drawn {
            pixels: get(&image, "data"),
            width: box_w as u32,
            height: box_h as u32,
            placing: order.placing,
        })
    }
}

/// `px` is whole: formatted as an integer, which keeps the float formatter out of the module.
fn font(px: f64) -> String {
    format!("{}px sans-serif", px as u32)
}
