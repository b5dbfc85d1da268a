//! The NHS number: ten digits, the last a Modulus 11 check digit (NHS Data Dictionary, "NHS
//! Number"). Parsing is the only way to make one, so every `NhsNumber` is well formed.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The identifier system of NHS numbers in FHIR (GP Connect and PDS alike).
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber([u8; 10]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    #[error("'{0}' is not an NHS number: it must be 10 digits")]
    NotTenDigits(String),
    #[error("'{0}' is not an NHS number: its check digit is wrong")]
    CheckDigit(String),
}

impl NhsNumber {
    /// Ten digits (spaces, as in "943 476 5919", are allowed between groups) whose last digit
    /// is the Modulus 11 check digit of the first nine.
    pub fn parse(text: &str) -> Result<NhsNumber, NhsNumberError> {
        let compact: String = text.chars().filter(|c| *c != ' ').collect();
        if compact.len() != 10 || !compact.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NhsNumberError::NotTenDigits(text.to_owned()));
        }
        let mut digits = [0u8; 10];
        for (d, b) in digits.iter_mut().zip(compact.bytes()) {
            *d = b - b'0';
        }
        if check_digit(&digits) != Some(digits[9]) {
            return Err(NhsNumberError::CheckDigit(text.to_owned()));
        }
        Ok(NhsNumber(digits))
    }

    pub fn as_string(&self) -> String {
        self.to_string()
    }
}

/// Modulus 11: weights 10 down to 2 on the first nine digits; 11 minus the remainder, where 11
/// means 0 and 10 means no valid number has these nine digits.
fn check_digit(digits: &[u8; 10]) -> Option<u8> {
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10u32).rev())
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        d => Some(d as u8),
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for NhsNumber {
    type Err = NhsNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NhsNumber::parse(s)
    }
}

impl Serialize for NhsNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NhsNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        NhsNumber::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_numbers() {
        for n in ["9000000009", "9434765919", "943 476 5919", "4010232137"] {
            assert!(NhsNumber::parse(n).is_ok(), "{n}");
        }
        assert_eq!(
            NhsNumber::parse("943 476 5919").unwrap().to_string(),
            "9434765919"
        );
    }

    #[test]
    fn refuses_a_wrong_check_digit() {
        assert!(matches!(
            NhsNumber::parse("9434765918"),
            Err(NhsNumberError::CheckDigit(_))
        ));
    }

    #[test]
    fn refuses_nine_digits_whose_check_would_be_ten() {
        // 1000000010: weights give 10*1 + 2*1 = 12, 11 - 1 = 10: no check digit exists.
        assert!(NhsNumber::parse("1000000010").is_err());
        assert_eq!(check_digit(&[1, 0, 0, 0, 0, 0, 0, 0, 1, 0]), None);
    }

    #[test]
    fn refuses_anything_but_ten_digits() {
        for n in ["", "900000000", "90000000099", "900000000X", "+900000009"] {
            assert!(
                matches!(NhsNumber::parse(n), Err(NhsNumberError::NotTenDigits(_))),
                "{n}"
            );
        }
    }
}
