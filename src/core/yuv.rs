//! Camera frames as YUV 4:2:0 planes (I420, NV12): JPEG straight from the planes, RGBA for PNG.
//!
//! Baseline JPEG (JFIF) stores full-range BT.601 YCbCr, often at 4:2:0. A camera's
//! YUV is that up to an affine map of (Y, Cb, Cr) — the identity for full-range BT.601, a range
//! expansion for limited-range BT.601, a 3×3 mix for BT.709 — so a snapshot can skip both the
//! browser's YUV→RGBA conversion and the encoder's RGB→YCbCr one. The maps are lookup tables
//! in fixed point (16 fractional bits), built per call in a few microseconds; the encoder takes
//! their results with 4 fractional bits, not rounded to whole code values.
//!
//! Every map sends grey to grey (Cb = Cr = 128 stays 128), so output chroma depends on input
//! chroma only and is computed once per 4:2:0 sample; output luma adds a chroma term for BT.709.
//!
//! A colour outside the RGB gamut can have chroma outside JFIF's 0–255 (Chromium's fake camera
//! writes U = V = 0 everywhere, which is why its picture is green); clamping that chroma would
//! change the colour. The pixels of such a sample are made as Chromium draws the frame on a
//! canvas ([`Drawing`]: libyuv's integer arithmetic, clipped to 0–255) and converted as canvas
//! pixels are ([`Clipper`]), so they come out as `drawImage` and `toBlob` show them; a region
//! of one such colour costs a table lookup per pixel. Samples inside JFIF's range keep the
//! direct maps: where a decoder clips R, G and B, it clips as a browser does.
//!
//! - Whole frame ([`JfifImage`]): the encoder reads the planes row by row, chroma repeated for
//!   the two pixels that share it (its 2×2 sum gives the sample back), mirrored on the fly; the
//!   file is 4:2:0 at every quality, as the frame is.
//! - Scaled, cropped or letterboxed: each plane is resampled on its own ([`scale_yuv420`]) into
//!   a 4:2:0 frame of the output size, which is then encoded whole, as above.

use super::encode::{encode_jpeg_image, jpeg_sides, JpegSettings};
use super::error::{Code, Error, Result};
use super::jpeg::planes::{self, YccRow, YccRows, FRACTION, TOP};
use super::scale::{Plane, PlaneMut, Sampling, Scaler};
use super::size::{Placement, Rect};

/// The matrix the camera used to turn its RGB into YUV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum YuvMatrix {
    /// BT.601 (`"smpte170m"`, `"bt470bg"`): SD video, most webcams, and JPEG itself.
    #[default]
    Bt601,
    /// BT.709 (`"bt709"`): HD video.
    Bt709,
}

impl YuvMatrix {
    /// The luma weights of red and blue, (Kr, Kb).
    fn weights(self) -> (f64, f64) {
        match self {
            YuvMatrix::Bt601 => (0.299, 0.114),
            YuvMatrix::Bt709 => (0.2126, 0.0722),
        }
    }
}

/// How a frame's YUV values encode colour: the matrix and the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct YuvColor {
    pub matrix: YuvMatrix,
    /// `true`: Y and chroma use 0–255; `false` (limited, "TV" range): Y 16–235, chroma 16–240.
    pub full_range: bool,
}

impl YuvColor {
    /// Full-range BT.601: what a JFIF file stores.
    pub const JFIF: YuvColor = YuvColor {
        matrix: YuvMatrix::Bt601,
        full_range: true,
    };

    /// The colour of a WebCodecs `VideoFrame` from its `colorSpace.matrix` and
    /// `colorSpace.fullRange`. `"bt709"` is BT.709; `"smpte170m"`, `"bt470bg"`, any other
    /// matrix and none are BT.601, which browsers assume for unlabelled camera frames. The range
    /// is limited unless `full_range` is `Some(true)`.
    pub fn from_video_frame(matrix: Option<&str>, full_range: Option<bool>) -> YuvColor {
        let matrix = match matrix {
            Some("bt709") => YuvMatrix::Bt709,
            _ => YuvMatrix::Bt601,
        };
        YuvColor {
            matrix,
            full_range: full_range.unwrap_or(false),
        }
    }

    /// Black as (Y, Cb, Cr): Y 16 in limited range, 0 in full range; chroma 128.
    pub fn black(self) -> [u8; 3] {
        [if self.full_range { 0 } else { 16 }, 128, 128]
    }

    /// Code value → normalised value: luma (v − offset) / scale in 0..1, chroma
    /// (v − 128) / scale in −0.5..0.5.
    fn normalise_luma(self, v: u8) -> f64 {
        if self.full_range {
            f64::from(v) / 255.0
        } else {
            (f64::from(v) - 16.0) / 219.0
        }
    }

    fn normalise_chroma(self, v: u8) -> f64 {
        let scale = if self.full_range { 255.0 } else { 224.0 };
        (f64::from(v) - 128.0) / scale
    }
}

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
enum Chroma<'a> {
    Planar { u: &'a [u8], v: &'a [u8] },
    Interleaved(&'a [u8]),
}

/// One row of chroma samples.
#[derive(Debug, Clone, Copy)]
enum ChromaRow<'a> {
    Planar(&'a [u8], &'a [u8]),
    Interleaved(&'a [u8]),
}

/// A 4:2:0 frame whose plane sizes have been checked: borrowed planes, never copied.
#[derive(Debug, Clone, Copy)]
pub struct Yuv420<'a> {
    width: u32,
    height: u32,
    y: &'a [u8],
    chroma: Chroma<'a>,
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
    fn luma_row(&self, row: usize) -> &'a [u8] {
        let w = self.width as usize;
        row.checked_mul(w)
            .and_then(|start| self.y.get(start..start.checked_add(w)?))
            .unwrap_or(&[])
    }

    /// The chroma row that luma row `row` uses.
    fn chroma_row(&self, row: usize) -> ChromaRow<'a> {
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

fn plane_len(width: u32, height: u32) -> Option<usize> {
    usize::try_from(width)
        .ok()?
        .checked_mul(usize::try_from(height).ok()?)
}

fn capture_failed(message: String) -> Error {
    Error::new(Code::CaptureFailed, message)
}

fn encode_failed(message: String) -> Error {
    Error::new(Code::EncodeFailed, message)
}

// --- Fixed point -------------------------------------------------------------------------

const FRACTION_BITS: u32 = 16;
const HALF: i32 = 1 << (FRACTION_BITS - 1);
/// From the tables' fixed point to the encoder's samples ([`FRACTION`] bits), and its half.
const SAMPLE_SHIFT: u32 = FRACTION_BITS - FRACTION;
const SAMPLE_HALF: i32 = 1 << (SAMPLE_SHIFT - 1);

/// `v` in fixed point.
fn fixed(v: f64) -> i32 {
    (v * f64::from(1u32 << FRACTION_BITS)).round() as i32
}

/// A fixed-point sum (its rounding half already added) back to a code value.
#[inline]
fn to_u8(v: i32) -> u8 {
    (v >> FRACTION_BITS).clamp(0, 255) as u8
}

/// A fixed-point sum (its rounding half already added) to an encoder sample.
#[inline]
fn to_sample(v: i32) -> u16 {
    (v >> SAMPLE_SHIFT).clamp(0, i32::from(TOP)) as u16
}

fn table(f: impl Fn(u8) -> i32) -> [i32; 256] {
    let mut t = [0; 256];
    for (v, slot) in (0..=255u8).zip(t.iter_mut()) {
        *slot = f(v);
    }
    t
}

/// A table of encoder samples: `f` in code values, kept to [`FRACTION`] bits.
fn table_sample(f: impl Fn(u8) -> f64) -> [u16; 256] {
    let scale = f64::from(1u32 << FRACTION);
    let mut t = [0; 256];
    for (v, slot) in (0..=255u8).zip(t.iter_mut()) {
        *slot = (f(v) * scale).round().clamp(0.0, f64::from(TOP)) as u16;
    }
    t
}

/// `t[v]`: a `u8` always indexes a 256-entry table, so the fallback is never taken and the
/// optimiser drops it.
#[inline(always)]
fn at<T: Copy + Default>(t: &[T; 256], v: u8) -> T {
    t.get(usize::from(v)).copied().unwrap_or_default()
}

/// Normalised (Y, Pb, Pr) → normalised (R, G, B) for a matrix, rows R, G, B.
fn ypbpr_to_rgb(matrix: YuvMatrix) -> [[f64; 3]; 3] {
    let (kr, kb) = matrix.weights();
    let kg = 1.0 - kr - kb;
    let r_pr = 2.0 * (1.0 - kr);
    let b_pb = 2.0 * (1.0 - kb);
    [
        [1.0, 0.0, r_pr],
        [1.0, -b_pb * kb / kg, -r_pr * kr / kg],
        [1.0, b_pb, 0.0],
    ]
}

/// Normalised (R, G, B) → normalised (Y, Pb, Pr) for a matrix, rows Y, Pb, Pr.
fn rgb_to_ypbpr(matrix: YuvMatrix) -> [[f64; 3]; 3] {
    let (kr, kb) = matrix.weights();
    let kg = 1.0 - kr - kb;
    let pb = 2.0 * (1.0 - kb);
    let pr = 2.0 * (1.0 - kr);
    [
        [kr, kg, kb],
        [-kr / pb, -kg / pb, (1.0 - kb) / pb],
        [(1.0 - kr) / pr, -kg / pr, -kb / pr],
    ]
}

fn multiply(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut m = [[0.0; 3]; 3];
    for (row, a_row) in m.iter_mut().zip(a) {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = a_row
                .iter()
                .zip(b)
                .map(|(x, b_row)| x * b_row.get(j).copied().unwrap_or(0.0))
                .sum();
        }
    }
    m
}

// --- YUV → JFIF YCbCr ----------------------------------------------------------------------

/// One chroma sample mapped to the encoder's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mapped {
    cb: u16,
    cr: u16,
    /// What the chroma adds to each luma of the sample (0 where luma stands alone).
    term: i32,
    /// The chroma lies more than half a level beyond JFIF's 0–255, so `cb` and `cr` are
    /// clamped and would change the colour: the sample's pixels are taken as the browser draws
    /// them instead ([`Drawing`]).
    far: bool,
}

/// Maps one 4:2:0 sample to the encoder's samples: its chroma once, then each of the (one or
/// two) luma values that share it in a row.
trait SampleMap {
    /// Output luma depends on input luma only (`chroma` always gives a term of 0).
    const LUMA_ALONE: bool;
    fn chroma(&self, cb: u8, cr: u8) -> Mapped;
    fn luma(&self, y: u8, chroma_term: i32) -> u16;
}

/// Whether a fixed-point JFIF chroma value (its rounding half already added) is more than
/// half a level outside 0–255.
#[inline]
fn beyond_jfif(v: i32) -> bool {
    let v = v - SAMPLE_HALF;
    !(-HALF..=(255 << FRACTION_BITS) + HALF).contains(&v)
}

/// Full-range BT.601 is JFIF already.
struct Identity;

impl SampleMap for Identity {
    const LUMA_ALONE: bool = true;
    #[inline]
    fn chroma(&self, cb: u8, cr: u8) -> Mapped {
        Mapped {
            cb: u16::from(cb) << FRACTION,
            cr: u16::from(cr) << FRACTION,
            term: 0,
            far: false,
        }
    }
    #[inline]
    fn luma(&self, y: u8, _: i32) -> u16 {
        u16::from(y) << FRACTION
    }
}

/// Limited-range BT.601: each channel stretched on its own.
struct RangeTables {
    y: [u16; 256],
    c: [u16; 256],
    /// Chroma codes that stretch beyond JFIF's range (below 16 and above 240).
    far: [bool; 256],
}

impl SampleMap for RangeTables {
    const LUMA_ALONE: bool = true;
    #[inline]
    fn chroma(&self, cb: u8, cr: u8) -> Mapped {
        Mapped {
            cb: at(&self.c, cb),
            cr: at(&self.c, cr),
            term: 0,
            far: at(&self.far, cb) | at(&self.far, cr),
        }
    }
    #[inline]
    fn luma(&self, y: u8, _: i32) -> u16 {
        at(&self.y, y)
    }
}

/// BT.709: output luma takes a little of the chroma, output chroma mixes both inputs.
struct MixTables {
    y_y: [i32; 256],
    y_cb: [i32; 256],
    y_cr: [i32; 256],
    cb_cb: [i32; 256],
    cb_cr: [i32; 256],
    cr_cb: [i32; 256],
    cr_cr: [i32; 256],
}

impl SampleMap for MixTables {
    const LUMA_ALONE: bool = false;
    #[inline]
    fn chroma(&self, cb: u8, cr: u8) -> Mapped {
        let blue = at(&self.cb_cb, cb) + at(&self.cb_cr, cr);
        let red = at(&self.cr_cb, cb) + at(&self.cr_cr, cr);
        Mapped {
            cb: to_sample(blue),
            cr: to_sample(red),
            term: at(&self.y_cb, cb) + at(&self.y_cr, cr),
            far: beyond_jfif(blue) | beyond_jfif(red),
        }
    }
    #[inline]
    fn luma(&self, y: u8, chroma_term: i32) -> u16 {
        to_sample(at(&self.y_y, y) + chroma_term)
    }
}

enum ToJfif {
    Identity,
    Range(Box<RangeTables>),
    Mix(Box<MixTables>),
}

impl ToJfif {
    fn new(color: YuvColor) -> ToJfif {
        match (color.matrix, color.full_range) {
            (YuvMatrix::Bt601, true) => ToJfif::Identity,
            (YuvMatrix::Bt601, false) => {
                let chroma = |v| 128.0 + 255.0 * color.normalise_chroma(v);
                let mut far = [false; 256];
                for (v, slot) in (0..=255u8).zip(far.iter_mut()) {
                    *slot = beyond_jfif(fixed(chroma(v)) + SAMPLE_HALF);
                }
                ToJfif::Range(Box::new(RangeTables {
                    y: table_sample(|v| 255.0 * color.normalise_luma(v)),
                    c: table_sample(chroma),
                    far,
                }))
            }
            (YuvMatrix::Bt709, _) => {
                // Source (Y, Pb, Pr) → RGB → JFIF's (Y, Pb, Pr); then to code values.
                let m = multiply(&rgb_to_ypbpr(YuvMatrix::Bt601), &ypbpr_to_rgb(color.matrix));
                let [[yy, yb, yr], [_, bb, br], [_, rb, rr]] = m;
                let luma = |k: f64| table(move |v| fixed(255.0 * k * color.normalise_luma(v)));
                let chroma = |k: f64| table(move |v| fixed(255.0 * k * color.normalise_chroma(v)));
                let with = |mut t: [i32; 256], add: i32| {
                    for x in t.iter_mut() {
                        *x += add;
                    }
                    t
                };
                let offset = fixed(128.0) + SAMPLE_HALF;
                ToJfif::Mix(Box::new(MixTables {
                    y_y: with(luma(yy), SAMPLE_HALF),
                    y_cb: chroma(yb),
                    y_cr: chroma(yr),
                    cb_cb: with(chroma(bb), offset),
                    cb_cr: chroma(br),
                    cr_cb: chroma(rb),
                    cr_cr: with(chroma(rr), offset),
                }))
            }
        }
    }
}

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

fn uv_pairs(uv: &[u8]) -> impl Iterator<Item = (u8, u8)> + Clone + '_ {
    uv.chunks_exact(2).map(|pair| match pair {
        [u, v] => (*u, *v),
        _ => (128, 128),
    })
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

/// The pixels of chroma samples far outside JFIF's range (see [`Mapped::far`]), as the
/// encoder takes them: drawn as the browser draws them ([`Drawing`]), then converted as
/// canvas pixels are.
///
/// A channel that the drawing clips is taken one level beyond the clip (−1 or 256). A decoder
/// clips it back, and the quantisation error of such a colour then falls mostly outside the
/// gamut, where it is clipped away, instead of pulling the colour a level inside. On a frame
/// of Chromium's fake camera (every pixel outside the gamut, most clipped at G = 255) the file
/// decoded at 50.76 dB against the drawing with one level, 48.63 dB with none, 48.90 with two.
///
/// For one chroma value the result depends on luma alone, so it is kept per luma code for the
/// last chroma value seen: a region of one out-of-gamut colour (the fake camera's whole frame
/// is one) costs a lookup per pixel, and a pixel of any other chroma one conversion.
struct Clipper {
    drawing: Drawing,
    /// The last row had far samples: `write_row` takes the next sample by sample rather than
    /// in its faster passes for colours inside the gamut.
    recent: bool,
    /// The chroma sample the entries belong to (`u << 8 | v`; `NO_CHROMA` before the first),
    /// and what it adds to R, G and B.
    chroma: u32,
    deltas: [i32; 3],
    /// Entries whose generation is this one hold the current chroma's pixels.
    generation: u16,
    entries: Box<[Entry; 256]>,
}

/// A pixel of the current chroma: its (Y, Cb, Cr) samples, valid if `generation` is current.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    generation: u16,
    y: u16,
    cb: u16,
    cr: u16,
}

const NO_CHROMA: u32 = u32::MAX;

impl Clipper {
    fn new(color: YuvColor) -> Clipper {
        Clipper {
            drawing: Drawing::new(color),
            recent: false,
            chroma: NO_CHROMA,
            deltas: [0; 3],
            generation: 0,
            entries: Box::new([Entry::default(); 256]),
        }
    }

    /// Makes `(u, v)` the current chroma sample.
    #[inline(always)]
    fn select(&mut self, u: u8, v: u8) {
        let key = u32::from(u) << 8 | u32::from(v);
        if self.chroma != key {
            self.chroma = key;
            self.deltas = self.drawing.deltas(u, v);
            self.generation = self.generation.wrapping_add(1);
            if self.generation == 0 {
                // Generations wrapped around: start again from clean entries.
                self.generation = 1;
                self.entries.fill(Entry::default());
            }
        }
    }

    /// (Y, Cb, Cr) samples of luma `l` with the current chroma.
    #[inline(always)]
    fn pixel(&mut self, l: u8) -> (u16, u16, u16) {
        let mut e = at(&self.entries, l);
        if e.generation != self.generation {
            e = self.convert(l);
        }
        (e.y, e.cb, e.cr)
    }

    /// Converts luma `l` with the current chroma and keeps the entry.
    #[inline(never)]
    fn convert(&mut self, l: u8) -> Entry {
        let drawn = self.drawing.unclipped(l, self.deltas);
        let [r, g, b] = drawn.map(|c| c.clamp(-1, 256));
        let (cb, cr) = planes::chroma_sum(r, g, b, 1);
        let e = Entry {
            generation: self.generation,
            y: planes::luma_wide(r, g, b),
            cb,
            cr,
        };
        if let Some(slot) = self.entries.get_mut(usize::from(l)) {
            *slot = e;
        }
        e
    }

    /// The two pixels of a row that share far chroma sample `(u, v)`, `luma` in output order.
    #[inline(always)]
    fn pair(
        &mut self,
        luma: [u8; 2],
        (u, v): (u8, u8),
        y: [&mut u16; 2],
        cb: &mut [u16],
        cr: &mut [u16],
    ) {
        self.select(u, v);
        let [y0, y1] = y;
        let (a, b) = (self.pixel(luma[0]), self.pixel(luma[1]));
        (*y0, *y1) = (a.0, b.0);
        if let ([b0, b1], [r0, r1]) = (cb, cr) {
            (*b0, *b1, *r0, *r1) = (a.1, b.1, a.2, b.2);
        }
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

// --- Scaling as planes --------------------------------------------------------------------

/// Scales, crops and letterboxes a 4:2:0 frame as `place` says into `out`: a tightly packed
/// `size` frame in the same layout, each plane resampled on its own, bars `color`'s black. The
/// result is a whole frame for [`encode_jpeg_yuv420`] (which mirrors it as it reads it) or
/// [`yuv420_to_rgba`].
///
/// Chroma follows the luma's geometry: see [`chroma_placement`].
pub fn scale_yuv420<'o>(
    planes: Yuv420<'_>,
    place: &Placement,
    size: (u32, u32),
    color: YuvColor,
    scaler: &mut Scaler,
    out: &'o mut Vec<u8>,
) -> Result<Yuv420<'o>> {
    let (dw, dh) = size;
    let layout = planes.layout();
    let (len, luma) = match (yuv420_len(dw, dh, layout), plane_len(dw, dh)) {
        (Some(len), Some(luma)) if luma > 0 => (len, luma),
        _ => return Err(encode_failed(format!("cannot scale to {dw}×{dh}"))),
    };
    // Every byte is written below: the picture's rectangles, or bars first when there are any.
    out.truncate(len);
    out.resize(len, 0);
    let [black, u_black, v_black] = color.black();
    let letterboxed = place.dst != (0, 0, dw, dh);
    let (y_out, c_out) = out.split_at_mut(luma);
    if letterboxed {
        y_out.fill(black);
        match layout {
            ChromaLayout::I420 => {
                let (u, v) = c_out.split_at_mut(c_out.len() / 2);
                u.fill(u_black);
                v.fill(v_black);
            }
            ChromaLayout::Nv12 => {
                for pair in c_out.chunks_exact_mut(2) {
                    pair.copy_from_slice(&[u_black, v_black]);
                }
            }
        }
    }
    let (w, h) = (planes.width, planes.height);
    let src = |samples, (width, height), sampling| Plane {
        samples,
        width,
        height,
        sampling,
    };
    let dst = |samples, (width, height)| PlaneMut {
        samples,
        width,
        height,
    };
    scaler.resample_plane::<1>(
        src(planes.y, (w, h), Sampling::Full),
        place.src,
        dst(y_out, size),
        place.dst,
    )?;
    let (from, to) = (chroma_size(w, h), chroma_size(dw, dh));
    let chroma = chroma_placement(place);
    match planes.chroma {
        Chroma::Planar { u, v } => {
            let (u_out, v_out) = c_out.split_at_mut(c_out.len() / 2);
            for (plane, out, black) in [(u, u_out, u_black), (v, v_out, v_black)] {
                scaler.resample_plane::<1>(
                    src(plane, from, Sampling::Half),
                    chroma.src,
                    PlaneMut {
                        samples: &mut *out,
                        width: to.0,
                        height: to.1,
                    },
                    chroma.dst,
                )?;
                fade_half_cells::<1>(out, to.0, &chroma, place, size, [black]);
            }
        }
        Chroma::Interleaved(uv) => {
            scaler.resample_plane::<2>(
                src(uv, from, Sampling::Half),
                chroma.src,
                dst(c_out, to),
                chroma.dst,
            )?;
            fade_half_cells::<2>(c_out, to.0, &chroma, place, size, [u_black, v_black]);
        }
    }
    Yuv420::new(out, dw, dh, layout).map_err(|e| encode_failed(e.message))
}

/// Chroma cells half bar, half picture (beside an odd bar) take the bar's chroma for their bar
/// half, as the mean of their pixels' own chroma would: the bar pixel is not coloured by the
/// whole of the picture's chroma, nor the picture's edge by none of it. On a 721×721 letterbox
/// of a 1920×1080 frame (`examples/encode_paths.rs`) this made the JPEG 42.47 dB against the
/// RGBA reference, not 41.62.
fn fade_half_cells<const N: usize>(
    plane: &mut [u8],
    cells: u32,
    chroma: &Placement,
    place: &Placement,
    (dw, dh): (u32, u32),
    bar: [u8; N],
) {
    let (x, y, w, h) = place.dst;
    let (cx, cy, cw, ch) = chroma.dst;
    let row_len = cells as usize * N;
    let fade = |px: &mut [u8]| {
        for (c, b) in px.iter_mut().zip(bar) {
            *c = (u16::from(*c) + u16::from(b)).div_ceil(2) as u8;
        }
    };
    let (right, bottom) = (x.saturating_add(w), y.saturating_add(h));
    let rows = |plane: &mut [u8], r: u32| {
        let at = r as usize * row_len;
        let (from, to) = (cx as usize * N, cx.saturating_add(cw) as usize * N);
        if let Some(row) = plane.get_mut(at + from..at + to) {
            row.chunks_exact_mut(N).for_each(fade);
        }
    };
    if y % 2 == 1 {
        rows(plane, cy);
    }
    if bottom % 2 == 1 && bottom < dh {
        rows(plane, (cy + ch).saturating_sub(1));
    }
    let column = |plane: &mut [u8], c: u32| {
        for r in cy..cy + ch {
            let at = r as usize * row_len + c as usize * N;
            if let Some(px) = plane.get_mut(at..at + N) {
                fade(px);
            }
        }
    };
    if x % 2 == 1 {
        column(plane, cx);
    }
    if right % 2 == 1 && right < dw {
        column(plane, (cx + cw).saturating_sub(1));
    }
}

/// Where the chroma of a frame placed by `place` (in luma pixels) goes, in chroma samples.
///
/// The destination is every chroma cell that the luma rectangle touches: `⌊x/2⌋ .. ⌈(x+w)/2⌉`
/// (the same down the rows), so a cell half bar, half picture has the picture's colour (then
/// faded, see [`fade_half_cells`]). The source is the luma source mapped the same way, so
/// chroma lands where luma does: output luma edge `d` shows source luma position
/// `left + (d − x)·width/w`, chroma cell `i` spans luma edges `2i .. 2i + 2`, and each source
/// chroma sample spans two luma samples, so cell `i` shows source chroma from
/// `(left + (2i − x)·width/w) / 2`, `width/w` chroma samples a cell. A cell reaching past the
/// picture maps past the source's edge, where [`Scaler::resample_plane`] extends the edge.
fn chroma_placement(place: &Placement) -> Placement {
    let (x, y, w, h) = place.dst;
    let r = place.src;
    let axis = |at: u32, len: u32, left: f64, width: f64| {
        let (c0, c1) = (at / 2, at.saturating_add(len).div_ceil(2));
        let per = width / f64::from(len.max(1));
        let from = left + (f64::from(c0) * 2.0 - f64::from(at)) * per;
        (c0, c1 - c0, from / 2.0, f64::from(c1 - c0) * per)
    };
    let (cx, cw, left, width) = axis(x, w, r.left, r.width);
    let (cy, ch, top, height) = axis(y, h, r.top, r.height);
    Placement {
        src: Rect {
            left,
            top,
            width,
            height,
        },
        dst: (cx, cy, cw, ch),
    }
}

// --- YUV → RGBA ----------------------------------------------------------------------------

/// Fixed-point tables of the source matrix's YUV → RGB.
struct RgbTables {
    y: [i32; 256],
    r_cr: [i32; 256],
    g_cb: [i32; 256],
    g_cr: [i32; 256],
    b_cb: [i32; 256],
}

impl RgbTables {
    fn new(color: YuvColor) -> RgbTables {
        let [[_, _, r_pr], [_, g_pb, g_pr], [_, b_pb, _]] = ypbpr_to_rgb(color.matrix);
        let chroma = |k: f64| table(move |v| fixed(255.0 * k * color.normalise_chroma(v)));
        RgbTables {
            y: table(|v| fixed(255.0 * color.normalise_luma(v)) + HALF),
            r_cr: chroma(r_pr),
            g_cb: chroma(g_pb),
            g_cr: chroma(g_pr),
            b_cb: chroma(b_pb),
        }
    }
}

/// How Chromium turns a YUV frame into RGB to draw it on a canvas (and for `copyTo` as
/// RGBA): libyuv's integer arithmetic. Luma is scaled by `YG / 65536` after repeating its byte
/// (`y · 0x0101`) and offset by `YB`; chroma adds multiples of (U − 128, V − 128) in 1/64
/// steps, blue's capped at 2.0; the sums are shifted down 6 bits and clamped to 0–255.
/// Constants are libyuv's `kYuvI601Constants`, `kYuvJPEGConstants`, `kYuvH709Constants` and
/// `kYuvF709Constants`. Every pixel of headless Chromium 156's drawings of two limited-range
/// BT.601 I420 frames (the benchmark's photo and a fake-camera frame, 2 × 2 073 600 pixels)
/// matched this bit for bit; the other three sets are libyuv's, not checked against a drawing.
///
/// Used only for colours outside the RGB gamut, whose clipped colour depends on the arithmetic
/// that clips it: there tracksnap gives what a canvas shows.
struct Drawing {
    y: [i32; 256],
    /// (U → B, U → G, V → G, V → R) in 1/64.
    ub: i32,
    ug: i32,
    vg: i32,
    vr: i32,
}

impl Drawing {
    fn new(color: YuvColor) -> Drawing {
        let (yg, yb, ub, ug, vg, vr) = match (color.matrix, color.full_range) {
            (YuvMatrix::Bt601, false) => (18997, -1160, 128, 25, 52, 102),
            (YuvMatrix::Bt601, true) => (16320, 32, 113, 22, 46, 90),
            (YuvMatrix::Bt709, false) => (18997, -1160, 128, 14, 34, 115),
            (YuvMatrix::Bt709, true) => (16320, 32, 119, 12, 30, 101),
        };
        Drawing {
            y: table(|v| ((i32::from(v) * 0x0101 * yg) >> 16) + yb),
            ub,
            ug,
            vg,
            vr,
        }
    }

    /// What chroma sample (`u`, `v`) adds to R, G and B, in 1/64.
    #[inline]
    fn deltas(&self, u: u8, v: u8) -> [i32; 3] {
        let (u, v) = (i32::from(u) - 128, i32::from(v) - 128);
        [v * self.vr, -(u * self.ug + v * self.vg), u * self.ub]
    }

    /// The drawn (R, G, B) of luma `y` with chroma `deltas`, each 0–255.
    #[inline]
    fn rgb(&self, y: u8, deltas: [i32; 3]) -> [i32; 3] {
        self.unclipped(y, deltas).map(|c| c.clamp(0, 255))
    }

    /// [`Drawing::rgb`] before the clip to 0–255.
    #[inline]
    fn unclipped(&self, y: u8, deltas: [i32; 3]) -> [i32; 3] {
        let y = at(&self.y, y);
        deltas.map(|d| (y + d) >> 6)
    }

    /// [`Drawing::rgb`] as bytes.
    #[inline]
    fn rgb_u8(&self, y: u8, deltas: [i32; 3]) -> (u8, u8, u8) {
        let [r, g, b] = self.rgb(y, deltas);
        (r as u8, g as u8, b as u8)
    }
}

impl ToJfif {
    /// [`Mapped::far`] of a chroma sample.
    #[inline]
    fn far(&self, cb: u8, cr: u8) -> bool {
        match self {
            ToJfif::Identity => false,
            ToJfif::Range(t) => t.chroma(cb, cr).far,
            ToJfif::Mix(t) => t.chroma(cb, cr).far,
        }
    }
}

/// Converts a 4:2:0 frame to RGBA (opaque) in `rgba`, resized to `width × height × 4`, with
/// the frame's own matrix and range; each chroma sample colours the pixels that share it.
/// Pixels whose chroma lies far outside JFIF's range are drawn as the JPEG path draws them
/// ([`Drawing`]), so both formats give such a pixel the same colour.
pub fn yuv420_to_rgba(planes: Yuv420<'_>, color: YuvColor, rgba: &mut Vec<u8>) -> Result<()> {
    let row_bytes = packed_rows(&planes, rgba)?;
    let t = RgbTables::new(color);
    let (map, drawing) = (ToJfif::new(color), Drawing::new(color));
    let tables = (&t, &map, &drawing);
    for (row, out) in rgba.chunks_exact_mut(row_bytes).enumerate() {
        let luma = planes.luma_row(row);
        match planes.chroma_row(row) {
            ChromaRow::Planar(u, v) => {
                rgba_row(tables, luma, u.iter().copied().zip(v.iter().copied()), out)
            }
            ChromaRow::Interleaved(uv) => rgba_row(tables, luma, uv_pairs(uv), out),
        }
    }
    Ok(())
}

/// Sizes `out` for the frame as opaque RGBA; the bytes of one row.
fn packed_rows(planes: &Yuv420<'_>, out: &mut Vec<u8>) -> Result<usize> {
    let len = plane_len(planes.width, planes.height)
        .and_then(|n| n.checked_mul(4))
        .ok_or_else(|| {
            encode_failed(format!(
                "{}×{} pixels do not fit in memory",
                planes.width, planes.height
            ))
        })?;
    out.clear();
    out.resize(len, 255);
    Ok((planes.width as usize).saturating_mul(4).max(1))
}

fn rgba_row(
    (t, map, drawing): (&RgbTables, &ToJfif, &Drawing),
    luma: &[u8],
    mut chroma: impl Iterator<Item = (u8, u8)>,
    out: &mut [u8],
) {
    let rgb = |y: u8, (dr, dg, db): (i32, i32, i32)| {
        let y = at(&t.y, y);
        (to_u8(y + dr), to_u8(y + dg), to_u8(y + db))
    };
    let deltas = |(cb, cr): (u8, u8)| {
        (
            at(&t.r_cr, cr),
            at(&t.g_cb, cb) + at(&t.g_cr, cr),
            at(&t.b_cb, cb),
        )
    };
    // Whole pairs in fixed-size chunks (no bounds checks), then an odd last pixel.
    let pairs = out.chunks_exact_mut(8).zip(luma.chunks_exact(2));
    for ((px, pair), (u, v)) in pairs.zip(chroma.by_ref()) {
        if let ([y0, y1], [r0, g0, b0, _, r1, g1, b1, _]) = (pair, px) {
            if map.far(u, v) {
                let d = drawing.deltas(u, v);
                (*r0, *g0, *b0) = drawing.rgb_u8(*y0, d);
                (*r1, *g1, *b1) = drawing.rgb_u8(*y1, d);
            } else {
                let d = deltas((u, v));
                (*r0, *g0, *b0) = rgb(*y0, d);
                (*r1, *g1, *b1) = rgb(*y1, d);
            }
        }
    }
    let even = luma.len() & !1;
    if let (Some([y0]), Some([r0, g0, b0, _]), Some((u, v))) = (
        luma.get(even..),
        out.get_mut(even.saturating_mul(4)..),
        chroma.next(),
    ) {
        (*r0, *g0, *b0) = if map.far(u, v) {
            drawing.rgb_u8(*y0, drawing.deltas(u, v))
        } else {
            rgb(*y0, deltas((u, v)))
        };
    }
}

#[cfg(test)]
// Tests fail by panicking.
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    #[test]
    fn bt709_grey_stays_grey_and_white_stays_white() {
        let ToJfif::Mix(t) = ToJfif::new(YuvColor::from_video_frame(Some("bt709"), None)) else {
            panic!("BT.709 is a mix");
        };
        let grey = t.chroma(128, 128);
        assert_eq!(
            (grey.cb, grey.cr, grey.far),
            (128 << FRACTION, 128 << FRACTION, false)
        );
        assert_eq!(t.luma(16, grey.term), 0);
        assert_eq!(t.luma(235, grey.term), TOP);
    }

    #[test]
    fn drawing_matches_chromium() {
        // (Y, U, V) → (R, G, B) of limited-range BT.601 I420 frames as headless Chromium 156
        // drew them on a canvas: the benchmark's photo frame (the second has the blue that
        // libyuv's capped coefficient makes 199 where the float conversion gives 200) and the
        // fake camera's.
        let d = Drawing::new(YuvColor::default());
        let drawn = [
            ((182, 67, 152), [231, 198, 71]),
            ((91, 184, 98), [39, 90, 199]),
            ((101, 102, 182), [185, 65, 47]),
            ((16, 135, 124), [0, 1, 14]),
            ((235, 128, 128), [255, 255, 255]),
            ((115, 98, 149), [149, 110, 55]),
            ((0, 0, 0), [0, 135, 0]),
            ((38, 0, 0), [0, 180, 0]),
            ((255, 0, 0), [74, 255, 22]),
        ];
        for ((y, u, v), rgb) in drawn {
            assert_eq!(d.rgb(y, d.deltas(u, v)), rgb, "({y}, {u}, {v})");
        }
    }

    #[test]
    fn clipper_keeps_entries_per_chroma_value() {
        let color = YuvColor::default();
        let mut c = Clipper::new(color);
        let fresh = |u, v, l| {
            let mut c = Clipper::new(color);
            c.select(u, v);
            c.pixel(l)
        };
        for (u, v, l) in [
            (0, 0, 90),
            (0, 0, 90),
            (255, 3, 90),
            (0, 0, 90),
            (0, 0, 200),
        ] {
            c.select(u, v);
            assert_eq!(c.pixel(l), fresh(u, v, l), "({u}, {v}) luma {l}");
        }
        // Past 65 535 chroma changes the generations wrap around; entries stay right.
        let (green, magenta) = (fresh(0, 0, 90), fresh(255, 255, 90));
        for i in 0..70_000u32 {
            let (key, want) = if i % 2 == 0 {
                (0, green)
            } else {
                (255, magenta)
            };
            c.select(key, key);
            assert_eq!(c.pixel(90), want, "change {i}");
        }
        // Clipped channels are taken a level beyond the clip: (−1, 256, −1) for pure green.
        let d = Drawing::new(color);
        let (y, cb, cr) = fresh(0, 0, 126);
        assert_eq!(d.rgb(126, d.deltas(0, 0)), [0, 255, 0]);
        assert_eq!(
            (y, cb, cr),
            (
                planes::luma_wide(-1, 256, -1),
                planes::chroma_sum(-1, 256, -1, 1).0,
                planes::chroma_sum(-1, 256, -1, 1).1
            )
        );
    }

    #[test]
    fn limited_bt601_stretches_to_full_range() {
        let ToJfif::Range(t) = ToJfif::new(YuvColor::default()) else {
            panic!("limited BT.601 is a range map");
        };
        assert_eq!((t.luma(16, 0), t.luma(235, 0), t.luma(0, 0)), (0, TOP, 0));
        // 128 ∓ 127.5: JFIF's chroma is centred on 128, so its extremes are 0.5 and 255.5,
        // kept to a sixteenth (255.5 is past the samples' top).
        let c = t.chroma(16, 240);
        assert_eq!((c.cb, c.cr, c.term, c.far), (8, TOP, 0, false));
        let c = t.chroma(128, 128);
        assert_eq!(
            (c.cb, c.cr, c.far),
            (128 << FRACTION, 128 << FRACTION, false)
        );
        // Only codes beyond 16–240 stretch more than half a level past JFIF's 0–255.
        assert!(t.chroma(15, 128).far && t.chroma(128, 241).far);
        assert!(!t.chroma(16, 128).far && !t.chroma(240, 240).far);
        // Limited range's steps are finer than whole full-range code values: 17 → 1.164.
        assert_eq!(t.luma(17, 0), 19);
    }
}
