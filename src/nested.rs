//! Nested lists of numbers as arrays: one reader for the YAML of model files (init values, a
//! graph's inputs) and the JSON of traces, so both accept the same arrays and say the same
//! things about the same mistakes. Each format says how it writes a number and a list
//! ([`NestedValue`]); the caller says where the value is (file, line and column, or record
//! and key). Writing arrays, and the fast reader of the usual trace line, are in
//! [`crate::trace`].

use ndarray::{ArrayD, IxDyn};

/// A parsed value of some format: a number, a list of values, or something else.
pub trait NestedValue: Sized {
    /// Whether an empty list is an array without numbers (a trace's node may have none) or a
    /// mistake (in a model file, nobody writes one on purpose).
    const EMPTY_LISTS: bool;

    /// The value as a number, if it is one.
    fn number(&self) -> Option<f64>;

    /// The value's items, if it is a list.
    fn items(&self) -> Option<&[Self]>;

    /// What the value is instead, for "expected a number or a list of numbers, got …".
    fn describe(&self) -> String;
}

/// A number or a rectangular nested list of numbers as an array (row-major), or what is wrong
/// with it.
pub fn array<V: NestedValue>(v: &V) -> Result<ArrayD<f64>, String> {
    let mut shape = Vec::new();
    let mut out = Vec::new();
    walk(v, 0, &mut shape, &mut out)?;
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| e.to_string())
}

/// Appends the numbers of `v`, found at `depth`, to `out`; the first list of each depth sets
/// that depth's length in `shape`, and every later one must match it.
fn walk<V: NestedValue>(v: &V, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f64>) -> Result<(), String> {
    const RAGGED: &str = "the nested lists are ragged: every row must have the same length";
    if let Some(x) = v.number() {
        if depth != shape.len() {
            return Err(RAGGED.into());
        }
        out.push(x);
        return Ok(());
    }
    let Some(items) = v.items() else {
        return Err(format!("expected a number or a list of numbers, got {}", v.describe()));
    };
    if depth == shape.len() {
        if !out.is_empty() {
            return Err(RAGGED.into());
        }
        shape.push(items.len());
    } else if shape[depth] != items.len() {
        return Err(format!(
            "the nested lists are ragged: a row has {} entries where others have {}",
            items.len(),
            shape[depth]
        ));
    }
    if items.is_empty() && !V::EMPTY_LISTS {
        return Err("empty list: expected numbers".into());
    }
    for item in items {
        walk(item, depth + 1, shape, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A format of this test's own: numbers, lists and words.
    enum V {
        N(f64),
        L(Vec<V>),
        W(&'static str),
    }

    impl NestedValue for V {
        const EMPTY_LISTS: bool = false;
        fn number(&self) -> Option<f64> {
            if let V::N(x) = self {
                Some(*x)
            } else {
                None
            }
        }
        fn items(&self) -> Option<&[V]> {
            if let V::L(items) = self {
                Some(items)
            } else {
                None
            }
        }
        fn describe(&self) -> String {
            match self {
                V::W(word) => format!("the word {word}"),
                _ => "a number or a list".into(),
            }
        }
    }

    fn list(rows: &[&[f64]]) -> V {
        V::L(rows.iter().map(|r| V::L(r.iter().map(|&x| V::N(x)).collect())).collect())
    }

    #[test]
    fn rectangular_lists_are_arrays() {
        let a = array(&list(&[&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]])).unwrap();
        assert_eq!(a.shape(), &[2, 3]);
        assert_eq!(a.iter().copied().collect::<Vec<_>>(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(array(&V::N(2.5)).unwrap().shape(), &[] as &[usize]);
    }

    #[test]
    fn mistakes_are_named() {
        let e = |v: V| array(&v).unwrap_err();
        assert!(e(list(&[&[1.0, 2.0], &[3.0]])).contains("a row has 1 entries where others have 2"));
        assert!(e(V::L(vec![V::N(1.0), V::L(vec![V::N(2.0)])])).contains("every row must have the same length"));
        assert!(e(V::L(vec![V::L(vec![V::N(2.0)]), V::N(1.0)])).contains("every row must have the same length"));
        assert_eq!(e(V::L(vec![])), "empty list: expected numbers");
        assert_eq!(e(V::L(vec![V::W("x")])), "expected a number or a list of numbers, got the word x");
    }
}
