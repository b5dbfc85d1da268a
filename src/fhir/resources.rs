//! The FHIR STU3 resources bookable serves, profiled as GP Connect 1.2.7 requires, with their
//! fields in FHIR element order (so the XML is valid too). Times are UK local time with the
//! offset in force (`+00:00` GMT, `+01:00` BST), to the second.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Europe::London;

use super::node::{Node, Obj, Streamed};
use super::profiles::*;
use crate::availability::codes::{
    DELIVERY_CHANNEL_EXTENSION, ODS_CODE_SYSTEM, PRACTITIONER_ROLE_EXTENSION, PractitionerRole,
    SDS_JOB_ROLE_SYSTEM,
};
use crate::availability::query::{
    FreeSlot, LocationSummary, PractitionerSummary, ScheduleSummary, SlotSearchResult,
};
use crate::db::ids::{PracticeId, ScheduleId};
use crate::practice::Practice;

/// A time as GP Connect sends it: UK local time with the offset then in force, to the second.
pub fn uk_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&London)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A version id that changes whenever the resource's content does: FNV-1a (stable across runs,
/// unlike the std hasher) of the data the resource is written from, and of bookable's version,
/// whose releases may write it differently. bookable keeps no version history of its own for
/// these resources; hashing the data rather than the written JSON saves serialising it twice.
fn version_id(source: &impl Hash) -> String {
    struct Fnv1a(u64);
    impl Hasher for Fnv1a {
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
        }

        fn finish(&self) -> u64 {
            self.0
        }
    }
    let mut hash = Fnv1a(0xcbf2_9ce4_8422_2325);
    (env!("CARGO_PKG_VERSION"), source).hash(&mut hash);
    format!("{:016x}", hash.finish())
}

/// A resource with its id and `meta` (versionId of `source`, profile) before the fields of
/// `body`, which `source` must determine.
fn profiled(
    kind: &'static str,
    id: String,
    profile: &'static str,
    source: &impl Hash,
    body: Obj,
) -> Node {
    profiled_with(kind, id, profile, source, body, Obj::new())
}

/// As [`profiled`], with `per_request` fields last that don't count towards the version (they
/// depend on the search, not on what bookable holds).
fn profiled_with(
    kind: &'static str,
    id: String,
    profile: &'static str,
    source: &impl Hash,
    body: Obj,
    per_request: Obj,
) -> Node {
    let meta = Obj::new()
        .put("versionId", version_id(source))
        .put("profile", vec![profile]);
    let mut fields = Obj::new().put("id", id).put("meta", meta).into_fields();
    fields.extend(body.into_fields());
    fields.extend(per_request.into_fields());
    Node::Resource(kind, fields)
}

fn reference(kind: &str, id: impl std::fmt::Display) -> Obj {
    Obj::new().put("reference", format!("{kind}/{id}"))
}

fn text(value: &str) -> Obj {
    Obj::new().put("text", value.to_owned())
}

pub fn slot(s: &FreeSlot) -> Node {
    let extension = s.delivery_channel.map(|channel| {
        Node::from(
            Obj::new()
                .put("url", DELIVERY_CHANNEL_EXTENSION)
                .put("valueCode", channel.code()),
        )
    });
    let body = Obj::new()
        .put("extension", extension.into_iter().collect::<Vec<_>>())
        .put("serviceType", vec![Node::from(text(&s.slot_type))])
        .put("schedule", reference("Schedule", s.schedule_id))
        .put("status", "free")
        .put("start", uk_time(s.start))
        .put("end", uk_time(s.end));
    profiled("Slot", s.id.to_string(), SLOT_PROFILE, s, body)
}

/// A Schedule, with the period its returned slots cover as its planning horizon.
pub fn schedule(s: &ScheduleSummary, horizon: (DateTime<Utc>, DateTime<Utc>)) -> Node {
    let role = PractitionerRole::parse(&s.practitioner_role).ok();
    let coding = Obj::new()
        .put("system", SDS_JOB_ROLE_SYSTEM)
        .put("code", &s.practitioner_role)
        .opt("display", role.map(|r| r.display()));
    let role_extension = Obj::new().put("url", PRACTITIONER_ROLE_EXTENSION).put(
        "valueCodeableConcept",
        Obj::new().put("coding", vec![Node::from(coding)]),
    );
    let mut actors = vec![Node::from(reference("Location", s.location_id))];
    if let Some(p) = s.practitioner_id {
        actors.push(reference("Practitioner", p).into());
    }
    let body = Obj::new()
        .put("extension", vec![Node::from(role_extension)])
        .opt("serviceCategory", s.schedule_type.as_deref().map(text))
        .put("actor", actors);
    let horizon = Obj::new().put(
        "planningHorizon",
        Obj::new()
            .put("start", uk_time(horizon.0))
            .put("end", uk_time(horizon.1)),
    );
    profiled_with(
        "Schedule",
        s.id.to_string(),
        SCHEDULE_PROFILE,
        s,
        body,
        horizon,
    )
}

pub fn practitioner(p: &PractitionerSummary) -> Node {
    let identifiers: Vec<Node> = [
        (SDS_USER_ID_SYSTEM, &p.sds_user_id),
        (SDS_ROLE_PROFILE_ID_SYSTEM, &p.sds_role_profile_id),
    ]
    .into_iter()
    .filter_map(|(system, value)| {
        value.as_deref().map(|v| {
            Obj::new()
                .put("system", system)
                .put("value", v.to_owned())
                .into()
        })
    })
    .collect();
    let name = Obj::new()
        .put("family", &p.family_name)
        .put("given", p.given_name.iter().collect::<Vec<_>>())
        .put("prefix", p.prefix.iter().collect::<Vec<_>>());
    let body = Obj::new()
        .put("identifier", identifiers)
        .put("name", vec![Node::from(name)])
        .opt("gender", p.gender.as_ref());
    profiled(
        "Practitioner",
        p.id.to_string(),
        PRACTITIONER_PROFILE,
        p,
        body,
    )
}

pub fn location(l: &LocationSummary, organization: PracticeId) -> Node {
    let address = Obj::new()
        .put("line", l.address_lines.iter().collect::<Vec<_>>())
        .opt("postalCode", l.postcode.as_ref());
    let telecom: Vec<Node> = l
        .phone
        .iter()
        .map(|phone| {
            Obj::new()
                .put("system", "phone")
                .put("value", phone)
                .put("use", "work")
                .into()
        })
        .collect();
    let body = Obj::new()
        .put("name", &l.name)
        .put("telecom", telecom)
        .put("address", address)
        .put(
            "managingOrganization",
            reference("Organization", organization),
        );
    profiled(
        "Location",
        l.id.to_string(),
        LOCATION_PROFILE,
        &(l, organization),
        body,
    )
}

pub fn organization(p: &Practice) -> Node {
    let identifier = Obj::new()
        .put("system", ODS_CODE_SYSTEM)
        .put("value", &p.ods_code);
    let body = Obj::new()
        .put("identifier", vec![Node::from(identifier)])
        .put("name", &p.name);
    profiled(
        "Organization",
        p.id.to_string(),
        ORGANIZATION_PROFILE,
        &(&p.ods_code, &p.name),
        body,
    )
}

/// What a slot search returns besides the slots.
#[derive(Debug, Clone, Copy)]
pub struct Includes {
    pub practitioners: bool,
    pub locations: bool,
}

/// The searchset Bundle for a search result: the slots (`match`), then each schedule,
/// practitioner and location they refer to once (`include`), then the practice's Organization
/// whenever there is a slot. `base` is the practice's service root URL, for `fullUrl`. Each
/// entry is made as it is written.
pub fn search_bundle<'a>(
    result: &'a SlotSearchResult,
    practice: &'a Practice,
    includes: Includes,
    base: &'a str,
) -> Streamed<impl Iterator<Item = Node> + 'a> {
    let mut horizons: BTreeMap<ScheduleId, (DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
    for s in &result.slots {
        horizons
            .entry(s.schedule_id)
            .and_modify(|(start, end)| {
                *start = (*start).min(s.start);
                *end = (*end).max(s.end);
            })
            .or_insert((s.start, s.end));
    }
    let entry = move |kind: &str, id: String, resource: Node, mode: &'static str| {
        Node::from(
            Obj::new()
                .put("fullUrl", format!("{base}/{kind}/{id}"))
                .put("resource", resource)
                .put("search", Obj::new().put("mode", mode)),
        )
    };
    let slots = result
        .slots
        .iter()
        .map(move |s| entry("Slot", s.id.to_string(), slot(s), "match"));
    let schedules = result.schedules.iter().filter_map(move |s| {
        let horizon = horizons.get(&s.id)?;
        Some(entry(
            "Schedule",
            s.id.to_string(),
            schedule(s, *horizon),
            "include",
        ))
    });
    let practitioners = result
        .practitioners
        .iter()
        .filter(move |_| includes.practitioners)
        .map(move |p| entry("Practitioner", p.id.to_string(), practitioner(p), "include"));
    let locations = result
        .locations
        .iter()
        .filter(move |_| includes.locations)
        .map(move |l| {
            entry(
                "Location",
                l.id.to_string(),
                location(l, practice.id),
                "include",
            )
        });
    let organization = (!result.slots.is_empty()).then(move || {
        entry(
            "Organization",
            practice.id.to_string(),
            organization(practice),
            "include",
        )
    });
    Streamed {
        kind: "Bundle",
        fields: Obj::new().put("type", "searchset").into_fields(),
        array: "entry",
        items: slots
            .chain(schedules)
            .chain(practitioners)
            .chain(locations)
            .chain(organization),
    }
}

/// About how many bytes a search Bundle takes per slot (a slot entry, and its share of the
/// includes), to size the response buffer once.
pub const SEARCH_BYTES_PER_SLOT: usize = 700;

/// The CapabilityStatement of a practice's endpoint: GP Connect 1.2.7, the Slot search with its
/// parameters and includes, and the reads of the resources it refers to.
pub fn capability_statement() -> Node {
    let interaction = |code: &'static str| Node::from(Obj::new().put("code", code));
    let search_param = |name: &'static str, kind: &'static str, doc: &'static str| {
        Node::from(
            Obj::new()
                .put("name", name)
                .put("type", kind)
                .put("documentation", doc),
        )
    };
    let read = |kind: &'static str, profile: &'static str| {
        Node::from(
            Obj::new()
                .put("type", kind)
                .put("profile", Obj::new().put("reference", profile))
                .put("interaction", vec![interaction("read")]),
        )
    };
    let slot = Obj::new()
        .put("type", "Slot")
        .put("profile", Obj::new().put("reference", SLOT_PROFILE))
        .put("interaction", vec![interaction("search-type")])
        .put(
            "searchInclude",
            vec![
                "Slot:schedule",
                "Schedule:actor:Practitioner",
                "Schedule:actor:Location",
                "Location:managingOrganization",
            ],
        )
        .put(
            "searchParam",
            vec![
                search_param("start", "date", "ge, then yyyy-mm-dd or yyyy-mm-ddThh:mm:ss+hh:mm (UK local time)"),
                search_param("end", "date", "le, then yyyy-mm-dd (the whole day) or yyyy-mm-ddThh:mm:ss+hh:mm (UK local time); at most 14 days after start"),
                search_param("status", "token", "free"),
                search_param(
                    "searchFilter",
                    "token",
                    "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|{type} and https://fhir.nhs.uk/Id/ods-organization-code|{ODS code}",
                ),
            ],
        );
    let patient = Obj::new()
        .put("type", "Patient")
        .put("profile", Obj::new().put("reference", PATIENT_PROFILE))
        .put(
            "interaction",
            vec![interaction("read"), interaction("search-type")],
        )
        .put(
            "searchParam",
            vec![search_param(
                "identifier",
                "token",
                "https://fhir.nhs.uk/Id/nhs-number|{NHS number}",
            )],
        );
    // Book (create), Read (read), Amend and Cancel (update, told apart by Ssp-InteractionID),
    // and Retrieve a patient's appointments (search-type, as GET Patient/{id}/Appointment).
    let appointment = Obj::new()
        .put("type", "Appointment")
        .put("profile", Obj::new().put("reference", APPOINTMENT_PROFILE))
        .put(
            "interaction",
            vec![
                interaction("read"),
                interaction("create"),
                interaction("update"),
                interaction("search-type"),
            ],
        )
        .put(
            "searchParam",
            vec![search_param(
                "start",
                "date",
                "Patient/{id}/Appointment: exactly two, ge{yyyy-mm-dd} and le{yyyy-mm-dd}, from today",
            )],
        );
    let register = Obj::new().put("name", "gpc.registerpatient").put(
        "definition",
        Obj::new().put("reference", REGISTER_PATIENT_OPERATION),
    );
    let rest = Obj::new()
        .put("mode", "server")
        .put(
            "resource",
            vec![
                Node::from(slot),
                Node::from(appointment),
                Node::from(patient),
                read("Practitioner", PRACTITIONER_PROFILE),
                read("Location", LOCATION_PROFILE),
                read("Organization", ORGANIZATION_PROFILE),
            ],
        )
        .put("operation", vec![Node::from(register)]);
    let profiles: Vec<Node> = [
        PATIENT_PROFILE,
        ORGANIZATION_PROFILE,
        PRACTITIONER_PROFILE,
        LOCATION_PROFILE,
        OPERATION_OUTCOME_PROFILE,
        SCHEDULE_PROFILE,
        SLOT_PROFILE,
        APPOINTMENT_PROFILE,
    ]
    .into_iter()
    .map(|p| Obj::new().put("reference", p).into())
    .collect();
    Obj::new()
        .put("version", GP_CONNECT_VERSION)
        .put("name", "GP Connect")
        .put("status", "active")
        .put("date", CAPABILITY_DATE)
        .put("publisher", "bookable")
        .put(
            "description",
            format!(
                "This server implements the GP Connect API version {GP_CONNECT_VERSION}: \
                 Search for free slots, the reads of the resources it refers to, Find, Read \
                 and Register a patient, and Book, Read, Amend, Cancel and Retrieve \
                 appointments"
            ),
        )
        .put("kind", "capability")
        .put(
            "software",
            Obj::new()
                .put("name", "bookable")
                .put("version", env!("CARGO_PKG_VERSION")),
        )
        .put("fhirVersion", FHIR_VERSION)
        .put("acceptUnknown", "both")
        .put(
            "format",
            vec!["application/fhir+json", "application/fhir+xml"],
        )
        .put("profile", profiles)
        .put("rest", vec![Node::from(rest)])
        .resource("CapabilityStatement")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_uk_local_with_the_offset_in_force() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            uk_time(t("2026-03-28T09:00:00.123Z")),
            "2026-03-28T09:00:00+00:00"
        );
        assert_eq!(
            uk_time(t("2026-03-29T09:00:00Z")),
            "2026-03-29T10:00:00+01:00"
        );
        assert_eq!(
            uk_time(t("2026-10-25T00:30:00Z")),
            "2026-10-25T01:30:00+01:00"
        );
        assert_eq!(
            uk_time(t("2026-10-25T01:30:00Z")),
            "2026-10-25T01:30:00+00:00"
        );
    }
}
