//! The Spine Secure Proxy headers every GP Connect request carries (GP Connect "Spine Secure
//! Proxy" and error handling guidance): `Ssp-TraceID` (a GUID), `Ssp-From` and `Ssp-To` (ASIDs)
//! and `Ssp-InteractionID` (the one of the operation called). Missing or wrong is 400
//! `BAD_REQUEST`. `Ssp-To` must be the practice's ASID, checked once the practice is known.

use actix_web::HttpRequest;

use super::error::FhirError;
use super::interaction::Interaction;
use crate::availability::codes::Asid;
use crate::practice::Practice;

/// The SSP headers of a request that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SspHeaders {
    pub trace_id: String,
    pub from_asid: Asid,
    pub to_asid: Asid,
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Result<&'a str, FhirError> {
    let value = req
        .headers()
        .get(name)
        .ok_or_else(|| FhirError::bad_request(format!("the {name} header is missing")))?
        .to_str()
        .map_err(|_| FhirError::bad_request(format!("the {name} header is not text")))?
        .trim();
    if value.is_empty() {
        return Err(FhirError::bad_request(format!(
            "the {name} header is empty"
        )));
    }
    Ok(value)
}

/// A GUID in its usual form, `8-4-4-4-12` hexadecimal digits.
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn check_ssp_headers(
    req: &HttpRequest,
    interaction: Interaction,
) -> Result<SspHeaders, FhirError> {
    let trace_id = header(req, "Ssp-TraceID")?;
    if !is_guid(trace_id) {
        return Err(FhirError::bad_request(format!(
            "Ssp-TraceID '{trace_id}' is not a GUID"
        )));
    }
    let asid = |name: &str| {
        let value = header(req, name)?;
        Asid::parse(value)
            .map_err(|_| FhirError::bad_request(format!("{name} '{value}' is not an ASID")))
    };
    let from_asid = asid("Ssp-From")?;
    let to_asid = asid("Ssp-To")?;
    let interaction_id = header(req, "Ssp-InteractionID")?;
    if interaction_id != interaction.id() {
        return Err(FhirError::bad_request(format!(
            "Ssp-InteractionID '{interaction_id}' does not match the request: expected {}",
            interaction.id()
        )));
    }
    Ok(SspHeaders {
        trace_id: trace_id.to_owned(),
        from_asid,
        to_asid,
    })
}

/// `Ssp-To` must be the ASID under which `practice` is registered for GP Connect; a practice
/// without one is not served at all.
pub fn check_addressed_to(ssp: &SspHeaders, practice: &Practice) -> Result<(), FhirError> {
    match &practice.asid {
        None => Err(FhirError::bad_request(format!(
            "practice {} is not registered for GP Connect (it has no ASID)",
            practice.ods_code
        ))),
        Some(asid) if asid != ssp.to_asid.as_str() => Err(FhirError::bad_request(format!(
            "Ssp-To '{}' is not the ASID of practice {}",
            ssp.to_asid, practice.ods_code
        ))),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;
    use crate::db::ids::PracticeId;
    use crate::fhir::error::SpineCode;

    const TRACE_ID: &str = "5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c70";

    /// Valid headers for a slot search sent to ASID 200000000359, with `name` set to `value`
    /// (or removed when `None`).
    fn checked(name: &str, value: Option<&str>) -> Result<SspHeaders, FhirError> {
        let mut req = TestRequest::get();
        for (header, valid) in [
            ("Ssp-TraceID", TRACE_ID),
            ("Ssp-From", "918999198738"),
            ("Ssp-To", "200000000359"),
            ("Ssp-InteractionID", Interaction::SearchSlot.id()),
        ] {
            match (header == name, value) {
                (false, _) => req = req.insert_header((header, valid)),
                (true, Some(v)) => req = req.insert_header((header, v)),
                (true, None) => {}
            }
        }
        check_ssp_headers(&req.to_http_request(), Interaction::SearchSlot)
    }

    #[track_caller]
    fn assert_bad_request(result: Result<SspHeaders, FhirError>, mentions: &str) {
        let e = result.unwrap_err();
        assert_eq!(e.code, SpineCode::BadRequest, "{e:?}");
        assert!(e.diagnostics.contains(mentions), "{e:?}");
    }

    #[test]
    fn valid_headers_are_kept() {
        let ssp = checked("", None).unwrap();
        assert_eq!(ssp.trace_id, TRACE_ID);
        assert_eq!(ssp.from_asid.as_str(), "918999198738");
        assert_eq!(ssp.to_asid.as_str(), "200000000359");
    }

    #[test]
    fn each_missing_or_empty_header_is_400_bad_request() {
        for name in ["Ssp-TraceID", "Ssp-From", "Ssp-To", "Ssp-InteractionID"] {
            assert_bad_request(checked(name, None), name);
            assert_bad_request(checked(name, Some(" ")), name);
        }
    }

    #[test]
    fn malformed_headers_are_400_bad_request() {
        for (name, value) in [
            ("Ssp-TraceID", "not-a-guid"),
            ("Ssp-TraceID", "5a6e2a1c0d7b4f0e9d432b8a3f1e6c70"),
            ("Ssp-TraceID", "{5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c70}"),
            ("Ssp-TraceID", "5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c7g"),
            ("Ssp-From", "consumer"),
            ("Ssp-To", "ASID-A"),
            ("Ssp-To", "20000000035X"),
        ] {
            assert_bad_request(checked(name, Some(value)), value);
        }
        let upper = checked("Ssp-TraceID", Some("5A6E2A1C-0D7B-4F0E-9D43-2B8A3F1E6C70"));
        assert!(upper.is_ok(), "{upper:?}");
    }

    #[test]
    fn an_interaction_id_that_does_not_match_the_request_is_400() {
        for wrong in [Interaction::ReadMetadata.id(), "InvalidInteractionId"] {
            assert_bad_request(checked("Ssp-InteractionID", Some(wrong)), wrong);
        }
    }

    #[test]
    fn ssp_to_must_be_the_asid_the_practice_is_registered_under() {
        let ssp = checked("", None).unwrap();
        let practice = |asid: Option<&str>| Practice {
            id: PracticeId(1),
            ods_code: "A20047".into(),
            name: "Practice A".into(),
            list_size: 100,
            asid: asid.map(str::to_owned),
        };
        assert_eq!(
            check_addressed_to(&ssp, &practice(Some("200000000359"))),
            Ok(())
        );
        let other = check_addressed_to(&ssp, &practice(Some("200000000360"))).unwrap_err();
        assert_eq!(other.code, SpineCode::BadRequest);
        assert!(other.diagnostics.contains("is not the ASID"), "{other:?}");
        let unregistered = check_addressed_to(&ssp, &practice(None)).unwrap_err();
        assert_eq!(unregistered.code, SpineCode::BadRequest);
        assert!(
            unregistered.diagnostics.contains("not registered"),
            "{unregistered:?}"
        );
    }
}
