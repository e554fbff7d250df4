//! The whole frame as the JPEG encoder reads it ([`JfifImage`]): row by row, chroma repeated
//! for the two pixels that share it (its 2×2 sum gives the sample back), mirrored on the fly;
//! the file is 4:2:0 at every quality, as the frame is.

use super::colour::{chroma_cells, Identity, Mapped, SampleMap, ToJfif, YuvColor};
use super::frame::{uv_pairs, ChromaRow, Yuv420};
use super::gamut::Clipper;
use crate::core::encode::{encode_jpeg_image, jpeg_sides, JpegSettings};
use crate::core::error::Result;
use crate::core::jpeg::planes::{YccPair, YccRow, YccRows};

/// A 4:2:0 frame as the JPEG encoder reads it: rows of full-range BT.601 Y, Cb, Cr at full
/// width, chroma repeated for the two pixels that share it, so the encoder's 2×2 averaging
/// gives each chroma sample back. Optionally mirrored left to right as it is read.
pub struct JfifImage<'a> {
    planes: Yuv420<'a>,
    map: ToJfif,
    clip: Clipper,
    mirror: bool,
    width: u16,
    height: u16,
}

impl<'a> JfifImage<'a> {
    /// Reads `planes` in `color`. A side above 65535 (JPEG's limit) is `ERR_ENCODE_FAILED`.
    pub fn new(planes: Yuv420<'a>, color: YuvColor, mirror: bool) -> Result<Self> {
        let (width, height) = jpeg_sides(planes.width, planes.height)?;
        Ok(JfifImage {
            planes,
            map: ToJfif::new(color),
            clip: Clipper::new(color),
            mirror,
            width,
            height,
        })
    }
}

impl YccRows for JfifImage<'_> {
    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn row(&mut self, y: u16, out: YccRow<'_>) {
        let row = usize::from(y);
        let luma = self.planes.luma_row(row);
        let chroma = self.planes.chroma_row(row);
        let (clip, mirror) = (&mut self.clip, self.mirror);
        match &self.map {
            ToJfif::Identity => fill_row(&Identity, clip, luma, chroma, mirror, out),
            ToJfif::Range(t) => fill_row(&**t, clip, luma, chroma, mirror, out),
            ToJfif::Mix(t) => fill_row(&**t, clip, luma, chroma, mirror, out),
        }
    }

    fn pair(&mut self, k: u16, out: YccPair<'_>) -> bool {
        // Mirrored, row by row: each map's pair path is unrolled for both chroma layouts, and
        // a mirrored copy of each doubled its code (24 KB of wasm) for a rarer case.
        if self.mirror {
            return false;
        }
        let first = usize::from(k) * 2;
        let second = (first + 1).min(usize::from(self.height).saturating_sub(1));
        let luma = [first, second].map(|r| self.planes.luma_row(r));
        let chroma = self.planes.chroma_row(first);
        match &self.map {
            ToJfif::Identity => pair_rows(&Identity, luma, chroma, out),
            ToJfif::Range(t) => pair_rows(&**t, luma, chroma, out),
            ToJfif::Mix(t) => pair_rows(&**t, luma, chroma, out),
        }
    }
}

/// [`YccRows::pair`] for one map: `false` as soon as a chroma sample is far outside JFIF's
/// range (its pixels need [`Clipper`], one by one).
fn pair_rows<M: SampleMap>(
    map: &M,
    luma: [&[u8]; 2],
    chroma: ChromaRow<'_>,
    out: YccPair<'_>,
) -> bool {
    match chroma {
        ChromaRow::Planar(u, v) => {
            let pairs = u.iter().copied().zip(v.iter().copied());
            pair_cells(
                map,
                luma,
                pairs,
                |cb, cr| map.chroma_cells(u, v, cb, cr),
                out,
            )
        }
        ChromaRow::Interleaved(uv) => {
            let cells = |cb: &mut [u16], cr: &mut [u16]| chroma_cells(map, uv_pairs(uv), cb, cr);
            pair_cells(map, luma, uv_pairs(uv), cells, out)
        }
    }
}

/// `cells` writes the chroma row and says whether a sample is far; `chroma` gives the same
/// samples again for the luma terms of a map whose luma does not stand alone.
fn pair_cells<M, C>(
    map: &M,
    luma: [&[u8]; 2],
    chroma: C,
    cells: impl FnOnce(&mut [u16], &mut [u16]) -> bool,
    out: YccPair<'_>,
) -> bool
where
    M: SampleMap,
    C: Iterator<Item = (u8, u8)> + Clone,
{
    let YccPair {
        y: [y0, y1],
        cb,
        cr,
    } = out;
    // Chroma first, so that a far sample leaves the luma unwritten.
    if cells(cb, cr) {
        return false;
    }
    let [l0, l1] = luma;
    if M::LUMA_ALONE {
        map.luma_row(l0, y0);
        map.luma_row(l1, y1);
        return true;
    }
    for (out, src) in [(y0, l0), (y1, l1)] {
        let even = src.len() & !1;
        let (Some((out_pairs, out_tail)), Some((src_pairs, src_tail))) =
            (out.split_at_mut_checked(even), src.split_at_checked(even))
        else {
            return false;
        };
        let terms = chroma.clone().map(|(u, v)| map.chroma(u, v).term);
        let pixels = out_pairs.chunks_exact_mut(2).zip(src_pairs.chunks_exact(2));
        for ((o, s), t) in pixels.zip(terms.clone()) {
            if let ([o0, o1], [s0, s1]) = (o, s) {
                (*o0, *o1) = (map.luma(*s0, t), map.luma(*s1, t));
            }
        }
        if let ([o], [s], Some(t)) = (out_tail, src_tail, terms.clone().nth(even / 2)) {
            *o = map.luma(*s, t);
        }
    }
    true
}

fn fill_row<M: SampleMap>(
    map: &M,
    clip: &mut Clipper,
    luma: &[u8],
    chroma: ChromaRow<'_>,
    mirror: bool,
    out: YccRow<'_>,
) {
    match chroma {
        ChromaRow::Planar(u, v) => {
            let chroma = u.iter().copied().zip(v.iter().copied());
            write_row(map, clip, luma, chroma, mirror, out)
        }
        ChromaRow::Interleaved(uv) => write_row(map, clip, luma, uv_pairs(uv), mirror, out),
    }
}

/// Luma pixels 2j and 2j+1 share chroma sample j (with an odd width the last one is alone).
/// Mirrored, source pair j lands at the j-th pair from the right, reversed. A sample whose
/// chroma is far outside JFIF's range (see [`Mapped::far`]) has its pixels made by
/// [`Clipper`]: such samples never occur in colours inside the RGB gamut.
fn write_row<M, C>(
    map: &M,
    clip: &mut Clipper,
    luma: &[u8],
    mut chroma: C,
    mirror: bool,
    out: YccRow<'_>,
) where
    M: SampleMap,
    C: Iterator<Item = (u8, u8)> + Clone,
{
    let YccRow { y, cb, cr } = out;
    // Whole pairs, then the odd last pixel: fixed-size chunks let the compiler drop the
    // per-pixel bounds checks. Mirrored, the odd last pixel comes first.
    let width = y.len();
    let even = width & !1;
    let split = if mirror { width - even } else { even };
    let (Some((y_a, y_b)), Some((cb_a, cb_b)), Some((cr_a, cr_b)), Some((luma, luma_tail))) = (
        y.split_at_mut_checked(split),
        cb.split_at_mut_checked(split),
        cr.split_at_mut_checked(split),
        luma.split_at_checked(even),
    ) else {
        return;
    };
    let ((y, cb, cr), (y_tail, cb_tail, cr_tail)) = if mirror {
        ((y_b, cb_b, cr_b), (y_a, cb_a, cr_a))
    } else {
        ((y_a, cb_a, cr_a), (y_b, cb_b, cr_b))
    };
    if mirror {
        let outs = y
            .rchunks_exact_mut(2)
            .zip(cb.rchunks_exact_mut(2).zip(cr.rchunks_exact_mut(2)));
        let samples = luma.chunks_exact(2).zip(chroma.by_ref());
        for ((yo, (bo, ro)), (pair, (u, v))) in outs.zip(samples) {
            let c = map.chroma(u, v);
            if let ([o0, o1], [l0, l1]) = (yo, pair) {
                sample_pair(map, clip, [*l1, *l0], (u, v, c), [o0, o1], bo, ro);
            }
        }
    } else if M::LUMA_ALONE && !clip.recent {
        // Luma in a loop of its own, then the chroma; then the rare far samples again (and
        // the next row sample by sample, below).
        for (o, &l) in y.iter_mut().zip(luma) {
            *o = map.luma(l, 0);
        }
        let samples = chroma.clone();
        let mut far = false;
        let outs = cb.chunks_exact_mut(2).zip(cr.chunks_exact_mut(2));
        for ((bo, ro), (u, v)) in outs.zip(chroma.by_ref()) {
            let c = map.chroma(u, v);
            far |= c.far;
            bo.fill(c.cb);
            ro.fill(c.cr);
        }
        if far {
            clip.recent = true;
            let outs = y
                .chunks_exact_mut(2)
                .zip(cb.chunks_exact_mut(2).zip(cr.chunks_exact_mut(2)));
            for ((yo, (bo, ro)), (pair, (u, v))) in outs.zip(luma.chunks_exact(2).zip(samples)) {
                if let ([o0, o1], [l0, l1], true) = (yo, pair, map.chroma(u, v).far) {
                    clip.pair([*l0, *l1], (u, v), [o0, o1], bo, ro);
                }
            }
        }
    } else {
        let outs = y
            .chunks_exact_mut(2)
            .zip(cb.chunks_exact_mut(2).zip(cr.chunks_exact_mut(2)));
        let samples = luma.chunks_exact(2).zip(chroma.by_ref());
        let mut far = false;
        for ((yo, (bo, ro)), (pair, (u, v))) in outs.zip(samples) {
            let c = map.chroma(u, v);
            far |= c.far;
            if let ([o0, o1], [l0, l1]) = (yo, pair) {
                sample_pair(map, clip, [*l0, *l1], (u, v, c), [o0, o1], bo, ro);
            }
        }
        clip.recent = far;
    }
    if let ([yo], [bo], [ro], [l], Some((u, v))) =
        (y_tail, cb_tail, cr_tail, luma_tail, chroma.next())
    {
        (*yo, *bo, *ro) = one_pixel(map, clip, *l, (u, v));
    }
}

/// The two pixels of a row that share chroma sample `(u, v)` (mapped to `c`), `luma` in output
/// order, and their chroma.
#[inline(always)]
fn sample_pair<M: SampleMap>(
    map: &M,
    clip: &mut Clipper,
    luma: [u8; 2],
    (u, v, c): (u8, u8, Mapped),
    y: [&mut u16; 2],
    cb: &mut [u16],
    cr: &mut [u16],
) {
    if c.far {
        clip.pair(luma, (u, v), y, cb, cr);
    } else {
        let [y0, y1] = y;
        *y0 = map.luma(luma[0], c.term);
        *y1 = map.luma(luma[1], c.term);
        cb.fill(c.cb);
        cr.fill(c.cr);
    }
}

/// A pixel with a chroma sample of its own (an odd width's last): its (Y, Cb, Cr) samples.
#[inline]
fn one_pixel<M: SampleMap>(
    map: &M,
    clip: &mut Clipper,
    l: u8,
    (u, v): (u8, u8),
) -> (u16, u16, u16) {
    let c = map.chroma(u, v);
    if c.far {
        clip.select(u, v);
        clip.pixel(l)
    } else {
        (map.luma(l, c.term), c.cb, c.cr)
    }
}

/// Encodes a 4:2:0 frame as JPEG into `out` (replacing its contents), mirrored left to right
/// when `mirror` is set, without going through RGB.
pub fn encode_jpeg_yuv420(
    planes: Yuv420<'_>,
    color: YuvColor,
    mirror: bool,
    settings: JpegSettings,
    out: &mut Vec<u8>,
) -> Result<()> {
    let image = JfifImage::new(planes, color, mirror)?;
    encode_jpeg_image(image, settings, true, out)
}
