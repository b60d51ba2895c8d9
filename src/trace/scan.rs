//! A fast reader for the usual JSON Lines record: the canonical shapes of an example, epoch
//! or init record, read without building a `serde_json::Value`. It returns `None` on anything
//! unusual (escapes, duplicate keys, other keys, ragged lists, numbers out of range, invalid
//! JSON…), and the caller then reads the line the exact way, which gives the same record or
//! the error message; on what it accepts it gives the record the exact way gives (numbers are
//! correctly rounded by both).

use ndarray::{ArrayD, IxDyn};

use super::record::{EpochRecord, ExampleRecord, Named, Record, ROW_LIMIT};

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

    /// A row: `null`, or a whole number ≥ 0 below the readers' limit.
    fn row(&mut self) -> Option<Option<usize>> {
        if self.peek()? == b'n' && self.s[self.i..].starts_with(b"null") {
            self.i += 4;
            return self.delimited().then_some(None);
        }
        Some(Some(self.integer().filter(|&r| r < ROW_LIMIT)? as usize))
    }

    /// `{"name": number, ...}` with distinct names, the numbers read even when the arrays'
    /// are not (a metric is always wanted).
    fn metrics(&mut self) -> Option<Vec<(String, f64)>> {
        let mut m: Vec<(String, f64)> = Vec::new();
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(m);
        }
        loop {
            let k = self.string()?;
            self.eat(b':')?;
            if m.iter().any(|(n, _)| n == k) {
                return None;
            }
            let saved = self.numbers;
            self.numbers = true;
            let v = self.number()?;
            self.numbers = saved;
            m.push((k.to_string(), v));
            if !self.more(b'}')? {
                return Some(m);
            }
        }
    }
}

/// The record on `line`, or `None` when it is not one of the usual shapes.
pub(super) fn record(line: &str, numbers: bool) -> Option<Record> {
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
            "row" => row = Some(p.row()?),
            "forward" => forward = Some(p.section()?),
            "adjoints" => adjoints = Some(p.section()?),
            "params" => params = Some(p.section()?),
            "init" => init = Some(p.section()?),
            "metrics" => metrics = Some(p.metrics()?),
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
