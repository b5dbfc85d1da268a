//! Verifying an NHS number against PDS (GP Connect 1.2.7, #921 and Register a patient): the
//! number is on PDS, current, the demographics match, the patient is not deceased and the
//! record is not sensitive.

use chrono::{Datelike, NaiveDate};

use crate::pds::{PdsLookup, PdsPatient};

/// The local demographics PDS's record is compared with.
#[derive(Debug, Clone, Copy)]
pub struct Demographics<'a> {
    pub family_name: &'a str,
    pub given_name: Option<&'a str>,
    pub birth_date: NaiveDate,
}

/// Why PDS did not verify a patient.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotVerified {
    #[error("the NHS number is not on PDS")]
    NotOnPds,
    #[error("the NHS number is superseded on PDS (by {0})")]
    Superseded(String),
    #[error("the NHS number is marked invalid on PDS")]
    Invalid,
    #[error("PDS shows the patient as deceased")]
    Deceased,
    #[error("the PDS record is sensitive (restricted)")]
    Sensitive,
    #[error("the demographics do not match PDS's (birth date and name)")]
    Mismatch,
}

impl NotVerified {
    /// Invalid or superseded: the NHS number itself is at fault (GP Connect `INVALID_NHS_NUMBER`).
    pub fn is_number_problem(&self) -> bool {
        matches!(self, NotVerified::Superseded(_) | NotVerified::Invalid)
    }
}

/// The rules of GP Connect 1.2.7's Find a patient (#921), used by Register a patient too:
/// 1. on PDS, and the birth date equal to PDS's, or two of its three parts (year, month, day)
///    equal **and** the first three letters of the family name **and** the first letter of the
///    given name equal;
/// 2. not deceased on PDS;
/// 3. no invalid, sensitive or superseded flag on the PDS record.
pub fn verify(local: &Demographics<'_>, lookup: PdsLookup) -> Result<PdsPatient, NotVerified> {
    let pds = match lookup {
        PdsLookup::Found(p) => p,
        PdsLookup::NotFound => return Err(NotVerified::NotOnPds),
        PdsLookup::Superseded { by } => return Err(NotVerified::Superseded(by)),
        PdsLookup::Invalidated | PdsLookup::InvalidNhsNumber => return Err(NotVerified::Invalid),
    };
    if pds.sensitive {
        return Err(NotVerified::Sensitive);
    }
    if pds.deceased {
        return Err(NotVerified::Deceased);
    }
    if !demographics_match(local, &pds) {
        return Err(NotVerified::Mismatch);
    }
    Ok(pds)
}

fn demographics_match(local: &Demographics<'_>, pds: &PdsPatient) -> bool {
    let Some(pds_birth) = pds.birth_date else {
        return false;
    };
    if pds_birth == local.birth_date {
        return true;
    }
    let parts_equal = [
        pds_birth.year() == local.birth_date.year(),
        pds_birth.month() == local.birth_date.month(),
        pds_birth.day() == local.birth_date.day(),
    ]
    .iter()
    .filter(|e| **e)
    .count();
    let family_equal = pds
        .family_name
        .as_deref()
        .is_some_and(|f| prefix_equal(f, local.family_name, 3));
    let given_equal = match (pds.given_names.first(), local.given_name) {
        (Some(p), Some(l)) => prefix_equal(p, l, 1),
        _ => false,
    };
    parts_equal >= 2 && family_equal && given_equal
}

/// The first `n` letters equal, ignoring case (a name shorter than `n` must be equal whole).
fn prefix_equal(a: &str, b: &str, n: usize) -> bool {
    let letters = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| c.is_alphabetic())
            .flat_map(char::to_lowercase)
            .take(n)
            .collect()
    };
    let (a, b) = (letters(a), letters(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pds(birth: &str) -> PdsPatient {
        PdsPatient {
            nhs_number: "9000000009".into(),
            family_name: Some("Smith".into()),
            given_names: vec!["Jane".into()],
            prefix: None,
            birth_date: NaiveDate::parse_from_str(birth, "%Y-%m-%d").ok(),
            gender: Some("female".into()),
            deceased: false,
            sensitive: false,
            addresses: vec![],
            telecoms: vec![],
        }
    }

    fn local<'a>(family: &'a str, given: &'a str, birth: &str) -> Demographics<'a> {
        Demographics {
            family_name: family,
            given_name: Some(given),
            birth_date: NaiveDate::parse_from_str(birth, "%Y-%m-%d").unwrap(),
        }
    }

    #[test]
    fn an_equal_birth_date_verifies_whatever_the_name() {
        let l = local("Jones", "Mary", "1968-03-14");
        assert!(verify(&l, PdsLookup::Found(pds("1968-03-14"))).is_ok());
    }

    #[test]
    fn two_birth_date_parts_and_the_name_prefixes_verify() {
        let l = local("SMITHSON", "joanna", "1968-03-15");
        assert!(verify(&l, PdsLookup::Found(pds("1968-03-14"))).is_ok());
        let only_one_part = local("Smith", "Jane", "1969-04-14");
        assert_eq!(
            verify(&only_one_part, PdsLookup::Found(pds("1968-03-14"))),
            Err(NotVerified::Mismatch)
        );
        let other_family = local("Smyth", "Jane", "1968-03-15");
        assert_eq!(
            verify(&other_family, PdsLookup::Found(pds("1968-03-14"))),
            Err(NotVerified::Mismatch)
        );
        let other_given = local("Smith", "Mary", "1968-03-15");
        assert_eq!(
            verify(&other_given, PdsLookup::Found(pds("1968-03-14"))),
            Err(NotVerified::Mismatch)
        );
    }

    #[test]
    fn deceased_sensitive_and_flagged_records_never_verify() {
        let l = local("Smith", "Jane", "1968-03-14");
        let mut dead = pds("1968-03-14");
        dead.deceased = true;
        assert_eq!(
            verify(&l, PdsLookup::Found(dead)),
            Err(NotVerified::Deceased)
        );
        let mut restricted = pds("1968-03-14");
        restricted.sensitive = true;
        assert_eq!(
            verify(&l, PdsLookup::Found(restricted)),
            Err(NotVerified::Sensitive)
        );
        assert_eq!(verify(&l, PdsLookup::NotFound), Err(NotVerified::NotOnPds));
        assert!(
            verify(
                &l,
                PdsLookup::Superseded {
                    by: "9000000017".into()
                }
            )
            .unwrap_err()
            .is_number_problem()
        );
        assert!(
            verify(&l, PdsLookup::Invalidated)
                .unwrap_err()
                .is_number_problem()
        );
    }
}
