//! The bytes of a JFIF file: markers and segments, and the entropy-coded bits with the
//! 0xFF 0x00 stuffing a scan needs.

use super::huffman::Table;

/// Collects bits most significant first into `out`, four bytes at a time.
pub struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    /// The last bits put, the newest lowest; only the low `count` are still to be written
    /// (the bits above them are stale and never read again).
    acc: u64,
    count: u32,
}

impl<'a> BitWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter {
            out,
            acc: 0,
            count: 0,
        }
    }

    /// Appends `n` bits (n ≤ 32); `bits` must have nothing above them. With fewer than 32
    /// bits pending before the call, the 64-bit accumulator never loses one.
    #[inline(always)]
    pub fn put(&mut self, bits: u32, n: u32) {
        self.acc = (self.acc << (n & 63)) | u64::from(bits);
        self.count += n;
        if self.count >= 32 {
            self.count -= 32;
            self.word((self.acc >> self.count) as u32);
        }
    }

    /// Writes four bytes, each 0xFF followed by the 0x00 a scan needs.
    #[inline(always)]
    fn word(&mut self, word: u32) {
        // A byte of the word is 0xFF exactly when the inverted byte is zero.
        let inverted = !word;
        if inverted.wrapping_sub(0x0101_0101) & word & 0x8080_8080 == 0 {
            self.out.extend_from_slice(&word.to_be_bytes());
        } else {
            self.bytes(word);
        }
    }

    #[cold]
    fn bytes(&mut self, word: u32) {
        for byte in word.to_be_bytes() {
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
        }
    }

    /// Writes what is pending, the last byte padded with ones as the standard asks.
    pub fn finish(self) {
        let pad = (8 - self.count % 8) % 8;
        let bits = self.count + pad;
        let tail = ((self.acc << pad) | ((1u64 << pad) - 1)) & ((1u64 << bits) - 1);
        for k in (0..bits / 8).rev() {
            let byte = (tail >> (8 * k)) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
        }
    }
}

fn marker(out: &mut Vec<u8>, m: u8) {
    out.extend_from_slice(&[0xFF, m]);
}

fn segment(out: &mut Vec<u8>, m: u8, body: &[u8]) {
    marker(out, m);
    let len = u16::try_from(body.len() + 2).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
}

pub fn start(out: &mut Vec<u8>) {
    marker(out, 0xD8);
    // APP0 JFIF 1.01, no density (aspect 1:1), no thumbnail.
    segment(out, 0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
}

/// DQT with 8-bit tables: (destination, table in zig-zag order).
pub fn quant_tables(out: &mut Vec<u8>, tables: &[(u8, &[u8; 64])]) {
    let mut body = Vec::with_capacity(tables.len() * 65);
    for &(id, t) in tables {
        body.push(id);
        body.extend_from_slice(t);
    }
    segment(out, 0xDB, &body);
}

/// A component of the frame: id, sampling factors, quantisation table.
pub struct FrameComponent {
    pub id: u8,
    pub h: u8,
    pub v: u8,
    pub table: u8,
}

/// SOF0 (baseline) or SOF2 (progressive, Huffman).
pub fn frame(
    out: &mut Vec<u8>,
    width: u16,
    height: u16,
    comps: &[FrameComponent],
    progressive: bool,
) {
    let mut body = vec![8];
    body.extend_from_slice(&height.to_be_bytes());
    body.extend_from_slice(&width.to_be_bytes());
    body.push(comps.len() as u8);
    for c in comps {
        body.extend_from_slice(&[c.id, (c.h << 4) | c.v, c.table]);
    }
    segment(out, if progressive { 0xC2 } else { 0xC0 }, &body);
}

/// DHT: (class 0 = DC / 1 = AC, destination, table).
pub fn huffman_tables(out: &mut Vec<u8>, tables: &[(u8, u8, &Table)]) {
    let mut body = Vec::new();
    for &(class, id, t) in tables {
        body.push((class << 4) | id);
        body.extend_from_slice(&t.bits);
        body.extend_from_slice(&t.values);
    }
    segment(out, 0xC4, &body);
}

/// SOS: (component id, DC table, AC table) and the band of zig-zag positions `first..=last`
/// (no successive approximation).
pub fn scan(out: &mut Vec<u8>, comps: &[(u8, u8, u8)], first: u8, last: u8) {
    let mut body = vec![comps.len() as u8];
    for &(id, dc, ac) in comps {
        body.extend_from_slice(&[id, (dc << 4) | ac]);
    }
    body.extend_from_slice(&[first, last, 0]);
    segment(out, 0xDA, &body);
}

pub fn end(out: &mut Vec<u8>) {
    marker(out, 0xD9);
}
