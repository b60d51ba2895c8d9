//! The notation bptui writes everywhere, in one place and at the bottom of the layers (every
//! other module may use it, it uses none): a shape as a student reads it, a flat index as
//! its multi-index, a parameter's name as the lecture's Greek letter.

/// A shape as a student reads it: `scalar`, `[3]`, `[4 × 4]`.
pub fn shape_str(s: &[usize]) -> String {
    if s.is_empty() {
        "scalar".to_string()
    } else {
        let dims: Vec<String> = s.iter().map(|d| d.to_string()).collect();
        format!("[{}]", dims.join(" × "))
    }
}

/// The multi-index of element `flat` (row-major) of an array of `shape`.
pub fn unravel(shape: &[usize], flat: usize) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    let mut rest = flat;
    for (d, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            idx[d] = rest % n;
            rest /= n;
        }
    }
    idx
}

/// A multi-index as bptui writes it everywhere: `[2,3]` (no spaces, so that it reads as one token
/// beside numbers, which are separated by ", ").
pub fn index_str(index: &[usize]) -> String {
    let parts: Vec<String> = index.iter().map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(","))
}

/// The [`index_str`] of element `flat` (row-major) of an array of `shape`.
pub fn entry_str(shape: &[usize], flat: usize) -> String {
    index_str(&unravel(shape, flat))
}

/// A parameter name as the lecture writes it: alpha → α. (sigma stays sigma: σ is the
/// sigmoid's symbol, see [`crate::model::clashes_with_notation`].)
pub fn greek(name: &str) -> String {
    const LETTERS: [(&str, &str); 7] = [
        ("alpha", "α"),
        ("beta", "β"),
        ("gamma", "γ"),
        ("theta", "θ"),
        ("omega", "ω"),
        ("lambda", "λ"),
        ("delta", "δ"),
    ];
    for (word, letter) in LETTERS {
        if let Some(rest) = name.strip_prefix(word) {
            return format!("{letter}{rest}");
        }
    }
    name.to_string()
}
