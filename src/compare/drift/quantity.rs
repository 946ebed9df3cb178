//! Kubernetes resource quantities (`500m`, `1Gi`, `1e3`), compared by exact value.
//!
//! The API server rewrites quantities into its canonical form: `1000m` comes back as `1`,
//! `1024Mi` as `1Gi`. A text comparison would report that as drift on every cluster.
//! Values are kept exact (no floats): a quantity is `±odd · 2^exp2 · 5^exp5`, where `odd` is
//! divisible by neither 2 nor 5, so two quantities are equal exactly when these parts are.

/// The exact value of a quantity, in a form where equal values have equal fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quantity {
    negative: bool,
    odd: u128,
    exp2: i64,
    exp5: i64,
}

/// Decimal exponents above this are not quantities the API server accepts; refusing them keeps
/// the arithmetic small.
const MAX_EXPONENT: i64 = 10_000;
/// Significant digits that fit in a `u128`.
const MAX_DIGITS: usize = 38;

impl Quantity {
    const ZERO: Quantity = Quantity {
        negative: false,
        odd: 0,
        exp2: 0,
        exp5: 0,
    };

    /// Parses the Kubernetes quantity grammar: `[+-]digits[.digits]` followed by nothing, a
    /// binary suffix (`Ki`…`Ei`), a decimal suffix (`n u m k M G T P E`) or a decimal exponent
    /// (`e3`, `E-2`). Anything else, including surrounding spaces, is not a quantity.
    pub(crate) fn parse(text: &str) -> Option<Quantity> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_len);
        let (int_part, frac_part) = match number.split_once('.') {
            Some((int_part, frac_part)) => (int_part, frac_part),
            None => (number, ""),
        };
        if frac_part.contains('.') || (int_part.is_empty() && frac_part.is_empty()) {
            return None;
        }
        let (suffix_exp10, suffix_exp2) = suffix_exponents(suffix)?;

        let digits: String = int_part.chars().chain(frac_part.chars()).collect();
        let digits = digits.trim_start_matches('0');
        let significant = digits.trim_end_matches('0');
        if significant.is_empty() {
            return Some(Quantity::ZERO);
        }
        if significant.len() > MAX_DIGITS {
            return None;
        }
        let trailing_zeros = i64::try_from(digits.len() - significant.len()).ok()?;
        let frac_len = i64::try_from(frac_part.len()).ok()?;
        let mut odd: u128 = significant.parse().ok()?;
        let exp10 = suffix_exp10 + trailing_zeros - frac_len;
        let (mut exp2, mut exp5) = (exp10 + suffix_exp2, exp10);
        while odd.is_multiple_of(2) {
            odd /= 2;
            exp2 += 1;
        }
        while odd.is_multiple_of(5) {
            odd /= 5;
            exp5 += 1;
        }
        Some(Quantity {
            negative,
            odd,
            exp2,
            exp5,
        })
    }
}

/// `(power of ten, power of two)` that a suffix multiplies by.
fn suffix_exponents(suffix: &str) -> Option<(i64, i64)> {
    let exponents = match suffix {
        "" => (0, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        _ => {
            let exponent = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))?;
            let digits = exponent
                .strip_prefix('-')
                .or_else(|| exponent.strip_prefix('+'))
                .unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 6
            {
                return None;
            }
            let value: i64 = exponent.parse().ok()?;
            if value.abs() > MAX_EXPONENT {
                return None;
            }
            (value, 0)
        }
    };
    Some(exponents)
}

#[cfg(test)]
mod tests {
    use super::Quantity;

    fn same(a: &str, b: &str) -> bool {
        match (Quantity::parse(a), Quantity::parse(b)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    #[test]
    fn equal_values_in_different_notations() {
        for (a, b) in [
            ("1000m", "1"),
            ("1Gi", "1024Mi"),
            ("0.5", "500m"),
            ("1e3", "1k"),
            ("1E3", "1k"),
            ("1E", "1e18"),
            ("1.5Gi", "1536Mi"),
            ("0", "0m"),
            ("-0", "0Gi"),
            ("+2", "2"),
            (".5", "500m"),
            ("5.", "5"),
            ("100n", "0.1u"),
            ("2.50", "2.5"),
            ("1e-3", "1m"),
            ("129M", "129e6"),
            ("123Mi", "128974848"),
            ("0.1", "100m"),
            ("000100", "1e2"),
        ] {
            assert!(same(a, b), "{a} should equal {b}");
        }
    }

    #[test]
    fn different_values_stay_different() {
        for (a, b) in [
            ("100Mi", "100M"),
            ("1", "-1"),
            ("1k", "1Ki"),
            ("250m", "0.5"),
            ("1e3", "1e4"),
            ("3", "3.0000000000000000000000000000000000001"),
        ] {
            assert!(!same(a, b), "{a} should differ from {b}");
        }
    }

    #[test]
    fn text_that_is_not_a_quantity() {
        for text in [
            "",
            "abc",
            "1 Gi",
            " 1",
            "Gi",
            ".",
            "1e",
            "1.2.3",
            "1Kib",
            "0x10",
            "1e1234567",
            "-",
            "1ki",
            "nginx:1.25",
            "80/TCP",
            "true",
        ] {
            assert_eq!(Quantity::parse(text), None, "{text:?}");
        }
    }
}
