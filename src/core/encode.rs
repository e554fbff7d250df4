//! JPEG and PNG encoding of RGBA pixels (and JPEG of any [`YccRows`] picture, see
//! [`super::yuv`]), into reused buffers.
//!
//! JPEG uses our own encoder, [`super::jpeg`]: by default with libjpeg's (and so the
//! browsers' `toBlob`'s) steps at the same quality number — Annex K tables, levels rounded —,
//! 4:2:0 with box-averaged chroma below quality 90 and 4:4:4 from 90 (`toBlob` stays 4:2:0),
//! and Huffman tables fitted to each file ([`Tuning::PLAIN`]); when size comes first with
//! Robidoux's tables, rate–distortion optimised quantisation and a progressive file
//! ([`Tuning::default`]). PNG: [`super::png`], fast compression and adaptive filters. The same
//! pixels give the same bytes in every browser.

use super::error::{Code, Error, Result};
use super::jpeg::planes::YccRows;
use super::jpeg::Tuning;

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

/// JPEG quality when the caller gives none (the engine's options, a snapshot's spec).
pub const DEFAULT_QUALITY: u8 = 85;

/// How a JPEG is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegSettings {
    /// 1..=100 (clamped).
    pub quality: u8,
    /// Smallest file over fastest encode: about as small as MozJPEG at the same quality (see
    /// `examples/rate_quality.rs`), in about 1.6× the time of the plain preset.
    pub size_first: bool,
}

impl JpegSettings {
    fn tuning(&self) -> Tuning {
        if self.size_first {
            Tuning::default()
        } else {
            Tuning::PLAIN
        }
    }
}

/// Encodes `width × height` RGBA pixels (alpha ignored) into `out`, replacing its contents,
/// with `jpeg`'s settings for JPEG. `scratch` is reused between calls for the RGB copy PNG
/// needs.
pub fn encode_rgba(
    rgba: &[u8],
    width: u32,
    height: u32,
    format: ImageFormat,
    jpeg: JpegSettings,
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
        ImageFormat::Jpeg => encode_jpeg(rgba, width, height, jpeg, out),
        ImageFormat::Png => encode_png(rgba, width, height, out, scratch),
    }
}

fn encode_jpeg(
    rgba: &[u8],
    width: u32,
    height: u32,
    settings: JpegSettings,
    out: &mut Vec<u8>,
) -> Result<()> {
    let (w, h) = jpeg_sides(width, height)?;
    super::jpeg::encode_rgba_with(rgba, w, h, settings.quality, &settings.tuning(), out)
}

/// Encodes any [`YccRows`] picture as JPEG into `out`, replacing its contents. `chroma_420`: the
/// image's chroma has half its resolution each way (a camera's whole 4:2:0 frame), so the
/// file is 4:2:0 at every quality: finer chroma would only store repeated samples.
pub fn encode_jpeg_image(
    mut image: impl YccRows,
    settings: JpegSettings,
    chroma_420: bool,
    out: &mut Vec<u8>,
) -> Result<()> {
    let tuning = settings.tuning();
    let tuning = if chroma_420 {
        tuning.at_most_420()
    } else {
        tuning
    };
    super::jpeg::encode_image_with(&mut image, settings.quality, &tuning, out)
}

/// The sides as JPEG stores them (16 bits each).
pub fn jpeg_sides(width: u32, height: u32) -> Result<(u16, u16)> {
    match (u16::try_from(width), u16::try_from(height)) {
        (Ok(w), Ok(h)) => Ok((w, h)),
        _ => Err(Error::new(
            Code::EncodeFailed,
            format!("JPEG cannot hold {width}×{height}"),
        )),
    }
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
    rgb.resize(rgba.len() / 4 * 3, 0);
    for (o, px) in rgb.chunks_exact_mut(3).zip(rgba.chunks_exact(4)) {
        if let ([r, g, b], [pr, pg, pb, _]) = (o, px) {
            (*r, *g, *b) = (*pr, *pg, *pb);
        }
    }
    super::png::encode_rgb(rgb, width, height, out)
}
