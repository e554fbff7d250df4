//! Scaling, cropping, letterboxing and mirroring 4-byte pixels (RGBA, or a camera frame's
//! Y, Cb, Cr and a spare byte).

use fast_image_resize::images::{CroppedImageMut, Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::error::{Code, Error, Result};
use super::size::Placement;

/// Opaque black in RGBA, the colour of letterbox bars.
pub const RGBA_BLACK: [u8; 4] = [0, 0, 0, 255];

/// Resamples frames; keeps its working buffers between calls.
#[derive(Default)]
pub struct Scaler {
    resizer: Resizer,
}

impl Scaler {
    pub fn new() -> Self {
        Scaler::default()
    }

    /// Draws `src` (RGBA, `src_size`) into `dst` (resized to `dst_size` RGBA) as `placement`
    /// says, then mirrors the result left to right when `mirror` is set.
    pub fn render(
        &mut self,
        src: &[u8],
        src_size: (u32, u32),
        placement: &Placement,
        dst: &mut Vec<u8>,
        dst_size: (u32, u32),
        mirror: bool,
    ) -> Result<()> {
        let target = Target {
            pixels: dst,
            size: dst_size,
            bar: RGBA_BLACK,
            mirror,
        };
        self.render_into(src, src_size, placement, target)
    }

    /// [`Scaler::render`] for any 4-byte pixels, with bars of `target.bar`.
    pub fn render_into(
        &mut self,
        src: &[u8],
        src_size: (u32, u32),
        placement: &Placement,
        target: Target<'_>,
    ) -> Result<()> {
        let Target {
            pixels: dst,
            size: dst_size,
            bar,
            mirror,
        } = target;
        let (dw, dh) = dst_size;
        let len = (dw as usize)
            .checked_mul(dh as usize)
            .and_then(|n| n.checked_mul(4))
            .ok_or_else(|| failed(format!("output {dst_size:?} is too large")))?;
        dst.clear();
        dst.resize(len, 0);
        let (x, y, w, h) = placement.dst;
        if (x, y, w, h) != (0, 0, dw, dh) {
            for px in dst.chunks_exact_mut(4) {
                px.copy_from_slice(&bar);
            }
        }
        let src_image = ImageRef::new(src_size.0, src_size.1, src, PixelType::U8x4)
            .map_err(|e| failed(format!("source {src_size:?}: {e}")))?;
        let mut dst_image = Image::from_slice_u8(dw, dh, dst, PixelType::U8x4)
            .map_err(|e| failed(format!("output {dst_size:?}: {e}")))?;
        let mut area = CroppedImageMut::new(&mut dst_image, x, y, w, h)
            .map_err(|e| failed(format!("placement {:?}: {e}", placement.dst)))?;
        let r = placement.src;
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
            .crop(r.left, r.top, r.width, r.height)
            // Video frames are opaque: skip the premultiply/unpremultiply passes.
            .use_alpha(false);
        self.resizer
            .resize(&src_image, &mut area, &options)
            .map_err(|e| failed(format!("resize: {e}")))?;
        if mirror {
            mirror_rows(dst, dw);
        }
        Ok(())
    }
}

/// Where [`Scaler::render_into`] draws.
pub struct Target<'a> {
    /// Resized to `size`, 4 bytes a pixel.
    pub pixels: &'a mut Vec<u8>,
    pub size: (u32, u32),
    /// The pixel outside the placed picture (letterbox bars).
    pub bar: [u8; 4],
    /// Flip the result left to right.
    pub mirror: bool,
}

/// Flips each row of a 4-byte-pixel image left to right, in place.
pub fn mirror_rows(rgba: &mut [u8], width: u32) {
    let row_bytes = (width as usize).saturating_mul(4);
    if row_bytes == 0 {
        return;
    }
    // The left half swaps with the right half read backwards; an odd middle pixel stays.
    let half = row_bytes / 8 * 4;
    for row in rgba.chunks_exact_mut(row_bytes) {
        let Some((left, right)) = row.split_at_mut_checked(half) else {
            continue;
        };
        for (l, r) in left
            .chunks_exact_mut(4)
            .zip(right.chunks_exact_mut(4).rev())
        {
            l.swap_with_slice(r);
        }
    }
}

fn failed(message: String) -> Error {
    Error::new(Code::EncodeFailed, format!("scaling failed: {message}"))
}
