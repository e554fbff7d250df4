//! Numbers written into messages, as `Display` writes them, without linking its float
//! formatting (14 KB of wasm, for a few error messages): `ryu` finds the shortest digits.

/// What f64's `Display` writes: the shortest digits that read back as `n`, never an exponent,
/// integers without ".0", "NaN", "inf", "-inf". Where two shortest candidates are exactly as
/// near (1658206780088562.25), ryu takes the even one and `Display` the upper: the same
/// length, and both read back as `n`. Messages need no more.
pub fn display_f64(n: f64) -> String {
    if !n.is_finite() {
        return if n.is_nan() {
            "NaN"
        } else if n > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .into();
    }
    let mut buffer = ryu::Buffer::new();
    // ryu writes "-1.25e-7", "123.0" or "0.001": the digits and where the point goes.
    let text = buffer.format_finite(n);
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{whole}{fraction}");
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_matches('0');
    // Where the decimal point falls, counted in digits from the first of `digits`.
    let point = whole.len() as i32 + exponent - leading as i32;
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if digits.is_empty() {
        out.push('0');
    } else if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        out.push_str(digits);
    } else if point as usize >= digits.len() {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        let (int, frac) = digits.split_at(point as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// `bytes` in MiB with one decimal, as `format!("{:.1}", bytes / 1048576.0)` writes it (the
/// nearest tenth, ties to even), for a whole number of bytes.
pub fn mib_one_decimal(bytes: u64) -> String {
    // Tenths of a MiB: 10·bytes / 2^20 = 5·bytes / 2^19.
    let scaled = u128::from(bytes) * 5;
    let (tenths, rest) = (scaled >> 19, scaled & ((1 << 19) - 1));
    let half = 1 << 18;
    let tenths = if rest > half || (rest == half && tenths % 2 == 1) {
        tenths + 1
    } else {
        tenths
    };
    // Below 2^48: u64, whose Display is linked anyway (u128's is not).
    let tenths = u64::try_from(tenths).unwrap_or(u64::MAX);
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `display_f64` writes what `Display` does, over numbers of every size and shape, but in
    /// an exact tie between two shortest candidates, where it writes the other one.
    #[test]
    fn display_f64_is_display() {
        let mut special = vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            0.3,
            1e-7,
            123456.789,
            9007199254740993.0,
            1e15,
            1e16,
            1e17,
            1e21,
            1e22,
            1e23,
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.5,
            2.5,
            9.5,
            // 1658206780088562.25: exactly between two shortest candidates.
            f64::from_bits(4_834_491_627_661_525_961),
        ];
        // xorshift: bit patterns of every exponent, then numbers with few digits.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            special.push(f64::from_bits(next()));
            let digits = (next() % 1_000_000) as f64;
            let scale = 10f64.powi((next() % 40) as i32 - 20);
            special.push(digits * scale);
            special.push(-digits / scale);
            // Integers of 50 to 53 bits over a power of two: where ties between two shortest
            // candidates are.
            let whole = (next() >> 11) | 1 << 49;
            special.push(whole as f64 * 2f64.powi((next() % 80) as i32 - 40));
        }
        for n in special {
            let (ours, std) = (display_f64(n), n.to_string());
            if ours != std {
                assert_eq!(ours.len(), std.len(), "{std}: {ours}");
                assert_eq!(ours.parse::<f64>().ok(), Some(n), "{std}: {ours}");
            }
        }
    }

    #[test]
    fn mib_one_decimal_is_display() {
        let mut bytes: Vec<u64> = (0..3_000_000).step_by(7).collect();
        bytes.extend([262_144, 786_432, 1 << 40, (1 << 53) - 1, u64::MAX >> 11]);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.push(state >> (11 + state % 40));
        }
        for b in bytes {
            let expected = format!("{:.1}", b as f64 / 1_048_576.0);
            assert_eq!(mib_one_decimal(b), expected, "{b}");
        }
    }
}
