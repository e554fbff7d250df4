//! Camera YUV 4:2:0 frames (I420, NV12) through the pipeline and back through an independent
//! decoder (the `image` crate): quality against the RGBA path, sizes, bars, mirror, colours,
//! PNG, size-first JPEG, and malformed input.
//!
//! The frames are made here from RGB test images with plain floating-point BT.601/BT.709
//! maths, independent of the fixed-point tables under test.
#![cfg(not(target_arch = "wasm32"))]

use image::RgbImage;
use tracksnap::core::encode::{encode_jpeg_image, ImageFormat, JpegSettings};
use tracksnap::core::error::Code;
use tracksnap::core::jpeg::planes::{YccRow, YccRows};
use tracksnap::core::rotate::Rotation;
use tracksnap::core::size::Fit;
use tracksnap::core::snapshot::{FrameInfo, Pipeline, SnapshotSpec};
use tracksnap::core::yuv::{
    encode_jpeg_yuv420, yuv420_len, ChromaLayout, JfifImage, Yuv420, YuvColor, YuvMatrix,
};

const LIMITED_601: YuvColor = YuvColor {
    matrix: YuvMatrix::Bt601,
    full_range: false,
};
const LIMITED_709: YuvColor = YuvColor {
    matrix: YuvMatrix::Bt709,
    full_range: false,
};
const FULL_601: YuvColor = YuvColor {
    matrix: YuvMatrix::Bt601,
    full_range: true,
};
const FULL_709: YuvColor = YuvColor {
    matrix: YuvMatrix::Bt709,
    full_range: true,
};
const COLORS: [YuvColor; 4] = [LIMITED_601, LIMITED_709, FULL_601, FULL_709];
const LAYOUTS: [ChromaLayout; 2] = [ChromaLayout::I420, ChromaLayout::Nv12];

/// The lowest PSNR (dB) the photo-like test images may decode at, through either path, at
/// quality 85. Measured: 29.98–30.16 dB at 64×48 and 63×47 (mostly edges and noise at that
/// size), 35.69–35.75 dB at 1280×720.
const PSNR_FLOOR: f64 = 29.5;

// --- Test images -------------------------------------------------------------------------------

/// A photo-like image: smooth gradients, a soft highlight, noise, and sharp-edged shapes.
fn photo(w: u32, h: u32) -> RgbImage {
    let mut seed = 0x2545_f491_u32 ^ w.wrapping_mul(31) ^ h;
    let mut noise = move || {
        // xorshift32
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed % 17) as f64 - 8.0
    };
    let (fw, fh) = (f64::from(w), f64::from(h));
    RgbImage::from_fn(w, h, |x, y| {
        let (u, v) = (f64::from(x) / fw, f64::from(y) / fh);
        let d = ((u - 0.35).powi(2) + (v - 0.4).powi(2)).sqrt();
        let glow = 90.0 * (-d * d * 12.0).exp();
        let mut rgb = [
            40.0 + 150.0 * u + glow,
            60.0 + 120.0 * v + 0.6 * glow,
            170.0 - 110.0 * u * v + 0.3 * glow,
        ];
        // Sharp edges: a saturated red box, a dark bar, a white diagonal line.
        if (0.6..0.8).contains(&u) && (0.15..0.45).contains(&v) {
            rgb = [215.0, 25.0, 35.0];
        }
        if (0.1..0.3).contains(&u) && (0.7..0.85).contains(&v) {
            rgb = [20.0, 25.0, 30.0];
        }
        if ((u - v) * fw).abs() < 1.0 {
            rgb = [250.0, 250.0, 245.0];
        }
        let n = noise();
        image::Rgb(rgb.map(|c| (c + n).round().clamp(0.0, 255.0) as u8))
    })
}

/// (Kr, Kb) of a matrix.
fn weights(matrix: YuvMatrix) -> (f64, f64) {
    match matrix {
        YuvMatrix::Bt601 => (0.299, 0.114),
        YuvMatrix::Bt709 => (0.2126, 0.0722),
    }
}

/// RGB (0..255) → (Y, Pb, Pr) with Y in 0..1 and Pb, Pr in −0.5..0.5.
fn to_ypbpr(matrix: YuvMatrix, [r, g, b]: [u8; 3]) -> [f64; 3] {
    let (kr, kb) = weights(matrix);
    let (r, g, b) = (
        f64::from(r) / 255.0,
        f64::from(g) / 255.0,
        f64::from(b) / 255.0,
    );
    let y = kr * r + (1.0 - kr - kb) * g + kb * b;
    [
        y,
        (b - y) / (2.0 * (1.0 - kb)),
        (r - y) / (2.0 * (1.0 - kr)),
    ]
}

fn code(v: f64) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// An RGB image as a tightly packed 4:2:0 frame: chroma is the mean of each 2×2 block's
/// Pb/Pr (the pixels that exist, at odd edges).
fn to_yuv420(img: &RgbImage, color: YuvColor, layout: ChromaLayout) -> Vec<u8> {
    let (w, h) = img.dimensions();
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (y_off, y_scale, c_scale) = if color.full_range {
        (0.0, 255.0, 255.0)
    } else {
        (16.0, 219.0, 224.0)
    };
    let mut luma = Vec::with_capacity((w * h) as usize);
    for p in img.pixels() {
        luma.push(code(y_off + y_scale * to_ypbpr(color.matrix, p.0)[0]));
    }
    let (mut u, mut v) = (Vec::new(), Vec::new());
    for cy in 0..ch {
        for cx in 0..cw {
            let (mut pb, mut pr, mut n) = (0.0, 0.0, 0.0);
            for (x, y) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (x, y) = (cx * 2 + x, cy * 2 + y);
                if x < w && y < h {
                    let [_, b, r] = to_ypbpr(color.matrix, img.get_pixel(x, y).0);
                    pb += b;
                    pr += r;
                    n += 1.0;
                }
            }
            u.push(code(128.0 + c_scale * pb / n));
            v.push(code(128.0 + c_scale * pr / n));
        }
    }
    let mut out = luma;
    match layout {
        ChromaLayout::I420 => {
            out.extend_from_slice(&u);
            out.extend_from_slice(&v);
        }
        ChromaLayout::Nv12 => {
            for (a, b) in u.iter().zip(&v) {
                out.extend_from_slice(&[*a, *b]);
            }
        }
    }
    out
}

/// The float reference of YUV → RGB for pixel (x, y) of an I420 frame: its chroma sample is
/// the one its 2×2 block shares.
fn reference_rgb(frame: &[u8], w: u32, h: u32, color: YuvColor, x: u32, y: u32) -> [f64; 3] {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (y_off, y_scale, c_scale) = if color.full_range {
        (0.0, 255.0, 255.0)
    } else {
        (16.0, 219.0, 224.0)
    };
    let luma = f64::from(frame[(y * w + x) as usize]);
    let ci = ((y / 2) * cw + x / 2) as usize;
    let chroma_plane = (w * h) as usize;
    let u = f64::from(frame[chroma_plane + ci]);
    let v = f64::from(frame[chroma_plane + (cw * ch) as usize + ci]);
    let (kr, kb) = weights(color.matrix);
    let yn = (luma - y_off) / y_scale;
    let (pb, pr) = ((u - 128.0) / c_scale, (v - 128.0) / c_scale);
    let r = yn + 2.0 * (1.0 - kr) * pr;
    let b = yn + 2.0 * (1.0 - kb) * pb;
    let g = (yn - kr * r - kb * b) / (1.0 - kr - kb);
    [r, g, b].map(|c| (c * 255.0).clamp(0.0, 255.0))
}

fn rgba(img: &RgbImage) -> Vec<u8> {
    img.pixels()
        .flat_map(|p| [p.0[0], p.0[1], p.0[2], 255])
        .collect()
}

// --- Running the pipeline ----------------------------------------------------------------------

/// A decoded output and its bytes.
struct Out {
    img: RgbImage,
    bytes: Vec<u8>,
}

fn decode(bytes: &[u8], size: (u32, u32)) -> Out {
    let img = image::load_from_memory(bytes).expect("decodes").to_rgb8();
    assert_eq!(img.dimensions(), size, "decoded size = reported size");
    Out {
        img,
        bytes: bytes.to_vec(),
    }
}

fn via_rgba(pipe: &mut Pipeline, img: &RgbImage, spec: &SnapshotSpec) -> Out {
    let px = rgba(img);
    pipe.input_mut(px.len()).copy_from_slice(&px);
    let info = FrameInfo::square(img.width(), img.height());
    let out = pipe.process(info, spec).expect("RGBA path");
    decode(out.bytes, (out.width, out.height))
}

fn via_yuv(
    pipe: &mut Pipeline,
    frame: &[u8],
    (w, h): (u32, u32),
    layout: ChromaLayout,
    color: YuvColor,
    spec: &SnapshotSpec,
) -> Out {
    via_yuv_shown(pipe, frame, FrameInfo::square(w, h), layout, color, spec)
}

/// [`via_yuv`] for a frame with a display size of its own.
fn via_yuv_shown(
    pipe: &mut Pipeline,
    frame: &[u8],
    info: FrameInfo,
    layout: ChromaLayout,
    color: YuvColor,
    spec: &SnapshotSpec,
) -> Out {
    pipe.input_mut(frame.len()).copy_from_slice(frame);
    let out = pipe
        .process_yuv420(info, layout, color, spec)
        .expect("YUV path");
    decode(out.bytes, (out.width, out.height))
}

fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let mut sum = 0.0;
    for (p, q) in a.as_raw().iter().zip(b.as_raw()) {
        let d = f64::from(*p) - f64::from(*q);
        sum += d * d;
    }
    let mse = sum / a.as_raw().len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

fn jpeg() -> SnapshotSpec {
    SnapshotSpec::default()
}

fn png() -> SnapshotSpec {
    SnapshotSpec {
        format: ImageFormat::Png,
        ..SnapshotSpec::default()
    }
}

/// The pixels at fractions (fx, fy) of an image's width and height.
fn points(img: &RgbImage, fractions: [(f64, f64); 4]) -> [(u32, u32); 4] {
    let (w, h) = img.dimensions();
    fractions.map(|(fx, fy)| ((f64::from(w) * fx) as u32, (f64::from(h) * fy) as u32))
}

fn max_diff(a: [u8; 3], b: [u8; 3]) -> u8 {
    (0..3).map(|c| a[c].abs_diff(b[c])).max().unwrap_or(0)
}

// --- Tests -------------------------------------------------------------------------------------

#[test]
fn yuv_jpeg_is_as_good_as_the_rgba_path() {
    let mut pipe = Pipeline::new();
    for (w, h) in [(64, 48), (63, 47), (1280, 720)] {
        let img = photo(w, h);
        // Mirrored, the reference is the original flipped: a pixel landing one column off
        // costs decibels on a noisy image.
        let flipped = image::imageops::flip_horizontal(&img);
        for mirror in [false, true] {
            let spec = SnapshotSpec { mirror, ..jpeg() };
            let reference = if mirror { &flipped } else { &img };
            let rgba_psnr = psnr(reference, &via_rgba(&mut pipe, &img, &spec).img);
            println!("{w}×{h} mirror {mirror}: RGBA path {rgba_psnr:.2} dB");
            assert!(rgba_psnr >= PSNR_FLOOR, "RGBA path {rgba_psnr:.2} dB");
            for color in COLORS {
                let frame = to_yuv420(&img, color, ChromaLayout::I420);
                let layout = ChromaLayout::I420;
                let out = via_yuv(&mut pipe, &frame, (w, h), layout, color, &spec);
                let yuv_psnr = psnr(reference, &out.img);
                println!("{w}×{h} mirror {mirror}: YUV path {color:?} {yuv_psnr:.2} dB");
                assert!(
                    yuv_psnr >= rgba_psnr - 0.5 && yuv_psnr >= PSNR_FLOOR,
                    "{w}×{h} {color:?} mirror {mirror}: YUV path {yuv_psnr:.2} dB, \
                     RGBA path {rgba_psnr:.2} dB"
                );
            }
        }
    }
}

#[test]
fn letterbox_edges_match_the_rgba_path() {
    // 320×180 contained in 300×300: 169 rows of picture from row 65 (odd), so one 4:2:0
    // chroma row spans bar row 64 and picture row 65, and one column of blocks mixes both.
    let (w, h) = (320, 180);
    let img = RgbImage::from_fn(w, h, |_, _| image::Rgb([230, 20, 20]));
    let mut pipe = Pipeline::new();
    let spec = SnapshotSpec {
        width: 300,
        height: 300,
        fit: Fit::Contain,
        ..jpeg()
    };
    let want = via_rgba(&mut pipe, &img, &spec).img;
    for color in COLORS {
        let frame = to_yuv420(&img, color, ChromaLayout::Nv12);
        let out = via_yuv(&mut pipe, &frame, (w, h), ChromaLayout::Nv12, color, &spec).img;
        for x in [10, 150, 290] {
            for y in [60, 63, 64, 65, 66, 70, 233, 234, 235, 236] {
                let (a, b) = (out.get_pixel(x, y).0, want.get_pixel(x, y).0);
                // JFIF is BT.601: a BT.709 pixel's JFIF luma takes a term from its chroma,
                // which bar row 64 and picture row 65 share (the cell's, half the red's). Each
                // takes half the red's term, about 9 levels of R: (65, 0, 0) and (167, 37, 39)
                // where the RGBA path, converting each pixel with its own colour before the
                // encoder averages the chroma, gives (57, 0, 0) and (175, 43, 41).
                let shared = color.matrix == YuvMatrix::Bt709 && (y == 64 || y == 65);
                let tolerance = if shared { 10 } else { 6 };
                assert!(
                    max_diff(a, b) <= tolerance,
                    "{color:?} ({x}, {y}): YUV {a:?}, RGBA {b:?}"
                );
            }
        }
    }
}

// --- Scaled frames: where colour edges land -----------------------------------------------------

const RED: [u8; 3] = [210, 30, 40];
const BLUE: [u8; 3] = [30, 40, 210];

/// Where a line of pixels crosses from one side's value of `metric` to the other's, between
/// positions `at.start` and `at.end`: the midpoint between the values at the two ends, found
/// between two neighbouring pixels and interpolated. In pixel-edge coordinates (pixel `i`
/// spans `i .. i + 1`), so a sharp edge between pixels `e − 1` and `e` crosses at `e`.
fn crossing(
    pixel: impl Fn(u32) -> [u8; 3],
    at: std::ops::Range<u32>,
    metric: impl Fn([u8; 3]) -> f64,
) -> f64 {
    let value = |i: u32| metric(pixel(i));
    let (a, b) = (value(at.start), value(at.end - 1));
    let mid = (a + b) / 2.0;
    let i = (at.start + 1..at.end)
        .find(|&i| (value(i) - mid) * (a - mid) <= 0.0)
        .unwrap_or(at.end - 1);
    let (v0, v1) = (value(i - 1), value(i));
    f64::from(i) - 0.5 + (mid - v0) / (v1 - v0)
}

/// BT.601 luma of a decoded pixel.
fn luma([r, g, b]: [u8; 3]) -> f64 {
    0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b)
}

/// BT.601 (Cb, Cr) of a decoded pixel, centred on 0.
fn chroma(p: [u8; 3]) -> [f64; 2] {
    let y = luma(p);
    let [r, _, b] = p.map(f64::from);
    [(b - y) / 1.772, (r - y) / 1.402]
}

/// Checks that a colour edge of `img` lands at `edge` (in pixel-edge coordinates: 151.0 is
/// between pixels 150 and 151) along a line of pixels (`pixel(i)`), in luma and in chroma,
/// and that the colours hold from 3 pixels either side of it. The chroma's edge is where the
/// decoded chroma crosses the midpoint between the sides' chroma (skipped when the sides'
/// chroma is alike).
///
/// Measured where chroma is placed right: luma within 0.15 pixels of the edge, chroma within
/// 0.51 (0.5 in PNG, whose chroma is repeated over its two pixels, so a cell that straddles an
/// odd edge crosses in its middle). Chroma half a cell (a pixel) off its place comes out 1.0
/// pixels off.
fn assert_edge(pixel: impl Fn(u32) -> [u8; 3], edge: f64, sides: [[u8; 3]; 2], what: &str) {
    let [first, second] = sides;
    let (before, after) = (edge.floor() as u32 - 4, edge.ceil() as u32 + 3);
    let (a, b) = (pixel(before), pixel(after));
    // JPEG at q85 rings a few levels beside a saturated edge (the chroma more: its blocks
    // are 16 pixels wide).
    assert!(
        max_diff(a, first) <= 16 && max_diff(b, second) <= 16,
        "{what}: at {before} {a:?} (want {first:?}), at {after} {b:?} (want {second:?})"
    );
    let scan = before - 4..after + 4;
    let at_luma = crossing(&pixel, scan.clone(), luma);
    assert!(
        (at_luma - edge).abs() <= 0.5,
        "{what}: edge at {edge}, luma crosses at {at_luma:.2}"
    );
    let ([b0, r0], [b1, r1]) = (chroma(first), chroma(second));
    let towards = [b1 - b0, r1 - r0];
    if towards[0].hypot(towards[1]) > 20.0 {
        let along = |p: [u8; 3]| {
            let [cb, cr] = chroma(p);
            cb * towards[0] + cr * towards[1]
        };
        let at_chroma = crossing(&pixel, scan, along);
        assert!(
            (at_chroma - edge).abs() <= 0.75,
            "{what}: edge at {edge}, luma crosses at {at_luma:.2}, chroma at {at_chroma:.2}"
        );
    }
}

/// [`assert_edge`] along row `y`.
fn assert_vertical_edge(img: &RgbImage, y: u32, edge: f64, sides: [[u8; 3]; 2], what: &str) {
    assert_edge(|x| img.get_pixel(x, y).0, edge, sides, what);
}

#[test]
fn camera_frame_scales_to_its_display_size_with_colours_in_place() {
    // Chromium hands a 720p camera track's frames over as 1920×1080 with a 1280×720 display
    // size: the snapshot is 1280×720 (2/3 scale). Eight stripes of 240 columns (160 in the
    // output), the bottom half's in another order, so every stripe edge and the middle row are
    // colour edges in luma and in chroma.
    let (w, h) = (1920, 1080);
    let colours = [
        [200, 40, 40],
        [40, 200, 40],
        [40, 40, 200],
        [200, 200, 40],
        [200, 40, 200],
        [40, 200, 200],
        [220, 220, 220],
        [30, 30, 30],
    ];
    let order = [[0, 1, 2, 3, 4, 5, 6, 7], [5, 3, 7, 1, 6, 0, 4, 2]];
    let stripe = |x: u32, y: u32| colours[order[usize::from(y >= h / 2)][(x / 240) as usize]];
    let img = RgbImage::from_fn(w, h, |x, y| image::Rgb(stripe(x, y)));
    let info = FrameInfo {
        width: w,
        height: h,
        display_width: 1280,
        display_height: 720,
    };
    let mut pipe = Pipeline::new();
    for color in [LIMITED_601, LIMITED_709] {
        for layout in LAYOUTS {
            let frame = to_yuv420(&img, color, layout);
            for spec in [jpeg(), png()] {
                let out = via_yuv_shown(&mut pipe, &frame, info, layout, color, &spec).img;
                assert_eq!(out.dimensions(), (1280, 720));
                let what = format!("{color:?} {layout:?} {:?}", spec.format);
                for (half, y) in [(0, 180), (1, 540)] {
                    let want = |i: usize| colours[order[half][i]];
                    for i in 0..8 {
                        let got = out.get_pixel(160 * i as u32 + 80, y).0;
                        assert!(
                            max_diff(got, want(i)) <= 6,
                            "{what}: stripe {i} row {y} is {got:?}, want {:?}",
                            want(i)
                        );
                    }
                    for i in 1..8 {
                        let edge = 160.0 * i as f64;
                        let sides = [want(i - 1), want(i)];
                        assert_vertical_edge(&out, y, edge, sides, &format!("{what} row {y}"));
                    }
                }
                // The middle row: rows 356 and 363 keep their half's colour.
                for i in 0..8 {
                    let x = 160 * i as u32 + 80;
                    let (top, bottom) = (out.get_pixel(x, 356).0, out.get_pixel(x, 363).0);
                    let (a, b) = (colours[order[0][i]], colours[order[1][i]]);
                    assert!(
                        max_diff(top, a) <= 16 && max_diff(bottom, b) <= 16,
                        "{what}: column {x} is {top:?} above the middle, {bottom:?} below"
                    );
                }
            }
        }
    }
}

#[test]
fn odd_letterbox_keeps_chroma_edges_where_luma_edges_are() {
    // 320×240, red on the left half, blue on the right, contained in 303×201: the picture is
    // 268×201 from column 17 (odd), so its chroma starts mid-cell, and the red–blue edge lands
    // at column 17 + 134 = 151 (odd too); the output's sides are odd. A chroma picture shifted
    // by a luma pixel or more, or stretched from the wrong cell, moves the chroma edge off the
    // luma edge.
    let (w, h) = (320, 240);
    let img = RgbImage::from_fn(w, h, |x, _| image::Rgb(if x < w / 2 { RED } else { BLUE }));
    let spec = |mirror, format| SnapshotSpec {
        width: 303,
        height: 201,
        fit: Fit::Contain,
        mirror,
        format,
        ..jpeg()
    };
    let mut pipe = Pipeline::new();
    for color in COLORS {
        for layout in LAYOUTS {
            let frame = to_yuv420(&img, color, layout);
            for format in [ImageFormat::Jpeg, ImageFormat::Png] {
                for mirror in [false, true] {
                    let s = spec(mirror, format);
                    let out = via_yuv(&mut pipe, &frame, (w, h), layout, color, &s).img;
                    assert_eq!(out.dimensions(), (303, 201));
                    let what = format!("{color:?} {layout:?} {format:?} mirror {mirror}");
                    let (edge, sides) = if mirror {
                        (303.0 - 151.0, [BLUE, RED])
                    } else {
                        (151.0, [RED, BLUE])
                    };
                    for y in [3, 100, 197] {
                        assert_vertical_edge(&out, y, edge, sides, &format!("{what} row {y}"));
                    }
                    // The bars (columns 0..17 and 285..303, before the mirror) are black up to
                    // a few pixels from the picture.
                    for x in (0..13).chain(290..303) {
                        let p = out.get_pixel(x, 100).0;
                        assert!(p.iter().all(|&c| c <= 3), "{what}: bar ({x}, 100) is {p:?}");
                    }
                }
            }
        }
    }
    // The same across rows: red on top, blue below, contained in 203×153: the picture is
    // 203×114 from row 19 (odd), the edge at row 19 + 90·114/180 = 76.
    let img = RgbImage::from_fn(320, 180, |_, y| image::Rgb(if y < 90 { RED } else { BLUE }));
    for color in [LIMITED_601, FULL_709] {
        for layout in LAYOUTS {
            let frame = to_yuv420(&img, color, layout);
            let s = SnapshotSpec {
                width: 203,
                height: 153,
                fit: Fit::Contain,
                ..jpeg()
            };
            let out = via_yuv(&mut pipe, &frame, (320, 180), layout, color, &s).img;
            assert_eq!(out.dimensions(), (203, 153));
            for x in [3, 101, 199] {
                let what = format!("{color:?} {layout:?} column {x}");
                assert_edge(|y| out.get_pixel(x, y).0, 76.0, [RED, BLUE], &what);
            }
        }
    }
}

#[test]
fn cover_crops_from_an_odd_offset_with_colours_in_place() {
    // Cover crops the source's sides: 322×180 into 200×180 keeps columns 61..261 (an odd start,
    // at the source's own scale: one tap a pixel), and 643×361 into 300×200 keeps
    // 50.75..592.25 (scaled by 1.805). A red–blue edge at source column 162 lands at 101, and
    // one at column 322 at (322 − 50.75) / 1.805 = 150.28.
    let cases = [
        ((322, 180), (200, 180), 162, 101.0),
        ((643, 361), (300, 200), 322, (322.0 - 50.75) / 1.805),
    ];
    let mut pipe = Pipeline::new();
    for ((w, h), (ow, oh), split, edge) in cases {
        let img = RgbImage::from_fn(w, h, |x, _| image::Rgb(if x < split { RED } else { BLUE }));
        let spec = SnapshotSpec {
            width: ow,
            height: oh,
            fit: Fit::Cover,
            ..jpeg()
        };
        for color in COLORS {
            for layout in LAYOUTS {
                let frame = to_yuv420(&img, color, layout);
                let out = via_yuv(&mut pipe, &frame, (w, h), layout, color, &spec).img;
                assert_eq!(out.dimensions(), (ow, oh));
                let what = format!("{w}×{h} → {ow}×{oh} {color:?} {layout:?}");
                // No bars: the corners are the picture's colours.
                for (x, y, want) in [(0, 0, RED), (ow - 1, oh - 1, BLUE)] {
                    let p = out.get_pixel(x, y).0;
                    assert!(max_diff(p, want) <= 16, "{what}: ({x}, {y}) is {p:?}");
                }
                for y in [2, oh / 2, oh - 3] {
                    assert_vertical_edge(&out, y, edge, [RED, BLUE], &format!("{what} row {y}"));
                }
            }
        }
    }
}

#[test]
fn yuv_jpeg_with_the_wrong_colour_space_is_caught() {
    // The check above can fail: reading BT.709 limited planes as full-range BT.601 loses
    // several dB.
    let mut pipe = Pipeline::new();
    let img = photo(320, 180);
    let frame = to_yuv420(&img, LIMITED_709, ChromaLayout::I420);
    let right = via_yuv(
        &mut pipe,
        &frame,
        (320, 180),
        ChromaLayout::I420,
        LIMITED_709,
        &jpeg(),
    );
    let wrong = via_yuv(
        &mut pipe,
        &frame,
        (320, 180),
        ChromaLayout::I420,
        FULL_601,
        &jpeg(),
    );
    let (right, wrong) = (psnr(&img, &right.img), psnr(&img, &wrong.img));
    assert!(
        right > wrong + 3.0,
        "right {right:.2} dB, wrong {wrong:.2} dB"
    );
}

#[test]
fn i420_and_nv12_give_identical_bytes() {
    let mut pipe = Pipeline::new();
    let specs = [
        jpeg(),
        SnapshotSpec {
            mirror: true,
            ..jpeg()
        },
        SnapshotSpec {
            width: 40,
            ..jpeg()
        },
        SnapshotSpec {
            width: 50,
            height: 50,
            fit: Fit::Contain,
            mirror: true,
            ..jpeg()
        },
        SnapshotSpec {
            width: 50,
            height: 30,
            fit: Fit::Cover,
            ..jpeg()
        },
        SnapshotSpec {
            size_first: true,
            ..jpeg()
        },
        png(),
        SnapshotSpec {
            width: 33,
            mirror: true,
            ..png()
        },
    ];
    for (w, h) in [(64, 48), (63, 47)] {
        let img = photo(w, h);
        for color in [LIMITED_601, LIMITED_709, FULL_601] {
            let i420 = to_yuv420(&img, color, ChromaLayout::I420);
            let nv12 = to_yuv420(&img, color, ChromaLayout::Nv12);
            assert_ne!(i420, nv12, "the layouts differ in memory");
            for spec in &specs {
                let a = via_yuv(&mut pipe, &i420, (w, h), ChromaLayout::I420, color, spec);
                let b = via_yuv(&mut pipe, &nv12, (w, h), ChromaLayout::Nv12, color, spec);
                assert!(a.bytes == b.bytes, "{w}×{h} {color:?} {spec:?}");
            }
        }
    }
}

#[test]
fn sizes_follow_the_same_rules_as_the_rgba_path() {
    let mut pipe = Pipeline::new();
    let asks = [
        (0, 0, Fit::Fill),
        (640, 0, Fit::Fill),
        (0, 101, Fit::Fill),
        (301, 301, Fit::Contain),
        (300, 299, Fit::Cover),
        (99, 333, Fit::Fill),
        (1, 1, Fit::Contain),
    ];
    for (w, h) in [(1280, 720), (63, 47)] {
        let img = photo(w, h);
        let frame = to_yuv420(&img, LIMITED_709, ChromaLayout::Nv12);
        for (aw, ah, fit) in asks {
            for format in [ImageFormat::Jpeg, ImageFormat::Png] {
                let spec = SnapshotSpec {
                    format,
                    width: aw,
                    height: ah,
                    fit,
                    mirror: aw % 2 == 1,
                    ..jpeg()
                };
                let expected = via_rgba(&mut pipe, &img, &spec).img.dimensions();
                let got = via_yuv(
                    &mut pipe,
                    &frame,
                    (w, h),
                    ChromaLayout::Nv12,
                    LIMITED_709,
                    &spec,
                );
                assert_eq!(got.img.dimensions(), expected, "{w}×{h} asked {spec:?}");
            }
        }
    }
}

/// Quadrants of pure red, green, blue and grey 128, with a white marker in the top left.
fn patches(x: u32, y: u32, w: u32, h: u32) -> [u8; 3] {
    if x < w / 8 && y < h / 8 {
        return [255, 255, 255];
    }
    match (x < w / 2, y < h / 2) {
        (true, true) => [255, 0, 0],
        (false, true) => [0, 255, 0],
        (true, false) => [0, 0, 255],
        (false, false) => [128, 128, 128],
    }
}

#[test]
fn solid_patches_keep_their_colour_when_scaled_letterboxed_and_mirrored() {
    let (w, h) = (320, 240);
    let img = RgbImage::from_fn(w, h, |x, y| image::Rgb(patches(x, y, w, h)));
    let mut pipe = Pipeline::new();
    let specs = [
        jpeg(),
        SnapshotSpec {
            mirror: true,
            ..jpeg()
        },
        SnapshotSpec {
            width: 161,
            ..jpeg()
        },
        SnapshotSpec {
            width: 200,
            height: 200,
            fit: Fit::Contain,
            mirror: true,
            ..jpeg()
        },
        SnapshotSpec {
            width: 101,
            height: 203,
            fit: Fit::Cover,
            ..jpeg()
        },
    ];
    for color in COLORS {
        for layout in LAYOUTS {
            let frame = to_yuv420(&img, color, layout);
            for spec in &specs {
                let want = via_rgba(&mut pipe, &img, spec).img;
                let got = via_yuv(&mut pipe, &frame, (w, h), layout, color, spec).img;
                // Centres of the four quadrants of what is shown (the output, or its
                // letterboxed picture), far from edges.
                let centres = [(0.3, 0.35), (0.7, 0.35), (0.3, 0.65), (0.7, 0.65)];
                for (x, y) in points(&got, centres) {
                    let (a, b) = (got.get_pixel(x, y).0, want.get_pixel(x, y).0);
                    assert!(
                        max_diff(a, b) <= 6,
                        "{color:?} {layout:?} {spec:?} at ({x},{y}): YUV {a:?}, RGBA {b:?}"
                    );
                }
            }
        }
    }
}

/// A 4:2:0 frame turned clockwise sample by sample, straight from the definition: output
/// (x, y) of each plane is its sample (y, h−1−x) at 90°, (w−1−x, h−1−y) at 180°, (w−1−y, x)
/// at 270°, chroma on its own ⌈w/2⌉ × ⌈h/2⌉ grid.
fn turned_frame(frame: &[u8], (w, h): (u32, u32), layout: ChromaLayout, r: Rotation) -> Vec<u8> {
    let turn = |plane: &[u8], (w, h): (u32, u32), n: usize| -> Vec<u8> {
        let (tw, th) = r.size((w, h));
        let mut out = Vec::with_capacity(plane.len());
        for y in 0..th {
            for x in 0..tw {
                let (sx, sy) = match r {
                    Rotation::None => (x, y),
                    Rotation::Cw90 => (y, h - 1 - x),
                    Rotation::Cw180 => (w - 1 - x, h - 1 - y),
                    Rotation::Cw270 => (w - 1 - y, x),
                };
                let at = (sy * w + sx) as usize * n;
                out.extend_from_slice(&plane[at..at + n]);
            }
        }
        out
    };
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (luma, chroma) = frame.split_at((w * h) as usize);
    let mut out = turn(luma, (w, h), 1);
    match layout {
        ChromaLayout::I420 => {
            let (u, v) = chroma.split_at((cw * ch) as usize);
            out.extend(turn(u, (cw, ch), 1));
            out.extend(turn(v, (cw, ch), 1));
        }
        ChromaLayout::Nv12 => out.extend(turn(chroma, (cw, ch), 2)),
    }
    out
}

#[test]
fn a_turned_frame_encodes_as_the_frame_turned_sample_by_sample() {
    let mut pipe = Pipeline::new();
    for (w, h) in [(64, 48), (63, 47), (320, 240), (1, 3)] {
        let img = photo(w, h);
        for color in [LIMITED_601, FULL_709] {
            for layout in LAYOUTS {
                let frame = to_yuv420(&img, color, layout);
                for r in Rotation::ALL {
                    let size = r.size((w, h));
                    let upright = turned_frame(&frame, (w, h), layout, r);
                    for format in [ImageFormat::Png, ImageFormat::Jpeg] {
                        let what = format!("{w}×{h} {color:?} {layout:?} {r:?} {format:?}");
                        let spec = SnapshotSpec {
                            format,
                            rotate: r,
                            ..jpeg()
                        };
                        let got = via_yuv(&mut pipe, &frame, (w, h), layout, color, &spec);
                        assert_eq!(got.img.dimensions(), size, "{what}");
                        let plain = SnapshotSpec {
                            rotate: Rotation::None,
                            ..spec
                        };
                        let want = via_yuv(&mut pipe, &upright, size, layout, color, &plain);
                        assert!(got.bytes == want.bytes, "{what}: not the same file");
                    }
                }
            }
        }
    }
}

#[test]
fn turned_patches_keep_their_colours_scaled_letterboxed_and_mirrored() {
    // Odd sides too: chroma then moves by at most a pixel, far from the quadrants' centres.
    let mut pipe = Pipeline::new();
    for (w, h) in [(320, 240), (321, 239)] {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb(patches(x, y, w, h)));
        for r in [Rotation::Cw90, Rotation::Cw180, Rotation::Cw270] {
            let specs = [
                SnapshotSpec {
                    rotate: r,
                    ..jpeg()
                },
                SnapshotSpec { rotate: r, ..png() },
                SnapshotSpec {
                    rotate: r,
                    mirror: true,
                    ..jpeg()
                },
                SnapshotSpec {
                    rotate: r,
                    width: 120,
                    height: 160,
                    ..jpeg()
                },
                SnapshotSpec {
                    rotate: r,
                    width: 200,
                    height: 200,
                    fit: Fit::Contain,
                    mirror: true,
                    ..jpeg()
                },
                SnapshotSpec {
                    rotate: r,
                    width: 101,
                    height: 203,
                    fit: Fit::Cover,
                    ..png()
                },
            ];
            for layout in LAYOUTS {
                let frame = to_yuv420(&img, LIMITED_601, layout);
                for spec in &specs {
                    let want = via_rgba(&mut pipe, &img, spec).img;
                    let got = via_yuv(&mut pipe, &frame, (w, h), layout, LIMITED_601, spec).img;
                    assert_eq!(
                        got.dimensions(),
                        want.dimensions(),
                        "{w}×{h} {layout:?} {spec:?}"
                    );
                    let centres = [(0.3, 0.35), (0.7, 0.35), (0.3, 0.65), (0.7, 0.65)];
                    for (x, y) in points(&got, centres) {
                        let (a, b) = (got.get_pixel(x, y).0, want.get_pixel(x, y).0);
                        assert!(
                            max_diff(a, b) <= 6,
                            "{w}×{h} {layout:?} {spec:?} at ({x},{y}): YUV {a:?}, RGBA {b:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn letterbox_bars_are_black() {
    let (w, h) = (320, 180);
    let img = photo(w, h);
    let mut pipe = Pipeline::new();
    let spec = SnapshotSpec {
        width: 320,
        height: 320,
        fit: Fit::Contain,
        ..jpeg()
    };
    for color in COLORS {
        for layout in LAYOUTS {
            let frame = to_yuv420(&img, color, layout);
            let out = via_yuv(&mut pipe, &frame, (w, h), layout, color, &spec).img;
            assert_eq!(out.dimensions(), (320, 320));
            // The picture is rows 70..250; rows 0..64 and 256..320 are whole JPEG blocks of bar
            // (luma 8×8, chroma 16×16). A decoder interpolates chroma between sample rows (the
            // `image` crate does, as browsers do), so the rows next to the picture's own chroma
            // blocks may take a few levels of colour from their ringing: checked from 8 rows
            // away.
            for y in (0..56).chain(264..320) {
                for x in (0..320).step_by(7) {
                    let p = out.get_pixel(x, y).0;
                    assert!(
                        p.iter().all(|&c| c <= 2),
                        "{color:?} {layout:?} bar ({x},{y}) is {p:?}"
                    );
                }
            }
            // …and the picture is not black.
            let mid = out.get_pixel(160, 160).0;
            assert!(mid.iter().any(|&c| c > 40), "picture {mid:?}");
        }
    }
}

#[test]
fn mirror_moves_a_left_marker_to_the_right() {
    let mut pipe = Pipeline::new();
    // Red band on the left eighth of a grey frame; odd width to catch off-by-one chroma.
    for (w, h) in [(255, 64), (256, 64)] {
        let img = RgbImage::from_fn(w, h, |x, _| {
            image::Rgb(if x < w / 8 {
                [230, 20, 20]
            } else {
                [128, 128, 128]
            })
        });
        for color in [LIMITED_601, LIMITED_709] {
            for scaled in [false, true] {
                let frame = to_yuv420(&img, color, ChromaLayout::I420);
                let spec = SnapshotSpec {
                    mirror: true,
                    width: if scaled { 129 } else { 0 },
                    ..jpeg()
                };
                let out = via_yuv(&mut pipe, &frame, (w, h), ChromaLayout::I420, color, &spec);
                let (ow, oh) = out.img.dimensions();
                let right = out.img.get_pixel(ow - 1 - ow / 32, oh / 2).0;
                let left = out.img.get_pixel(ow / 32, oh / 2).0;
                assert!(
                    max_diff(right, [230, 20, 20]) <= 12,
                    "{w} {color:?} scaled {scaled}: right {right:?}"
                );
                assert!(
                    max_diff(left, [128, 128, 128]) <= 6,
                    "{w} {color:?} scaled {scaled}: left {left:?}"
                );
            }
        }
    }
}

#[test]
fn png_from_yuv_matches_the_float_conversion() {
    let mut pipe = Pipeline::new();
    for (w, h) in [(64, 48), (63, 47)] {
        let img = photo(w, h);
        for color in COLORS {
            let i420 = to_yuv420(&img, color, ChromaLayout::I420);
            for mirror in [false, true] {
                let spec = SnapshotSpec { mirror, ..png() };
                let out = via_yuv(&mut pipe, &i420, (w, h), ChromaLayout::I420, color, &spec);
                let mut worst = 0.0f64;
                for (x, y, p) in out.img.enumerate_pixels() {
                    let sx = if mirror { w - 1 - x } else { x };
                    let want = reference_rgb(&i420, w, h, color, sx, y);
                    for (&got, want) in p.0.iter().zip(want) {
                        worst = worst.max((f64::from(got) - want).abs());
                    }
                }
                assert!(
                    worst <= 2.0,
                    "{w}×{h} {color:?} mirror {mirror}: off by {worst}"
                );
            }
        }
    }
}

/// A 4:2:0 frame of `w × h` (even sides) from a function of the chroma cell giving (Y, U, V)
/// codes: the same values for the cell's four pixels.
fn cells_frame(w: u32, h: u32, layout: ChromaLayout, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let (cw, ch) = (w / 2, h / 2);
    let cells: Vec<[u8; 3]> = (0..ch)
        .flat_map(|cy| (0..cw).map(move |cx| (cx, cy)))
        .map(|(cx, cy)| f(cx, cy))
        .collect();
    let mut out: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| cells[((y / 2) * cw + x / 2) as usize][0])
        .collect();
    match layout {
        ChromaLayout::I420 => {
            out.extend(cells.iter().map(|c| c[1]));
            out.extend(cells.iter().map(|c| c[2]));
        }
        ChromaLayout::Nv12 => out.extend(cells.iter().flat_map(|c| [c[1], c[2]])),
    }
    out
}

/// The float conversion of one (Y, U, V), clipped to 0–255.
fn clipped_rgb(color: YuvColor, [y, u, v]: [u8; 3]) -> [u8; 3] {
    let frame = cells_frame(2, 2, ChromaLayout::I420, |_, _| [y, u, v]);
    reference_rgb(&frame, 2, 2, color, 0, 0).map(code)
}

#[test]
fn colours_outside_the_gamut_come_out_clipped_as_a_browser_draws_them() {
    // Chromium's fake camera writes U = V = 0: green, and outside the RGB gamut, as are these
    // quadrants. Their JFIF chroma would lie below 0 or above 255, so clamping it changed the
    // colour (the second quadrant decoded as (0, 174, 0), not (0, 194, 0)); they must decode
    // to the colour clipped in RGB, as a browser draws the frame.
    let (w, h) = (64, 48);
    let quadrants = [[126, 0, 0], [50, 0, 0], [200, 255, 255], [100, 255, 0]];
    let quadrant =
        |x: u32, y: u32| quadrants[usize::from(x >= w / 4) + 2 * usize::from(y >= h / 4)];
    let mut pipe = Pipeline::new();
    let specs = [
        jpeg(),
        SnapshotSpec {
            mirror: true,
            ..jpeg()
        },
        SnapshotSpec {
            width: 48,
            ..jpeg()
        },
        png(),
        SnapshotSpec {
            mirror: true,
            ..png()
        },
    ];
    for color in [LIMITED_601, LIMITED_709] {
        for layout in LAYOUTS {
            let frame = cells_frame(w, h, layout, quadrant);
            for spec in &specs {
                let out = via_yuv(&mut pipe, &frame, (w, h), layout, color, spec).img;
                let (ow, oh) = out.dimensions();
                let centres = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)];
                for (x, y) in points(&out, centres) {
                    let source_x = if spec.mirror { ow - 1 - x } else { x };
                    let (sx, sy) = (source_x * w / ow, y * h / oh);
                    let want = clipped_rgb(color, quadrant(sx / 2, sy / 2));
                    let got = out.get_pixel(x, y).0;
                    // libyuv's fixed point (blue's chroma capped at 2.0) is within 2 levels of
                    // the float conversion on these colours; JPEG adds up to 2 on flat patches.
                    assert!(
                        max_diff(got, want) <= 4,
                        "{color:?} {layout:?} {spec:?} at ({x},{y}): {got:?}, want {want:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn far_chroma_of_many_values_encodes_the_drawn_picture() {
    // Chroma far outside JFIF's range, a different value in each 16×16 block (one JPEG block
    // of chroma), under a luma ramp, so the chroma value changes every 8 samples along a row.
    // The JPEG of the frame must decode to what the JPEG of its drawn picture (its PNG)
    // decodes to through the RGBA path: the same picture, up to rounding.
    let (w, h) = (160, 96);
    let far = [0u8, 3, 7, 11, 15, 241, 246, 250, 255];
    let frame = cells_frame(w, h, ChromaLayout::I420, |cx, cy| {
        let i = (cx / 8 * 5 + cy / 8 * 3) as usize;
        let luma = 30 + cx + cy;
        [luma as u8, far[i % far.len()], far[(i / 2) % far.len()]]
    });
    let mut pipe = Pipeline::new();
    let drawn = via_yuv(
        &mut pipe,
        &frame,
        (w, h),
        ChromaLayout::I420,
        LIMITED_601,
        &png(),
    )
    .img;
    let flipped = image::imageops::flip_horizontal(&drawn);
    for mirror in [false, true] {
        let spec = SnapshotSpec { mirror, ..jpeg() };
        let picture = if mirror { &flipped } else { &drawn };
        let through_rgba = via_rgba(&mut pipe, picture, &jpeg()).img;
        let from_yuv = via_yuv(
            &mut pipe,
            &frame,
            (w, h),
            ChromaLayout::I420,
            LIMITED_601,
            &spec,
        )
        .img;
        let alike = psnr(&through_rgba, &from_yuv);
        println!("mirror {mirror}: the two files decode {alike:.2} dB apart");
        assert!(alike >= 38.0, "mirror {mirror}: {alike:.2} dB");
    }
}

#[test]
fn size_first_is_smaller_and_still_decodes() {
    let mut pipe = Pipeline::new();
    let (w, h) = (640, 360);
    let img = photo(w, h);
    let frame = to_yuv420(&img, LIMITED_709, ChromaLayout::Nv12);
    for quality in [50, 85, 95] {
        for width in [0, 320] {
            let base = SnapshotSpec {
                quality,
                width,
                ..jpeg()
            };
            let small = SnapshotSpec {
                size_first: true,
                ..base.clone()
            };
            let run = |pipe: &mut Pipeline, spec: &SnapshotSpec| {
                via_yuv(pipe, &frame, (w, h), ChromaLayout::Nv12, LIMITED_709, spec)
            };
            let (a, b) = (run(&mut pipe, &base), run(&mut pipe, &small));
            assert!(
                b.bytes.len() < a.bytes.len(),
                "q{quality} w{width}: size first {} bytes, default {}",
                b.bytes.len(),
                a.bytes.len()
            );
            // Other tables (MozJPEG's) and its own rate–distortion choices, so the same quality
            // number is not the same PSNR: the same picture, within 3 dB of the default's (here
            // q95 from RGBA: −2.5 dB). Equal-quality comparisons are examples/rate_quality.rs's
            // job.
            let ab = psnr(&a.img, &b.img);
            assert!(
                a.img.dimensions() == b.img.dimensions() && ab > 30.0,
                "q{quality} w{width}: size first is the same picture ({ab:.2} dB)"
            );
            if width == 0 {
                let (pa, pb) = (psnr(&img, &a.img), psnr(&img, &b.img));
                assert!(
                    pb > pa - 3.0,
                    "q{quality}: size first {pb:.2} dB, default {pa:.2} dB"
                );
            }
            // The RGBA path too.
            let (ra, rb) = (
                via_rgba(&mut pipe, &img, &base),
                via_rgba(&mut pipe, &img, &small),
            );
            assert!(rb.bytes.len() < ra.bytes.len(), "RGBA q{quality} w{width}");
            if width == 0 {
                let (pa, pb) = (psnr(&img, &ra.img), psnr(&img, &rb.img));
                assert!(
                    pb > pa - 3.0,
                    "RGBA q{quality}: size first {pb:.2} dB, default {pa:.2} dB"
                );
            }
        }
    }
}

#[test]
fn malformed_yuv_input_is_an_error_not_a_panic() {
    let mut pipe = Pipeline::new();
    let spec = jpeg();
    for layout in LAYOUTS {
        // 10×10 needs 100 + 2·25 = 150 bytes.
        for len in [0, 149, 151, 400] {
            pipe.input_mut(len);
            let e = pipe
                .process_yuv420(FrameInfo::square(10, 10), layout, LIMITED_601, &spec)
                .unwrap_err();
            assert_eq!(e.code, Code::CaptureFailed, "{layout:?} {len}: {e}");
            assert!(e.message.contains("10×10"), "{}", e.message);
        }
        for (w, h) in [
            (0, 10),
            (10, 0),
            (0, 0),
            (u32::MAX, u32::MAX),
            (u32::MAX, 1),
        ] {
            pipe.input_mut(150);
            let e = pipe
                .process_yuv420(FrameInfo::square(w, h), layout, LIMITED_601, &png())
                .unwrap_err();
            assert_eq!(e.code, Code::CaptureFailed, "{w}×{h}");
        }
        // A right-sized frame with no display size is refused by the size rules, as for RGBA.
        pipe.input_mut(150);
        let info = FrameInfo {
            display_width: 0,
            ..FrameInfo::square(10, 10)
        };
        let e = pipe
            .process_yuv420(info, layout, LIMITED_601, &spec)
            .unwrap_err();
        assert_eq!(e.code, Code::InvalidParam);
        // A frame asked to grow past 7680 is a parameter error, as for RGBA.
        let e = pipe
            .process_yuv420(
                FrameInfo::square(10, 10),
                layout,
                LIMITED_601,
                &SnapshotSpec {
                    width: 7681,
                    ..jpeg()
                },
            )
            .unwrap_err();
        assert_eq!(e.code, Code::InvalidParam);
    }

    // JPEG holds at most 65535 per side.
    let (w, h) = (70_000, 2);
    let len = yuv420_len(w, h, ChromaLayout::I420).expect("fits");
    let data = vec![128; len];
    let frame = Yuv420::new(&data, w, h, ChromaLayout::I420).expect("valid planes");
    let settings = JpegSettings {
        quality: 85,
        size_first: false,
    };
    let mut out = Vec::new();
    let e = encode_jpeg_yuv420(frame, LIMITED_601, false, settings, &mut out).unwrap_err();
    assert_eq!(e.code, Code::EncodeFailed);
    assert!(e.message.contains("70000×2"), "{}", e.message);
}

#[test]
fn plane_lengths_are_checked_maths() {
    for layout in LAYOUTS {
        assert_eq!(yuv420_len(4, 4, layout), Some(16 + 8));
        assert_eq!(yuv420_len(63, 47, layout), Some(63 * 47 + 2 * 32 * 24));
        assert_eq!(yuv420_len(1, 1, layout), Some(3));
        assert_eq!(yuv420_len(0, 7, layout), Some(0));
        assert_eq!(yuv420_len(u32::MAX, u32::MAX, layout), None);
    }
}

#[test]
fn video_frame_colour_spaces_map_to_matrices() {
    let c = YuvColor::from_video_frame;
    assert_eq!(c(Some("bt709"), Some(false)), LIMITED_709);
    assert_eq!(c(Some("bt709"), Some(true)), FULL_709);
    assert_eq!(c(Some("smpte170m"), None), LIMITED_601);
    assert_eq!(c(Some("bt470bg"), Some(true)), FULL_601);
    assert_eq!(c(None, None), LIMITED_601);
    assert_eq!(c(Some("bt2020-ncl"), None), LIMITED_601);
    assert_eq!(c(Some("rgb"), Some(false)), LIMITED_601);
    assert_eq!(LIMITED_601.black(), [16, 128, 128]);
    assert_eq!(FULL_709.black(), [0, 128, 128]);
}

/// A picture read row by row only: [`YccRows::pair`]'s default.
struct RowByRow<'a>(JfifImage<'a>);

impl YccRows for RowByRow<'_> {
    fn width(&self) -> u16 {
        self.0.width()
    }
    fn height(&self) -> u16 {
        self.0.height()
    }
    fn row(&mut self, y: u16, out: YccRow<'_>) {
        self.0.row(y, out)
    }
}

#[test]
fn rows_read_in_pairs_give_the_same_file_as_rows_read_one_by_one() {
    // Every map, both layouts, mirrored or not, odd sides, and chroma far outside JFIF's
    // range on some rows (those pairs fall back to row by row inside one picture).
    let settings = JpegSettings {
        quality: 85,
        size_first: false,
    };
    for (w, h) in [(64u32, 48u32), (63, 47), (17, 9), (2, 1)] {
        let img = photo(w, h);
        for color in COLORS {
            for layout in LAYOUTS {
                let mut frame = to_yuv420(&img, color, layout);
                // A far sample (0 or 255: far outside JFIF's range once stretched or mixed)
                // on every third chroma row; the other rows' pairs take the fast path.
                let (cw, luma) = (w.div_ceil(2) as usize, (w * h) as usize);
                for cy in (1..h.div_ceil(2) as usize).step_by(3) {
                    let cell = cy * cw + cw / 2;
                    let at = match layout {
                        ChromaLayout::I420 => luma + cell,
                        ChromaLayout::Nv12 => luma + 2 * cell,
                    };
                    frame[at] = if cy % 2 == 0 { 0 } else { 255 };
                }
                for mirror in [false, true] {
                    let what = format!("{w}×{h} {color:?} {layout:?} mirror {mirror}");
                    let planes = || Yuv420::new(&frame, w, h, layout).expect("frame");
                    let mut pairs = Vec::new();
                    encode_jpeg_yuv420(planes(), color, mirror, settings, &mut pairs)
                        .expect("encodes");
                    let image = JfifImage::new(planes(), color, mirror).expect("image");
                    let mut rows = Vec::new();
                    encode_jpeg_image(RowByRow(image), settings, true, &mut rows).expect("encodes");
                    assert!(pairs == rows, "{what}: the files differ");
                }
            }
        }
    }
}
