//! Watermarks composited into RGBA pixels and 4:2:0 planes (where they land, opacity,
//! transparency, clipping, the colours a decoder sees), and their text templates.
#![cfg(not(target_arch = "wasm32"))]

use tracksnap::core::encode::ImageFormat;
use tracksnap::core::naming::ImageFacts;
use tracksnap::core::stream::StreamType;
use tracksnap::core::watermark::{
    composite_rgba, composite_yuv420, margin, Corner, Overlay, Placing, TextFacts, WatermarkText,
    MAX_TEXT_CHARS,
};
use tracksnap::core::yuv::{
    chroma_size, yuv420_to_rgba, ChromaLayout, Yuv420, YuvColor, YuvMatrix,
};

const GREY: [u8; 4] = [100, 110, 120, 255];
const RED: [u8; 4] = [230, 20, 30, 255];

fn image(w: u32, h: u32, px: [u8; 4]) -> Vec<u8> {
    px.repeat((w * h) as usize)
}

fn overlay_of(w: u32, h: u32, px: [u8; 4]) -> Vec<u8> {
    image(w, h, px)
}

fn at(rgba: &[u8], w: u32, x: u32, y: u32) -> [u8; 4] {
    let i = ((y * w + x) * 4) as usize;
    [rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]]
}

fn placing(corner: Corner, opacity: f64) -> Placing {
    Placing { corner, opacity }
}

/// The image rectangle a `ow × oh` overlay covers in each corner of a `w × h` image.
fn expected_area(corner: Corner, (w, h): (u32, u32), (ow, oh): (u32, u32)) -> (u32, u32) {
    let m = margin((w, h));
    let x = if matches!(corner, Corner::TopRight | Corner::BottomRight) {
        w - m - ow
    } else {
        m
    };
    let y = if matches!(corner, Corner::BottomLeft | Corner::BottomRight) {
        h - m - oh
    } else {
        m
    };
    (x, y)
}

#[test]
fn each_corner_gets_the_mark_and_nothing_else_changes() {
    let (w, h) = (64, 48);
    let mark = overlay_of(10, 6, RED);
    let overlay = Overlay::new(&mark, 10, 6).unwrap();
    for corner in Corner::ALL {
        let mut img = image(w, h, GREY);
        composite_rgba(&mut img, (w, h), &overlay, placing(corner, 1.0)).unwrap();
        let (x0, y0) = expected_area(corner, (w, h), (10, 6));
        for y in 0..h {
            for x in 0..w {
                let inside = (x0..x0 + 10).contains(&x) && (y0..y0 + 6).contains(&y);
                let want = if inside { RED } else { GREY };
                assert_eq!(at(&img, w, x, y), want, "{corner:?} ({x}, {y})");
            }
        }
        assert_eq!(Corner::parse(corner.as_str()), Some(corner));
    }
    assert_eq!(Corner::default(), Corner::BottomRight);
    assert_eq!(Corner::parse("middle"), None);
}

#[test]
fn opacity_and_alpha_blend() {
    let (w, h) = (40, 40);
    let overlay_px = overlay_of(4, 4, [200, 0, 0, 255]);
    let overlay = Overlay::new(&overlay_px, 4, 4).unwrap();
    let under = [0, 100, 0, 255];
    // Opacity 0 leaves every byte as it was.
    let mut img = image(w, h, under);
    composite_rgba(&mut img, (w, h), &overlay, placing(Corner::TopLeft, 0.0)).unwrap();
    assert_eq!(img, image(w, h, under));
    // Half: halfway between the two colours.
    composite_rgba(&mut img, (w, h), &overlay, placing(Corner::TopLeft, 0.5)).unwrap();
    assert_eq!(at(&img, w, 2, 2), [100, 50, 0, 255]);
    // A transparent overlay pixel leaves its image pixel alone; half alpha blends halfway.
    let mut px = overlay_of(2, 1, [200, 0, 0, 0]);
    px[7] = 128;
    let overlay = Overlay::new(&px, 2, 1).unwrap();
    let mut img = image(w, h, under);
    composite_rgba(&mut img, (w, h), &overlay, placing(Corner::TopLeft, 1.0)).unwrap();
    assert_eq!(at(&img, w, 2, 2), under);
    assert_eq!(at(&img, w, 3, 2), [100, 50, 0, 255]);
}

#[test]
fn an_overlay_larger_than_the_image_is_clipped() {
    let (w, h) = (8, 6);
    let px = overlay_of(30, 20, RED);
    let overlay = Overlay::new(&px, 30, 20).unwrap();
    for corner in Corner::ALL {
        let mut img = image(w, h, GREY);
        composite_rgba(&mut img, (w, h), &overlay, placing(corner, 1.0)).unwrap();
        let red = img.chunks(4).filter(|p| *p == RED).count();
        // The margin stays on the near sides; everything else is covered.
        assert_eq!(red, ((w - 2) * (h - 2)) as usize, "{corner:?}");
    }
    let mut frame = vec![16u8; (w * h + 2 * 4 * 3) as usize];
    composite_yuv420(
        &mut frame,
        (w, h),
        ChromaLayout::I420,
        YuvColor::default(),
        &overlay,
        placing(Corner::BottomRight, 1.0),
    )
    .unwrap();
}

#[test]
fn sizes_that_do_not_match_are_errors() {
    assert!(Overlay::new(&[0; 15], 2, 2).is_err());
    let px = overlay_of(2, 2, RED);
    let overlay = Overlay::new(&px, 2, 2).unwrap();
    let mut img = vec![0; 10];
    assert!(composite_rgba(&mut img, (4, 4), &overlay, placing(Corner::TopLeft, 1.0)).is_err());
    assert!(composite_yuv420(
        &mut img,
        (4, 4),
        ChromaLayout::Nv12,
        YuvColor::JFIF,
        &overlay,
        placing(Corner::TopLeft, 1.0)
    )
    .is_err());
}

#[test]
fn rgb_to_yuv_codes() {
    let limited = YuvColor::default();
    assert_eq!(limited.from_rgb([255, 255, 255]), [235, 128, 128]);
    assert_eq!(limited.from_rgb([0, 0, 0]), [16, 128, 128]);
    assert_eq!(YuvColor::JFIF.from_rgb([255, 255, 255]), [255, 128, 128]);
    assert_eq!(YuvColor::JFIF.from_rgb([0, 0, 0]), [0, 128, 128]);
    // BT.601 full-range red, as JPEG's own transform gives it.
    assert_eq!(YuvColor::JFIF.from_rgb([255, 0, 0]), [76, 85, 255]);
}

/// A 4:2:0 frame of one colour, in `color`.
fn flat_frame(w: u32, h: u32, color: YuvColor, rgb: [u8; 3], layout: ChromaLayout) -> Vec<u8> {
    let [y, u, v] = color.from_rgb(rgb);
    let (cw, ch) = chroma_size(w, h);
    let mut f = vec![y; (w * h) as usize];
    match layout {
        ChromaLayout::I420 => {
            f.extend(std::iter::repeat_n(u, (cw * ch) as usize));
            f.extend(std::iter::repeat_n(v, (cw * ch) as usize));
        }
        ChromaLayout::Nv12 => {
            for _ in 0..cw * ch {
                f.extend([u, v]);
            }
        }
    }
    f
}

#[test]
fn in_the_planes_the_mark_decodes_to_its_colour() {
    let colors = [
        YuvColor::default(),
        YuvColor::JFIF,
        YuvColor {
            matrix: YuvMatrix::Bt709,
            full_range: false,
        },
    ];
    // Odd sizes too: the last chroma cells hold fewer than four pixels.
    for (w, h) in [(64, 48), (63, 47)] {
        for color in colors {
            for layout in [ChromaLayout::I420, ChromaLayout::Nv12] {
                for corner in Corner::ALL {
                    let mut frame = flat_frame(w, h, color, [100, 110, 120], layout);
                    let px = overlay_of(12, 8, RED);
                    let overlay = Overlay::new(&px, 12, 8).unwrap();
                    composite_yuv420(
                        &mut frame,
                        (w, h),
                        layout,
                        color,
                        &overlay,
                        placing(corner, 1.0),
                    )
                    .unwrap();
                    let mut rgba = Vec::new();
                    yuv420_to_rgba(Yuv420::new(&frame, w, h, layout).unwrap(), color, &mut rgba)
                        .unwrap();
                    let (x0, y0) = expected_area(corner, (w, h), (12, 8));
                    let what = format!("{w}×{h} {color:?} {layout:?} {corner:?}");
                    // Inside, away from the cells it shares with the image: the overlay's colour.
                    for (x, y) in [(x0 + 2, y0 + 2), (x0 + 9, y0 + 5)] {
                        let got = at(&rgba, w, x, y);
                        for c in 0..3 {
                            assert!(got[c].abs_diff(RED[c]) <= 3, "{what}: ({x}, {y}) {got:?}");
                        }
                    }
                    // The opposite corner keeps the image's colour.
                    let (fx, fy) = (
                        if x0 > w / 2 { 1 } else { w - 2 },
                        if y0 > h / 2 { 1 } else { h - 2 },
                    );
                    let got = at(&rgba, w, fx, fy);
                    for (c, want) in [100u8, 110, 120].into_iter().enumerate() {
                        assert!(got[c].abs_diff(want) <= 3, "{what}: far corner {got:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn texts_render_their_placeholders() {
    let facts = TextFacts {
        // 2026-12-07 16:30:05.250 UTC
        unix_ms: 1_796_661_005_250,
        uid: "1001",
        stream_type: StreamType::Sub,
        path: "notes/board.jpg",
        task: None,
    };
    let t = WatermarkText::parse(
        "课堂 {uid}/{streamType} {utc} · {date} {time} {path}",
        "options.watermark.text",
        false,
    )
    .unwrap();
    assert_eq!(
        t.render(&facts),
        "课堂 1001/sub 2026-12-07 16:30:05 UTC · 2026-12-07 16:30:05 notes/board.jpg"
    );
    let ids = ImageFacts {
        task_id: "t1",
        room_id: "r1",
        app_id: "a1",
        business_id: "",
        user_id: "u9",
        stream_type: StreamType::Sub,
        index: None,
        width: 320,
        height: 240,
        format: ImageFormat::Jpeg,
        unix_ms: facts.unix_ms,
        seq: 1,
    };
    let t = WatermarkText::parse(
        "{AppId}/{RoomId}/{TaskId} {UserId}{BusinessId}",
        "ImageConfig.Watermark.Text",
        true,
    )
    .unwrap();
    assert_eq!(
        t.render(&TextFacts {
            task: Some(&ids),
            ..facts
        }),
        "a1/r1/t1 u9"
    );
    assert_eq!(
        WatermarkText::parse("no fields", "x", false)
            .unwrap()
            .render(&facts),
        "no fields"
    );
}

#[test]
fn bad_texts_say_why() {
    let long = "字".repeat(MAX_TEXT_CHARS + 1);
    for (text, task, says) in [
        (
            "{RoomId}",
            false,
            "options.watermark.text has an unknown placeholder {RoomId}",
        ),
        (
            "{nope}",
            true,
            "options.watermark.text has an unknown placeholder {nope}",
        ),
        (
            "a {utc",
            false,
            "options.watermark.text has a { without a closing }",
        ),
        (
            "line\nbreak",
            false,
            "options.watermark.text has a control character (U+000A)",
        ),
        (
            long.as_str(),
            false,
            "options.watermark.text is 201 characters long; at most 200",
        ),
    ] {
        let e = WatermarkText::parse(text, "options.watermark.text", task).unwrap_err();
        assert!(e.message.starts_with(says), "{text:?}: {}", e.message);
    }
    // A rendered text is cut to the limit, whatever the path it holds.
    let t = WatermarkText::parse("{path}", "x", false).unwrap();
    let path = "p".repeat(500);
    let facts = TextFacts {
        unix_ms: 0,
        uid: "u",
        stream_type: StreamType::Main,
        path: &path,
        task: None,
    };
    assert_eq!(t.render(&facts).chars().count(), MAX_TEXT_CHARS);
}

// ----- the pipeline lays it, once, on every path ------------------------------------------------

use tracksnap::core::input::{engine_options, snapshot_request, EngineOptions, WatermarkChoice};
use tracksnap::core::snapshot::{FrameInfo, Pipeline, SnapshotSpec};
use tracksnap::core::value::Value;
use tracksnap::core::watermark::Watermark;

/// A `w × h` mark whose left half is opaque white and right half transparent: mirrored, it
/// would show on the other side.
fn half_mark(w: u32, h: u32) -> Vec<u8> {
    let mut px = Vec::new();
    for _ in 0..h {
        for x in 0..w {
            px.extend(if x < w / 2 {
                [255, 255, 255, 255]
            } else {
                [0, 0, 0, 0]
            });
        }
    }
    px
}

fn decoded(bytes: &[u8]) -> image::RgbaImage {
    image::load_from_memory(bytes).unwrap().to_rgba8()
}

fn grey_frame(pipe: &mut Pipeline, (w, h): (u32, u32), yuv: bool) -> FrameInfo {
    if yuv {
        let [y, u, v] = YuvColor::default().from_rgb([GREY[0], GREY[1], GREY[2]]);
        let (cw, ch) = chroma_size(w, h);
        let (luma, chroma) = ((w * h) as usize, (cw * ch) as usize);
        let buf = pipe.input_mut(luma + 2 * chroma);
        buf[..luma].fill(y);
        buf[luma..luma + chroma].fill(u);
        buf[luma + chroma..].fill(v);
    } else {
        pipe.input_mut((w * h * 4) as usize)
            .copy_from_slice(&image(w, h, GREY));
    }
    FrameInfo::square(w, h)
}

/// A grey 64×48 frame (RGBA, or I420 planes) through the pipeline: the file's bytes.
fn encoded(pipe: &mut Pipeline, yuv: bool, spec: &SnapshotSpec) -> Vec<u8> {
    let info = grey_frame(pipe, (64, 48), yuv);
    let out = if yuv {
        pipe.process_yuv420(info, ChromaLayout::I420, YuvColor::default(), spec)
    } else {
        pipe.process(info, spec)
    };
    out.unwrap().bytes.to_vec()
}

fn shot(pipe: &mut Pipeline, yuv: bool, spec: &SnapshotSpec) -> image::RgbaImage {
    decoded(&encoded(pipe, yuv, spec))
}

#[test]
fn the_pipeline_lays_the_mark_after_the_mirror_on_every_path() {
    let mark = half_mark(16, 8);
    let corner = Corner::BottomRight;
    let (x0, y0) = expected_area(corner, (64, 48), (16, 8));
    for yuv in [false, true] {
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            for mirror in [false, true] {
                let what = format!("yuv {yuv}, {format:?}, mirror {mirror}");
                let spec = SnapshotSpec {
                    format,
                    mirror,
                    quality: 95,
                    ..SnapshotSpec::default()
                };
                let tol = if format == ImageFormat::Jpeg { 40 } else { 4 };
                let mut pipe = Pipeline::new();
                pipe.watermark_mut(16, 8, placing(corner, 1.0))
                    .unwrap()
                    .copy_from_slice(&mark);
                let img = shot(&mut pipe, yuv, &spec);
                let px = |x: u32, y: u32| img.get_pixel(x, y).0;
                let near =
                    |p: [u8; 4], want: [u8; 4]| (0..3).all(|c| p[c].abs_diff(want[c]) <= tol);
                // The white half is on the left of the mark's place, mirror or not.
                assert!(
                    near(px(x0 + 3, y0 + 4), [255, 255, 255, 255]),
                    "{what}: {:?}",
                    px(x0 + 3, y0 + 4)
                );
                assert!(
                    near(px(x0 + 12, y0 + 4), GREY),
                    "{what}: {:?}",
                    px(x0 + 12, y0 + 4)
                );
                assert!(
                    near(px(4, 4), GREY),
                    "{what}: the opposite corner {:?}",
                    px(4, 4)
                );
                // The next image has no mark unless it is laid out again.
                let next = shot(&mut pipe, yuv, &spec);
                let p = next.get_pixel(x0 + 3, y0 + 4).0;
                assert!(
                    near(p, GREY),
                    "{what}: the mark stayed for the next image: {p:?}"
                );
            }
        }
    }
}

#[test]
fn opacity_zero_gives_the_same_bytes_as_no_mark() {
    for yuv in [false, true] {
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            let spec = SnapshotSpec {
                format,
                ..SnapshotSpec::default()
            };
            let mut pipe = Pipeline::new();
            let plain = encoded(&mut pipe, yuv, &spec);
            pipe.watermark_mut(16, 8, placing(Corner::TopLeft, 0.0))
                .unwrap()
                .copy_from_slice(&half_mark(16, 8));
            let clear = encoded(&mut pipe, yuv, &spec);
            assert_eq!(plain, clear, "yuv {yuv}, {format:?}");
        }
    }
}

#[test]
fn a_mark_for_an_image_that_failed_is_not_laid_on_the_next() {
    let mut pipe = Pipeline::new();
    pipe.watermark_mut(16, 8, placing(Corner::TopLeft, 1.0))
        .unwrap()
        .copy_from_slice(&half_mark(16, 8));
    // Pixels of the wrong length: an error, and the mark goes with it.
    pipe.input_mut(10);
    assert!(pipe
        .process(FrameInfo::square(64, 48), &SnapshotSpec::default())
        .is_err());
    let img = shot(
        &mut pipe,
        false,
        &SnapshotSpec {
            format: ImageFormat::Png,
            ..SnapshotSpec::default()
        },
    );
    assert_eq!(img.get_pixel(6, 6).0, GREY);
    for (w, h) in [(0, 8), (8, 0), (20_000, 1)] {
        assert_eq!(
            pipe.watermark_mut(w, h, placing(Corner::TopLeft, 1.0))
                .unwrap_err()
                .code,
            tracksnap::core::error::Code::EncodeFailed
        );
    }
}

#[test]
fn the_output_size_is_known_before_the_pixels() {
    let spec = SnapshotSpec {
        width: 120,
        rotate: tracksnap::core::rotate::Rotation::Cw90,
        ..SnapshotSpec::default()
    };
    assert_eq!(spec.output_size((320, 240)).unwrap(), (120, 160));
    let mut pipe = Pipeline::new();
    let info = grey_frame(&mut pipe, (320, 240), false);
    let out = pipe.process(info, &spec).unwrap();
    assert_eq!((out.width, out.height), (120, 160));
}

// ----- the options ----------------------------------------------------------------------------

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

#[test]
fn a_watermark_option_has_defaults_and_names_what_is_wrong() {
    let w = Watermark::parse(&obj(&[("text", s("{uid} {utc}"))]), "options.watermark").unwrap();
    assert_eq!(w.placing, placing(Corner::BottomRight, 1.0));
    assert_eq!(w.text.as_ref().map(|t| t.as_str()), Some("{uid} {utc}"));
    assert!(!w.image);
    let logo = Watermark::parse(
        &obj(&[
            ("image", Value::Object(vec![])),
            ("position", s("top-left")),
            ("opacity", Value::Number(0.25)),
        ]),
        "options.watermark",
    )
    .unwrap();
    assert!(logo.image && logo.text.is_none());
    assert_eq!(logo.placing, placing(Corner::TopLeft, 0.25));
    for (v, says) in [
        (Value::Number(5.0), "options.watermark must be an object"),
        (obj(&[]), "options.watermark needs a text or an image"),
        (
            obj(&[("text", s(""))]),
            "options.watermark.text must be a non-empty string",
        ),
        (
            obj(&[("text", s("{TaskId}"))]),
            "unknown placeholder {TaskId}",
        ),
        (
            obj(&[("text", s("x")), ("position", s("centre"))]),
            "options.watermark.position must be",
        ),
        (
            obj(&[("text", s("x")), ("opacity", Value::Number(f64::NAN))]),
            "got NaN",
        ),
        (
            obj(&[("text", s("x")), ("opacity", Value::Number(1.5))]),
            "from 0 to 1",
        ),
    ] {
        let e = Watermark::parse(&v, "options.watermark").unwrap_err();
        assert!(e.message.contains(says), "{:?}: {}", v, e.message);
    }
    // A task's: text only, with the task's placeholders.
    let t = Watermark::parse_task(&obj(&[
        ("Text", s("{TaskId}")),
        ("Position", s("top-right")),
    ]))
    .unwrap();
    assert_eq!(t.placing.corner, Corner::TopRight);
    for (v, says) in [
        (
            obj(&[("Text", s("x")), ("Image", Value::Object(vec![]))]),
            "ImageConfig.Watermark.Image is not a task's",
        ),
        (
            obj(&[("Opacity", Value::Number(0.5))]),
            "ImageConfig.Watermark needs a Text",
        ),
    ] {
        let e = Watermark::parse_task(&v).unwrap_err();
        assert!(e.message.contains(says), "{}", e.message);
    }
}

#[test]
fn a_request_takes_the_engines_watermark_its_own_or_none() {
    let options = engine_options(&obj(&[("watermark", obj(&[("text", s("engine"))]))])).unwrap();
    assert!(options.watermark.is_some());
    assert_eq!(EngineOptions::default().watermark, None);
    let req = |w: Option<Value>| {
        let mut pairs = vec![("streamType", s("main"))];
        if let Some(w) = w {
            pairs.push(("watermark", w));
        }
        snapshot_request(&obj(&pairs), &options).unwrap().watermark
    };
    assert_eq!(req(None), WatermarkChoice::Engine);
    assert_eq!(req(Some(Value::Null)), WatermarkChoice::Off);
    assert!(matches!(
        req(Some(obj(&[("text", s("own"))]))),
        WatermarkChoice::Own(_)
    ));
}
