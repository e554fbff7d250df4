//! A 4:2:0 frame as RGBA, for PNG: the frame's own matrix and range, and colours outside the
//! gamut drawn as the JPEG path draws them.

use super::colour::{at, to_u8, RgbTables, ToJfif, YuvColor};
use super::frame::{encode_failed, plane_len, uv_pairs, ChromaRow, Yuv420};
use super::gamut::Drawing;
use crate::core::error::Result;

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
