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
//! A value outside JFIF's 0–255 is clamped, as a decoder would clamp it. Only colours outside
//! the RGB gamut have such values (Chromium's fake camera writes U = V = 0 everywhere); for
//! them the file's colour differs from the browser's drawing, which clips R, G and B instead.
//! Clipping each such pixel through RGB measured 6 ms more per 1080p frame in wasm (16 ms in
//! the benchmark's browser run) on the fake camera's frames, which would have made the camera
//! path slower than `toBlob`, so it is not done.
//!
//! - Whole frame ([`JfifImage`]): the encoder reads the planes row by row, chroma repeated for
//!   the two pixels that share it (its 2×2 sum gives the sample back), mirrored on the fly; the
//!   file is 4:2:0 at every quality, as the frame is.
//! - Scaled, cropped or letterboxed: the planes are packed into 4-byte pixels
//!   ([`yuv420_to_yuvx`]) that the RGBA scaler handles unchanged, then converted as they are
//!   encoded ([`YuvxImage`]). Scaling single 8-bit planes would need `fast_image_resize`
//!   without `only_u8x4`, which makes the gzipped wasm 2.4 times larger (578 kB, not 237 kB).

use super::encode::{encode_jpeg_image, jpeg_sides, JpegSettings};
use super::error::{Code, Error, Result};
use super::jpeg::planes::{YccRow, YccRows, FRACTION, TOP};

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

/// Maps one 4:2:0 sample to the encoder's samples: its chroma once, then each of the (one or
/// two) luma values that share it in a row.
trait SampleMap {
    /// Output luma depends on input luma only (`chroma` always gives a term of 0).
    const LUMA_ALONE: bool;
    /// (Cb, Cr) in → (Cb, Cr) out, and the term the chroma adds to each luma of the sample.
    fn chroma(&self, cb: u8, cr: u8) -> (u16, u16, i32);
    fn luma(&self, y: u8, chroma_term: i32) -> u16;
}

/// Full-range BT.601 is JFIF already.
struct Identity;

impl SampleMap for Identity {
    const LUMA_ALONE: bool = true;
    #[inline]
    fn chroma(&self, cb: u8, cr: u8) -> (u16, u16, i32) {
        (u16::from(cb) << FRACTION, u16::from(cr) << FRACTION, 0)
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
}

impl SampleMap for RangeTables {
    const LUMA_ALONE: bool = true;
    #[inline]
    fn chroma(&self, cb: u8, cr: u8) -> (u16, u16, i32) {
        (at(&self.c, cb), at(&self.c, cr), 0)
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
    fn chroma(&self, cb: u8, cr: u8) -> (u16, u16, i32) {
        (
            to_sample(at(&self.cb_cb, cb) + at(&self.cb_cr, cr)),
            to_sample(at(&self.cr_cb, cb) + at(&self.cr_cr, cr)),
            at(&self.y_cb, cb) + at(&self.y_cr, cr),
        )
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
            (YuvMatrix::Bt601, false) => ToJfif::Range(Box::new(RangeTables {
                y: table_sample(|v| 255.0 * color.normalise_luma(v)),
                c: table_sample(|v| 128.0 + 255.0 * color.normalise_chroma(v)),
            })),
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

    fn row(&self, y: u16, out: YccRow<'_>) {
        let row = usize::from(y);
        let luma = self.planes.luma_row(row);
        let chroma = self.planes.chroma_row(row);
        match &self.map {
            ToJfif::Identity => fill_row(&Identity, luma, chroma, self.mirror, out),
            ToJfif::Range(t) => fill_row(&**t, luma, chroma, self.mirror, out),
            ToJfif::Mix(t) => fill_row(&**t, luma, chroma, self.mirror, out),
        }
    }
}

fn fill_row<M: SampleMap>(
    map: &M,
    luma: &[u8],
    chroma: ChromaRow<'_>,
    mirror: bool,
    out: YccRow<'_>,
) {
    match chroma {
        ChromaRow::Planar(u, v) => write_row(
            map,
            luma,
            u.iter().copied().zip(v.iter().copied()),
            mirror,
            out,
        ),
        ChromaRow::Interleaved(uv) => write_row(map, luma, uv_pairs(uv), mirror, out),
    }
}

fn uv_pairs(uv: &[u8]) -> impl Iterator<Item = (u8, u8)> + '_ {
    uv.chunks_exact(2).map(|pair| match pair {
        [u, v] => (*u, *v),
        _ => (128, 128),
    })
}

/// Luma pixels 2j and 2j+1 share chroma sample j (with an odd width the last one is alone).
/// Mirrored, source pair j lands at the j-th pair from the right, reversed.
fn write_row<M, C>(map: &M, luma: &[u8], mut chroma: C, mirror: bool, out: YccRow<'_>)
where
    M: SampleMap,
    C: Iterator<Item = (u8, u8)>,
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
            let (u, v, term) = map.chroma(u, v);
            bo.fill(u);
            ro.fill(v);
            if let ([o0, o1], [l0, l1]) = (yo, pair) {
                *o0 = map.luma(*l1, term);
                *o1 = map.luma(*l0, term);
            }
        }
    } else if M::LUMA_ALONE {
        for (o, &l) in y.iter_mut().zip(luma) {
            *o = map.luma(l, 0);
        }
        let outs = cb.chunks_exact_mut(2).zip(cr.chunks_exact_mut(2));
        for ((bo, ro), (u, v)) in outs.zip(chroma.by_ref()) {
            let (u, v, _) = map.chroma(u, v);
            bo.fill(u);
            ro.fill(v);
        }
    } else {
        let outs = y
            .chunks_exact_mut(2)
            .zip(cb.chunks_exact_mut(2).zip(cr.chunks_exact_mut(2)));
        let samples = luma.chunks_exact(2).zip(chroma.by_ref());
        for ((yo, (bo, ro)), (pair, (u, v))) in outs.zip(samples) {
            let (u, v, term) = map.chroma(u, v);
            bo.fill(u);
            ro.fill(v);
            for (o, &l) in yo.iter_mut().zip(pair) {
                *o = map.luma(l, term);
            }
        }
    }
    if let ([yo], [bo], [ro], [l], Some((u, v))) =
        (y_tail, cb_tail, cr_tail, luma_tail, chroma.next())
    {
        let (u, v, term) = map.chroma(u, v);
        *yo = map.luma(*l, term);
        *bo = u;
        *ro = v;
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

// --- YUV → packed 4-byte pixels, for scaling -----------------------------------------------

impl YuvColor {
    /// Black as a [`yuv420_to_yuvx`] pixel: the letterbox bar for scaled YUV.
    pub fn black_yuvx(self) -> [u8; 4] {
        let [y, u, v] = self.black();
        [y, u, v, 255]
    }
}

/// Packs a 4:2:0 frame into 4-byte pixels at full resolution in `out` (resized to `width ×
/// height × 4`): Y, U, V as they are and a spare 255, each chroma sample given to the pixels
/// that share it. The RGBA scaler resamples, crops, letterboxes and mirrors these as they are;
/// the colour conversion then runs on the (usually smaller) result, in [`YuvxImage`].
pub fn yuv420_to_yuvx(planes: Yuv420<'_>, out: &mut Vec<u8>) -> Result<()> {
    let row_bytes = packed_rows(&planes, out)?;
    for (row, out_row) in out.chunks_exact_mut(row_bytes).enumerate() {
        let luma = planes.luma_row(row);
        match planes.chroma_row(row) {
            ChromaRow::Planar(u, v) => {
                pack_row(luma, u.iter().copied().zip(v.iter().copied()), out_row)
            }
            ChromaRow::Interleaved(uv) => pack_row(luma, uv_pairs(uv), out_row),
        }
    }
    Ok(())
}

fn pack_row(luma: &[u8], mut chroma: impl Iterator<Item = (u8, u8)>, out: &mut [u8]) {
    let pairs = out.chunks_exact_mut(8).zip(luma.chunks_exact(2));
    for ((px, pair), (u, v)) in pairs.zip(chroma.by_ref()) {
        if let ([y0, y1], [a, b, c, d, e, f, g, h]) = (pair, px) {
            (*a, *b, *c, *d) = (*y0, u, v, 255);
            (*e, *f, *g, *h) = (*y1, u, v, 255);
        }
    }
    // An odd width leaves one pixel with a chroma sample of its own.
    let even = luma.len() & !1;
    if let (Some([y0]), Some([a, b, c, d]), Some((u, v))) = (
        luma.get(even..),
        out.get_mut(even.saturating_mul(4)..),
        chroma.next(),
    ) {
        (*a, *b, *c, *d) = (*y0, u, v, 255);
    }
}

/// Sizes `out` for the frame at 4 bytes a pixel; the bytes of one row.
fn packed_rows(planes: &Yuv420<'_>, out: &mut Vec<u8>) -> Result<usize> {
    let len = plane_len(planes.width, planes.height)
        .and_then(|n| n.checked_mul(4))
        .ok_or_else(|| {
            Error::new(
                Code::EncodeFailed,
                format!(
                    "{}×{} pixels do not fit in memory",
                    planes.width, planes.height
                ),
            )
        })?;
    out.clear();
    out.resize(len, 255);
    Ok((planes.width as usize).saturating_mul(4).max(1))
}

/// Packed YUV pixels (Y, U, V, spare; see [`yuv420_to_yuvx`]) in a frame's colour, as the JPEG
/// encoder reads them: converted to JFIF YCbCr pixel by pixel.
pub struct YuvxImage<'a> {
    pixels: &'a [u8],
    map: ToJfif,
    width: u16,
    height: u16,
}

impl<'a> YuvxImage<'a> {
    /// `pixels` must be `width × height × 4` bytes (else `ERR_ENCODE_FAILED`), each side at most
    /// 65535.
    pub fn new(pixels: &'a [u8], width: u32, height: u32, color: YuvColor) -> Result<Self> {
        let (w, h) = jpeg_sides(width, height)?;
        let needed = plane_len(width, height).and_then(|n| n.checked_mul(4));
        if width == 0 || height == 0 || needed != Some(pixels.len()) {
            return Err(Error::new(
                Code::EncodeFailed,
                format!(
                    "{} bytes do not make a {width}×{height} image of 4-byte pixels",
                    pixels.len()
                ),
            ));
        }
        Ok(YuvxImage {
            pixels,
            map: ToJfif::new(color),
            width: w,
            height: h,
        })
    }
}

impl YccRows for YuvxImage<'_> {
    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn row(&self, y: u16, out: YccRow<'_>) {
        let row_bytes = usize::from(self.width).saturating_mul(4);
        let row = usize::from(y)
            .checked_mul(row_bytes)
            .and_then(|start| self.pixels.get(start..start.checked_add(row_bytes)?))
            .unwrap_or(&[]);
        match &self.map {
            ToJfif::Identity => unpack_row(&Identity, row, out),
            ToJfif::Range(t) => unpack_row(&**t, row, out),
            ToJfif::Mix(t) => unpack_row(&**t, row, out),
        }
    }
}

fn unpack_row<M: SampleMap>(map: &M, row: &[u8], out: YccRow<'_>) {
    let YccRow { y, cb, cr } = out;
    for (((yo, bo), ro), px) in y.iter_mut().zip(cb).zip(cr).zip(row.chunks_exact(4)) {
        if let [l, u, v, _] = px {
            let (u, v, term) = map.chroma(*u, *v);
            (*yo, *bo, *ro) = (map.luma(*l, term), u, v);
        }
    }
}

/// Encodes packed YUV pixels in `color` (see [`yuv420_to_yuvx`]) as JPEG into `out`.
pub fn encode_jpeg_yuvx(
    pixels: &[u8],
    (width, height): (u32, u32),
    color: YuvColor,
    settings: JpegSettings,
    out: &mut Vec<u8>,
) -> Result<()> {
    let image = YuvxImage::new(pixels, width, height, color)?;
    encode_jpeg_image(image, settings, false, out)
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

/// Converts a 4:2:0 frame to RGBA (opaque) in `rgba`, resized to `width × height × 4`, with
/// the frame's own matrix and range; each chroma sample colours the pixels that share it.
pub fn yuv420_to_rgba(planes: Yuv420<'_>, color: YuvColor, rgba: &mut Vec<u8>) -> Result<()> {
    let row_bytes = packed_rows(&planes, rgba)?;
    let t = RgbTables::new(color);
    for (row, out) in rgba.chunks_exact_mut(row_bytes).enumerate() {
        let luma = planes.luma_row(row);
        match planes.chroma_row(row) {
            ChromaRow::Planar(u, v) => {
                rgba_row(&t, luma, u.iter().copied().zip(v.iter().copied()), out)
            }
            ChromaRow::Interleaved(uv) => rgba_row(&t, luma, uv_pairs(uv), out),
        }
    }
    Ok(())
}

fn rgba_row(
    t: &RgbTables,
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
    for ((px, pair), c) in pairs.zip(chroma.by_ref()) {
        if let ([y0, y1], [r0, g0, b0, _, r1, g1, b1, _]) = (pair, px) {
            let d = deltas(c);
            (*r0, *g0, *b0) = rgb(*y0, d);
            (*r1, *g1, *b1) = rgb(*y1, d);
        }
    }
    let even = luma.len() & !1;
    if let (Some([y0]), Some([r0, g0, b0, _]), Some(c)) = (
        luma.get(even..),
        out.get_mut(even.saturating_mul(4)..),
        chroma.next(),
    ) {
        (*r0, *g0, *b0) = rgb(*y0, deltas(c));
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
        assert_eq!((grey.0, grey.1), (128 << FRACTION, 128 << FRACTION));
        assert_eq!(t.luma(16, grey.2), 0);
        assert_eq!(t.luma(235, grey.2), TOP);
    }

    #[test]
    fn limited_bt601_stretches_to_full_range() {
        let ToJfif::Range(t) = ToJfif::new(YuvColor::default()) else {
            panic!("limited BT.601 is a range map");
        };
        assert_eq!((t.luma(16, 0), t.luma(235, 0), t.luma(0, 0)), (0, TOP, 0));
        // 128 ∓ 127.5: JFIF's chroma is centred on 128, so its extremes are 0.5 and 255.5,
        // kept to a sixteenth (255.5 is past the samples' top).
        assert_eq!(t.chroma(16, 240), (8, TOP, 0));
        assert_eq!(t.chroma(128, 128), (128 << FRACTION, 128 << FRACTION, 0));
        // Limited range's steps are finer than whole full-range code values: 17 → 1.164.
        assert_eq!(t.luma(17, 0), 19);
    }
}
