//! Finds the line and column of a node of a YAML document from its path (`network.layers[2]`),
//! so that errors found after deserialising still point into the file.
//!
//! serde_yaml keeps no spans, but it attaches the position of the node being read to any
//! error raised while reading it. So we read the document again, walk down the path, and
//! raise an error at the target: its position is the answer.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path such as `network.layers[2].units`, written as a list of steps.
pub fn path(spec: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in spec.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let end = stripped.find(']').unwrap_or(stripped.len());
                if let Ok(n) = stripped[..end].parse() {
                    out.push(Seg::Index(n));
                }
                rest = stripped.get(end + 1..).unwrap_or("");
            }
        } else if !rest.is_empty() {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

/// 1-based (line, column) of the node at `path`, or of the deepest ancestor that exists.
pub fn locate(source: &str, path: &[Seg]) -> (usize, usize) {
    probe(source, Probe { path, at_key: false })
}

/// 1-based (line, column) of the key of the last step of `path` (`graph` in `graph: ...`).
pub fn locate_key(source: &str, path: &[Seg]) -> (usize, usize) {
    probe(source, Probe { path, at_key: true })
}

fn probe(source: &str, probe: Probe<'_>) -> (usize, usize) {
    let de = serde_yaml::Deserializer::from_str(source);
    let result = probe.deserialize(de);
    match result {
        Err(e) => e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1)),
        Ok(()) => (1, 1),
    }
}

struct Probe<'p> {
    path: &'p [Seg],
    /// Stop at the last step's key rather than its value.
    at_key: bool,
}

/// Reads a map key, failing (and so marking its position) when it is the one sought.
struct KeySeed<'a> {
    stop_at: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = serde_yaml::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<serde_yaml::Value, D::Error> {
        // The error must be raised inside the visitor for serde_yaml to mark the key's position.
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = serde_yaml::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<serde_yaml::Value, E> {
        if self.stop_at == Some(s) {
            return Err(E::custom(HERE));
        }
        Ok(serde_yaml::Value::String(s.to_string()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<serde_yaml::Value, E> {
        Ok(serde_yaml::Value::Null)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<serde_yaml::Value, E> {
        Ok(serde_yaml::Value::Null)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<serde_yaml::Value, E> {
        Ok(serde_yaml::Value::Null)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<serde_yaml::Value, E> {
        Ok(serde_yaml::Value::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<serde_yaml::Value, E> {
        Ok(serde_yaml::Value::Null)
    }
}

const HERE: &str = "bptui-locate";

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Probe<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(want), rest)) = self.path.split_first() else {
            return Err(de::Error::custom(HERE));
        };
        let stop_at = (self.at_key && rest.is_empty()).then_some(want.as_str());
        while let Some(k) = map.next_key_seed(KeySeed { stop_at })? {
            if k.as_str() == Some(want.as_str()) {
                return map.next_value_seed(Probe { path: rest, at_key: self.at_key });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Err(de::Error::custom(HERE))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(want), rest)) = self.path.split_first() else {
            return Err(de::Error::custom(HERE));
        };
        let mut i = 0;
        loop {
            if i == *want {
                return match seq.next_element_seed(Probe { path: rest, at_key: self.at_key })? {
                    Some(()) => Ok(()),
                    None => Err(de::Error::custom(HERE)),
                };
            }
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Err(de::Error::custom(HERE));
            }
            i += 1;
        }
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(HERE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_nodes() {
        let src = "name: m\nnetwork:\n  inputs: 3\n  layers:\n    - {op: linear, units: 4}\n    - op: sigmoid\n      name: z\n";
        assert_eq!(locate(src, &path("network.inputs")), (3, 11));
        assert_eq!(locate(src, &path("network.layers[0]")), (5, 7));
        assert_eq!(locate(src, &path("network.layers[0].units")), (5, 27));
        assert_eq!(locate(src, &path("network.layers[1].name")), (7, 13));
        assert_eq!(locate_key(src, &path("network")), (2, 1));
        assert_eq!(locate_key(src, &path("network.layers[1].name")), (7, 7));
    }
}
