//! The GP Connect 1.2.7 code lists bookable works with, and ODS code syntax.
//!
//! Sources (nhsconnect/STU3-FHIR-Assets and the 1.2.7 release notes):
//! - delivery channel: Extension-GPConnect-DeliveryChannel-2 (`valueCode`), codes of
//!   CodeSystem GPConnect-DeliveryChannel-1 plus `Visit`, added in 1.2.7 (#826);
//! - practitioner role: ValueSet GPConnect-PractitionerRole-1 v1.1.0 (20 SDS job roles) plus the
//!   eight roles added in 1.2.7 (#636), all from CareConnect-SDSJobRoleName-1;
//! - organisation type: GPConnect-OrganisationType-1 in its kebab-case form used by the
//!   specification's examples and agreed in gpconnect#370 (`gp-practice`, `urgent-care`).

use std::fmt;

use serde::{Deserialize, Serialize};

pub const DELIVERY_CHANNEL_EXTENSION: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2";
pub const PRACTITIONER_ROLE_EXTENSION: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-PractitionerRole-1";
pub const SDS_JOB_ROLE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1";
pub const ORGANISATION_TYPE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1";
pub const ODS_CODE_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

/// An invalid code, with a message a practice manager or an integrator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodeError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeliveryChannel {
    #[serde(rename = "In-person")]
    InPerson,
    Telephone,
    Video,
    /// Home visit: returned only by Read/Retrieve, never bookable through GP Connect.
    Visit,
}

impl DeliveryChannel {
    pub const ALL: [DeliveryChannel; 4] =
        [Self::InPerson, Self::Telephone, Self::Video, Self::Visit];

    pub fn code(self) -> &'static str {
        match self {
            Self::InPerson => "In-person",
            Self::Telephone => "Telephone",
            Self::Video => "Video",
            Self::Visit => "Visit",
        }
    }

    pub fn parse(code: &str) -> Result<Self, CodeError> {
        Self::ALL.into_iter().find(|c| c.code() == code).ok_or_else(|| {
            CodeError(format!(
                "unknown delivery channel '{code}': expected one of In-person, Telephone, Video, Visit"
            ))
        })
    }
}

impl fmt::Display for DeliveryChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// SDS job roles of GPConnect-PractitionerRole-1 (1.2.7), code and display.
pub const PRACTITIONER_ROLES: &[(&str, &str)] = &[
    (
        "R0243",
        "Other Community Health Service - Social Care Worker",
    ),
    ("R0260", "General Medical Practitioner"),
    ("R0270", "Salaried General Practitioner"),
    ("R0410", "Student Practice Nurse"),
    ("R0600", "Specialist Nurse Practitioner"),
    ("R0610", "Sister/Charge Nurse"),
    ("R0620", "Staff Nurse"),
    ("R0680", "Midwife"),
    ("R0690", "Community Practitioner"),
    ("R0700", "Community Nurse"),
    ("R0790", "Dietitian"),
    ("R1070", "Paramedic"),
    ("R1110", "Physiotherapist"),
    ("R1290", "Pharmacist"),
    ("R1300", "Psychotherapist"),
    ("R1310", "Clinical Psychologist"),
    ("R1330", "Social Worker"),
    ("R1370", "Practitioner"),
    ("R1440", "Therapist"),
    ("R1450", "Health Care Support Worker"),
    ("R1480", "Healthcare Assistant"),
    ("R1540", "Associate Practitioner"),
    ("R1543", "Associate Practitioner - Nurse"),
    ("R1547", "Associate Practitioner - General Practitioner"),
    ("R1550", "Counsellor"),
    ("R1590", "Phlebotomist"),
    ("R6200", "GP Registrar"),
    ("R6300", "Sessional GP"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PractitionerRole {
    code: &'static str,
    display: &'static str,
}

impl PractitionerRole {
    pub fn parse(code: &str) -> Result<Self, CodeError> {
        PRACTITIONER_ROLES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(code, display)| PractitionerRole { code, display })
            .ok_or_else(|| {
                CodeError(format!(
                    "unknown practitioner role '{code}': expected an SDS job role code of \
                     GPConnect-PractitionerRole-1, such as R0260 (General Medical Practitioner)"
                ))
            })
    }

    pub fn all() -> impl Iterator<Item = PractitionerRole> {
        PRACTITIONER_ROLES
            .iter()
            .map(|&(code, display)| PractitionerRole { code, display })
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn display(&self) -> &'static str {
        self.display
    }

    /// "General Medical Practitioner (R0260)" for managers' pages, or `code` itself when it is
    /// no role GP Connect knows.
    pub fn label(code: &str) -> String {
        Self::parse(code).map_or_else(
            |_| code.to_owned(),
            |r| format!("{} ({})", r.display, r.code),
        )
    }
}

/// Codes of GPConnect-OrganisationType-1 a practice can restrict slots to, with display names.
pub const ORGANISATION_TYPES: &[(&str, &str)] = &[
    ("gp-practice", "GP practice"),
    ("urgent-care", "Urgent care (NHS 111)"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrganisationType {
    code: &'static str,
    display: &'static str,
}

impl OrganisationType {
    pub fn parse(code: &str) -> Result<Self, CodeError> {
        ORGANISATION_TYPES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(code, display)| OrganisationType { code, display })
            .ok_or_else(|| {
                CodeError(format!(
                    "unknown organisation type '{code}': expected one of {}",
                    ORGANISATION_TYPES
                        .iter()
                        .map(|(c, _)| *c)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    pub fn all() -> impl Iterator<Item = OrganisationType> {
        ORGANISATION_TYPES
            .iter()
            .map(|&(code, display)| OrganisationType { code, display })
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn display(&self) -> &'static str {
        self.display
    }

    /// The display name for managers' pages, or `code` itself when it is no type GP Connect
    /// knows.
    pub fn label(code: &str) -> String {
        Self::parse(code).map_or_else(|_| code.to_owned(), |t| t.display.to_owned())
    }
}

/// An ODS organisation code: 3 to 10 letters and digits, kept in upper case
/// (A20047 for a GP practice, RRF for a trust, NLO10 for an NHS 111 provider site).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OdsCode(String);

impl OdsCode {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let code = input.trim().to_ascii_uppercase();
        let ok = (3..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(OdsCode(code))
        } else {
            Err(CodeError(format!(
                "'{input}' is not an ODS code: expected 3 to 10 letters and digits, such as A20047"
            )))
        }
    }

    /// An organisation code a practice manager names as one that may book, checked against
    /// the shapes ODS gives organisations: 3 letters and digits (an NHS trust, RNR), 5 (a
    /// trust's site or an NHS 111 service, RNR01, NLO10; a commissioner's, 00C01), or a letter
    /// and 5 digits (a GP practice or branch, A20047, Y03032). Anything else is refused with
    /// the entered text in the message.
    pub fn parse_organisation(input: &str) -> Result<Self, CodeError> {
        let code = input.trim().to_ascii_uppercase();
        let b = code.as_bytes();
        let alnum = b.iter().all(|c| c.is_ascii_alphanumeric());
        let practice =
            b.len() == 6 && b[0].is_ascii_alphabetic() && b[1..].iter().all(u8::is_ascii_digit);
        if alnum && (b.len() == 3 || b.len() == 5 || practice) {
            Ok(OdsCode(code))
        } else {
            Err(CodeError(format!(
                "'{}' is not an ODS organisation code: a GP practice's is a letter and 5 digits \
                 (Y03032), an NHS 111 service's or a trust site's 5 letters and digits (NLO10, \
                 RNR01), a trust's 3 (RNR)",
                input.trim()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ASID: the Spine accredited system id of a system connected to Spine, all digits
/// (what consumers send as `Ssp-From` and `Ssp-To`, and what registers a practice for GP Connect).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Asid(String);

impl Asid {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        if (1..=20).contains(&input.len()) && input.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Asid(input.to_owned()))
        } else {
            Err(CodeError(format!(
                "'{input}' is not an ASID: expected the digits of a Spine accredited system id"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Asid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisation_codes_follow_the_ods_shapes() {
        for ok in ["A20047", "y03032", " RNR01 ", "NLO10", "RNR", "00C01"] {
            assert!(OdsCode::parse_organisation(ok).is_ok(), "{ok}");
        }
        for bad in [
            "Y03O32", "Y030321", "AB0047", "RN", "RNR0", "NHS111", "Y03-32", "",
        ] {
            let e = OdsCode::parse_organisation(bad).unwrap_err();
            assert!(e.0.contains(&format!("'{}'", bad.trim())), "{bad}: {e}");
        }
    }

    #[test]
    fn delivery_channels_round_trip_their_codes() {
        for c in DeliveryChannel::ALL {
            assert_eq!(DeliveryChannel::parse(c.code()), Ok(c));
        }
        assert!(DeliveryChannel::parse("in-person").is_err());
        assert!(
            DeliveryChannel::parse("Home")
                .unwrap_err()
                .0
                .contains("Visit")
        );
    }

    #[test]
    fn practitioner_roles_include_those_added_in_1_2_7() {
        for code in [
            "R0243", "R1070", "R1110", "R1370", "R1440", "R1540", "R1543", "R1547",
        ] {
            assert!(PractitionerRole::parse(code).is_ok(), "{code}");
        }
        assert_eq!(
            PractitionerRole::parse("R0260").unwrap().display(),
            "General Medical Practitioner"
        );
        assert!(PractitionerRole::parse("R9999").is_err());
        assert_eq!(PractitionerRole::all().count(), 28);
    }

    #[test]
    fn organisation_types_are_the_kebab_case_codes() {
        assert_eq!(
            OrganisationType::parse("urgent-care").unwrap().code(),
            "urgent-care"
        );
        assert!(OrganisationType::parse("Urgent Care").is_err());
        assert!(OrganisationType::parse("oncology").is_err());
    }

    #[test]
    fn ods_codes_are_normalised_and_checked() {
        assert_eq!(OdsCode::parse(" a20047 ").unwrap().as_str(), "A20047");
        assert_eq!(OdsCode::parse("RRF").unwrap().as_str(), "RRF");
        for bad in ["", "AB", "A2004-7", "A20047A20047", "A 0047"] {
            assert!(OdsCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn asids_are_digits() {
        assert_eq!(
            Asid::parse("200000000359").unwrap().as_str(),
            "200000000359"
        );
        for bad in ["", "20000000035X", " 200000000359", "123456789012345678901"] {
            assert!(Asid::parse(bad).is_err(), "{bad:?}");
        }
    }
}
