//! The Patient resource (CareConnect-GPC-Patient-1, GP Connect 1.2.7) and the searchset
//! Bundle that Find a patient and Register a patient answer with, fields in FHIR element order.
//!
//! `meta.versionId` is the record's version, which moves on every change of its content. Never
//! sent: ethnic category, religion, cadaveric donor, residential status, treatment category,
//! birth place, marital status, multiple birth (GP Connect's Patient rules).

use super::node::{Node, Obj};
use super::profiles::*;
use crate::patients::nhs_number::NHS_NUMBER_SYSTEM;
use crate::patients::record::Patient;

fn coding(system: &'static str, code: &str, display: Option<&'static str>) -> Node {
    Node::from(Obj::new().put(
        "coding",
        vec![Node::from(
            Obj::new()
                .put("system", system)
                .put("code", code.to_owned())
                .opt("display", display),
        )],
    ))
}

fn extension(url: &'static str, value_key: &'static str, value: impl Into<Node>) -> Node {
    Node::from(Obj::new().put("url", url).put(value_key, value))
}

fn registration_details(p: &Patient) -> Node {
    let kind = p.registration_type();
    let period = Obj::new()
        .put("start", p.registration_start.to_string())
        .opt("end", p.registration_end.map(|d| d.to_string()));
    let mut parts = vec![
        extension("registrationPeriod", "valuePeriod", period),
        extension(
            "registrationType",
            "valueCodeableConcept",
            coding(REGISTRATION_TYPE_SYSTEM, kind.code(), Some(kind.display())),
        ),
    ];
    if let Some(branch) = p.preferred_branch_id {
        parts.push(extension(
            "preferredBranchSurgery",
            "valueReference",
            Obj::new().put("reference", format!("Location/{branch}")),
        ));
    }
    Node::from(
        Obj::new()
            .put("url", REGISTRATION_DETAILS_EXTENSION)
            .put("extension", parts),
    )
}

fn nhs_communication(p: &Patient) -> Option<Node> {
    let language = p.language.as_deref()?;
    let mut parts = vec![extension(
        "language",
        "valueCodeableConcept",
        coding(HUMAN_LANGUAGE_SYSTEM, language, None),
    )];
    if let Some(interpreter) = p.interpreter_required {
        parts.push(extension(
            "interpreterRequired",
            "valueBoolean",
            interpreter,
        ));
    }
    Some(Node::from(
        Obj::new()
            .put("url", NHS_COMMUNICATION_EXTENSION)
            .put("extension", parts),
    ))
}

fn identifier(p: &Patient) -> Node {
    let verification = p.nhs_number_verified.then(|| {
        extension(
            NHS_NUMBER_VERIFICATION_EXTENSION,
            "valueCodeableConcept",
            coding(
                NHS_NUMBER_VERIFICATION_SYSTEM,
                "01",
                Some("Number present and verified"),
            ),
        )
    });
    Node::from(
        Obj::new()
            .put("extension", verification.into_iter().collect::<Vec<_>>())
            .put("system", NHS_NUMBER_SYSTEM)
            .put("value", p.nhs_number.clone()),
    )
}

fn names(p: &Patient) -> Vec<Node> {
    let official = Obj::new()
        .put("use", "official")
        .put("family", p.family_name.clone())
        .put("given", p.given_names.clone())
        .put("prefix", p.name_prefix.iter().cloned().collect::<Vec<_>>());
    let mut names = vec![Node::from(official)];
    names.extend(p.other_names().into_iter().map(|n| {
        Node::from(
            Obj::new()
                .put("use", n.use_)
                .opt("family", n.family)
                .put("given", n.given),
        )
    }));
    names
}

pub fn patient(p: &Patient) -> Node {
    let extensions: Vec<Node> = std::iter::once(registration_details(p))
        .chain(nhs_communication(p))
        .collect();
    let telecom: Vec<Node> = p
        .telecoms()
        .into_iter()
        .map(|t| {
            Node::from(
                Obj::new()
                    .put("system", t.system)
                    .put("value", t.value)
                    .opt("use", t.use_),
            )
        })
        .collect();
    let address: Vec<Node> = p
        .addresses()
        .into_iter()
        .map(|a| {
            Node::from(
                Obj::new()
                    .put("use", a.use_)
                    .put("line", a.lines)
                    .opt("city", a.city)
                    .opt("district", a.district)
                    .opt("postalCode", a.postcode),
            )
        })
        .collect();
    Obj::new()
        .put("id", p.id.to_string())
        .put(
            "meta",
            Obj::new()
                .put("versionId", p.version.to_string())
                .put("profile", vec![PATIENT_PROFILE]),
        )
        .put("extension", extensions)
        .put("identifier", vec![identifier(p)])
        .put("active", p.active && !p.deceased)
        .put("name", names(p))
        .put("telecom", telecom)
        .opt("gender", p.gender.clone())
        .put("birthDate", p.birth_date.to_string())
        .opt("deceasedBoolean", p.deceased.then_some(true))
        .put("address", address)
        .put(
            "managingOrganization",
            Obj::new().put("reference", format!("Organization/{}", p.practice_id)),
        )
        .resource("Patient")
}

/// A `searchset` Bundle (GPConnect-Searchset-Bundle-1) of these patients; `base` is the
/// practice's service root URL, for `fullUrl`.
pub fn searchset(patients: &[Patient], base: &str) -> Node {
    let entries: Vec<Node> = patients
        .iter()
        .map(|p| {
            Node::from(
                Obj::new()
                    .put("fullUrl", format!("{base}/Patient/{}", p.id))
                    .put("resource", patient(p))
                    .put("search", Obj::new().put("mode", "match")),
            )
        })
        .collect();
    Obj::new()
        .put(
            "meta",
            Obj::new().put("profile", vec![SEARCHSET_BUNDLE_PROFILE]),
        )
        .put("type", "searchset")
        .put("entry", entries)
        .resource("Bundle")
}
