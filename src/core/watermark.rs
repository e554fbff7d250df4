//! Watermarks burned into a snapshot: an overlay the browser drew (text in its own fonts, a
//! logo) composited into the image at its output size, after scaling and mirroring, on RGBA
//! pixels or straight into a camera frame's 4:2:0 planes (no detour through RGB).
//!
//! The overlay is straight-alpha RGBA, as `getImageData` hands it out. Blending is per pixel
//! for RGBA and luma; a chroma sample takes its 2×2 cell's overlay colours weighted by their
//! alpha, and the cell's mean alpha.

use super::error::{Code, Error, Result};
use super::naming::{ImageFacts, UtcTime};
use super::stream::StreamType;
use super::value::Value;
use super::yuv::{chroma_size, ChromaLayout, YuvColor};

/// The corner a watermark sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    #[default]
    BottomRight,
}

impl Corner {
    pub const ALL: [Corner; 4] = [
        Corner::TopLeft,
        Corner::TopRight,
        Corner::BottomLeft,
        Corner::BottomRight,
    ];

    /// The option's spelling: `"top-left"`, `"top-right"`, `"bottom-left"`, `"bottom-right"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Corner::TopLeft => "top-left",
            Corner::TopRight => "top-right",
            Corner::BottomLeft => "bottom-left",
            Corner::BottomRight => "bottom-right",
        }
    }

    pub fn parse(s: &str) -> Option<Corner> {
        Corner::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The corner on the other side, left for right: where an overlay goes in a picture that
    /// is mirrored after it is laid (the JPEG path of camera frames mirrors as it reads).
    pub fn mirrored(self) -> Corner {
        match self {
            Corner::TopLeft => Corner::TopRight,
            Corner::TopRight => Corner::TopLeft,
            Corner::BottomLeft => Corner::BottomRight,
            Corner::BottomRight => Corner::BottomLeft,
        }
    }

    /// Its index in [`Corner::ALL`] (how the page tells the encoder worker).
    pub fn index(self) -> u32 {
        Corner::ALL.iter().position(|c| *c == self).unwrap_or(0) as u32
    }

    pub fn from_index(i: u32) -> Option<Corner> {
        Corner::ALL.get(i as usize).copied()
    }

    /// On the right side: a watermark's lines align to it.
    pub fn right(self) -> bool {
        matches!(self, Corner::TopRight | Corner::BottomRight)
    }

    fn bottom(self) -> bool {
        matches!(self, Corner::BottomLeft | Corner::BottomRight)
    }
}

/// A drawn watermark: `width × height` straight-alpha RGBA pixels, rows tightly packed.
#[derive(Debug, Clone, Copy)]
pub struct Overlay<'a> {
    rgba: &'a [u8],
    width: u32,
    height: u32,
}

impl<'a> Overlay<'a> {
    pub fn new(rgba: &'a [u8], width: u32, height: u32) -> Result<Overlay<'a>> {
        let len = (width as usize)
            .checked_mul(height as usize)
            .and_then(|n| n.checked_mul(4));
        if len != Some(rgba.len()) {
            return Err(Error::new(
                Code::EncodeFailed,
                format!(
                    "the watermark is {width}×{height} but {} bytes of pixels were drawn",
                    rgba.len()
                ),
            ));
        }
        Ok(Overlay {
            rgba,
            width,
            height,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The overlay flipped left for right, into `out`.
    pub fn mirrored_into<'o>(&self, out: &'o mut Vec<u8>) -> Overlay<'o> {
        out.clear();
        let row = self.width as usize * 4;
        if row > 0 {
            for line in self.rgba.chunks_exact(row) {
                out.extend(line.chunks_exact(4).rev().flatten());
            }
        }
        Overlay {
            rgba: out,
            width: self.width,
            height: self.height,
        }
    }

    /// Pixel (x, y) as ([r, g, b], alpha).
    fn pixel(&self, x: u32, y: u32) -> ([u8; 3], u8) {
        let at = (y as usize * self.width as usize + x as usize) * 4;
        match self.rgba.get(at..at + 4) {
            Some(&[r, g, b, a]) => ([r, g, b], a),
            _ => ([0; 3], 0),
        }
    }
}

/// How a watermark is laid on an image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placing {
    pub corner: Corner,
    /// 0..=1: 0 leaves the image as it was.
    pub opacity: f64,
}

/// A `watermark` option, checked: what it says, whether it has a logo, and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Watermark {
    pub text: Option<WatermarkText>,
    /// An `image` was given. The web layer holds it (a Blob or an ImageBitmap) and checks
    /// its type: the core sees JavaScript values only as data.
    pub image: bool,
    pub placing: Placing,
}

impl Watermark {
    /// `options.watermark` or `request.watermark` (named `field`):
    /// `{ text?, image?, position?, opacity? }`, with at least a text or an image.
    pub fn parse(v: &Value, field: &str) -> Result<Watermark> {
        Watermark::read(v, field, ["text", "image", "position", "opacity"], false)
    }

    /// A task's `ImageConfig.Watermark`: `{ Text?, Position?, Opacity? }`. Text only (a logo
    /// is the engine's option's), with the task's placeholders too.
    pub fn parse_task(v: &Value) -> Result<Watermark> {
        let field = "ImageConfig.Watermark";
        let w = Watermark::read(v, field, ["Text", "Image", "Position", "Opacity"], true)?;
        if w.image {
            return Err(Error::invalid_param(format!(
                "{field}.Image is not a task's: a task's watermark is a text (a logo comes from the engine's watermark option)"
            )));
        }
        Ok(w)
    }

    fn read(v: &Value, field: &str, names: [&str; 4], task: bool) -> Result<Watermark> {
        let [text_name, image_name, position_name, opacity_name] = names;
        if !matches!(v, Value::Object(_)) {
            return Err(Error::invalid_param(format!(
                "{field} must be an object {{ {text_name}?, {image_name}?, {position_name}?, {opacity_name}? }} (null: none); got {}",
                v.describe()
            )));
        }
        let text = match v.get(text_name) {
            t if t.is_absent() => None,
            Value::String(s) if !s.is_empty() => Some(WatermarkText::parse(
                s,
                &format!("{field}.{text_name}"),
                task,
            )?),
            other => {
                return Err(Error::invalid_param(format!(
                    "{field}.{text_name} must be a non-empty string; got {}",
                    other.describe()
                )))
            }
        };
        let image = !v.get(image_name).is_absent();
        if text.is_none() && !image {
            return Err(Error::invalid_param(if task {
                format!("{field} needs a {text_name}")
            } else {
                format!("{field} needs a {text_name} or an {image_name}")
            }));
        }
        let corner = match v.get(position_name) {
            p if p.is_absent() => Corner::default(),
            p => match p {
                Value::String(s) => Corner::parse(s),
                _ => None,
            }
            .ok_or_else(|| {
                Error::invalid_param(format!(
                    "{field}.{position_name} must be \"top-left\", \"top-right\", \"bottom-left\" or \"bottom-right\"; got {}",
                    p.describe()
                ))
            })?,
        };
        let opacity = match v.get(opacity_name) {
            o if o.is_absent() => 1.0,
            Value::Number(n) if (0.0..=1.0).contains(n) => *n,
            other => {
                return Err(Error::invalid_param(format!(
                    "{field}.{opacity_name} must be a number from 0 to 1; got {}",
                    other.describe()
                )))
            }
        };
        Ok(Watermark {
            text,
            image,
            placing: Placing { corner, opacity },
        })
    }
}

/// The gap between a watermark and the image's edges: 2 % of the shorter side, at least 2 px.
pub fn margin((width, height): (u32, u32)) -> u32 {
    (width.min(height) / 50).max(2)
}

/// The part of the image the overlay covers: its top-left corner in the image (may be
/// negative when the overlay is larger than the image) and the covered rectangle, clipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Area {
    /// Image position of the overlay's (0, 0).
    origin: (i64, i64),
    /// Covered image pixels: x0..x1, y0..y1.
    x: (u32, u32),
    y: (u32, u32),
}

fn area(image: (u32, u32), overlay: &Overlay<'_>, corner: Corner) -> Option<Area> {
    let gap = i64::from(margin(image));
    let along = |side: u32, size: u32, far: bool| {
        let start = if far {
            i64::from(side) - gap - i64::from(size)
        } else {
            gap
        };
        let from = start.clamp(0, i64::from(side)) as u32;
        let to = (start + i64::from(size)).clamp(0, i64::from(side)) as u32;
        (start, (from, to))
    };
    let (ox, x) = along(image.0, overlay.width, corner.right());
    let (oy, y) = along(image.1, overlay.height, corner.bottom());
    (x.0 < x.1 && y.0 < y.1).then_some(Area {
        origin: (ox, oy),
        x,
        y,
    })
}

/// Opacity as a weight out of 256.
fn weight(opacity: f64) -> u32 {
    (opacity.clamp(0.0, 1.0) * 256.0).round() as u32
}

/// Full alpha: a pixel's alpha (out of 255) times the opacity's weight (out of 256).
const OPAQUE: u32 = 255 * 256;

/// `under` with `over` laid on it at `alpha` out of [`OPAQUE`].
#[inline]
fn mix(under: u8, over: u8, alpha: u32) -> u8 {
    let alpha = alpha.min(OPAQUE);
    ((u32::from(under) * (OPAQUE - alpha) + u32::from(over) * alpha + OPAQUE / 2) / OPAQUE) as u8
}

/// The overlay pixel over image pixel (x, y): its colour and its alpha out of [`OPAQUE`]
/// (opacity applied); `None` outside the overlay.
fn over(overlay: &Overlay<'_>, a: &Area, op: u32, x: u32, y: u32) -> Option<([u8; 3], u32)> {
    let ox = i64::from(x) - a.origin.0;
    let oy = i64::from(y) - a.origin.1;
    if ox < 0 || oy < 0 || ox >= i64::from(overlay.width) || oy >= i64::from(overlay.height) {
        return None;
    }
    let (rgb, alpha) = overlay.pixel(ox as u32, oy as u32);
    Some((rgb, u32::from(alpha) * op))
}

/// Lays `overlay` on `width × height` RGBA pixels as `placing` says.
pub fn composite_rgba(
    rgba: &mut [u8],
    (width, height): (u32, u32),
    overlay: &Overlay<'_>,
    placing: Placing,
) -> Result<()> {
    if Some(rgba.len()) != (width as usize * height as usize).checked_mul(4) {
        return Err(Error::new(
            Code::EncodeFailed,
            format!(
                "cannot lay a watermark on {} bytes as a {width}×{height} image",
                rgba.len()
            ),
        ));
    }
    let op = weight(placing.opacity);
    let Some(a) = area((width, height), overlay, placing.corner).filter(|_| op > 0) else {
        return Ok(());
    };
    for y in a.y.0..a.y.1 {
        for x in a.x.0..a.x.1 {
            let Some((rgb, alpha)) = over(overlay, &a, op, x, y) else {
                continue;
            };
            let at = (y as usize * width as usize + x as usize) * 4;
            if let Some(px) = rgba.get_mut(at..at + 3) {
                for (c, o) in px.iter_mut().zip(rgb) {
                    *c = mix(*c, o, alpha);
                }
            }
        }
    }
    Ok(())
}

/// Lays `overlay` on a tightly packed `width × height` 4:2:0 frame (`layout`, in `color`'s
/// matrix and range) as `placing` says.
pub fn composite_yuv420(
    frame: &mut [u8],
    (width, height): (u32, u32),
    layout: ChromaLayout,
    color: YuvColor,
    overlay: &Overlay<'_>,
    placing: Placing,
) -> Result<()> {
    let (cw, ch) = chroma_size(width, height);
    let luma_len = width as usize * height as usize;
    let chroma_len = cw as usize * ch as usize;
    if frame.len() != luma_len + 2 * chroma_len {
        return Err(Error::new(
            Code::EncodeFailed,
            format!(
                "cannot lay a watermark on {} bytes as a {width}×{height} 4:2:0 frame",
                frame.len()
            ),
        ));
    }
    let op = weight(placing.opacity);
    let Some(a) = area((width, height), overlay, placing.corner).filter(|_| op > 0) else {
        return Ok(());
    };
    let (luma, chroma) = frame.split_at_mut(luma_len);
    let yuv = |rgb| color.from_rgb(rgb);
    for y in a.y.0..a.y.1 {
        for x in a.x.0..a.x.1 {
            let Some((rgb, alpha)) = over(overlay, &a, op, x, y) else {
                continue;
            };
            if let Some(v) = luma.get_mut(y as usize * width as usize + x as usize) {
                *v = mix(*v, yuv(rgb)[0], alpha);
            }
        }
    }
    // Chroma: each cell the overlay touches, from the alpha-weighted colours of its pixels.
    for cy in a.y.0 / 2..a.y.1.div_ceil(2) {
        for cx in a.x.0 / 2..a.x.1.div_ceil(2) {
            let (mut sum_alpha, mut cb, mut cr, mut pixels) = (0u32, 0u32, 0u32, 0u32);
            for (x, y) in
                [(0, 0), (1, 0), (0, 1), (1, 1)].map(|(dx, dy)| (2 * cx + dx, 2 * cy + dy))
            {
                if x >= width || y >= height {
                    continue;
                }
                pixels += 1;
                if let Some((rgb, alpha)) = over(overlay, &a, op, x, y) {
                    let [_, u, v] = yuv(rgb);
                    sum_alpha += alpha;
                    cb += u32::from(u) * alpha;
                    cr += u32::from(v) * alpha;
                }
            }
            if sum_alpha == 0 {
                continue;
            }
            let cell_alpha = (sum_alpha + pixels / 2) / pixels.max(1);
            let mean = |s: u32| ((s + sum_alpha / 2) / sum_alpha) as u8;
            let i = cy as usize * cw as usize + cx as usize;
            let (u_at, v_at) = match layout {
                ChromaLayout::I420 => (i, chroma_len + i),
                ChromaLayout::Nv12 => (2 * i, 2 * i + 1),
            };
            for (at, value) in [(u_at, mean(cb)), (v_at, mean(cr))] {
                if let Some(c) = chroma.get_mut(at) {
                    *c = mix(*c, value, cell_alpha);
                }
            }
        }
    }
    Ok(())
}

/// The longest watermark text, in characters, template or rendered: a line on a picture, not
/// a page (a huge text is refused, not drawn past the image).
pub const MAX_TEXT_CHARS: usize = 200;

/// What a watermark's text can say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Utc,
    Date,
    Time,
    Uid,
    StreamType,
    Path,
    TaskId,
    RoomId,
    UserId,
    AppId,
    BusinessId,
}

/// Every snapshot's placeholders, then a task's.
const FIELDS: [(&str, Field); 11] = [
    ("utc", Field::Utc),
    ("date", Field::Date),
    ("time", Field::Time),
    ("uid", Field::Uid),
    ("streamType", Field::StreamType),
    ("path", Field::Path),
    ("TaskId", Field::TaskId),
    ("RoomId", Field::RoomId),
    ("UserId", Field::UserId),
    ("AppId", Field::AppId),
    ("BusinessId", Field::BusinessId),
];
/// How many of [`FIELDS`] any snapshot has; the rest are a task's.
const SNAPSHOT_FIELDS: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Field),
}

/// What one image's watermark text is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct TextFacts<'a> {
    /// Capture time, ms since the epoch.
    pub unix_ms: i64,
    /// The stream's user (`"local"` for the page's own streams).
    pub uid: &'a str,
    pub stream_type: StreamType,
    /// The image's path or key; empty when it has none.
    pub path: &'a str,
    /// A task's image: its ids (`{TaskId}` …) as its name has them.
    pub task: Option<&'a ImageFacts<'a>>,
}

/// A watermark's text, checked once: literal text and `{placeholders}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatermarkText {
    /// As given, for reports (TaskInfo).
    source: String,
    pieces: Vec<Piece>,
}

impl WatermarkText {
    /// Parses `text`, given as `field`. A task's placeholders (`{TaskId}` …) are allowed only
    /// when `task` is set; unknown ones, control characters and more than
    /// [`MAX_TEXT_CHARS`] characters are refused.
    pub fn parse(text: &str, field: &str, task: bool) -> Result<WatermarkText> {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(Error::invalid_param(format!(
                "{field} is {chars} characters long; at most {MAX_TEXT_CHARS}"
            )));
        }
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(Error::invalid_param(format!(
                "{field} has a control character (U+{:04X}); a watermark is one line",
                u32::from(c)
            )));
        }
        let known = if task {
            &FIELDS[..]
        } else {
            FIELDS.get(..SNAPSHOT_FIELDS).unwrap_or(&[])
        };
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let (before, after) = rest.split_at(open);
            if !before.is_empty() {
                pieces.push(Piece::Text(before.to_string()));
            }
            let after = after.get(1..).unwrap_or("");
            let close = after.find('}').ok_or_else(|| {
                Error::invalid_param(format!("{field} has a {{ without a closing }}"))
            })?;
            let name = after.get(..close).unwrap_or("");
            let found = known.iter().find(|(n, _)| *n == name).map(|(_, f)| *f);
            let Some(f) = found else {
                let names: Vec<String> = known.iter().map(|(n, _)| format!("{{{n}}}")).collect();
                return Err(Error::invalid_param(format!(
                    "{field} has an unknown placeholder {{{name}}}; known: {}",
                    names.join(" ")
                )));
            };
            pieces.push(Piece::Field(f));
            rest = after.get(close + 1..).unwrap_or("");
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(WatermarkText {
            source: text.to_string(),
            pieces,
        })
    }

    /// The template as it was given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The text for one image, cut to [`MAX_TEXT_CHARS`] characters. Times are UTC:
    /// `{utc}` = `2026-12-07 16:30:05 UTC`, `{date}` = `2026-12-07`, `{time}` = `16:30:05`.
    pub fn render(&self, f: &TextFacts<'_>) -> String {
        let t = UtcTime::from_unix_ms(f.unix_ms);
        let date = format!("{:04}-{:02}-{:02}", t.year, t.month, t.day);
        let time = format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
        let ids = f.task;
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(s) => out.push_str(s),
                Piece::Field(field) => out.push_str(&match field {
                    Field::Utc => format!("{date} {time} UTC"),
                    Field::Date => date.clone(),
                    Field::Time => time.clone(),
                    Field::Uid => f.uid.to_string(),
                    Field::StreamType => f.stream_type.as_str().to_string(),
                    Field::Path => f.path.to_string(),
                    Field::TaskId => ids.map_or("", |i| i.task_id).to_string(),
                    Field::RoomId => ids.map_or("", |i| i.room_id).to_string(),
                    Field::UserId => ids.map_or("", |i| i.user_id).to_string(),
                    Field::AppId => ids.map_or("", |i| i.app_id).to_string(),
                    Field::BusinessId => ids.map_or("", |i| i.business_id).to_string(),
                }),
            }
        }
        out.chars().take(MAX_TEXT_CHARS).collect()
    }
}
