//! JPEG and PNG encoding of RGBA pixels, into reused buffers.
//!
//! JPEG uses `jpeg-encoder` (baseline, 4:2:0 below quality 90 with box-averaged chroma);
//! PNG uses the `image` crate's encoder with fast compression and adaptive filters. The same
//! pixels give the same bytes in every browser.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder};

use super::error::{Code, Error, Result};

/// An output image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ImageFormat {
    #[default]
    Jpeg,
    Png,
}

impl ImageFormat {
    /// The name used in options and results: `"jpeg"` or `"png"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
        }
    }

    /// The file extension without the dot (`jpg` as in the cloud services' names).
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Png => "png",
        }
    }
}

/// Encodes `width × height` RGBA pixels (alpha ignored) into `out`, replacing its contents.
/// `scratch` is reused between calls for the RGB copy PNG needs.
pub fn encode_rgba(
    rgba: &[u8],
    width: u32,
    height: u32,
    format: ImageFormat,
    quality: u8,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Result<()> {
    let needed = (width as usize)
        .checked_mul(height as usize)
        .and_then(|n| n.checked_mul(4));
    if width == 0 || height == 0 || needed != Some(rgba.len()) {
        return Err(Error::new(
            Code::EncodeFailed,
            format!(
                "{} bytes of pixels do not make a {width}×{height} RGBA image",
                rgba.len()
            ),
        ));
    }
    out.clear();
    match format {
        ImageFormat::Jpeg => encode_jpeg(rgba, width, height, quality, out),
        ImageFormat::Png => encode_png(rgba, width, height, out, scratch),
    }
}

fn encode_jpeg(rgba: &[u8], width: u32, height: u32, quality: u8, out: &mut Vec<u8>) -> Result<()> {
    let (w, h) = match (u16::try_from(width), u16::try_from(height)) {
        (Ok(w), Ok(h)) => (w, h),
        _ => {
            return Err(Error::new(
                Code::EncodeFailed,
                format!("JPEG cannot hold {width}×{height}"),
            ))
        }
    };
    let mut encoder = Encoder::new(&mut *out, quality.clamp(1, 100));
    // Averaging each 2×2 chroma block costs little and keeps coloured edges clean.
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    encoder
        .encode(rgba, w, h, ColorType::Rgba)
        .map_err(|e| Error::new(Code::EncodeFailed, format!("JPEG encoding failed: {e}")))
}

fn encode_png(
    rgba: &[u8],
    width: u32,
    height: u32,
    out: &mut Vec<u8>,
    rgb: &mut Vec<u8>,
) -> Result<()> {
    // Video has no alpha: RGB makes a quarter less data to filter and compress.
    rgb.clear();
    rgb.reserve(rgba.len() / 4 * 3);
    for px in rgba.chunks_exact(4) {
        rgb.extend_from_slice(&px[..3]);
    }
    PngEncoder::new_with_quality(&mut *out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(rgb, width, height, ExtendedColorType::Rgb8)
        .map_err(|e| Error::new(Code::EncodeFailed, format!("PNG encoding failed: {e}")))
}
