//! Output size rules (Tencent CSS screencapture, seed 004) and how a frame fills that size.

use super::error::{Error, Result};

/// The largest side an image may have (8K).
pub const MAX_SIDE: u32 = 7680;

/// How a frame fills an output whose aspect ratio differs from the frame's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    /// Stretch the whole frame to the output size.
    #[default]
    Fill,
    /// Scale the whole frame to fit inside, centred, with black bars (letterbox).
    Contain,
    /// Scale the frame to cover the output, centred, cropping what sticks out.
    Cover,
}

impl Fit {
    pub fn as_str(self) -> &'static str {
        match self {
            Fit::Fill => "fill",
            Fit::Contain => "contain",
            Fit::Cover => "cover",
        }
    }

    pub fn parse(s: &str) -> Option<Fit> {
        match s {
            "fill" => Some(Fit::Fill),
            "contain" => Some(Fit::Contain),
            "cover" => Some(Fit::Cover),
            _ => None,
        }
    }
}

/// The output size for a stream of size `(x, y)` when `(w, h)` was asked for (0 = not given).
///
/// - `(0, 0)` → `(x, y)`;
/// - only `w` → `(w, round(w·y/x))`; only `h` → `(round(h·x/y), h)`;
/// - both → `(w, h)`, swapped when one of `(w, h)` and `(x, y)` is portrait and the other
///   landscape, so a portrait phone stream asked for 640×360 gives 360×640.
///
/// Proportional sides are at least 1. Any side above [`MAX_SIDE`] is an error.
pub fn output_size(stream: (u32, u32), asked: (u32, u32)) -> Result<(u32, u32)> {
    let (x, y) = stream;
    if x == 0 || y == 0 {
        return Err(Error::invalid_param(format!(
            "the stream has no size ({x}×{y})"
        )));
    }
    let proportional = |num: u32, a: u32, b: u32| -> u32 {
        // round(num·a/b) in integers: no float surprises at .5; 128 bits, as num·a·2
        // overflows 64 for sides near u32::MAX.
        let v = (u128::from(num) * u128::from(a) * 2 + u128::from(b)) / (u128::from(b) * 2);
        v.clamp(1, u128::from(u32::MAX)) as u32
    };
    let (w, h) = match asked {
        (0, 0) => (x, y),
        (w, 0) => (w, proportional(w, y, x)),
        (0, h) => (proportional(h, x, y), h),
        (w, h) => {
            let asked_portrait = w < h;
            let asked_landscape = w > h;
            let stream_portrait = x < y;
            let stream_landscape = x > y;
            if (asked_portrait && stream_landscape) || (asked_landscape && stream_portrait) {
                (h, w)
            } else {
                (w, h)
            }
        }
    };
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(Error::invalid_param(format!(
            "the output would be {w}×{h} for a {x}×{y} stream; each side must be at most {MAX_SIDE}"
        )));
    }
    Ok((w, h))
}

/// A rectangle in pixels (source rectangles may be fractional after a crop).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// Which part of the source goes where in the output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// The part of the source frame that is used.
    pub src: Rect,
    /// Where it lands in the output, in whole pixels; the rest of the output is black.
    pub dst: (u32, u32, u32, u32),
}

/// Places a `src`-sized frame into a `dst`-sized output according to `fit`.
///
/// `src_aspect` is the frame's display aspect ratio (display width / height), which differs
/// from `src.0 / src.1` only for non-square pixels.
pub fn placement(fit: Fit, src: (u32, u32), src_aspect: f64, dst: (u32, u32)) -> Placement {
    let (sw, sh) = (f64::from(src.0), f64::from(src.1));
    let (dw, dh) = dst;
    let whole = Rect {
        left: 0.0,
        top: 0.0,
        width: sw,
        height: sh,
    };
    let dst_aspect = f64::from(dw) / f64::from(dh);
    match fit {
        Fit::Fill => Placement {
            src: whole,
            dst: (0, 0, dw, dh),
        },
        Fit::Contain => {
            let (iw, ih) = if src_aspect > dst_aspect {
                (dw, round_side(f64::from(dw) / src_aspect, dh))
            } else {
                (round_side(f64::from(dh) * src_aspect, dw), dh)
            };
            Placement {
                src: whole,
                dst: ((dw - iw) / 2, (dh - ih) / 2, iw, ih),
            }
        }
        Fit::Cover => {
            // Keep the centre of the frame; crop the sides (or top and bottom) that overflow.
            let src = if src_aspect > dst_aspect {
                let w = sw * dst_aspect / src_aspect;
                Rect {
                    left: (sw - w) / 2.0,
                    top: 0.0,
                    width: w,
                    height: sh,
                }
            } else {
                let h = sh * src_aspect / dst_aspect;
                Rect {
                    left: 0.0,
                    top: (sh - h) / 2.0,
                    width: sw,
                    height: h,
                }
            };
            Placement {
                src,
                dst: (0, 0, dw, dh),
            }
        }
    }
}

fn round_side(v: f64, max: u32) -> u32 {
    (v.round() as u32).clamp(1, max)
}
