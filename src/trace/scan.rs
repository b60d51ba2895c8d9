//! A fast reader for the usual JSON Lines record: the canonical shapes of an example, epoch
//! or init record, read without building a `serde_json::Value`. It returns `None` on anything
//! unusual (escapes, duplicate keys, other keys, ragged lists, numbers out of range, invalid
//! JSON…), and the caller then reads the line the exact way, which gives the same record or
//! the error message; on what it accepts it gives the record the exact way gives (numbers are
//! correctly rounded by both).

use ndarray::{ArrayD, IxDyn};

use super::{EpochRecord, ExampleRecord, Named, Record};

struct Scan<'a> {
    text: &'a str,
    s: &'a [u8],
    i: usize,
    /// Convert numbers (else every number reads as 0, its syntax still checked).
    numbers: bool,
}

impl<'a> Scan<'a> {
    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.s.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    /// After an item of a list or object that `close` ends: `Some(true)` past a comma (another
    /// item follows), `Some(false)` past `close`, `None` at anything else.
    fn more(&mut self, close: u8) -> Option<bool> {
        let c = self.peek()?;
        if c != b',' && c != close {
            return None;
        }
        self.i += 1;
        Some(c == b',')
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            let c = *self.s.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return Some(&self.text[start..self.i - 1]),
                b'\\' => return None,
                c if c < 0x20 => return None,
                _ => {}
            }
        }
    }

    /// A JSON number, or NaN / Infinity / -Infinity (Python's spellings).
    fn number(&mut self) -> Option<f64> {
        self.ws();
        let start = self.i;
        let s = self.s;
        if matches!(s.get(start), Some(b'N' | b'I')) || (s.get(start) == Some(&b'-') && s.get(start + 1) == Some(&b'I'))
        {
            for (token, v) in [(&b"NaN"[..], f64::NAN), (b"Infinity", f64::INFINITY), (b"-Infinity", f64::NEG_INFINITY)]
            {
                if s[start..].starts_with(token) {
                    self.i += token.len();
                    return self.delimited().then_some(v);
                }
            }
            return None;
        }
        let mut i = start;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while s.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => return None,
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !s.get(i).is_some_and(u8::is_ascii_digit) {
                return None;
            }
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(s.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !s.get(i).is_some_and(u8::is_ascii_digit) {
                return None;
            }
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        self.i = i;
        if !self.delimited() {
            return None;
        }
        if !self.numbers {
            return Some(0.0);
        }
        // Correctly rounded, as serde_json's float_roundtrip; out of range is its error.
        // ASCII only, so these are character boundaries.
        let v: f64 = self.text[start..i].parse().ok()?;
        v.is_finite().then_some(v)
    }

    /// Whether what follows a token may follow a value.
    fn delimited(&self) -> bool {
        matches!(self.s.get(self.i), None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}'))
    }

    /// A whole number ≥ 0 written as an integer.
    fn integer(&mut self) -> Option<u64> {
        self.ws();
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        let digits = &self.s[start..self.i];
        if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') || !self.delimited() {
            return None;
        }
        self.text[start..self.i].parse().ok()
    }

    /// A number or rectangular nested list of numbers, as [`crate::nested::array`] reads it.
    fn array(&mut self) -> Option<ArrayD<f64>> {
        let mut shape = Vec::new();
        let mut out = Vec::new();
        self.walk(0, &mut shape, &mut out)?;
        ArrayD::from_shape_vec(IxDyn(&shape), out).ok()
    }

    fn walk(&mut self, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f64>) -> Option<()> {
        if self.peek()? != b'[' {
            let v = self.number()?;
            if depth != shape.len() {
                return None;
            }
            out.push(v);
            return Some(());
        }
        self.i += 1;
        let mut n = 0;
        if self.peek()? == b']' {
            self.i += 1;
        } else {
            loop {
                // The length of this level is known only at its end: walk the items first.
                if depth == shape.len() {
                    if !out.is_empty() {
                        return None;
                    }
                    shape.push(usize::MAX);
                }
                self.walk(depth + 1, shape, out)?;
                n += 1;
                if !self.more(b']')? {
                    break;
                }
            }
        }
        if depth == shape.len() {
            if !out.is_empty() {
                return None;
            }
            shape.push(n);
        } else if shape[depth] == usize::MAX {
            shape[depth] = n;
        } else if shape[depth] != n {
            return None;
        }
        Some(())
    }

    /// `{"name": array, ...}` with distinct names.
    fn section(&mut self) -> Option<Named> {
        let mut items: Named = Vec::new();
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(items);
        }
        loop {
            let name = self.string()?;
            self.eat(b':')?;
            if items.iter().any(|(n, _)| n == name) {
                return None;
            }
            items.push((name.to_string(), self.array()?));
            if !self.more(b'}')? {
                return Some(items);
            }
        }
    }
}

/// The record on `line`, or `None` when it is not one of the usual shapes.
pub fn record(line: &str, numbers: bool) -> Option<Record> {
    let mut p = Scan { text: line, s: line.as_bytes(), i: 0, numbers };
    p.eat(b'{')?;
    let (mut epoch, mut example, mut row) = (None, None, None);
    let (mut forward, mut adjoints, mut params, mut metrics, mut init) = (None, None, None, None, None);
    let mut keys: Vec<&str> = Vec::new();
    if p.peek()? == b'}' {
        return None;
    }
    loop {
        let key = p.string()?;
        p.eat(b':')?;
        if keys.contains(&key) {
            return None;
        }
        keys.push(key);
        match key {
            "epoch" => epoch = Some(p.integer()?),
            "example" => example = Some(p.integer()?),
            "row" => {
                row = Some(if p.peek()? == b'n' && p.s[p.i..].starts_with(b"null") {
                    p.i += 4;
                    if !p.delimited() {
                        return None;
                    }
                    None
                } else {
                    Some(p.integer().filter(|&r| r < super::ROW_LIMIT)? as usize)
                })
            }
            "forward" => forward = Some(p.section()?),
            "adjoints" => adjoints = Some(p.section()?),
            "params" => params = Some(p.section()?),
            "init" => init = Some(p.section()?),
            "metrics" => {
                let mut m: Vec<(String, f64)> = Vec::new();
                p.eat(b'{')?;
                if p.peek()? == b'}' {
                    p.i += 1;
                } else {
                    loop {
                        let k = p.string()?;
                        p.eat(b':')?;
                        if m.iter().any(|(n, _)| n == k) {
                            return None;
                        }
                        let saved = p.numbers;
                        p.numbers = true;
                        let v = p.number()?;
                        p.numbers = saved;
                        m.push((k.to_string(), v));
                        if !p.more(b'}')? {
                            break;
                        }
                    }
                }
                metrics = Some(m);
            }
            _ => return None,
        }
        if !p.more(b'}')? {
            break;
        }
    }
    p.ws();
    if p.i != p.s.len() {
        return None;
    }
    let epoch = epoch.filter(|&e| e > 0).map(|e| e as usize);
    match (init, metrics) {
        (Some(init), None) if keys.len() == 1 => Some(Record::Init(init)),
        (None, Some(metrics)) if keys.len() == 2 => Some(Record::Epoch(EpochRecord { epoch: epoch?, metrics })),
        (None, None) if !keys.contains(&"init") => Some(Record::Example(ExampleRecord {
            epoch: epoch?,
            example: example.filter(|&e| e > 0)? as usize,
            row: row.flatten(),
            forward: forward.unwrap_or_default(),
            adjoints: adjoints.unwrap_or_default(),
            params: params.unwrap_or_default(),
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{parse_record, quote_non_finite, to_json_line, EpochRecord, ExampleRecord, Record};

    /// The exact way: serde_json's Value, then `parse_record`.
    fn exact(line: &str) -> Option<Record> {
        let v: serde_json::Value = serde_json::from_str(&quote_non_finite(line)).ok()?;
        parse_record(&v).ok()
    }

    fn same(a: &Record, b: &Record) -> bool {
        // NaN-aware: compare the JSON lines written from both.
        to_json_line(a) == to_json_line(b) && format!("{a:?}").len() == format!("{b:?}").len()
    }

    fn line() -> impl Strategy<Value = String> {
        let number = prop_oneof![
            any::<f64>().prop_map(|v| format!("{v:?}")),
            (-1e3f64..1e3).prop_map(|v| format!("{v}")),
            prop::sample::select(vec![
                "0",
                "-0",
                "-0.0",
                "1e400",
                "-1e400",
                "1e-400",
                "NaN",
                "Infinity",
                "-Infinity",
                "01",
                "1.",
                ".5",
                "+1",
                "1e",
                "1E+2",
                "-",
                "NaNx",
                "18446744073709551616",
                "-9223372036854775809",
                "5",
                "1.5e-7",
            ])
            .prop_map(str::to_string),
        ];
        let list = prop::collection::vec(number.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", ")));
        let value = prop_oneof![
            number.clone(),
            list.clone(),
            prop::collection::vec(list, 0..3).prop_map(|v| format!("[{}]", v.join(",")))
        ];
        let name = prop::sample::select(vec!["a", "b", "J", "x\\n", "é", "a"]).prop_map(str::to_string);
        let section = prop::collection::vec((name, value), 0..4).prop_map(|v| {
            format!("{{{}}}", v.iter().map(|(n, x)| format!("\"{n}\": {x}")).collect::<Vec<_>>().join(", "))
        });
        let int = prop::sample::select(vec![
            "1",
            "2",
            "0",
            "-1",
            "1.0",
            "01",
            "null",
            "7",
            "\"3\"",
            "8999999999999999",
            "9000000000000000",
        ])
        .prop_map(str::to_string);
        let key = prop::sample::select(vec![
            "epoch", "example", "row", "forward", "adjoints", "params", "metrics", "init", "other",
        ]);
        prop::collection::vec((key, prop_oneof![int, section, number]), 0..6).prop_map(|kv| {
            format!("{{{}}}", kv.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect::<Vec<_>>().join(", "))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

        /// Whatever the fast reader accepts, it reads as the exact way does.
        #[test]
        fn the_fast_reader_reads_as_serde_json(line in line(), cut in 0usize..200) {
            for text in [line.clone(), line.chars().take(cut).collect::<String>()] {
                if let Some(fast) = super::record(&text, true) {
                    let slow = exact(&text);
                    prop_assert!(slow.as_ref().is_some_and(|s| same(s, &fast)), "{text}\nfast {fast:?}\nexact {slow:?}");
                }
            }
        }
    }

    #[test]
    fn usual_records_are_read_fast() {
        let r = Record::Example(ExampleRecord {
            epoch: 2,
            example: 7,
            row: Some(31),
            forward: vec![
                ("x".into(), ndarray::arr1(&[0.0, 1.0, -0.0]).into_dyn()),
                ("J".into(), ndarray::arr0(0.25).into_dyn()),
            ],
            adjoints: vec![("a".into(), ndarray::arr2(&[[1e-7, f64::NAN], [f64::INFINITY, -3.5]]).into_dyn())],
            params: vec![],
        });
        let e = Record::Epoch(EpochRecord { epoch: 1, metrics: vec![("train_loss".into(), 0.5)] });
        for r in [r, e] {
            let line = to_json_line(&r);
            let fast = super::record(&line, true).expect("the usual shape");
            assert!(same(&fast, &exact(&line).unwrap()), "{line}");
        }
    }
}
