//! Reading Appointment request bodies: Book's rules (digest of "Book an appointment" in
//! docs/gp-connect.md), and what Amend and Cancel may change compared with the appointment as
//! stored (only description and comment; only the status and the cancellation reason).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::{FhirError, SpineCode};
use super::profiles::{BOOKING_ORGANISATION_EXTENSION, CANCELLATION_REASON_EXTENSION};
use crate::appointments::book::NewAppointment;
use crate::appointments::change::Amendment;
use crate::appointments::{BookingOrganisation, Identifier, Telecom};
use crate::availability::codes::{
    DELIVERY_CHANNEL_EXTENSION, ODS_CODE_SYSTEM, ORGANISATION_TYPE_SYSTEM, OdsCode,
    PRACTITIONER_ROLE_EXTENSION,
};
use crate::db::ids::{LocationId, PatientId, PractitionerId, SlotId};

/// The largest request body read (bytes): room for the longest description and comment many
/// times over, so a too-long text gets its 422 rather than a transport error.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

fn invalid(message: impl Into<String>) -> FhirError {
    FhirError::invalid_resource(message)
}

/// The body as an Appointment resource: FHIR JSON, or FHIR XML read into the same JSON form.
pub fn parse(body: &[u8], xml: bool) -> Result<Map<String, Value>, FhirError> {
    let resource = if xml {
        super::xml_request::parse(body)
            .map_err(|e| invalid(format!("the body is not a FHIR XML resource: {e}")))?
    } else {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid(format!("the body is not a JSON resource: {e}")))?;
        let Value::Object(resource) = value else {
            return Err(invalid("the body is not a JSON resource"));
        };
        resource
    };
    match resource.get("resourceType").and_then(Value::as_str) {
        Some("Appointment") => Ok(resource),
        Some(other) => Err(invalid(format!(
            "the body is a {other}: an Appointment is expected"
        ))),
        None => Err(invalid("the body has no resourceType")),
    }
}

/// The elements a GPConnect-Appointment-1 request may carry; any other (`reason`, `specialty`,
/// the profile's 0..0 elements, unknown ones) is refused.
const ALLOWED: &[&str] = &[
    "resourceType",
    "id",
    "meta",
    "contained",
    "extension",
    "identifier",
    "status",
    "serviceCategory",
    "serviceType",
    "priority",
    "description",
    "start",
    "end",
    "minutesDuration",
    "slot",
    "created",
    "comment",
    "participant",
];

fn check_elements(r: &Map<String, Value>) -> Result<(), FhirError> {
    if let Some(key) = r.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(invalid(format!(
            "the Appointment element '{key}' is not allowed in this request"
        )));
    }
    Ok(())
}

fn string<'a>(r: &'a Map<String, Value>, key: &str) -> Result<&'a str, FhirError> {
    r.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| invalid(format!("the Appointment has no {key}")))
}

fn optional_string<'a>(r: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, FhirError> {
    match r.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("the Appointment {key} is not text"))),
    }
}

fn time(r: &Map<String, Value>, key: &str) -> Result<DateTime<Utc>, FhirError> {
    let text = string(r, key)?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            invalid(format!(
                "the Appointment {key} '{text}' is not a date and time with an offset"
            ))
        })
}

fn array<'a>(r: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], FhirError> {
    match r.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(format!("the Appointment {key} is not a list"))),
    }
}

/// A local relative reference `{kind}/{id}` with a numeric id.
fn local_id(reference: &Value, kind: &str) -> Result<i64, FhirError> {
    let text = reference
        .get("reference")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("a {kind} reference has no reference")))?;
    text.strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            invalid(format!(
                "'{text}' is not a reference to a {kind} here: expected {kind}/{{id}} (local references only)"
            ))
        })
}

struct Participants {
    patient: PatientId,
    location: LocationId,
    practitioner: Option<PractitionerId>,
}

fn participants(r: &Map<String, Value>) -> Result<Participants, FhirError> {
    let (mut patient, mut location, mut practitioner) = (None, None, None);
    let list = array(r, "participant")?;
    if list.is_empty() {
        return Err(invalid("the Appointment has no participant"));
    }
    for p in list {
        let actor = p
            .get("actor")
            .ok_or_else(|| invalid("a participant has no actor"))?;
        if p.get("status").and_then(Value::as_str).is_none() {
            return Err(invalid("a participant has no status"));
        }
        if p.get("type")
            .and_then(Value::as_array)
            .is_some_and(|t| t.len() > 1)
        {
            return Err(invalid("a participant has more than one type"));
        }
        let reference = actor.get("reference").and_then(Value::as_str).unwrap_or("");
        let kind = reference.split('/').next().unwrap_or("");
        let slot = match kind {
            "Patient" => &mut patient,
            "Location" => &mut location,
            "Practitioner" => &mut practitioner,
            _ => {
                return Err(invalid(format!(
                    "participant '{reference}' is not a local Patient, Location or Practitioner reference"
                )));
            }
        };
        if slot.is_some() {
            return Err(invalid(format!("more than one {kind} participant")));
        }
        *slot = Some(local_id(actor, kind)?);
    }
    Ok(Participants {
        patient: PatientId(patient.ok_or_else(|| invalid("no Patient participant"))?),
        location: LocationId(location.ok_or_else(|| invalid("no Location participant"))?),
        practitioner: practitioner.map(PractitionerId),
    })
}

/// The contained booking Organization the booking-organisation extension refers to.
fn booking_organisation(r: &Map<String, Value>) -> Result<BookingOrganisation, FhirError> {
    let mut reference = None;
    for e in array(r, "extension")? {
        match e.get("url").and_then(Value::as_str).unwrap_or("") {
            BOOKING_ORGANISATION_EXTENSION => {
                if reference.is_some() {
                    return Err(invalid("more than one booking organisation extension"));
                }
                reference = e
                    .get("valueReference")
                    .and_then(|v| v.get("reference"))
                    .and_then(Value::as_str);
            }
            CANCELLATION_REASON_EXTENSION => {
                return Err(invalid(
                    "a cancellation reason can't be sent when booking or amending",
                ));
            }
            PRACTITIONER_ROLE_EXTENSION | DELIVERY_CHANNEL_EXTENSION => {}
            url => {
                return Err(invalid(format!(
                    "the extension '{url}' is not allowed here"
                )));
            }
        }
    }
    let reference = reference.ok_or_else(|| {
        invalid("the booking organisation extension (with a reference to a contained Organization) is missing")
    })?;
    let local = reference.strip_prefix('#').ok_or_else(|| {
        invalid(format!(
            "the booking organisation reference '{reference}' is not to a contained resource (#id)"
        ))
    })?;
    let org = array(r, "contained")?
        .iter()
        .find(|c| c.get("id").and_then(Value::as_str) == Some(local))
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(format!("no contained resource has the id '{local}'")))?;
    if org.get("resourceType").and_then(Value::as_str) != Some("Organization") {
        return Err(invalid("the booking organisation is not an Organization"));
    }
    let ods = array(org, "identifier")?
        .iter()
        .find(|i| i.get("system").and_then(Value::as_str) == Some(ODS_CODE_SYSTEM))
        .and_then(|i| i.get("value").and_then(Value::as_str))
        .ok_or_else(|| invalid("the booking organisation has no ODS code identifier"))?;
    let ods_code =
        OdsCode::parse(ods).map_err(|e| invalid(format!("the booking organisation's {e}")))?;
    let name = string(org, "name")
        .map_err(|_| invalid("the booking organisation has no name"))?
        .to_owned();
    let telecom: Vec<Telecom> = array(org, "telecom")?
        .iter()
        .map(|t| serde_json::from_value::<Telecom>(t.clone()))
        .collect::<Result<_, _>>()
        .map_err(|_| invalid("a booking organisation telecom needs a system and a value"))?;
    if telecom.is_empty() || telecom.iter().any(|t| t.value.trim().is_empty()) {
        return Err(invalid("the booking organisation has no telecom"));
    }
    let mut org_type = None;
    for t in array(org, "type")? {
        for c in t
            .get("coding")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if c.get("system").and_then(Value::as_str) != Some(ORGANISATION_TYPE_SYSTEM) {
                return Err(invalid(format!(
                    "the booking organisation type must be coded in {ORGANISATION_TYPE_SYSTEM}"
                )));
            }
            org_type = c.get("code").and_then(Value::as_str).map(str::to_owned);
        }
    }
    Ok(BookingOrganisation {
        ods_code,
        org_type,
        name,
        telecom,
    })
}

fn identifiers(r: &Map<String, Value>) -> Result<Vec<Identifier>, FhirError> {
    array(r, "identifier")?
        .iter()
        .map(|i| {
            let obj = i
                .as_object()
                .ok_or_else(|| invalid("an identifier is not an object"))?;
            if let Some(key) = obj.keys().find(|k| *k != "system" && *k != "value") {
                return Err(invalid(format!(
                    "the identifier element '{key}' is not allowed"
                )));
            }
            Ok(Identifier {
                system: string(obj, "system")
                    .map_err(|_| invalid("an identifier has no system"))?
                    .to_owned(),
                value: string(obj, "value")
                    .map_err(|_| invalid("an identifier has no value"))?
                    .to_owned(),
            })
        })
        .collect()
}

/// A Book request as the domain's booking.
pub fn new_appointment(r: &Map<String, Value>) -> Result<NewAppointment, FhirError> {
    check_elements(r)?;
    if string(r, "status")? != "booked" {
        return Err(invalid("a new appointment's status must be 'booked'"));
    }
    let slots = array(r, "slot")?
        .iter()
        .map(|s| local_id(s, "Slot").map(SlotId))
        .collect::<Result<Vec<_>, _>>()?;
    if slots.is_empty() {
        return Err(invalid("the Appointment has no slot"));
    }
    let people = participants(r)?;
    Ok(NewAppointment {
        patient: people.patient,
        slots,
        start: time(r, "start")?,
        end: time(r, "end")?,
        booking_organisation: booking_organisation(r)?,
        description: string(r, "description")?.to_owned(),
        comment: optional_string(r, "comment")?.map(str::to_owned),
        identifiers: identifiers(r)?,
        created: time(r, "created")?,
        location: people.location,
        practitioner: people.practitioner,
    })
}

/// Elements the consumer may send as it likes (the provider's values are kept).
const IGNORED: &[&str] = &["meta", "serviceCategory", "serviceType", "minutesDuration"];

/// `sent` with the elements in `also_ignored` and [`IGNORED`] taken out, and its times as
/// instants, to compare with the stored resource.
fn comparable(sent: &Map<String, Value>, also_ignored: &[&str]) -> Map<String, Value> {
    sent.iter()
        .filter(|(k, _)| !IGNORED.contains(&k.as_str()) && !also_ignored.contains(&k.as_str()))
        .map(|(k, v)| {
            let v = match (k.as_str(), v.as_str()) {
                ("start" | "end" | "created", Some(t)) => DateTime::parse_from_rfc3339(t)
                    .map(|t| Value::from(t.with_timezone(&Utc).to_rfc3339()))
                    .unwrap_or_else(|_| v.clone()),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// The first top-level element where `sent` differs from `stored`, ignoring `allowed`.
fn first_difference(
    sent: &Map<String, Value>,
    stored: &Map<String, Value>,
    allowed: &[&str],
) -> Option<String> {
    let (sent, stored) = (comparable(sent, allowed), comparable(stored, allowed));
    sent.keys()
        .chain(stored.keys())
        .find(|k| sent.get(*k) != stored.get(*k))
        .cloned()
}

/// An Amend body compared with the stored appointment: only description and comment may
/// differ.
pub fn amendment(
    sent: &Map<String, Value>,
    stored: &Map<String, Value>,
) -> Result<Amendment, FhirError> {
    check_elements(sent)?;
    if array(sent, "extension")?
        .iter()
        .any(|e| e.get("url").and_then(Value::as_str) == Some(CANCELLATION_REASON_EXTENSION))
    {
        return Err(invalid(
            "a cancellation reason can't be sent when booking or amending",
        ));
    }
    if let Some(key) = first_difference(sent, stored, &["description", "comment"]) {
        return Err(invalid(format!(
            "only the description and comment of an appointment can be amended: '{key}' differs"
        )));
    }
    Ok(Amendment {
        description: string(sent, "description")?.to_owned(),
        comment: optional_string(sent, "comment")?.map(str::to_owned),
    })
}

/// A Cancel body compared with the stored appointment: only the status (to `cancelled`) and
/// the cancellation reason extension may differ. The reason comes back.
pub fn cancellation(
    sent: &Map<String, Value>,
    stored: &Map<String, Value>,
) -> Result<String, FhirError> {
    check_elements(sent)?;
    if string(sent, "status")? != "cancelled" {
        return Err(invalid("a cancellation's status must be 'cancelled'"));
    }
    let mut reason = None;
    let mut others = Vec::new();
    for e in array(sent, "extension")? {
        if e.get("url").and_then(Value::as_str) == Some(CANCELLATION_REASON_EXTENSION) {
            let text = e
                .get("valueString")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| {
                    FhirError::new(
                        SpineCode::InvalidParameter,
                        "the cancellation reason is empty",
                    )
                })?;
            reason = Some(text.to_owned());
        } else {
            others.push(e.clone());
        }
    }
    let reason = reason.ok_or_else(|| {
        invalid(format!(
            "the cancellation reason extension ({CANCELLATION_REASON_EXTENSION}) is missing"
        ))
    })?;
    let mut sent = sent.clone();
    sent.insert("extension".into(), Value::Array(others));
    if let Some(key) = first_difference(&sent, stored, &["status"]) {
        return Err(invalid(format!(
            "only the status and cancellation reason can change when cancelling: '{key}' differs"
        )));
    }
    Ok(reason)
}
