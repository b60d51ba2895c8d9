//! NumPy `.npy` arrays (a file, or an entry of an `.npz` archive) read as numbers. The header
//! is read before the data, so that an array whose header claims more numbers than its file
//! holds (or than bptui's limit) is refused before anything is allocated for it.

use std::io::Read;

use ndarray::{ArrayD, IxDyn, ShapeBuilder};

use crate::limits::Limits;

/// The bytes of a header bptui reads at most (NumPy writes a few hundred).
const MAX_HEADER: usize = 1 << 16;

/// The number of elements and bytes of data an `.npy` header claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub numbers: u64,
    pub header_bytes: u64,
    pub data_bytes: u64,
}

/// Reads the header at the start of `r` and checks its claim against `available` bytes (the
/// file's or the archive entry's length) and the limit on numbers.
pub fn check(r: &mut impl Read, available: u64, limits: Limits) -> Result<Claim, String> {
    header(r, available, limits).map(|h| h.claim)
}

/// What a header says: the type of the numbers, their layout and shape, and its claim.
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
    claim: Claim,
}

/// The array at the start of `r` (`available` bytes long) as float64: float64, float32 and
/// integers of either byte order, in C or Fortran order.
pub fn read(r: &mut impl Read, available: u64, limits: Limits) -> Result<ArrayD<f64>, String> {
    let h = header(r, available, limits)?;
    let mut data = vec![0u8; h.claim.data_bytes as usize];
    r.read_exact(&mut data).map_err(|e| format!("the .npy data is cut short: {e}"))?;
    let (order, kind) = h.descr.split_at(1.min(h.descr.len()));
    let big = match order {
        "<" | "|" | "=" => false,
        ">" => true,
        _ => return Err(unsupported(&h.descr)),
    };
    macro_rules! numbers {
        ($t:ty, $convert:expr) => {
            data.chunks_exact(std::mem::size_of::<$t>())
                .map(|b| {
                    let b = b.try_into().expect("chunk of the type's size");
                    let v = if big { <$t>::from_be_bytes(b) } else { <$t>::from_le_bytes(b) };
                    $convert(v)
                })
                .collect::<Vec<f64>>()
        };
    }
    let numbers = match kind {
        "f8" => numbers!(f64, |v| v),
        "f4" => numbers!(f32, f64::from),
        "i8" => numbers!(i64, |v| v as f64),
        "i4" => numbers!(i32, f64::from),
        "i2" => numbers!(i16, f64::from),
        "i1" => numbers!(i8, f64::from),
        "u8" => numbers!(u64, |v| v as f64),
        "u4" => numbers!(u32, f64::from),
        "u2" => numbers!(u16, f64::from),
        "u1" => numbers!(u8, f64::from),
        _ => return Err(unsupported(&h.descr)),
    };
    let shape = IxDyn(&h.shape);
    let array = if h.fortran_order {
        ArrayD::from_shape_vec(shape.f(), numbers)
    } else {
        ArrayD::from_shape_vec(shape, numbers)
    };
    array.map_err(|e| format!("the .npy data does not fit its shape: {e}"))
}

/// The number types bptui reads (after the byte-order character).
const KINDS: [&str; 10] = ["f8", "f4", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1"];

fn unsupported(descr: &str) -> String {
    format!("the .npy array holds '{descr}'; expected float64, float32 or integers (such as '<f8')")
}

fn header(r: &mut impl Read, available: u64, limits: Limits) -> Result<Header, String> {
    let mut start = [0u8; 10];
    r.read_exact(&mut start).map_err(|_| "too short for a .npy header".to_string())?;
    if &start[..6] != b"\x93NUMPY" {
        return Err("not a .npy array (no \\x93NUMPY magic)".into());
    }
    let (len, prefix) = match start[6] {
        1 => (u16::from_le_bytes([start[8], start[9]]) as usize, 10),
        2 | 3 => {
            let mut more = [0u8; 2];
            r.read_exact(&mut more).map_err(|_| "too short for a .npy header".to_string())?;
            (u32::from_le_bytes([start[8], start[9], more[0], more[1]]) as usize, 12)
        }
        v => return Err(format!(".npy format version {v} is not one bptui reads (1, 2 or 3)")),
    };
    if len > MAX_HEADER {
        return Err(format!("the .npy header claims {len} bytes; expected at most {MAX_HEADER}"));
    }
    let mut text = vec![0u8; len];
    r.read_exact(&mut text).map_err(|_| "the .npy header is cut short".to_string())?;
    let text = String::from_utf8_lossy(&text);
    let descr = descr(&text).ok_or("the .npy header has no readable 'descr' (such as '<f8')")?;
    // The type is checked before any data is read: a claim is counted in bytes of that type.
    if !KINDS.contains(&descr.get(1..).unwrap_or("")) || !matches!(descr.get(..1), Some("<" | ">" | "|" | "=")) {
        return Err(unsupported(descr));
    }
    let item = item_size(descr).ok_or("the .npy header has no readable 'descr' (such as '<f8')")?;
    let shape = shape(&text).ok_or("the .npy header has no readable 'shape' (such as (3, 4))")?;
    let numbers = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
    let shape_text = format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
    let Some(numbers) = numbers else {
        return Err(format!("the .npy header claims shape {shape_text}: more numbers than a computer can hold"));
    };
    let header_bytes = (prefix + len) as u64;
    let data_bytes = numbers.saturating_mul(item);
    let held = available.saturating_sub(header_bytes);
    if data_bytes > held {
        return Err(format!(
            "the .npy header claims shape {shape_text} ({numbers} numbers, {data_bytes} bytes) but the file holds \
             {held} bytes of data"
        ));
    }
    let limit = limits.max_numbers as u64;
    if numbers > limit {
        return Err(format!(
            "the .npy array has shape {shape_text} ({numbers} numbers), more than bptui's limit of {limit} \
             (raise it with --max-numbers N)"
        ));
    }
    let shape = shape.iter().map(|&d| usize::try_from(d).map_err(|_| format!("shape {shape_text} is too large")));
    Ok(Header {
        descr: descr.to_string(),
        fortran_order: fortran_order(&text),
        shape: shape.collect::<Result<_, _>>()?,
        claim: Claim { numbers, header_bytes, data_bytes },
    })
}

fn descr(header: &str) -> Option<&str> {
    let rest = &header[header.find("'descr'")? + 7..];
    let rest = &rest[rest.find('\'')? + 1..];
    Some(&rest[..rest.find('\'')?])
}

fn fortran_order(header: &str) -> bool {
    header
        .find("'fortran_order'")
        .is_some_and(|at| header[at + 15..].trim_start_matches([':', ' ']).starts_with("True"))
}

fn item_size(descr: &str) -> Option<u64> {
    let digits: String = descr.chars().rev().take_while(|c| c.is_ascii_digit()).collect();
    let digits: String = digits.chars().rev().collect();
    digits.parse().ok().filter(|&n: &u64| n > 0)
}

fn shape(header: &str) -> Option<Vec<u64>> {
    let rest = &header[header.find("'shape'")? + 7..];
    let rest = &rest[rest.find('(')? + 1..];
    let inner = &rest[..rest.find(')')?];
    inner.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, data: usize) -> Vec<u8> {
        let mut h = header.to_string();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((h.len() as u16).to_le_bytes());
        out.extend(h.as_bytes());
        out.extend(vec![0u8; data]);
        out
    }

    #[test]
    fn a_claim_larger_than_the_file_is_refused() {
        let bytes = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 1000000), }", 16);
        let e = check(&mut bytes.as_slice(), bytes.len() as u64, Limits::default()).unwrap_err();
        assert!(e.contains("(100000, 1000000)") && e.contains("holds 16 bytes"), "{e}");
        let ok = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16);
        assert_eq!(check(&mut ok.as_slice(), ok.len() as u64, Limits::default()).unwrap().numbers, 2);
        let huge = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }", 0);
        assert!(check(&mut huge.as_slice(), huge.len() as u64, Limits::default())
            .unwrap_err()
            .contains("more numbers than"));
    }

    #[test]
    fn every_number_type_byte_order_and_layout_reads_as_numpy_wrote_it() {
        // [[1, 2, 3], [4, 5, 6]] as NumPy writes it: C order row by row, Fortran order column
        // by column.
        let c_order = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let f_order = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0];
        for (descr, size) in [("<f8", 8), (">f8", 8), ("<f4", 4), (">i4", 4), ("<i8", 8), ("|u1", 1), ("<i2", 2)] {
            for (fortran, values) in [("False", c_order), ("True", f_order)] {
                let mut data = Vec::new();
                for v in values {
                    let big = descr.starts_with('>');
                    let bytes: Vec<u8> = match (&descr[1..], big) {
                        ("f8", false) => v.to_le_bytes().to_vec(),
                        ("f8", true) => v.to_be_bytes().to_vec(),
                        ("f4", _) => (v as f32).to_le_bytes().to_vec(),
                        ("i4", _) => (v as i32).to_be_bytes().to_vec(),
                        ("i8", _) => (v as i64).to_le_bytes().to_vec(),
                        ("u1", _) => vec![v as u8],
                        ("i2", _) => (v as i16).to_le_bytes().to_vec(),
                        _ => unreachable!(),
                    };
                    assert_eq!(bytes.len(), size);
                    data.extend(bytes);
                }
                let mut bytes =
                    npy(&format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': (2, 3), }}"), 0);
                bytes.extend(data);
                let a = read(&mut bytes.as_slice(), bytes.len() as u64, Limits::default()).unwrap();
                assert_eq!(a.shape(), &[2, 3], "{descr} {fortran}");
                assert_eq!(a.iter().copied().collect::<Vec<_>>(), c_order, "{descr} fortran_order {fortran}");
            }
        }
        let complex = npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", 16);
        assert!(read(&mut complex.as_slice(), complex.len() as u64, Limits::default()).unwrap_err().contains("'<c16'"));
        // A type is refused from the header alone, before its data is counted or read: a
        // gigabyte "void" item in a file of a few bytes.
        let void = npy("{'descr': '|V1000000000', 'fortran_order': False, 'shape': (1,), }", 0);
        assert!(check(&mut void.as_slice(), void.len() as u64, Limits::default())
            .unwrap_err()
            .contains("'|V1000000000'"));
    }
}
