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

thread_local! {
    /// Whether screens show every digit (the debugger's `=`): set by the debugger before it
    /// draws a frame, read by [`short`] and [`cell`].
    static FULL_PRECISION: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Chooses between 5 significant digits (the default) and full round-trip precision for the
/// numbers [`short`] and [`cell`] write on this thread.
pub fn set_full_precision(full: bool) {
    FULL_PRECISION.with(|f| f.set(full));
}

pub fn full_precision() -> bool {
    FULL_PRECISION.with(|f| f.get())
}

/// The form for screens, the same in every pane: 5 significant digits (`0.012346`,
/// `-1.668e-4`, exact integers as such), or with [`set_full_precision`] the shortest decimal
/// that round-trips (up to 17 significant digits).
pub fn short(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == x.trunc() && x.abs() < 1e6 {
        return format!("{}", x as i64);
    }
    if full_precision() {
        return py_repr(x);
    }
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

/// Characters one number takes in a grid (with a space before it): every [`short`] form fits.
pub fn cell_width() -> usize {
    if full_precision() {
        25
    } else {
        12
    }
}

/// A fixed-width form for matrices on screen: `width` characters, right-aligned; the same
/// digits as [`short`] when they fit.
pub fn cell(x: f64, width: usize) -> String {
    let mut s = short(x);
    if s.chars().count() > width {
        s = format!("{:.*e}", width.saturating_sub(7).min(3), x);
    }
    format!("{:>width$}", s, width = width)
}

/// A short vector in brackets, `[0.1, −0.2]`, or `name⟨shape⟩` when it has more than `max`
/// entries (for rules with the numbers substituted).
pub fn inline(a: &ndarray::ArrayD<f64>, max: usize) -> Option<String> {
    if a.ndim() == 0 {
        return a.iter().next().map(|&x| short(x));
    }
    if a.len() > max {
        return None;
    }
    if a.ndim() == 2 && a.shape()[0] > 1 {
        let rows: Vec<String> =
            a.outer_iter().map(|r| r.iter().map(|&x| short(x)).collect::<Vec<_>>().join(", ")).collect();
        return Some(format!("[{}]", rows.join("; ")));
    }
    Some(format!("[{}]", a.iter().map(|&x| short(x)).collect::<Vec<_>>().join(", ")))
}

/// The first `max` entries of an array in brackets, with "…" and the count when there are more.
pub fn preview(a: &ndarray::ArrayD<f64>, max: usize) -> String {
    if let Some(s) = inline(a, max) {
        return s;
    }
    let first: Vec<String> = a.iter().take(max).map(|&x| short(x)).collect();
    format!("[{}, …] ({} entries, {})", first.join(", "), a.len(), crate::engine::shape_str(a.shape()))
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
    fn short_forms() {
        assert_eq!(short(3.0), "3");
        assert_eq!(short(0.52), "0.52");
        assert_eq!(short(-1.23456789), "-1.2346");
        assert_eq!(short(1e-7), "1e-7");
        assert_eq!(short(-1.668e-4), "-1.668e-4");
        assert_eq!(short(0.0123456), "0.012346");
        assert_eq!(short(-12345.678), "-12346");
        set_full_precision(true);
        assert_eq!(short(-0.010050781472030377), "-0.010050781472030377");
        set_full_precision(false);
    }
}
