//! Frames turned by quarter turns ([`rotate_yuv420`]): luma and chroma each turned as a plane
//! of its own, so a 4:2:0 frame stays 4:2:0 and is never converted to turn it.

use super::frame::{chroma_size, encode_failed, plane_len, yuv420_len, Chroma, Yuv420};
use crate::core::error::Result;
use crate::core::rotate::{rotate_into, Rotation};

/// Turns a 4:2:0 frame clockwise by `rotation` into `out`: a tightly packed frame of the
/// turned size in the same layout (I420's U and V each turned, NV12's U, V pairs turned
/// whole), ready for scaling and encoding as any frame.
///
/// A 4:2:0 grid starts at the picture's top-left corner. Along an odd side the last chroma
/// cells cover one pixel, not two; when the turn brings that edge to the top or the left, the
/// turned cells sit one pixel off the luma they came with along that side: half a chroma
/// sample, the precision of 4:2:0 itself.
pub fn rotate_yuv420<'o>(
    planes: Yuv420<'_>,
    rotation: Rotation,
    out: &'o mut Vec<u8>,
) -> Result<Yuv420<'o>> {
    let (w, h) = (planes.width, planes.height);
    let (tw, th) = rotation.size((w, h));
    let layout = planes.layout();
    let (len, luma) = match (yuv420_len(tw, th, layout), plane_len(tw, th)) {
        (Some(len), Some(luma)) if luma > 0 && luma <= len => (len, luma),
        _ => return Err(encode_failed(format!("cannot turn a {w}×{h} frame"))),
    };
    out.clear();
    out.resize(len, 0);
    let (y_out, c_out) = out.split_at_mut(luma);
    rotate_into::<1>(planes.y, (w, h), rotation, y_out)?;
    // The turned frame's chroma is the source's chroma turned: ⌈h/2⌉ × ⌈w/2⌉ cells.
    let cells = chroma_size(w, h);
    match planes.chroma {
        Chroma::Planar { u, v } => {
            let (u_out, v_out) = c_out.split_at_mut(c_out.len() / 2);
            rotate_into::<1>(u, cells, rotation, u_out)?;
            rotate_into::<1>(v, cells, rotation, v_out)?;
        }
        Chroma::Interleaved(uv) => rotate_into::<2>(uv, cells, rotation, c_out)?,
    }
    Yuv420::new(out, tw, th, layout).map_err(|e| encode_failed(e.message))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::core::yuv::ChromaLayout;

    /// A `w × h` frame whose samples name their place: luma x + 16·y, U 100 + cx + 8·cy,
    /// V 200 + cx + 8·cy (sides below 16).
    fn labelled(w: u32, h: u32, layout: ChromaLayout) -> Vec<u8> {
        let (cw, ch) = chroma_size(w, h);
        let mut v: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x + 16 * y) as u8))
            .collect();
        let u = |cx: u32, cy: u32| (100 + cx + 8 * cy) as u8;
        let vv = |cx: u32, cy: u32| (200 + cx + 8 * cy) as u8;
        let cells = || (0..ch).flat_map(move |cy| (0..cw).map(move |cx| (cx, cy)));
        match layout {
            ChromaLayout::I420 => {
                v.extend(cells().map(|(x, y)| u(x, y)));
                v.extend(cells().map(|(x, y)| vv(x, y)));
            }
            ChromaLayout::Nv12 => v.extend(cells().flat_map(|(x, y)| [u(x, y), vv(x, y)])),
        }
        v
    }

    fn chroma_at(f: &Yuv420<'_>, (cx, cy): (u32, u32)) -> (u8, u8) {
        let cw = chroma_size(f.width, f.height).0 as usize;
        let (cx, cy) = (cx as usize, cy as usize);
        match f.chroma {
            Chroma::Planar { u, v } => (u[cy * cw + cx], v[cy * cw + cx]),
            Chroma::Interleaved(uv) => (uv[(cy * cw + cx) * 2], uv[(cy * cw + cx) * 2 + 1]),
        }
    }

    #[test]
    fn luma_and_chroma_planes_turn_each_on_its_own_grid() {
        let mut out = Vec::new();
        for layout in [ChromaLayout::I420, ChromaLayout::Nv12] {
            for (w, h) in [
                (1, 1),
                (2, 2),
                (4, 2),
                (5, 3),
                (3, 5),
                (7, 7),
                (6, 9),
                (15, 14),
            ] {
                let data = labelled(w, h, layout);
                let src = Yuv420::new(&data, w, h, layout).unwrap();
                for r in Rotation::ALL {
                    let what = format!("{layout:?} {w}×{h} at {r:?}");
                    let turned = rotate_yuv420(src, r, &mut out).unwrap();
                    let (tw, th) = r.size((w, h));
                    assert_eq!((turned.width, turned.height), (tw, th), "{what}");
                    assert_eq!(turned.layout(), layout, "{what}");
                    for y in 0..th {
                        for x in 0..tw {
                            let (sx, sy) = r.source_of((w, h), (x, y));
                            let got = turned.luma_row(y as usize)[x as usize];
                            assert_eq!(
                                got,
                                src.luma_row(sy as usize)[sx as usize],
                                "{what}: luma ({x}, {y})"
                            );
                        }
                    }
                    let cells = chroma_size(w, h);
                    let (tcw, tch) = r.size(cells);
                    assert_eq!(chroma_size(tw, th), (tcw, tch), "{what}: chroma size");
                    for cy in 0..tch {
                        for cx in 0..tcw {
                            let from = r.source_of(cells, (cx, cy));
                            assert_eq!(
                                chroma_at(&turned, (cx, cy)),
                                chroma_at(&src, from),
                                "{what}: chroma ({cx}, {cy})"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_left_edge_goes_to_the_top() {
        // 4×2 I420: luma rows "0 1 2 3" / "16 17 18 19"; chroma 2×1 cells.
        let data = labelled(4, 2, ChromaLayout::I420);
        let src = Yuv420::new(&data, 4, 2, ChromaLayout::I420).unwrap();
        let mut out = Vec::new();
        let t = rotate_yuv420(src, Rotation::Cw90, &mut out).unwrap();
        assert_eq!((t.width, t.height), (2, 4));
        let rows: Vec<&[u8]> = (0..4).map(|r| t.luma_row(r)).collect();
        assert_eq!(rows, [&[16, 0][..], &[17, 1], &[18, 2], &[19, 3]]);
        // Cell 0 (the left) is on top, cell 1 below it.
        assert_eq!(chroma_at(&t, (0, 0)), (100, 200));
        assert_eq!(chroma_at(&t, (0, 1)), (101, 201));
    }
}
