//! The header of a NumPy `.npy` array, read before its data, so that an array whose header
//! claims more numbers than its file holds (or than bptui's limit) is refused before anything
//! is allocated for it.

use std::io::Read;

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
pub fn check(r: &mut impl Read, available: u64) -> Result<Claim, String> {
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
    let item = item_size(&text).ok_or("the .npy header has no readable 'descr' (such as '<f8')")?;
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
    let limit = crate::model::max_numbers() as u64;
    if numbers > limit {
        return Err(format!(
            "the .npy array has shape {shape_text} ({numbers} numbers), more than bptui's limit of {limit} \
             (raise it with --max-numbers N)"
        ));
    }
    Ok(Claim { numbers, header_bytes, data_bytes })
}

fn item_size(header: &str) -> Option<u64> {
    let rest = &header[header.find("'descr'")? + 7..];
    let rest = &rest[rest.find('\'')? + 1..];
    let descr = &rest[..rest.find('\'')?];
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
        let e = check(&mut bytes.as_slice(), bytes.len() as u64).unwrap_err();
        assert!(e.contains("(100000, 1000000)") && e.contains("holds 16 bytes"), "{e}");
        let ok = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16);
        assert_eq!(check(&mut ok.as_slice(), ok.len() as u64).unwrap().numbers, 2);
        let huge = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }", 0);
        assert!(check(&mut huge.as_slice(), huge.len() as u64).unwrap_err().contains("more numbers than"));
    }
}
