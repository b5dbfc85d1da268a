//! The Appointment resource (GPConnect-Appointment-1) as Book, Read, Amend, Cancel and
//! Retrieve return it: the booking organisation contained, the practitioner role and delivery
//! channel from the schedule and slot, `serviceType.text` the slot type and
//! `serviceCategory.text` the session name; never `reason` or `specialty`.

use super::node::{Node, Obj};
use super::profiles::*;
use super::resources::uk_time;
use crate::appointments::{Appointment, Status};
use crate::availability::codes::{
    DELIVERY_CHANNEL_EXTENSION, ODS_CODE_SYSTEM, ORGANISATION_TYPE_SYSTEM,
    PRACTITIONER_ROLE_EXTENSION, PractitionerRole, SDS_JOB_ROLE_SYSTEM,
};

/// The contained booking Organization's local id.
pub const BOOKING_ORGANISATION_ID: &str = "1";

fn booking_organisation(a: &Appointment) -> Node {
    let org = &a.booking_organisation;
    let identifier = Obj::new()
        .put("system", ODS_CODE_SYSTEM)
        .put("value", org.ods_code.as_str().to_owned());
    let org_type = org.org_type.as_ref().map(|code| {
        let coding = Obj::new()
            .put("system", ORGANISATION_TYPE_SYSTEM)
            .put("code", code);
        vec![Node::from(
            Obj::new().put("coding", vec![Node::from(coding)]),
        )]
    });
    let telecom: Vec<Node> = org
        .telecom
        .iter()
        .map(|t| {
            Obj::new()
                .put("system", &t.system)
                .put("value", &t.value)
                .opt("use", t.use_.as_ref())
                .into()
        })
        .collect();
    Obj::new()
        .put("id", BOOKING_ORGANISATION_ID)
        .put(
            "meta",
            Obj::new().put("profile", vec![ORGANIZATION_PROFILE]),
        )
        .put("identifier", vec![Node::from(identifier)])
        .opt("type", org_type)
        .put("name", &org.name)
        .put("telecom", telecom)
        .resource("Organization")
}

fn participant(reference: String) -> Node {
    Obj::new()
        .put("actor", Obj::new().put("reference", reference))
        .put("status", "accepted")
        .into()
}

pub fn appointment(a: &Appointment) -> Node {
    let slot = a.first_slot();
    let mut extension = vec![Node::from(
        Obj::new().put("url", BOOKING_ORGANISATION_EXTENSION).put(
            "valueReference",
            Obj::new().put("reference", format!("#{BOOKING_ORGANISATION_ID}")),
        ),
    )];
    if let Some(code) = &slot.practitioner_role {
        let coding = Obj::new()
            .put("system", SDS_JOB_ROLE_SYSTEM)
            .put("code", code)
            .opt(
                "display",
                PractitionerRole::parse(code).ok().map(|r| r.display()),
            );
        extension.push(
            Obj::new()
                .put("url", PRACTITIONER_ROLE_EXTENSION)
                .put(
                    "valueCodeableConcept",
                    Obj::new().put("coding", vec![Node::from(coding)]),
                )
                .into(),
        );
    }
    if let Some(channel) = &slot.delivery_channel {
        extension.push(
            Obj::new()
                .put("url", DELIVERY_CHANNEL_EXTENSION)
                .put("valueCode", channel)
                .into(),
        );
    }
    if let Some(reason) = &a.cancellation_reason {
        extension.push(
            Obj::new()
                .put("url", CANCELLATION_REASON_EXTENSION)
                .put("valueString", reason)
                .into(),
        );
    }
    let identifiers: Vec<Node> = a
        .identifiers
        .iter()
        .filter(|i| !i.value.is_empty())
        .map(|i| {
            Obj::new()
                .put("system", &i.system)
                .put("value", &i.value)
                .into()
        })
        .collect();
    let slots: Vec<Node> = a
        .slots
        .iter()
        .map(|s| Obj::new().put("reference", format!("Slot/{}", s.id)).into())
        .collect();
    let mut participants = vec![
        participant(format!("Patient/{}", a.patient)),
        participant(format!("Location/{}", slot.location_id)),
    ];
    if let Some(p) = slot.practitioner_id {
        participants.push(participant(format!("Practitioner/{p}")));
    }
    let text = |t: &String| Obj::new().put("text", t);
    let status = match a.status {
        Status::Booked => "booked",
        Status::Cancelled => "cancelled",
    };
    let meta = Obj::new()
        .put("versionId", a.version.to_string())
        .put("profile", vec![APPOINTMENT_PROFILE]);
    Obj::new()
        .put("id", a.id.to_string())
        .put("meta", meta)
        .put("contained", vec![booking_organisation(a)])
        .put("extension", extension)
        .put("identifier", identifiers)
        .put("status", status)
        .opt("serviceCategory", slot.schedule_type.as_ref().map(text))
        .opt(
            "serviceType",
            slot.slot_type.as_ref().map(|t| vec![Node::from(text(t))]),
        )
        .put("description", &a.description)
        .put("start", uk_time(a.start))
        .put("end", uk_time(a.end))
        .put(
            "minutesDuration",
            Node::Int((a.end - a.start).num_minutes()),
        )
        .put("slot", slots)
        .put("created", uk_time(a.created))
        .opt("comment", a.comment.as_ref())
        .put("participant", participants)
        .resource("Appointment")
}
