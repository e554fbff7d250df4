//! PNG files of 8-bit RGB pixels: the bytes the `png` crate (0.18, through `image`'s
//! `PngEncoder` with `CompressionType::Fast` and `FilterType::Adaptive`) wrote, without the
//! crates. Each row takes the filter of Up, Sub, Average and Paeth whose output has the
//! smallest sum of absolute values (ties to the later one); the rows are compressed by
//! `fdeflate`, or stored when that would be larger; one IDAT chunk; no other chunks.
//!
//! Written here because `png` links its other compressor (`flate2` and `miniz_oxide`, 20 kB of
//! wasm never run) and `crc32fast`'s 16 kB of CRC tables, which gzip cannot shrink: the tables
//! here are made on first use. The filters follow `png`'s `src/filter/mod.rs` (MIT or
//! Apache-2.0). A test compares the bytes with the `image` crate's encoder.

use std::io::Cursor;
use std::sync::OnceLock;

use fdeflate::{Compressor, StoredOnlyCompressor};

use super::error::{Code, Error, Result};

/// Bytes per pixel.
const BPP: usize = 3;
/// The longest chunk PNG allows (2³¹ − 1 bytes), as `png` splits IDAT data.
const MAX_CHUNK: usize = (u32::MAX >> 1) as usize;

/// Writes `rgb` (`width × height` pixels, 3 bytes each) as a PNG file at the end of `out`.
pub fn encode_rgb(rgb: &[u8], width: u32, height: u32, out: &mut Vec<u8>) -> Result<()> {
    let row_len = (width as usize).saturating_mul(BPP);
    if width == 0 || height == 0 || row_len.checked_mul(height as usize) != Some(rgb.len()) {
        return Err(failed(format!(
            "{} bytes do not make a {width}×{height} RGB image",
            rgb.len()
        )));
    }
    out.extend_from_slice(&[137, 80, 78, 71, 13, 10, 26, 10]);
    let mut header = [0; 13];
    header[..4].copy_from_slice(&width.to_be_bytes());
    header[4..8].copy_from_slice(&height.to_be_bytes());
    // 8 bits a sample, RGB; deflate, adaptive filtering, not interlaced.
    header[8] = 8;
    header[9] = 2;
    write_chunk(out, *b"IHDR", &header);

    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"IDAT");
    let rows = rgb.chunks_exact(row_len);
    let zeros = vec![0; row_len];
    let mut line = vec![0; row_len + 1];
    let mut deflate = Compressor::new(&mut *out).map_err(io)?;
    let mut previous = zeros.as_slice();
    for row in rows.clone() {
        if let Some((kind, filtered)) = line.split_first_mut() {
            *kind = adaptive_filter(previous, row, filtered);
        }
        deflate.write_data(&line).map_err(io)?;
        previous = row;
    }
    deflate.finish().map_err(io)?;
    let stored = StoredOnlyCompressor::<()>::compressed_size((row_len + 1) * height as usize);
    if out.len() - start - 8 > stored {
        // Noise: storing the rows unfiltered is smaller.
        out.truncate(start + 8);
        let end = out.len() as u64;
        let mut cursor = Cursor::new(&mut *out);
        cursor.set_position(end);
        let mut store = StoredOnlyCompressor::new(cursor).map_err(io)?;
        for row in rows {
            store.write_data(&[0]).map_err(io)?;
            store.write_data(row).map_err(io)?;
        }
        store.finish().map_err(io)?;
    }
    let len = out.len() - start - 8;
    if len <= MAX_CHUNK {
        if let Some(field) = out.get_mut(start..start + 4) {
            field.copy_from_slice(&(len as u32).to_be_bytes());
        }
        let crc = crc32(out.get(start + 4..).unwrap_or_default());
        out.extend_from_slice(&crc.to_be_bytes());
    } else {
        let data = out.split_off(start + 8);
        out.truncate(start);
        for chunk in data.chunks(MAX_CHUNK) {
            write_chunk(out, *b"IDAT", chunk);
        }
    }
    write_chunk(out, *b"IEND", &[]);
    Ok(())
}

fn write_chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(&kind);
    out.extend_from_slice(data);
    let crc = crc32(out.get(start..).unwrap_or_default());
    out.extend_from_slice(&crc.to_be_bytes());
}

fn failed(message: String) -> Error {
    Error::new(Code::EncodeFailed, message)
}

fn io(e: std::io::Error) -> Error {
    failed(format!("PNG encoding failed: {e}"))
}

#[derive(Clone, Copy, PartialEq)]
enum Filter {
    Sub = 1,
    Up = 2,
    Avg = 3,
    Paeth = 4,
}

/// Filters `current` (below `previous`) into `out` with the filter whose output sums to the
/// least; returns the filter's number.
fn adaptive_filter(previous: &[u8], current: &[u8], out: &mut [u8]) -> u8 {
    let mut best = (u64::MAX, Filter::Up);
    for filter in [Filter::Up, Filter::Sub, Filter::Avg, Filter::Paeth] {
        apply(filter, previous, current, out);
        let cost = cost(out);
        if cost <= best.0 {
            best = (cost, filter);
            if cost == 0 {
                return filter as u8;
            }
        }
    }
    if best.1 != Filter::Paeth {
        apply(best.1, previous, current, out);
    }
    best.1 as u8
}

/// The sum of the bytes read as signed, without sign.
fn cost(bytes: &[u8]) -> u64 {
    // In chunks: a sum the compiler vectorises.
    let mut chunks = bytes.chunks_exact(32);
    let mut sum = 0;
    for chunk in &mut chunks {
        sum += u64::from(
            chunk
                .iter()
                .map(|&b| u32::from((b as i8).unsigned_abs()))
                .sum::<u32>(),
        );
    }
    let rest: u32 = chunks
        .remainder()
        .iter()
        .map(|&b| u32::from((b as i8).unsigned_abs()))
        .sum();
    sum + u64::from(rest)
}

fn apply(filter: Filter, previous: &[u8], current: &[u8], out: &mut [u8]) {
    // The first pixel's left neighbours are zero; past it, `left` is `current` a pixel back.
    let split = BPP.min(out.len());
    let (out_first, out_rest) = out.split_at_mut(split);
    let (first, rest) = current.split_at(split);
    let (above_first, above_rest) = previous.split_at(split);
    let (left, above_left) = (current, previous);
    match filter {
        Filter::Up => {
            for ((o, &x), &b) in out_first.iter_mut().zip(first).zip(above_first) {
                *o = x.wrapping_sub(b);
            }
            for ((o, &x), &b) in out_rest.iter_mut().zip(rest).zip(above_rest) {
                *o = x.wrapping_sub(b);
            }
        }
        Filter::Sub => {
            out_first.copy_from_slice(first);
            for ((o, &x), &a) in out_rest.iter_mut().zip(rest).zip(left) {
                *o = x.wrapping_sub(a);
            }
        }
        Filter::Avg => {
            for ((o, &x), &b) in out_first.iter_mut().zip(first).zip(above_first) {
                *o = x.wrapping_sub(b / 2);
            }
            for (((o, &x), &a), &b) in out_rest.iter_mut().zip(rest).zip(left).zip(above_rest) {
                *o = x.wrapping_sub((a & b) + ((a ^ b) >> 1));
            }
        }
        Filter::Paeth => {
            for ((o, &x), &b) in out_first.iter_mut().zip(first).zip(above_first) {
                *o = x.wrapping_sub(paeth(0, b, 0));
            }
            for ((((o, &x), &a), &b), &c) in out_rest
                .iter_mut()
                .zip(rest)
                .zip(left)
                .zip(above_rest)
                .zip(above_left)
            {
                *o = x.wrapping_sub(paeth(a, b, c));
            }
        }
    }
}

/// The Paeth predictor in unsigned 8-bit steps (FPNGE's form, as `png` has it).
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let pa = b.max(c) - c.min(b);
    let pb = a.max(c) - c.min(a);
    let pc = if (a < c) == (c < b) {
        pa.max(pb) - pa.min(pb)
    } else {
        255
    };
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// CRC-32 (ISO 3309, as PNG's chunks use it), sixteen bytes a step.
fn crc32(bytes: &[u8]) -> u32 {
    let tables = crc_tables();
    let [t0, ..] = tables;
    let mut crc = !0u32;
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        let mut word = [0; 16];
        word.copy_from_slice(block);
        let low = crc.to_le_bytes();
        for (w, l) in word.iter_mut().zip(low) {
            *w ^= l;
        }
        crc = word
            .iter()
            .zip(tables.iter().rev())
            .fold(0, |acc, (&w, table)| acc ^ entry(table, w));
    }
    for &byte in blocks.remainder() {
        crc = entry(t0, crc as u8 ^ byte) ^ (crc >> 8);
    }
    !crc
}

fn entry(table: &[u32; 256], index: u8) -> u32 {
    table.get(usize::from(index)).copied().unwrap_or(0)
}

/// The slicing-by-16 tables, made once (16 kB of memory, none of the module).
fn crc_tables() -> &'static [[u32; 256]; 16] {
    static TABLES: OnceLock<[[u32; 256]; 16]> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables = [[0; 256]; 16];
        let mut first = [0u32; 256];
        for (n, e) in first.iter_mut().enumerate() {
            *e = (0..8).fold(n as u32, |c, _| {
                if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            });
        }
        let mut last = first;
        for table in &mut tables {
            *table = last;
            for e in &mut last {
                *e = (*e >> 8) ^ entry(&first, *e as u8);
            }
        }
        tables
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_iso_3309() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        let long: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let bitwise = !long.iter().fold(!0u32, |c, &b| {
            (0..8).fold(c ^ u32::from(b), |c, _| {
                if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        });
        assert_eq!(crc32(&long), bitwise);
    }

    #[test]
    fn refuses_pixels_of_another_size() {
        let mut out = Vec::new();
        assert!(encode_rgb(&[0; 9], 2, 2, &mut out).is_err());
        assert!(encode_rgb(&[], 0, 0, &mut out).is_err());
        assert!(out.is_empty());
    }

    /// What `image` 0.25 (`png` 0.18) wrote before: fast compression, adaptive filters.
    fn theirs(rgb: &[u8], w: u32, h: u32) -> Vec<u8> {
        use image::codecs::png::{CompressionType, FilterType, PngEncoder};
        use image::{ExtendedColorType, ImageEncoder};
        let mut out = Vec::new();
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
            .write_image(rgb, w, h, ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    #[test]
    fn same_bytes_as_the_png_crate() {
        let mut seed = 0x2545_f491_u32;
        let mut noise = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        type Pixel = fn(u32, u32, u32, &mut dyn FnMut() -> u32) -> u8;
        let pictures: [(&str, Pixel); 5] = [
            ("flat", |_, _, c, _| [40, 200, 90][c as usize]),
            ("gradient", |x, y, c, _| (x * 3 + y * 2 + c * 50) as u8),
            ("photo", |x, y, c, n| {
                let edge = if (x / 37 + y / 23) % 2 == 0 { 60 } else { 0 };
                (x / 3 + y / 2 + c * 40 + edge + n() % 9) as u8
            }),
            ("noise", |_, _, _, n| n() as u8),
            (
                "stripes",
                |x, _, c, _| if (x / 4) % 2 == 0 { 255 } else { c as u8 * 20 },
            ),
        ];
        for (name, pixel) in pictures {
            for (w, h) in [(1, 1), (2, 3), (3, 7), (17, 5), (64, 64), (641, 359)] {
                let mut rgb = Vec::new();
                for y in 0..h {
                    for x in 0..w {
                        for c in 0..3 {
                            rgb.push(pixel(x, y, c, &mut noise));
                        }
                    }
                }
                let mut ours = vec![1, 2, 3];
                encode_rgb(&rgb, w, h, &mut ours).unwrap();
                assert_eq!(&ours[..3], &[1, 2, 3], "{name} {w}×{h}: appended");
                assert!(ours[3..] == theirs(&rgb, w, h), "{name} {w}×{h}");
            }
        }
    }
}
