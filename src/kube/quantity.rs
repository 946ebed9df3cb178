//! Which texts the API server accepts as a resource quantity (`500m`, `1Gi`, `1e3`).
//!
//! This is the grammar of `resource.ParseQuantity` in k8s.io/apimachinery, including its
//! leniencies (`1.`, `.5`, `+1`); src/drift/quantity.rs computes values, this only accepts
//! or refuses a spelling, so it keeps no arithmetic and no precision limit.

/// Whether `text` is a quantity the API server parses.
pub(crate) fn is_quantity(text: &str) -> bool {
    let b = text.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = usize::from(matches!(b[0], b'+' | b'-'));
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    // The number itself must have a digit: `Gi` and `.` are not numbers.
    if digits == 0 {
        return false;
    }
    let suffix = &text[i..];
    if suffix.is_empty() {
        return true;
    }
    // The suffix is letters of "eEinumkKMGTP", then an optional sign and digits.
    let letters = suffix
        .bytes()
        .take_while(|c| b"eEinumkKMGTP".contains(c))
        .count();
    let rest = &suffix[letters..];
    let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    match suffix {
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P"
        | "E" => true,
        _ => {
            // A decimal exponent: `e3`, `E-2`.
            let exponent = suffix.strip_prefix(['e', 'E']).unwrap_or("");
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            !digits.is_empty() && digits.len() <= 9 && digits.bytes().all(|c| c.is_ascii_digit())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepts_what_parse_quantity_accepts() {
        for text in [
            "1", "0", "500m", "1Gi", "1.5", ".5", "1.", "+1", "-1", "1e3", "1E3", "1e-3", "1e+3",
            "100Ki", "2Ti", "3Pi", "4Ei", "1n", "1u", "1k", "1M", "1G", "1T", "1P", "1E", "0.1Mi",
            "007",
        ] {
            assert!(super::is_quantity(text), "{text:?} should be a quantity");
        }
    }

    #[test]
    fn refuses_what_parse_quantity_refuses() {
        for text in [
            "", "1K", "1Gb", "1GB", "1gi", "1 Gi", " 1", "1Gi ", "1e", "1.5.5", "1,5", "Gi", "1mi",
            "1KiB", "one", "1e3Gi", "0x10", "1_000", ".", "-", "+Gi",
        ] {
            assert!(
                !super::is_quantity(text),
                "{text:?} should not be a quantity"
            );
        }
    }
}
