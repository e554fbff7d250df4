//! A 4:2:0 frame's planes as they arrive (I420 or NV12): sizes checked once, planes borrowed,
//! read row by row.

use crate::core::error::{Code, Error, Result};

/// How the chroma of a 4:2:0 frame is stored after its luma plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChromaLayout {
    /// A U plane then a V plane, each `⌈w/2⌉ × ⌈h/2⌉` (WebCodecs `"I420"`).
    I420,
    /// One plane of `⌈w/2⌉ × ⌈h/2⌉` interleaved U, V pairs (WebCodecs `"NV12"`).
    Nv12,
}

impl ChromaLayout {
    /// The WebCodecs pixel format name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChromaLayout::I420 => "I420",
            ChromaLayout::Nv12 => "NV12",
        }
    }
}

/// The chroma plane size of a `width × height` 4:2:0 frame: `(⌈w/2⌉, ⌈h/2⌉)`.
pub fn chroma_size(width: u32, height: u32) -> (u32, u32) {
    (width.div_ceil(2), height.div_ceil(2))
}

/// Bytes of a tightly packed `width × height` 4:2:0 frame in `layout` (the same for both
/// layouts: `w·h + 2·⌈w/2⌉·⌈h/2⌉`); `None` when that does not fit in `usize`.
pub fn yuv420_len(width: u32, height: u32, layout: ChromaLayout) -> Option<usize> {
    // Both layouts hold the same samples; only their order differs.
    let _ = layout;
    let (cw, ch) = chroma_size(width, height);
    let luma = usize::try_from(width)
        .ok()?
        .checked_mul(usize::try_from(height).ok()?)?;
    let chroma = usize::try_from(cw)
        .ok()?
        .checked_mul(usize::try_from(ch).ok()?)?
        .checked_mul(2)?;
    luma.checked_add(chroma)
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Chroma<'a> {
    Planar { u: &'a [u8], v: &'a [u8] },
    Interleaved(&'a [u8]),
}

/// One row of chroma samples.
#[derive(Debug, Clone, Copy)]
pub(super) enum ChromaRow<'a> {
    Planar(&'a [u8], &'a [u8]),
    Interleaved(&'a [u8]),
}

/// A 4:2:0 frame whose plane sizes have been checked: borrowed planes, never copied.
#[derive(Debug, Clone, Copy)]
pub struct Yuv420<'a> {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) y: &'a [u8],
    pub(super) chroma: Chroma<'a>,
}

impl<'a> Yuv420<'a> {
    /// The frame in `data`: a `width × height` luma plane then the chroma as `layout` says,
    /// tightly packed. A zero side or any other length than [`yuv420_len`] is
    /// `ERR_CAPTURE_FAILED`.
    pub fn new(data: &'a [u8], width: u32, height: u32, layout: ChromaLayout) -> Result<Self> {
        let expected = yuv420_len(width, height, layout);
        if width == 0 || height == 0 || expected != Some(data.len()) {
            return Err(capture_failed(format!(
                "the frame is {width}×{height} {} ({} bytes) but {} bytes of pixels arrived",
                layout.as_str(),
                expected.map_or_else(|| "too many".to_string(), |n| n.to_string()),
                data.len()
            )));
        }
        let luma = plane_len(width, height).unwrap_or(0);
        let (y, rest) = data.split_at_checked(luma).unwrap_or((data, &[]));
        let chroma = match layout {
            ChromaLayout::I420 => {
                let (u, v) = rest.split_at_checked(rest.len() / 2).unwrap_or((rest, &[]));
                Chroma::Planar { u, v }
            }
            ChromaLayout::Nv12 => Chroma::Interleaved(rest),
        };
        Ok(Yuv420 {
            width,
            height,
            y,
            chroma,
        })
    }

    /// The frame's bytes, tightly packed as [`Yuv420::new`] reads them, into `out`.
    pub fn copy_into(&self, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(self.y);
        match self.chroma {
            Chroma::Planar { u, v } => {
                out.extend_from_slice(u);
                out.extend_from_slice(v);
            }
            Chroma::Interleaved(uv) => out.extend_from_slice(uv),
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// How the chroma is stored.
    pub fn layout(&self) -> ChromaLayout {
        match self.chroma {
            Chroma::Planar { .. } => ChromaLayout::I420,
            Chroma::Interleaved(_) => ChromaLayout::Nv12,
        }
    }

    /// Luma row `row`; empty past the end (cannot happen once the sizes are checked).
    pub(super) fn luma_row(&self, row: usize) -> &'a [u8] {
        let w = self.width as usize;
        row.checked_mul(w)
            .and_then(|start| self.y.get(start..start.checked_add(w)?))
            .unwrap_or(&[])
    }

    /// The chroma row that luma row `row` uses.
    pub(super) fn chroma_row(&self, row: usize) -> ChromaRow<'a> {
        let cw = self.width.div_ceil(2) as usize;
        let r = row / 2;
        let slice = |plane: &'a [u8], samples: usize| -> &'a [u8] {
            r.checked_mul(samples)
                .and_then(|start| plane.get(start..start.checked_add(samples)?))
                .unwrap_or(&[])
        };
        match self.chroma {
            Chroma::Planar { u, v } => ChromaRow::Planar(slice(u, cw), slice(v, cw)),
            Chroma::Interleaved(uv) => ChromaRow::Interleaved(slice(uv, cw.saturating_mul(2))),
        }
    }
}

pub(super) fn plane_len(width: u32, height: u32) -> Option<usize> {
    usize::try_from(width)
        .ok()?
        .checked_mul(usize::try_from(height).ok()?)
}

fn capture_failed(message: String) -> Error {
    Error::new(Code::CaptureFailed, message)
}

pub(super) fn encode_failed(message: String) -> Error {
    Error::new(Code::EncodeFailed, message)
}

/// An NV12 chroma row as (U, V) pairs.
pub(super) fn uv_pairs(uv: &[u8]) -> impl Iterator<Item = (u8, u8)> + Clone + '_ {
    uv.chunks_exact(2).map(|pair| match pair {
        [u, v] => (*u, *v),
        _ => (128, 128),
    })
}
