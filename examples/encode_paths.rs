//! How long a snapshot takes through each encode path, on the host (release build):
//! `cargo run --release --example encode_paths` (`-- --camera`: only the last table).
//!
//! Times `Pipeline::process` / `Pipeline::process_yuv420` only (the copy into the input
//! buffer happens in both paths and is not counted), median of 15 runs after one warm-up, on a
//! photo-like frame (gradients, noise, sharp edges); the camera-frame table, median of 31.
//!
//! The last table is a 1920×1080 camera frame scaled, cropped or letterboxed (the 720p camera
//! track's frames arrive as 1920×1080 with a 1280×720 display size): time, bytes, and PSNR of
//! the decoded output against a reference, the frame converted to RGBA at full size
//! ([`yuv420_to_rgba`]) and then scaled by the RGBA scaler (`Scaler::render`, bilinear; bars
//! black). Until the YUV path scaled planes that was exactly what its PNG held (PSNR `inf`).

use std::time::Instant;

use tracksnap::core::encode::ImageFormat;
use tracksnap::core::scale::Scaler;
use tracksnap::core::size::{output_size, placement, Fit};
use tracksnap::core::snapshot::{FrameInfo, Pipeline, SnapshotSpec};
use tracksnap::core::yuv::{yuv420_to_rgba, ChromaLayout, Yuv420, YuvColor, YuvMatrix};

const RUNS: usize = 15;
/// The camera-frame table's runs: more, as its cases are shorter.
const CAMERA_RUNS: usize = 31;

/// A photo-like RGB frame.
fn photo(w: u32, h: u32) -> Vec<[u8; 3]> {
    let mut seed = 0x9e37_79b9_u32;
    let mut px = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let n = f64::from(seed % 17) - 8.0;
            let (u, v) = (f64::from(x) / f64::from(w), f64::from(y) / f64::from(h));
            let d2 = (u - 0.35).powi(2) + (v - 0.4).powi(2);
            let glow = 90.0 * (-d2 * 12.0).exp();
            let mut rgb = [
                40.0 + 150.0 * u + glow,
                60.0 + 120.0 * v + 0.6 * glow,
                170.0 - 110.0 * u * v + 0.3 * glow,
            ];
            if (0.6..0.8).contains(&u) && (0.15..0.45).contains(&v) {
                rgb = [215.0, 25.0, 35.0];
            }
            px.push(rgb.map(|c| (c + n).round().clamp(0.0, 255.0) as u8));
        }
    }
    px
}

fn rgba(px: &[[u8; 3]]) -> Vec<u8> {
    px.iter().flat_map(|&[r, g, b]| [r, g, b, 255]).collect()
}

/// RGB → 4:2:0 in `color`, chroma taken at the top-left pixel of each 2×2 block (good enough
/// for timing).
fn yuv420(px: &[[u8; 3]], w: u32, h: u32, color: YuvColor, layout: ChromaLayout) -> Vec<u8> {
    let (kr, kb) = match color.matrix {
        YuvMatrix::Bt601 => (0.299, 0.114),
        YuvMatrix::Bt709 => (0.2126, 0.0722),
    };
    let (y_off, y_scale, c_scale) = if color.full_range {
        (0.0, 255.0, 255.0)
    } else {
        (16.0, 219.0, 224.0)
    };
    let convert = |[r, g, b]: [u8; 3]| {
        let (r, g, b) = (
            f64::from(r) / 255.0,
            f64::from(g) / 255.0,
            f64::from(b) / 255.0,
        );
        let y = kr * r + (1.0 - kr - kb) * g + kb * b;
        [
            y_off + y_scale * y,
            128.0 + c_scale * (b - y) / (2.0 * (1.0 - kb)),
            128.0 + c_scale * (r - y) / (2.0 * (1.0 - kr)),
        ]
        .map(|c| c.round().clamp(0.0, 255.0) as u8)
    };
    let mut out: Vec<u8> = px.iter().map(|&p| convert(p)[0]).collect();
    let (mut u, mut v) = (Vec::new(), Vec::new());
    for cy in 0..h.div_ceil(2) {
        for cx in 0..w.div_ceil(2) {
            let [_, cb, cr] = convert(px[(cy * 2 * w + cx * 2) as usize]);
            u.push(cb);
            v.push(cr);
        }
    }
    match layout {
        ChromaLayout::I420 => {
            out.extend(u);
            out.extend(v);
        }
        ChromaLayout::Nv12 => out.extend(u.into_iter().zip(v).flat_map(|(a, b)| [a, b])),
    }
    out
}

/// Median milliseconds of `RUNS` calls of `f`, and the bytes of its output.
fn time(f: impl FnMut() -> usize) -> (f64, usize) {
    time_n(RUNS, f)
}

/// Median milliseconds of `runs` calls of `f`, and the bytes of its output.
fn time_n(runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let bytes = f();
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[runs / 2], bytes)
}

/// PSNR over R, G and B of decoded `bytes` against RGBA `reference`.
fn psnr(bytes: &[u8], reference: &[u8]) -> f64 {
    let Ok(img) = image::load_from_memory(bytes) else {
        return f64::NAN;
    };
    let rgb = img.to_rgb8();
    let pairs = rgb.as_raw().chunks_exact(3).zip(reference.chunks_exact(4));
    let (mut sum, mut n) = (0.0, 0usize);
    for (a, b) in pairs {
        for (x, y) in a.iter().zip(b) {
            let d = f64::from(*x) - f64::from(*y);
            sum += d * d;
            n += 1;
        }
    }
    10.0 * (255.0 * 255.0 * n as f64 / sum).log10()
}

/// What a snapshot of `frame` shown as `info` should look like for `spec`: the frame as RGBA
/// at full size, scaled by the RGBA scaler.
fn reference(
    frame: &[u8],
    info: FrameInfo,
    layout: ChromaLayout,
    color: YuvColor,
    spec: &SnapshotSpec,
) -> Vec<u8> {
    let (w, h) = (info.width, info.height);
    let planes = Yuv420::new(frame, w, h, layout).expect("frame");
    let mut full = Vec::new();
    yuv420_to_rgba(planes, color, &mut full).expect("RGBA");
    let stream = (info.display_width, info.display_height);
    let size = output_size(stream, (spec.width, spec.height)).expect("size");
    let aspect = f64::from(stream.0) / f64::from(stream.1);
    let place = placement(spec.fit, (w, h), aspect, size);
    let mut out = Vec::new();
    Scaler::new()
        .render(&full, (w, h), &place, &mut out, size, spec.mirror)
        .expect("scaled");
    out
}

/// A 1920×1080 camera frame scaled, cropped and letterboxed: time, bytes, PSNR.
fn camera_frame() {
    let (w, h) = (1920u32, 1080u32);
    let px = photo(w, h);
    let color = YuvColor::default();
    let camera = FrameInfo {
        display_width: 1280,
        display_height: 720,
        ..FrameInfo::square(w, h)
    };
    let square = FrameInfo::square(w, h);
    let sized = |width, height, fit| SnapshotSpec {
        width,
        height,
        fit,
        ..SnapshotSpec::default()
    };
    let png = SnapshotSpec {
        format: ImageFormat::Png,
        ..SnapshotSpec::default()
    };
    let cases = [
        ("→ 1280×720 (display size)", camera, SnapshotSpec::default()),
        (
            "→ 1280×720 (display size), mirrored",
            camera,
            SnapshotSpec {
                mirror: true,
                ..SnapshotSpec::default()
            },
        ),
        ("→ 640×360", square, sized(640, 360, Fit::Fill)),
        (
            "→ 1280×960 contain (bars 120)",
            square,
            sized(1280, 960, Fit::Contain),
        ),
        (
            "→ 721×721 contain (bars 180.5)",
            square,
            sized(721, 721, Fit::Contain),
        ),
        (
            "→ 1001×1001 cover (crop)",
            square,
            sized(1001, 1001, Fit::Cover),
        ),
        ("PNG → 1280×720 (display size)", camera, png.clone()),
        (
            "PNG → 640×360",
            square,
            SnapshotSpec {
                width: 640,
                height: 360,
                ..png
            },
        ),
    ];
    println!("1920×1080 camera frame (limited BT.601), median of {CAMERA_RUNS} runs:");
    for layout in [ChromaLayout::I420, ChromaLayout::Nv12] {
        let frame = yuv420(&px, w, h, color, layout);
        let mut pipe = Pipeline::new();
        for (name, info, spec) in &cases {
            let want = reference(&frame, *info, layout, color, spec);
            pipe.input_mut(frame.len()).copy_from_slice(&frame);
            let (ms, bytes) = time_n(CAMERA_RUNS, || {
                pipe.process_yuv420(*info, layout, color, spec)
                    .map_or(0, |e| e.bytes.len())
            });
            let out = pipe
                .process_yuv420(*info, layout, color, spec)
                .expect("snapshot");
            let db = psnr(out.bytes, &want);
            let name = format!("{} {name}", layout.as_str());
            println!("  {name:<48} {ms:>7.2} ms  ({bytes:>7} bytes, {db:.2} dB)");
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--camera") {
        camera_frame();
        return;
    }
    let bt709 = YuvColor {
        matrix: YuvMatrix::Bt709,
        full_range: false,
    };
    let jfif = YuvColor::JFIF;
    let jpeg = SnapshotSpec::default();
    let size_first = SnapshotSpec {
        size_first: true,
        ..SnapshotSpec::default()
    };
    let small = SnapshotSpec {
        width: 640,
        height: 360,
        ..SnapshotSpec::default()
    };
    let png = SnapshotSpec {
        format: ImageFormat::Png,
        ..SnapshotSpec::default()
    };
    println!("median of {RUNS} runs, ms (bytes out); YUV = NV12 BT.709 limited unless said");
    for (w, h) in [(1920u32, 1080u32), (1280, 720)] {
        let px = photo(w, h);
        let rgba = rgba(&px);
        let nv12 = yuv420(&px, w, h, bt709, ChromaLayout::Nv12);
        let i420_jfif = yuv420(&px, w, h, jfif, ChromaLayout::I420);
        let info = FrameInfo::square(w, h);
        let mut pipe = Pipeline::new();
        let mut rgba_run = |spec: &SnapshotSpec| {
            pipe.input_mut(rgba.len()).copy_from_slice(&rgba);
            time(|| pipe.process(info, spec).map_or(0, |e| e.bytes.len()))
        };
        let rows_rgba = [
            ("RGBA path JPEG q85", rgba_run(&jpeg)),
            ("RGBA path JPEG q85 → 640×360", rgba_run(&small)),
            ("PNG from RGBA", rgba_run(&png)),
        ];
        let mut yuv_run = |frame: &[u8], layout, color, spec: &SnapshotSpec| {
            pipe.input_mut(frame.len()).copy_from_slice(frame);
            time(|| {
                pipe.process_yuv420(info, layout, color, spec)
                    .map_or(0, |e| e.bytes.len())
            })
        };
        let nv = ChromaLayout::Nv12;
        let rows_yuv = [
            ("YUV path JPEG q85", yuv_run(&nv12, nv, bt709, &jpeg)),
            (
                "YUV path JPEG q85 (I420 full-range BT.601: identity)",
                yuv_run(&i420_jfif, ChromaLayout::I420, jfif, &jpeg),
            ),
            (
                "YUV path JPEG q85 size_first",
                yuv_run(&nv12, nv, bt709, &size_first),
            ),
            (
                "YUV path JPEG q85 → 640×360",
                yuv_run(&nv12, nv, bt709, &small),
            ),
            ("PNG from YUV", yuv_run(&nv12, nv, bt709, &png)),
        ];
        println!("{w}×{h}:");
        for (name, (ms, bytes)) in rows_rgba.into_iter().chain(rows_yuv) {
            println!("  {name:<54} {ms:>7.2} ms  ({bytes} bytes)");
        }
    }
    camera_frame();
}
