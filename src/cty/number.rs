//! Arbitrary-precision decimal numbers, the `number` type of Terraform.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::error::CtyError;

/// Largest decimal exponent accepted, far beyond anything real while keeping `i64` arithmetic safe.
const EXPONENT_LIMIT: i64 = 1 << 40;

/// Exponents (in either direction) up to this many zero digits are displayed in plain notation.
const PLAIN_ZEROS_LIMIT: i64 = 64;

/// An exact decimal number.
///
/// Terraform numbers are arbitrary-precision floats and reach the provider as integers, float64s or
/// decimal strings (e.g. `"123456789012345678901234567890.5"`). This type keeps every one of them
/// without loss: it stores a sign, a run of decimal digits and a power-of-ten exponent, normalized so
/// that equal numbers have equal representations (`1 == 1.0 == 10e-1`). Ordering is numeric.
/// Infinities and NaN cannot be represented and are rejected when converting from floats or text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// Most significant digit first, each 0..=9; no leading or trailing zeros; empty for zero.
    digits: Vec<u8>,
    /// Value = digits × 10^exponent; 0 when the number is zero.
    exponent: i64,
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number {
            negative: false,
            digits: Vec::new(),
            exponent: 0,
        }
    }

    fn normalized(negative: bool, mut digits: Vec<u8>, mut exponent: i64) -> Number {
        let lead = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..lead);
        while digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        if digits.is_empty() {
            return Number::zero();
        }
        Number {
            negative,
            digits,
            exponent,
        }
    }

    /// The exact value of a signed integer.
    pub fn from_i64(v: i64) -> Number {
        Number::from_integer_text(v < 0, &v.unsigned_abs().to_string())
    }

    /// The exact value of an unsigned integer.
    pub fn from_u64(v: u64) -> Number {
        Number::from_integer_text(false, &v.to_string())
    }

    fn from_integer_text(negative: bool, text: &str) -> Number {
        let digits = text.bytes().map(|b| b - b'0').collect();
        Number::normalized(negative, digits, 0)
    }

    /// The exact value of a finite float (every float64 is a finite decimal); `None` for NaN and infinities.
    pub fn from_f64(v: f64) -> Option<Number> {
        if !v.is_finite() {
            return None;
        }
        let bits = v.to_bits();
        let negative = bits >> 63 == 1;
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1u64 << 52) - 1);
        let (mut mantissa, mut exp2) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1u64 << 52), biased - 1075)
        };
        if mantissa == 0 {
            return Some(Number::zero());
        }
        while mantissa & 1 == 0 {
            mantissa >>= 1;
            exp2 += 1;
        }
        let mut big = BigDecimal::from_u64(mantissa);
        let exponent = if exp2 >= 0 {
            big.mul_pow(2, exp2 as u32);
            0
        } else {
            // m × 2^-k = m × 5^k × 10^-k
            big.mul_pow(5, exp2.unsigned_abs() as u32);
            exp2
        };
        Some(Number::normalized(negative, big.digits(), exponent))
    }

    /// Parses decimal text: optional sign, digits with an optional fraction, optional `e`/`E` exponent.
    ///
    /// This is the syntax Terraform uses for numbers sent as strings and in JSON. Infinity is rejected.
    pub fn parse(text: &str) -> Result<Number, CtyError> {
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if let Some(&sign @ (b'+' | b'-')) = bytes.first() {
            negative = sign == b'-';
            i = 1;
        }
        let rest = &text[i..];
        if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
            return Err(CtyError::bad_number(
                "infinite numbers are not supported".to_string(),
            ));
        }
        let mut digits = Vec::new();
        let mut fraction_len: i64 = 0;
        let mut seen_digit = false;
        let mut seen_point = false;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'0'..=b'9' => {
                    seen_digit = true;
                    digits.push(b - b'0');
                    if seen_point {
                        fraction_len += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return Err(CtyError::bad_number(format!("{text:?} is not a number")));
        }
        let mut exponent: i64 = 0;
        if let Some(b'e' | b'E') = bytes.get(i) {
            i += 1;
            let mut exp_negative = false;
            if let Some(&sign @ (b'+' | b'-')) = bytes.get(i) {
                exp_negative = sign == b'-';
                i += 1;
            }
            let start = i;
            while let Some(&b @ b'0'..=b'9') = bytes.get(i) {
                exponent = exponent
                    .checked_mul(10)
                    .and_then(|e| e.checked_add(i64::from(b - b'0')))
                    .filter(|e| *e <= EXPONENT_LIMIT)
                    .ok_or_else(|| {
                        CtyError::bad_number(format!("exponent of {text:?} is out of range"))
                    })?;
                i += 1;
            }
            if i == start {
                return Err(CtyError::bad_number(format!(
                    "{text:?} has an empty exponent"
                )));
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if i != bytes.len() {
            return Err(CtyError::bad_number(format!("{text:?} is not a number")));
        }
        Ok(Number::normalized(
            negative,
            digits,
            exponent - fraction_len,
        ))
    }

    /// True when the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.exponent >= 0
    }

    /// True for numbers below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The integer value as `i128`, if integral and small enough (at most 38 digits).
    fn to_i128(&self) -> Option<i128> {
        if !self.is_integer() || self.digits.len() as i64 + self.exponent > 38 {
            return None;
        }
        let mut acc: i128 = 0;
        for d in &self.digits {
            acc = acc * 10 + i128::from(*d);
        }
        for _ in 0..self.exponent {
            acc *= 10;
        }
        Some(if self.negative { -acc } else { acc })
    }

    /// The value as `i64` when it is an integer within range.
    pub fn to_i64(&self) -> Option<i64> {
        self.to_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// The value as `u64` when it is a non-negative integer within range.
    pub fn to_u64(&self) -> Option<u64> {
        self.to_i128().and_then(|v| u64::try_from(v).ok())
    }

    /// The nearest float64 (correctly rounded; ±infinity for magnitudes beyond float64 range).
    pub fn to_f64(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let mut text = String::with_capacity(self.digits.len() + 24);
        if self.negative {
            text.push('-');
        }
        text.extend(self.digits.iter().map(|d| char::from(b'0' + d)));
        text.push('e');
        text.push_str(&self.exponent.to_string());
        // The text is always a well-formed float literal; the fallback is unreachable in practice.
        text.parse().unwrap_or(f64::NAN)
    }

    /// The float64 equal to this number, if there is one (no rounding needed).
    pub fn to_exact_f64(&self) -> Option<f64> {
        let f = self.to_f64();
        match Number::from_f64(f) {
            Some(back) if back == *self => Some(f),
            _ => None,
        }
    }

    /// Digits left of the decimal point when written out (position of the leading digit).
    fn magnitude(&self) -> i64 {
        self.digits.len() as i64 + self.exponent
    }

    fn write_digits(&self, f: &mut fmt::Formatter<'_>, from: usize, to: usize) -> fmt::Result {
        for d in self.digits.get(from..to).unwrap_or(&[]) {
            fmt::Write::write_char(f, char::from(b'0' + d))?;
        }
        Ok(())
    }

    fn write_zeros(f: &mut fmt::Formatter<'_>, count: i64) -> fmt::Result {
        for _ in 0..count {
            fmt::Write::write_char(f, '0')?;
        }
        Ok(())
    }
}

/// Exact decimal text. Plain notation (`12.5`, `0.001`, `100000`) unless that would need more than
/// 64 padding zeros, then scientific (`1.5e400`); both forms are accepted by Terraform and by JSON.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        if self.negative {
            f.write_str("-")?;
        }
        let len = self.digits.len();
        let magnitude = self.magnitude();
        if self.exponent >= 0 && self.exponent <= PLAIN_ZEROS_LIMIT {
            self.write_digits(f, 0, len)?;
            Number::write_zeros(f, self.exponent)
        } else if self.exponent < 0 && magnitude > 0 {
            let split = magnitude as usize;
            self.write_digits(f, 0, split)?;
            f.write_str(".")?;
            self.write_digits(f, split, len)
        } else if self.exponent < 0 && -magnitude <= PLAIN_ZEROS_LIMIT {
            f.write_str("0.")?;
            Number::write_zeros(f, -magnitude)?;
            self.write_digits(f, 0, len)
        } else {
            self.write_digits(f, 0, 1)?;
            if len > 1 {
                f.write_str(".")?;
                self.write_digits(f, 1, len)?;
            }
            write!(f, "e{}", magnitude - 1)
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl FromStr for Number {
    type Err = CtyError;
    fn from_str(s: &str) -> Result<Number, CtyError> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Number {
        Number::from_i64(v)
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Number {
        Number::from_u64(v)
    }
}

impl From<i32> for Number {
    fn from(v: i32) -> Number {
        Number::from_i64(i64::from(v))
    }
}

impl From<u32> for Number {
    fn from(v: u32) -> Number {
        Number::from_u64(u64::from(v))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        fn sign(n: &Number) -> i8 {
            match (n.is_zero(), n.negative) {
                (true, _) => 0,
                (false, true) => -1,
                (false, false) => 1,
            }
        }
        let (a, b) = (sign(self), sign(other));
        if a != b || a == 0 {
            return a.cmp(&b);
        }
        let abs = self
            .magnitude()
            .cmp(&other.magnitude())
            .then_with(|| self.digits.cmp(&other.digits));
        if self.negative {
            abs.reverse()
        } else {
            abs
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A non-negative integer in base 10^9 limbs (least significant first), just enough arithmetic to
/// expand float64 values into exact decimals.
struct BigDecimal {
    limbs: Vec<u32>,
}

impl BigDecimal {
    const BASE: u64 = 1_000_000_000;

    fn from_u64(mut v: u64) -> BigDecimal {
        let mut limbs = Vec::new();
        while v > 0 {
            limbs.push((v % Self::BASE) as u32);
            v /= Self::BASE;
        }
        BigDecimal { limbs }
    }

    fn mul_small(&mut self, factor: u32) {
        let mut carry: u64 = 0;
        for limb in &mut self.limbs {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = (product % Self::BASE) as u32;
            carry = product / Self::BASE;
        }
        while carry > 0 {
            self.limbs.push((carry % Self::BASE) as u32);
            carry /= Self::BASE;
        }
    }

    /// Multiplies by base^power where base is 2 or 5, in chunks that fit one multiplication.
    fn mul_pow(&mut self, base: u32, mut power: u32) {
        let chunk = if base == 2 { 29 } else { 13 };
        while power > 0 {
            let step = power.min(chunk);
            self.mul_small(base.pow(step));
            power -= step;
        }
    }

    /// Decimal digits, most significant first.
    fn digits(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.limbs.len() * 9);
        for (i, limb) in self.limbs.iter().rev().enumerate() {
            let text = if i == 0 {
                limb.to_string()
            } else {
                format!("{limb:09}")
            };
            out.extend(text.bytes().map(|b| b - b'0'));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn parse_and_display_round_trip() {
        for (input, shown) in [
            ("0", "0"),
            ("-0", "0"),
            ("1", "1"),
            ("1.0", "1"),
            ("10e-1", "1"),
            ("-12.50", "-12.5"),
            ("0.1", "0.1"),
            (".5", "0.5"),
            ("5.", "5"),
            ("+7", "7"),
            ("1e3", "1000"),
            ("1.5E+3", "1500"),
            ("0.00012", "0.00012"),
            (
                "123456789012345678901234567890.5",
                "123456789012345678901234567890.5",
            ),
            ("1e400", "1e400"),
            ("-1.25e-400", "-1.25e-400"),
            ("18446744073709551616", "18446744073709551616"),
        ] {
            assert_eq!(n(input).to_string(), shown, "input {input}");
            assert_eq!(n(shown), n(input));
        }
    }

    #[test]
    fn parse_rejects_garbage() {
        for bad in [
            "",
            "-",
            ".",
            "1.2.3",
            "1e",
            "1e+",
            "abc",
            "1 ",
            " 1",
            "0x10",
            "Inf",
            "-infinity",
            "1_0",
            "1e99999999999999999999",
        ] {
            assert!(Number::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn integers_convert_exactly() {
        assert_eq!(Number::from_i64(i64::MIN).to_i64(), Some(i64::MIN));
        assert_eq!(
            Number::from_i64(i64::MIN).to_string(),
            "-9223372036854775808"
        );
        assert_eq!(Number::from_u64(u64::MAX).to_u64(), Some(u64::MAX));
        assert_eq!(Number::from_u64(u64::MAX).to_i64(), None);
        assert_eq!(Number::from_i64(-1).to_u64(), None);
        assert_eq!(n("1.5").to_i64(), None);
        assert_eq!(n("1e30").to_i64(), None);
        assert_eq!(n("1e3").to_i64(), Some(1000));
        assert_eq!(n("1e300").to_u64(), None);
        assert!(n("100").is_integer());
        assert!(!n("0.5").is_integer());
    }

    #[test]
    fn floats_are_expanded_exactly() {
        assert_eq!(Number::from_f64(0.5).unwrap(), n("0.5"));
        assert_eq!(Number::from_f64(-2.0).unwrap(), n("-2"));
        assert_eq!(Number::from_f64(-0.0).unwrap(), Number::zero());
        // float64 0.1 is not decimal 0.1
        let f = Number::from_f64(0.1).unwrap();
        assert_ne!(f, n("0.1"));
        assert_eq!(
            f.to_string(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(f.to_exact_f64(), Some(0.1));
        assert_eq!(n("0.1").to_exact_f64(), None);
        assert_eq!(Number::from_f64(1e300).unwrap().to_f64(), 1e300);
        assert_eq!(Number::from_f64(5e-324).unwrap().to_f64(), 5e-324);
        assert_eq!(Number::from_f64(f64::MAX).unwrap().to_f64(), f64::MAX);
        assert!(Number::from_f64(f64::NAN).is_none());
        assert!(Number::from_f64(f64::INFINITY).is_none());
    }

    #[test]
    fn to_f64_rounds_and_saturates() {
        assert_eq!(n("0.1").to_f64(), 0.1);
        assert_eq!(n("1e400").to_f64(), f64::INFINITY);
        assert_eq!(n("-1e400").to_f64(), f64::NEG_INFINITY);
        assert_eq!(n("1e-400").to_f64(), 0.0);
    }

    #[test]
    fn ordering_is_numeric() {
        let mut v = [
            n("10"),
            n("-1"),
            n("0.5"),
            n("-10.5"),
            n("0"),
            n("9.99"),
            n("1e20"),
            n("-0.001"),
        ];
        v.sort();
        let shown: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            shown,
            [
                "-10.5",
                "-1",
                "-0.001",
                "0",
                "0.5",
                "9.99",
                "10",
                "100000000000000000000"
            ]
        );
        assert_eq!(n("1"), n("1.000"));
        assert!(n("0.12") < n("0.123"));
    }
}
