//! Reading CSV fields fast, with exactly the results of the std functions
//! they stand in for.

/// `text.parse::<f64>()`, faster for the plain decimals captures are made of.
///
/// A decimal `[-]digits[.digits]` of at most 19 digits whose digits, read as
/// an integer `m`, fit in 53 bits, with at most 22 of them after the point,
/// is `m / 10^k` with both operands exact doubles; IEEE division rounds that
/// quotient correctly, as std's parser rounds the decimal, so the two agree
/// bit for bit (Clinger's fast path). Everything else goes to std.
pub(crate) fn parse_f64(text: &str) -> Option<f64> {
    fast_decimal(text.as_bytes()).or_else(|| text.parse().ok())
}

/// 10^0 ..= 10^22: the powers of ten a double holds exactly.
const POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

fn fast_decimal(bytes: &[u8]) -> Option<f64> {
    let (negative, digits) = match bytes.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, bytes),
    };
    let mut mantissa: u64 = 0;
    let mut i = 0;
    while let Some(&d @ b'0'..=b'9') = digits.get(i) {
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        i += 1;
    }
    let whole = i;
    if whole == 0 {
        return None;
    }
    let mut fraction = 0;
    if digits.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(&d @ b'0'..=b'9') = digits.get(i) {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            i += 1;
        }
        fraction = i - start;
        if fraction == 0 {
            return None;
        }
    }
    // 19 digits cannot wrap a u64; 2^53 and 10^22 bound the exact operands.
    if i != digits.len() || whole + fraction > 19 || mantissa > 1 << 53 || fraction > 22 {
        return None;
    }
    let value = mantissa as f64 / POWERS[fraction];
    Some(if negative { -value } else { value })
}

/// `text.trim()` (Unicode whitespace), without its char decoding when the
/// field starts and ends with a printable ASCII byte, as fields usually do:
/// every whitespace character is either ASCII at or below a space, or starts
/// with a byte of 0x80 or more.
pub(crate) fn trim(text: &str) -> &str {
    match text.as_bytes() {
        [first, .., last] if plain(*first) && plain(*last) => text,
        [only] if plain(*only) => text,
        _ => text.trim(),
    }
}

fn plain(byte: u8) -> bool {
    (0x21..0x80).contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_std_bit_for_bit() {
        let samples = [
            "0",
            "-0",
            "0.0",
            "-0.000",
            "1",
            "42",
            "0.1",
            "0.2",
            "0.3",
            "-1.5",
            "10.892",
            "142.240",
            "-0.129",
            "123456789.123456789",
            "9007199254740993",
            "9007199254740992",
            "0.30000000000000004",
            "1234567890123456789",
            "12345678901234567890",
            "1e5",
            "1E-3",
            ".5",
            "5.",
            "+5",
            "-",
            "",
            "1.2.3",
            "1,5",
            "inf",
            "-infinity",
            "NaN",
            "0x10",
            "00012.50",
            "-00.001",
            "0.0000000000000000000001",
            "0.00000000000000000000001",
            "179769313486231570000000000000000000000.0",
            "2.2250738585072014",
            " 1",
            "1 ",
        ];
        for text in samples {
            let std = text.parse::<f64>().ok();
            let ours = parse_f64(text);
            assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits), "{text:?}");
        }
        // Every 3-decimal value in a range, as the benchmark data is written.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = (state % 2_000_000_000) as f64 / 1000.0 - 1_000_000.0;
            for text in [format!("{x:.3}"), format!("{x}"), format!("{:.6}", x / 7.0)] {
                assert_eq!(
                    parse_f64(&text).map(f64::to_bits),
                    text.parse::<f64>().ok().map(f64::to_bits),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn trims_like_std() {
        for text in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\r",
            "\u{0b}a",
            "a\u{85}",
            "\u{a0}x\u{3000}",
            "é",
            "x é",
            "ab",
            "\"q\"",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }
}
