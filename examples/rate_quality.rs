//! Rate–quality of our JPEG encoders against `@jsquash/jpeg` (MozJPEG in wasm) and Chromium's
//! `toBlob`, on the benchmark's pictures: `cargo run --release --example rate_quality`.
//!
//! Needs `out/rq/` from `node www/measure/rate-quality.mjs`: per picture (the photo-like test
//! picture at 1920×1080 and 1280×720, a 1920×1080 fake-camera frame, a 1920×1080 shared screen
//! with text) the reference RGBA and the browsers' JPEGs at qualities 50, 55, …, 95. Every
//! JPEG, ours and theirs, is decoded by the same decoder (the `image` crate's); PSNR over RGB
//! and SSIM over BT.601 luma (8×8 uniform windows, stride 4) are computed as
//! `www/bench/metrics.js` does, SSIMULACRA2 by the `ssimulacra2` crate (sRGB input).
//!
//! For each encoder it sweeps the quality setting and prints, against jsquash:
//! - `BD PSNR` / `BD SSIM` / `BD SS2`: the mean ratio of bytes at equal PSNR (SSIM,
//!   SSIMULACRA2) over the range of the metric both curves cover (log(bytes) interpolated
//!   linearly against the metric, as BD-rate does); `--curves` prints the ranges;
//! - `@q85 …`: the ratio of bytes at the metric's value for jsquash's q85 file;
//! - the median time of a q85 encode on this host (ours only), and its ratio to jsquash's
//!   median q85 time in Chromium (from `out/rq/index.json`; ours is native there, so this
//!   ratio flatters ours by wasm's slowdown, about 1.5–2×).
//!
//! Encoders: `tracksnap default` / `tracksnap sizeFirst` (the crate's API, what snapshots
//! use); `jpeg-encoder <tables> prog<N>` (jpeg-encoder 0.7 with each of its table sets, N
//! progressive scans, optimised Huffman tables; `moz-sub`: chroma subsampled as jsquash does,
//! 4:2:0 / 4:2:2 from q80 / 4:4:4 from q90); `ours …` (src/core/jpeg with one knob of
//! [`Tuning`] changed from the default, which `sizeFirst` uses).
//!
//! Arguments: names (substrings) of the encoders to run; none = the two `tracksnap` ones,
//! `all` = all. `--picture NAME` (substring, repeatable) limits the pictures. `--curves` also
//! prints every sweep point; `--coarse` sweeps fewer qualities; `--time` prints only q85
//! encode times (median of 50).
//! `--ours "KNOB=VALUE …"` adds our encoder with those knobs (see [`custom`]).
//! `--json FILE` also writes each encoder's ratios and times as JSON (the benchmark's Part 5
//! reads it: `www/bench/run.mjs`).
//! `--view Q` writes `out/rq/view/<picture>-<encoder>-q<Q>.png` (decoded) for the chosen
//! encoders and jsquash, to look at (`--crop X,Y,W,H`: that part only).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Instant;

use jpeg_encoder::{
    ChromaSubsamplingMethod, ColorType, Encoder, QuantizationTableType, SamplingFactor,
};
use ssimulacra2::{
    compute_frame_ssimulacra2, ColorPrimaries, LinearRgb, Rgb, TransferCharacteristic,
};
use tracksnap::core::encode::{encode_rgba, ImageFormat, JpegSettings};
use tracksnap::core::jpeg::{self, Tuning};

const REF_QUALITIES: [u8; 10] = [50, 55, 60, 65, 70, 75, 80, 85, 90, 95];
const TIMING_RUNS: usize = 9;

/// One rate–quality point.
#[derive(Debug, Clone, Copy)]
struct Point {
    quality: u8,
    bytes: usize,
    psnr: f64,
    ssim: f64,
    ss2: f64,
}

/// A metric as read from a point.
type Metric = fn(&Point) -> f64;

/// The metrics, by name.
const METRICS: [(&str, Metric); 3] = [
    ("PSNR", |p| p.psnr),
    ("SSIM", |p| p.ssim),
    ("SS2", |p| p.ss2),
];

type EncodeFn = Box<dyn Fn(&[u8], u32, u32, u8, &mut Vec<u8>)>;

struct Variant {
    name: String,
    encode: EncodeFn,
}

fn api(size_first: bool) -> EncodeFn {
    Box::new(move |rgba, w, h, q, out| {
        let mut scratch = Vec::new();
        let settings = JpegSettings {
            quality: q,
            size_first,
        };
        if let Err(e) = encode_rgba(rgba, w, h, ImageFormat::Jpeg, settings, out, &mut scratch) {
            panic!("encode failed: {e:?}");
        }
    })
}

/// jpeg-encoder 0.7 directly, with the given tables, `scans` progressive scans and
/// optimised Huffman tables (its optimised sequential files are misread by the decoder used
/// here, see src/core/encode.rs), and box-averaged chroma.
fn jpeg_encoder_with(tables: QuantizationTableType, scans: u8, sampling: Sampling) -> EncodeFn {
    Box::new(move |rgba, w, h, q, out| {
        out.clear();
        let mut e = Encoder::new(&mut *out, q);
        e.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
        if let Some(f) = sampling.factor(q) {
            e.set_sampling_factor(f);
        }
        e.set_quantization_tables(tables.clone(), tables.clone());
        e.set_optimized_huffman_tables(true);
        e.set_progressive_scans(scans);
        if let Err(err) = e.encode(rgba, w as u16, h as u16, ColorType::Rgba) {
            panic!("jpeg-encoder failed: {err}");
        }
    })
}

/// How chroma is subsampled for a quality setting.
#[derive(Debug, Clone, Copy)]
enum Sampling {
    /// jpeg-encoder's choice: 4:4:4 from q90, else 4:2:0.
    Default,
    /// MozJPEG's as jsquash sets it (`auto_subsample`): 4:4:4 from q90, 4:2:2 from q80,
    /// else 4:2:0.
    Moz,
}

impl Sampling {
    fn factor(self, q: u8) -> Option<SamplingFactor> {
        match self {
            Sampling::Default => None,
            Sampling::Moz if q >= 90 => Some(SamplingFactor::F_1_1),
            Sampling::Moz if q >= 80 => Some(SamplingFactor::F_2_1),
            Sampling::Moz => Some(SamplingFactor::F_2_2),
        }
    }
}

/// Our size-first encoder (src/core/jpeg) with the given knobs.
fn ours(tuning: Tuning) -> EncodeFn {
    Box::new(move |rgba, w, h, q, out| {
        if let Err(e) = jpeg::encode_rgba_with(rgba, w as u16, h as u16, q, &tuning, out) {
            panic!("encode failed: {e:?}");
        }
    })
}

fn variants() -> Vec<Variant> {
    use QuantizationTableType as T;
    let base = Tuning::default();
    let mut v = vec![
        Variant {
            name: "tracksnap default".into(),
            encode: api(false),
        },
        Variant {
            name: "tracksnap sizeFirst".into(),
            encode: api(true),
        },
    ];
    let tables: [(&str, T); 6] = [
        ("annexk", T::Default),
        ("imagemagick", T::ImageMagick),
        ("msssim", T::CustomMsSsim),
        ("psnrhvs", T::CustomPsnrHvs),
        ("ksc", T::KleinSilversteinCarney),
        ("flat", T::Flat),
    ];
    for (name, t) in tables {
        for scans in [2u8, 4] {
            let old = if name == "annexk" && scans == 2 {
                " (old sizeFirst)"
            } else {
                ""
            };
            v.push(Variant {
                name: format!("jpeg-encoder {name} prog{scans}{old}"),
                encode: jpeg_encoder_with(t.clone(), scans, Sampling::Default),
            });
        }
        v.push(Variant {
            name: format!("jpeg-encoder {name} prog2 moz-sub"),
            encode: jpeg_encoder_with(t.clone(), 2, Sampling::Moz),
        });
    }
    v.push(Variant {
        name: "ours no-trellis".into(),
        encode: ours(Tuning {
            lambda: 0.0,
            ..base
        }),
    });
    for window in [2usize, 8] {
        v.push(Variant {
            name: format!("ours window{window}"),
            encode: ours(Tuning { window, ..base }),
        });
    }
    for s422 in [75u8, 85, 101] {
        v.push(Variant {
            name: format!("ours s422from{s422}"),
            encode: ours(Tuning {
                s422_from: s422,
                ..base
            }),
        });
    }
    for lambda in [0.1f32, 0.15, 0.2] {
        for cw in [0.25f32, 1.0] {
            v.push(Variant {
                name: format!("ours l{lambda} cw{cw}"),
                encode: ours(Tuning {
                    lambda,
                    chroma_weight: cw,
                    ..base
                }),
            });
        }
    }
    v
}

/// Our encoder with knobs from the command line: `--ours "lambda=0.2 cw=0.25 s422=80 s444=90
/// split=LUMA,CHROMA tables=robidoux|annexk baseline"`, from the default.
fn custom(spec: &str) -> Variant {
    let mut t = Tuning::default();
    for item in spec.split_whitespace() {
        let (key, value) = item.split_once('=').unwrap_or((item, ""));
        let num = |v: &str| -> f32 { v.parse().unwrap_or_else(|_| panic!("{item}: not a number")) };
        match key {
            "lambda" => t.lambda = num(value),
            "cw" => t.chroma_weight = num(value),
            "window" => t.window = num(value) as usize,
            "s422" => t.s422_from = num(value) as u8,
            "s444" => t.s444_from = num(value) as u8,
            "baseline" => t.progressive = false,
            "dering" => t.dering = num(value) as u8,
            "split" => {
                let v: Vec<u8> = value.split(',').map(|v| num(v) as u8).collect();
                t.split = [
                    v.first().copied().unwrap_or(0),
                    v.get(1).copied().unwrap_or(0),
                ];
            }
            "tables" => {
                t.tables = match value {
                    "robidoux" => jpeg::quantise::TableSet::Robidoux,
                    "annexk" => jpeg::quantise::TableSet::AnnexK,
                    _ => panic!("{item}: no such tables"),
                }
            }
            _ => panic!("{item}: unknown knob"),
        }
    }
    Variant {
        name: format!("ours {spec}"),
        encode: ours(t),
    }
}

fn decode_rgba(jpeg: &[u8]) -> Vec<u8> {
    match image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg) {
        Ok(img) => img.to_rgba8().into_raw(),
        Err(e) => panic!("decoding failed: {e}"),
    }
}

/// PSNR over R, G and B, as metrics.js's `psnr`.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mut sum = 0u64;
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for c in 0..3 {
            let d = i64::from(x[c]) - i64::from(y[c]);
            sum += (d * d) as u64;
        }
    }
    let mse = sum as f64 / ((a.len() / 4) as f64 * 3.0);
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// BT.601 luma as a Float32Array, as metrics.js's `luma`.
fn luma(rgba: &[u8]) -> Vec<f32> {
    rgba.chunks_exact(4)
        .map(|p| {
            (0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])) as f32
        })
        .collect()
}

/// Mean SSIM over 8×8 uniform windows of luma, stride 4, as metrics.js's `ssim`.
fn ssim(a: &[u8], b: &[u8], w: usize, h: usize) -> f64 {
    let (x, y) = (luma(a), luma(b));
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let n = 8;
    let count = (n * n) as f64;
    let (mut total, mut windows) = (0.0, 0usize);
    let mut wy = 0;
    while wy + n <= h {
        let mut wx = 0;
        while wx + n <= w {
            let (mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for j in 0..n {
                let k = (wy + j) * w + wx;
                for (&p, &q) in x[k..k + n].iter().zip(&y[k..k + n]) {
                    let (p, q) = (f64::from(p), f64::from(q));
                    sx += p;
                    sy += q;
                    sxx += p * p;
                    syy += q * q;
                    sxy += p * q;
                }
            }
            let (mx, my) = (sx / count, sy / count);
            let vx = sxx / count - mx * mx;
            let vy = syy / count - my * my;
            let cxy = sxy / count - mx * my;
            total += ((2.0 * mx * my + c1) * (2.0 * cxy + c2))
                / ((mx * mx + my * my + c1) * (vx + vy + c2));
            windows += 1;
            wx += 4;
        }
        wy += 4;
    }
    total / windows as f64
}

/// The sRGB pixels as linear RGB, for SSIMULACRA2.
fn linear(rgba: &[u8], w: u32, h: u32) -> LinearRgb {
    let data = rgba
        .chunks_exact(4)
        .map(|p| [p[0], p[1], p[2]].map(|v| f32::from(v) / 255.0))
        .collect();
    let rgb = Rgb::new(
        data,
        w as usize,
        h as usize,
        TransferCharacteristic::SRGB,
        ColorPrimaries::BT709,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    LinearRgb::try_from(rgb).unwrap_or_else(|e| panic!("{e:?}"))
}

/// One picture: its pixels, and as linear RGB.
struct Reference {
    rgba: Vec<u8>,
    linear: LinearRgb,
    w: u32,
    h: u32,
}

fn measure(r: &Reference, quality: u8, jpeg: &[u8]) -> Point {
    let decoded = decode_rgba(jpeg);
    assert_eq!(decoded.len(), r.rgba.len(), "decoded size differs");
    let ss2 = compute_frame_ssimulacra2(r.linear.clone(), linear(&decoded, r.w, r.h))
        .unwrap_or_else(|e| panic!("SSIMULACRA2: {e}"));
    Point {
        quality,
        bytes: jpeg.len(),
        psnr: psnr(&r.rgba, &decoded),
        ssim: ssim(&r.rgba, &decoded, r.w as usize, r.h as usize),
        ss2,
    }
}

/// (metric, ln bytes) sorted by metric, keeping only points that improve on the metric as the
/// bytes grow (the curve's upper envelope), so it can be interpolated.
fn curve(points: &[Point], metric: fn(&Point) -> f64) -> Vec<(f64, f64)> {
    let mut by_bytes: Vec<&Point> = points.iter().collect();
    by_bytes.sort_by_key(|p| p.bytes);
    let mut out: Vec<(f64, f64)> = Vec::new();
    for p in by_bytes {
        let m = metric(p);
        if out.last().is_none_or(|&(last, _)| m > last) {
            out.push((m, (p.bytes as f64).ln()));
        }
    }
    out
}

fn interpolate(c: &[(f64, f64)], m: f64) -> Option<f64> {
    c.windows(2).find_map(|w| {
        let ((m0, b0), (m1, b1)) = (w[0], w[1]);
        (m >= m0 && m <= m1).then(|| b0 + (b1 - b0) * (m - m0) / (m1 - m0))
    })
}

/// Mean bytes ratio (ours / reference) over the metric range both cover, and that range.
fn bd_ratio(ours: &[(f64, f64)], reference: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let lo = ours.first()?.0.max(reference.first()?.0);
    let hi = ours.last()?.0.min(reference.last()?.0);
    if hi <= lo {
        return None;
    }
    let steps = 400;
    let mut sum = 0.0;
    for i in 0..=steps {
        let m = lo + (hi - lo) * i as f64 / steps as f64;
        sum += interpolate(ours, m)? - interpolate(reference, m)?;
    }
    Some(((sum / (steps + 1) as f64).exp(), lo, hi))
}

fn ratio_at(ours: &[(f64, f64)], reference: &[(f64, f64)], m: f64) -> Option<f64> {
    Some((interpolate(ours, m)? - interpolate(reference, m)?).exp())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// The pictures of index.json: (name, width, height, jsquash's median q85 time in ms). A plain
/// scan of the file as rate-quality.mjs writes it, one key a line: no JSON parser needed.
fn pictures(index: &str) -> Vec<(String, u32, u32, Option<f64>)> {
    let value = |line: &str, key: &str| {
        let rest = line.trim().strip_prefix(&format!("\"{key}\":"))?;
        Some(
            rest.trim()
                .trim_end_matches(',')
                .trim_matches('"')
                .to_string(),
        )
    };
    let mut out: Vec<(String, u32, u32, Option<f64>)> = Vec::new();
    for line in index.lines() {
        if let Some(name) = value(line, "name") {
            out.push((name, 0, 0, None));
        } else if let Some(last) = out.last_mut() {
            if let Some(v) = value(line, "width") {
                last.1 = v.parse().unwrap_or(0);
            } else if let Some(v) = value(line, "height") {
                last.2 = v.parse().unwrap_or(0);
            } else if let Some(v) = value(line, "jsquashQ85MedianMs") {
                last.3 = v.parse().ok();
            }
        }
    }
    out
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "   —  ".into(), |r| format!("×{r:.3}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let show_curves = args.iter().any(|a| a == "--curves");
    // `--time`: only the q85 encode times (for profiling), 50 runs each.
    let time_only = args.iter().any(|a| a == "--time");
    let mut filters: Vec<String> = Vec::new();
    let mut picture_filters: Vec<String> = Vec::new();
    let mut view: Option<u8> = None;
    let mut crop: Option<[u32; 4]> = None;
    let mut extra: Vec<Variant> = Vec::new();
    let mut json_file: Option<String> = None;
    let mut rows: Vec<serde_json::Value> = Vec::new();
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--picture" => picture_filters.extend(rest.next().cloned()),
            "--view" => view = rest.next().and_then(|q| q.parse().ok()),
            "--json" => json_file = rest.next().cloned(),
            "--crop" => {
                let v: Vec<u32> = rest
                    .next()
                    .map(|c| c.split(',').filter_map(|n| n.parse().ok()).collect())
                    .unwrap_or_default();
                crop = v.try_into().ok();
            }
            "--ours" => {
                if let Some(spec) = rest.next() {
                    extra.push(custom(spec));
                    filters.push(format!("ours {spec}"));
                }
            }
            _ if a.starts_with("--") => {}
            _ => filters.push(a.clone()),
        }
    }
    if filters.is_empty() {
        filters.push("tracksnap".into());
    }
    let dir = Path::new("out/rq");
    let index = fs::read_to_string(dir.join("index.json"))
        .unwrap_or_else(|_| panic!("no out/rq/index.json: run node www/measure/rate-quality.mjs"));
    // `--coarse`: every 6th quality from 42 (jsquash's range and a little below), for quick
    // comparisons while tuning; SSIMULACRA2 costs ~2 s a point at 1080p.
    let sweep: Vec<u8> = if args.iter().any(|a| a == "--coarse") {
        (42..=96).step_by(6).chain([85]).collect()
    } else {
        (30..=98).step_by(4).chain([85]).collect()
    };
    let mut all = variants();
    all.extend(extra);
    let chosen: Vec<&Variant> = all
        .iter()
        .filter(|v| {
            filters
                .iter()
                .any(|f| f == "all" || v.name.contains(f.as_str()))
        })
        .collect();

    for (name, w, h, jsquash_ms) in pictures(&index) {
        if !picture_filters.is_empty() && !picture_filters.iter().any(|f| name.contains(f.as_str()))
        {
            continue;
        }
        let rgba = fs::read(dir.join(format!("{name}.rgba")))
            .unwrap_or_else(|e| panic!("{name}.rgba: {e}"));
        let r = Reference {
            linear: linear(&rgba, w, h),
            rgba,
            w,
            h,
        };
        if time_only {
            for v in &chosen {
                let mut out = Vec::new();
                let ms: Vec<f64> = (0..50)
                    .map(|_| {
                        let t0 = Instant::now();
                        (v.encode)(&r.rgba, w, h, 85, &mut out);
                        t0.elapsed().as_secs_f64() * 1e3
                    })
                    .collect();
                println!(
                    "{name} {:<40} {:.1} ms, {} B",
                    v.name,
                    median(ms),
                    out.len()
                );
            }
            continue;
        }
        if let Some(q) = view {
            let view_dir = dir.join("view");
            fs::create_dir_all(&view_dir).unwrap_or_else(|e| panic!("{e}"));
            let mut files: Vec<(String, Vec<u8>)> = Vec::new();
            let jsquash = dir.join(format!("{name}/jsquash-q{q}.jpg"));
            if let Ok(jpeg) = fs::read(&jsquash) {
                files.push(("jsquash".into(), jpeg));
            }
            for v in &chosen {
                let mut out = Vec::new();
                (v.encode)(&r.rgba, w, h, q, &mut out);
                files.push((v.name.replace(' ', "_"), out));
            }
            let [x, y, cw, ch] = crop.unwrap_or([0, 0, w, h]);
            if let Some(img) = image::RgbaImage::from_raw(w, h, r.rgba.clone()) {
                let file = view_dir.join(format!("{name}-reference.png"));
                let img = image::imageops::crop_imm(&img, x, y, cw, ch).to_image();
                img.save(&file)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            }
            for (label, jpeg) in files {
                let p = measure(&r, q, &jpeg);
                let file = view_dir.join(format!("{name}-{label}-q{q}.png"));
                let img = image::RgbaImage::from_raw(w, h, decode_rgba(&jpeg))
                    .unwrap_or_else(|| panic!("{label}: not {w}×{h}"));
                let img = image::imageops::crop_imm(&img, x, y, cw, ch).to_image();
                img.save(&file)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                println!(
                    "wrote {} ({} B, {:.2} dB, SSIM {:.4}, SSIMULACRA2 {:.2})",
                    file.display(),
                    p.bytes,
                    p.psnr,
                    p.ssim,
                    p.ss2
                );
            }
            continue;
        }
        // The size-first files at one quality per subsampling, for
        // `node www/measure/decode-check.mjs` (Chromium's decoder).
        for q in [50u8, 85, 95] {
            let mut out = Vec::new();
            api(true)(&r.rgba, w, h, q, &mut out);
            let file = dir.join(format!("{name}/sizefirst-q{q}.jpg"));
            fs::write(&file, &out).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
        let refs = |kind: &str| -> Vec<Point> {
            REF_QUALITIES
                .iter()
                .map(|&q| {
                    let jpeg = fs::read(dir.join(format!("{name}/{kind}-q{q}.jpg")))
                        .unwrap_or_else(|e| panic!("{kind} q{q}: {e}"));
                    measure(&r, q, &jpeg)
                })
                .collect()
        };
        let jsquash = refs("jsquash");
        let toblob = refs("toblob");
        let Some(q85) = jsquash.iter().find(|p| p.quality == 85).copied() else {
            panic!("no jsquash q85");
        };
        let ref_curves = METRICS.map(|(_, m)| curve(&jsquash, m));
        println!(
            "\n== {name}: jsquash q85 {} B, PSNR {:.2} dB, SSIM {:.4}, SSIMULACRA2 {:.2}, {} ms in Chromium ==",
            q85.bytes,
            q85.psnr,
            q85.ssim,
            q85.ss2,
            jsquash_ms.map_or("?".into(), |t| format!("{t:.0}"))
        );
        println!(
            "{:<36} {:>7} {:>7} {:>7} {:>9} {:>9} {:>9} {:>7} {:>6}",
            "encoder",
            "BD PSNR",
            "BD SSIM",
            "BD SS2",
            "@q85 PSNR",
            "@q85 SSIM",
            "@q85 SS2",
            "ms q85",
            "×time"
        );
        let report = |label: &str, points: &[Point], ms: Option<f64>| {
            let curves = METRICS.map(|(_, m)| curve(points, m));
            let bd: Vec<Option<(f64, f64, f64)>> = curves
                .iter()
                .zip(&ref_curves)
                .map(|(c, r)| bd_ratio(c, r))
                .collect();
            let at: Vec<Option<f64>> = curves
                .iter()
                .zip(&ref_curves)
                .zip(METRICS)
                .map(|((c, r), (_, m))| ratio_at(c, r, m(&q85)))
                .collect();
            let bd_text = |i: usize| fmt_ratio(bd.get(i).copied().flatten().map(|b| b.0));
            let at_text = |i: usize| fmt_ratio(at.get(i).copied().flatten());
            println!(
                "{:<36} {:>7} {:>7} {:>7} {:>9} {:>9} {:>9} {:>7} {:>6}",
                label,
                bd_text(0),
                bd_text(1),
                bd_text(2),
                at_text(0),
                at_text(1),
                at_text(2),
                ms.map_or("—".into(), |t| format!("{t:.1}")),
                ms.zip(jsquash_ms)
                    .map_or("—".into(), |(t, j)| format!("{:.3}", t / j)),
            );
            if show_curves {
                for ((metric, _), b) in METRICS.iter().zip(&bd) {
                    if let Some((_, lo, hi)) = b {
                        println!("    BD {metric} over {lo:.4}–{hi:.4}");
                    }
                }
                for p in points {
                    println!(
                        "    q{:<3} {:>8} B  {:.3} dB  {:.5}  {:.2}",
                        p.quality, p.bytes, p.psnr, p.ssim, p.ss2
                    );
                }
            }
            // The BD ratios, for `--json`.
            bd.iter().map(|b| b.map(|b| b.0)).collect::<Vec<_>>()
        };
        report("jsquash (reference)", &jsquash, None);
        report("Chromium toBlob", &toblob, None);
        let mut summary: BTreeMap<String, Vec<Point>> = BTreeMap::new();
        for v in &chosen {
            let mut out = Vec::new();
            let points: Vec<Point> = sweep
                .iter()
                .map(|&q| {
                    (v.encode)(&r.rgba, w, h, q, &mut out);
                    measure(&r, q, &out)
                })
                .collect();
            (v.encode)(&r.rgba, w, h, 85, &mut out);
            let ms = median(
                (0..TIMING_RUNS)
                    .map(|_| {
                        let t0 = Instant::now();
                        (v.encode)(&r.rgba, w, h, 85, &mut out);
                        t0.elapsed().as_secs_f64() * 1e3
                    })
                    .collect(),
            );
            let bd = report(&v.name, &points, Some(ms));
            let bd = |i: usize| bd.get(i).copied().flatten();
            rows.push(serde_json::json!({
                "picture": name, "width": w, "height": h, "encoder": v.name,
                "bdPsnr": bd(0), "bdSsim": bd(1), "bdSsimulacra2": bd(2),
                "msQ85": ms, "jsquashQ85MsChromium": jsquash_ms,
            }));
            summary.insert(v.name.clone(), points);
        }
    }
    if let Some(file) = json_file {
        let text = serde_json::json!({ "sweep": sweep, "rows": rows }).to_string();
        fs::write(&file, text).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}
