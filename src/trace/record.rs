//! The records of a trace (contract §3) and how one is read from a JSON value: the types
//! both formats carry, below the JSON Lines and .npz readers and writers.

use ndarray::ArrayD;

use crate::error::clip;
use crate::nested;

/// Named arrays in a fixed order.
pub type Named = Vec<(String, ArrayD<f64>)>;

/// One training example's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleRecord {
    /// Counted from 1.
    pub epoch: usize,
    /// Position in the epoch's order, counted from 1.
    pub example: usize,
    /// 0-based row of the data file.
    pub row: Option<usize>,
    /// Node values, computed with the parameters before this example's update.
    pub forward: Named,
    /// dJ/d(name), each in its node's shape.
    pub adjoints: Named,
    /// Parameter values after this example's update.
    pub params: Named,
}

/// An epoch's metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    pub metrics: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Example(ExampleRecord),
    Epoch(EpochRecord),
    /// The parameters before any update, in the other implementation's names and layout.
    Init(Named),
}

/// A record read from a file with its position there: the line of a JSON Lines file, or the
/// first array of an .npz that belongs to it (counted from 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Numbered {
    pub number: usize,
    pub record: Record,
}

/// A row number written as a float (.npz) or a JSON number: whole, ≥ 0, not absurdly large.
pub(super) fn whole_row(r: f64) -> Option<usize> {
    (r.is_finite() && r >= 0.0 && r.fract() == 0.0 && r < ROW_LIMIT as f64).then_some(r as usize)
}

/// Rows at or past this are refused (both readers): more rows than any data file holds.
pub(super) const ROW_LIMIT: u64 = 9_000_000_000_000_000 / 1000;

/// Replaces bare NaN / Infinity / -Infinity tokens (outside strings) by marker strings that
/// serde_json accepts.
pub(super) fn quote_non_finite(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains("NaN") && !line.contains("Infinity") {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        let mut replaced = false;
        for (token, marker) in
            [("-Infinity", "\"\u{E000}-inf\""), ("Infinity", "\"\u{E000}inf\""), ("NaN", "\"\u{E000}nan\"")]
        {
            if rest.starts_with(token) {
                out.push_str(marker);
                rest = &rest[token.len()..];
                replaced = true;
                break;
            }
        }
        if !replaced {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    std::borrow::Cow::Owned(out)
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => match s.as_str() {
            "\u{E000}nan" => Some(f64::NAN),
            "\u{E000}inf" => Some(f64::INFINITY),
            "\u{E000}-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// JSON's numbers (and the markers `quote_non_finite` puts for NaN and the infinities) and
/// arrays. A trace's array may be empty: a node may have no entries.
impl nested::NestedValue for serde_json::Value {
    const EMPTY_LISTS: bool = true;

    fn number(&self) -> Option<f64> {
        number(self)
    }

    fn items(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }

    fn describe(&self) -> String {
        self.to_string()
    }
}

pub(super) fn parse_record(v: &serde_json::Value) -> std::result::Result<Record, String> {
    let obj = v.as_object().ok_or("expected a JSON object")?;
    if let Some(init) = obj.get("init") {
        if obj.len() != 1 {
            return Err("an init record holds only \"init\": {name: array, ...}".into());
        }
        let init = init.as_object().ok_or("\"init\" must be an object of arrays")?;
        return init
            .iter()
            .map(|(name, v)| nested::array(v).map(|a| (name.clone(), a)).map_err(|e| format!("init.{name}: {e}")))
            .collect::<std::result::Result<Named, String>>()
            .map(Record::Init);
    }
    let epoch = obj
        .get("epoch")
        .and_then(|e| e.as_u64())
        .filter(|&e| e > 0)
        .ok_or("expected an integer \"epoch\" counted from 1 (or an \"init\" record)")? as usize;
    if let Some(m) = obj.get("metrics") {
        let m = m.as_object().ok_or("\"metrics\" must be an object of numbers")?;
        let mut metrics = Vec::new();
        for (k, v) in m {
            metrics.push((k.clone(), number(v).ok_or(format!("metric \"{k}\" must be a number"))?));
        }
        return Ok(Record::Epoch(EpochRecord { epoch, metrics }));
    }
    let example = obj
        .get("example")
        .and_then(|e| e.as_u64())
        .filter(|&e| e > 0)
        .ok_or("expected an integer \"example\" counted from 1, or \"metrics\"")? as usize;
    let row = match obj.get("row") {
        None | Some(serde_json::Value::Null) => None,
        Some(r) => Some(r.as_f64().and_then(whole_row).ok_or_else(|| {
            format!("\"row\" is the 0-based data row, a whole number ≥ 0; got {}", clip(&r.to_string()))
        })?),
    };
    for key in obj.keys() {
        if !["epoch", "example", "row", "forward", "adjoints", "params"].contains(&key.as_str()) {
            return Err(format!(
                "unknown key \"{}\": an example record has epoch, example, row, forward, adjoints, params",
                clip(key)
            ));
        }
    }
    let section = |key: &str| -> std::result::Result<Named, String> {
        let Some(s) = obj.get(key) else { return Ok(Vec::new()) };
        let s = s.as_object().ok_or(format!("\"{key}\" must be an object of arrays"))?;
        s.iter()
            .map(|(name, v)| nested::array(v).map(|a| (name.clone(), a)).map_err(|e| format!("{key}.{name}: {e}")))
            .collect()
    };
    Ok(Record::Example(ExampleRecord {
        epoch,
        example,
        row,
        forward: section("forward")?,
        adjoints: section("adjoints")?,
        params: section("params")?,
    }))
}
