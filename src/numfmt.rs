//! Number formatting: Python's `repr` for files other tools read, and short forms for screens.

/// The shortest decimal that round-trips, spelled as Python's `repr(float)` spells it
/// (`0.1`, `2.0`, `1e-05`, `1.5e+16`, `nan`, `inf`).
pub fn py_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits as d.ddde±x.
    let sci = format!("{:e}", x);
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let decpt = exp + 1;
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if decpt <= -4 || decpt > 16 {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if decpt <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-decpt) as usize));
        out.push_str(&digits);
    } else {
        let d = decpt as usize;
        if digits.len() <= d {
            out.push_str(&digits);
            out.push_str(&"0".repeat(d - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..d]);
            out.push('.');
            out.push_str(&digits[d..]);
        }
    }
    out
}

/// A JSON number for `x`; NaN and ±Infinity as the bare tokens Python's `json` reads and writes.
pub fn json_number(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        py_repr(x)
    }
}

/// Appends [`json_number`]`(x)` to `out` without allocating: the shortest round-trip digits
/// from `ryu`, spelled as Python's `repr` spells them (the same text as [`py_repr`]).
pub fn push_json_number(out: &mut Vec<u8>, x: f64) {
    if !x.is_finite() {
        out.extend_from_slice(if x.is_nan() {
            b"NaN"
        } else if x > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        });
        return;
    }
    if x == 0.0 {
        out.extend_from_slice(if x.is_sign_negative() { b"-0.0" } else { b"0.0" });
        return;
    }
    if may_tie(x) {
        out.extend_from_slice(py_repr(x).as_bytes());
        return;
    }
    let mut buf = [0u8; 32];
    let (negative, digits, decpt) = shortest_digits(x, &mut buf);
    push_spelled(out, negative, digits, decpt);
}

/// The shortest round-trip digits of a finite, nonzero `x` from `ryu`, into `buf`: whether it
/// is negative, the significant digits (no leading or trailing zeros) and where the point goes
/// (value = 0.DIGITS × 10^decpt).
#[inline]
fn shortest_digits(x: f64, buf: &mut [u8; 32]) -> (bool, &[u8], i32) {
    let mut ryu_buf = ryu::Buffer::new();
    let s = ryu_buf.format_finite(x).as_bytes();
    let (negative, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    // ryu writes d.ddd, ddd.d or d.ddde±x.
    let (mantissa, exp) = match s.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => (&s[..i], parse_exp(&s[i + 1..])),
        None => (s, 0),
    };
    let mut n = 0;
    let mut int_digits = 0i32;
    let mut seen_point = false;
    for &c in mantissa {
        if c == b'.' {
            seen_point = true;
        } else {
            buf[n] = c;
            n += 1;
            if !seen_point {
                int_digits += 1;
            }
        }
    }
    let mut decpt = int_digits + exp;
    let mut start = 0;
    while start < n && buf[start] == b'0' {
        start += 1;
        decpt -= 1;
    }
    while n > start && buf[n - 1] == b'0' {
        n -= 1;
    }
    (negative, &buf[start..n], decpt)
}

/// Appends `digits` with the point `decpt` places in, as Python's `repr` spells it.
#[inline]
fn push_spelled(out: &mut Vec<u8>, negative: bool, digits: &[u8], decpt: i32) {
    if negative {
        out.push(b'-');
    }
    if decpt <= -4 || decpt > 16 {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let e = decpt - 1;
        out.push(b'e');
        out.push(if e < 0 { b'-' } else { b'+' });
        let e = e.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        let mut ib = itoa::Buffer::new();
        out.extend_from_slice(ib.format(e).as_bytes());
    } else if decpt <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-decpt) as usize));
        out.extend_from_slice(digits);
    } else {
        let d = decpt as usize;
        if digits.len() <= d {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', d - digits.len()));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..d]);
            out.push(b'.');
            out.extend_from_slice(&digits[d..]);
        }
    }
}

/// Whether two shortest digit strings can be equally close to `x` (finite, nonzero): ryu
/// then rounds to even and Rust's `{:e}`, which `py_repr` uses, away from zero. A tie needs
/// at least 16 digits (fewer are never two candidates within the rounding interval) and an
/// exact decimal value of one digit more, so of 17 or 18 significant digits.
fn may_tie(x: f64) -> bool {
    let bits = x.to_bits();
    let field = ((bits >> 52) & 0x7ff) as i32;
    let mut m = bits & ((1u64 << 52) - 1);
    let mut e = if field == 0 { -1074 } else { field - 1075 };
    if field != 0 {
        m |= 1u64 << 52;
    }
    let tz = m.trailing_zeros();
    m >>= tz;
    e += tz as i32;
    if e >= 0 {
        // An integer: of 17 or 18 digits, or more with trailing zeros (then 5^t divides m < 2^53,
        // so t ≤ 22 and x < 10^40).
        (1e16..1e40).contains(&x.abs())
    } else {
        // m·2^e = m·5^k / 10^k: its significant digits are those of m·5^k (odd, no trailing 0).
        let k = (-e) as u32;
        k <= 27 && (1e16 as u128..1e18 as u128).contains(&(u128::from(m) * 5u128.pow(k)))
    }
}

fn parse_exp(s: &[u8]) -> i32 {
    let (sign, s) = match s.split_first() {
        Some((b'-', rest)) => (-1, rest),
        Some((b'+', rest)) => (1, rest),
        _ => (1, s),
    };
    sign * s.iter().fold(0i32, |a, &c| a * 10 + i32::from(c - b'0'))
}

/// How many digits screens show: 5 significant ones (the default), or every digit of the
/// shortest decimal that round-trips (the debugger's `=`, and a zoomed pane). A value the
/// caller passes down, so that formatting never depends on what drew last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Digits {
    #[default]
    Short,
    Full,
}

impl Digits {
    /// `Full` when `full`, else `Short`.
    pub fn of(full: bool) -> Digits {
        if full {
            Digits::Full
        } else {
            Digits::Short
        }
    }

    /// The form for screens, the same in every pane: 5 significant digits (`0.012346`,
    /// `-1.668e-4`, exact integers as such), or with `Full` the shortest decimal that
    /// round-trips (up to 17 significant digits).
    pub fn number(self, x: f64) -> String {
        if x.is_nan() {
            return "NaN".into();
        }
        if x.is_infinite() {
            return if x > 0.0 { "inf".into() } else { "-inf".into() };
        }
        if x == x.trunc() && x.abs() < 1e6 {
            return format!("{}", x as i64);
        }
        match self {
            Digits::Full => py_repr(x),
            Digits::Short => five_digits(x),
        }
    }

    /// Characters one number takes in a grid (with a space before it): every
    /// [`Digits::number`] form fits.
    pub fn cell_width(self) -> usize {
        match self {
            Digits::Short => 12,
            Digits::Full => 25,
        }
    }

    /// A fixed-width form for matrices on screen: `width` characters, right-aligned; the same
    /// digits as [`Digits::number`] when they fit.
    pub fn cell(self, x: f64, width: usize) -> String {
        let mut s = self.number(x);
        if s.chars().count() > width {
            s = format!("{:.*e}", width.saturating_sub(7).min(3), x);
        }
        format!("{:>width$}", s, width = width)
    }

    /// A short vector in brackets, `[0.1, −0.2]`, or `None` when it has more than `max`
    /// entries (for rules with the numbers substituted).
    pub fn inline(self, a: &ndarray::ArrayD<f64>, max: usize) -> Option<String> {
        let list = |r: ndarray::ArrayViewD<f64>| r.iter().map(|&x| self.number(x)).collect::<Vec<_>>().join(", ");
        if a.ndim() == 0 {
            return a.iter().next().map(|&x| self.number(x));
        }
        if a.len() > max {
            return None;
        }
        if a.ndim() == 2 && a.shape()[0] > 1 {
            let rows: Vec<String> = a.outer_iter().map(list).collect();
            return Some(format!("[{}]", rows.join("; ")));
        }
        Some(format!("[{}]", list(a.view())))
    }

    /// The first `max` entries of an array in brackets, with "…" and the count when there are
    /// more.
    pub fn preview(self, a: &ndarray::ArrayD<f64>, max: usize) -> String {
        if let Some(s) = self.inline(a, max) {
            return s;
        }
        let first: Vec<String> = a.iter().take(max).map(|&x| self.number(x)).collect();
        format!("[{}, …] ({} entries, {})", first.join(", "), a.len(), crate::notation::shape_str(a.shape()))
    }
}

/// [`Digits::number`] with 5 significant digits, for text that never shows every digit.
pub fn short(x: f64) -> String {
    Digits::Short.number(x)
}

/// A finite, non-integer `x` with 5 significant digits, trailing zeros dropped.
fn five_digits(x: f64) -> String {
    let a = x.abs();
    if !(1e-2..1e5).contains(&a) {
        // d.dddde±x with trailing zeros of the mantissa dropped.
        let s = format!("{:.4e}", x);
        let (mantissa, exp) = s.split_once('e').expect("an exponent");
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exp}");
    }
    let digits = a.log10().floor() as i32;
    let decimals = (4 - digits).max(0) as usize;
    let s = format!("{:.*}", decimals, x);
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// An array as nested lists, `[[a, b], [c, d]]`, each number written by `leaf` (a scalar is
/// its number alone): the shape of YAML's flow lists and of numpy's literals.
pub fn nested_list(a: &ndarray::ArrayD<f64>, leaf: impl Fn(f64) -> String) -> String {
    fn go(out: &mut String, a: ndarray::ArrayViewD<f64>, leaf: &dyn Fn(f64) -> String) {
        if a.ndim() == 0 {
            out.push_str(&leaf(a.iter().next().copied().unwrap_or(0.0)));
            return;
        }
        out.push('[');
        for (i, sub) in a.outer_iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            go(out, sub, leaf);
        }
        out.push(']');
    }
    let mut out = String::new();
    go(&mut out, a.view(), &leaf);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_repr_matches_python() {
        // Values and spellings taken from CPython's repr().
        let cases = [
            (0.1, "0.1"),
            (2.0, "2.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (123.456, "123.456"),
            (-0.5, "-0.5"),
            (2.1415670910950144, "2.1415670910950144"),
            (1.2345e-7, "1.2345e-07"),
            (0.73, "0.73"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (x, want) in cases {
            assert_eq!(py_repr(x), want, "repr of {x:e}");
        }
    }

    #[test]
    fn push_json_number_is_json_number() {
        let mut cases = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1e-5,
            1e-4,
            0.0001234,
            1e15,
            1e16,
            1e17,
            1.5e16,
            123.456,
            5e-324,
            2.5e-308,
            1.7976931348623157e308,
            9007199254740993.0,
            1e22,
            1e21,
            0.3,
            2.0 / 3.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            100.0,
            1234567890123456.0,
            12345678901234567.0,
        ];
        // Every binade, and pseudo-random bit patterns.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            cases.push(f64::from_bits(state));
            cases.push((state % 1_000_000) as f64 / 1000.0);
        }
        // Around 2^50..2^60, where ties live: halves, quarters, eighths and large integers.
        for k in 0..50_000u64 {
            let m = (1u64 << 52) + k.wrapping_mul(0x9E37_79B9) % (1u64 << 52);
            for e in -4..8 {
                cases.push(m as f64 * 2f64.powi(e));
            }
        }
        for e in -1074..1024 {
            cases.push(2f64.powi(e));
            cases.push(-3.0 * 2f64.powi(e));
        }
        let mut buf = Vec::new();
        for x in cases {
            buf.clear();
            push_json_number(&mut buf, x);
            assert_eq!(std::str::from_utf8(&buf).unwrap(), json_number(x), "{x:e}");
        }
    }

    #[test]
    fn short_forms() {
        assert_eq!(short(3.0), "3");
        assert_eq!(short(0.52), "0.52");
        assert_eq!(short(-1.23456789), "-1.2346");
        assert_eq!(short(1e-7), "1e-7");
        assert_eq!(short(-1.668e-4), "-1.668e-4");
        assert_eq!(short(0.0123456), "0.012346");
        assert_eq!(short(-12345.678), "-12346");
        assert_eq!(Digits::Full.number(-0.010050781472030377), "-0.010050781472030377");
        assert_eq!(Digits::Full.number(3.0), "3");
        assert_eq!(short(-0.010050781472030377), "-0.010051");
    }
}
