//! The demo's appointments at Riverside (A20047), one in every state, made through the same
//! paths as real ones: NHS 111 and a neighbouring practice booking through GP Connect (one of
//! them amended, one cancelled), and the clinical system's own (a home visit, and one
//! cancelled). Needs the demo's rota and patients; does nothing once the practice has
//! appointments.

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::London;
use diesel::prelude::*;

use crate::appointments::book::{self, NewAppointment};
use crate::appointments::change::{self, Amendment};
use crate::appointments::inbound::{self, AppointmentDocument, AppointmentIn};
use crate::appointments::{Appointment, BookingOrganisation, Telecom};
use crate::availability::codes::OdsCode;
use crate::change_log::Actor;
use crate::db::ids::{LocationId, PatientId, PracticeId, PractitionerId, SlotId};
use crate::db::schema::{appointments, patients, schedules, slots};

const PRACTICE: &str = "A20047";

/// The free slots (with a slot type) of the demo schedule `schedule` on `day`, in start order: id, import id,
/// start, end, location and practitioner.
type FreeSlot = (
    SlotId,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    i64,
    Option<i64>,
);

fn free_slots(
    conn: &mut PgConnection,
    practice: PracticeId,
    schedule: &str,
    day: NaiveDate,
) -> QueryResult<Vec<FreeSlot>> {
    let midnight = |d: NaiveDate| {
        London
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .expect("a local midnight")
            .with_timezone(&Utc)
    };
    slots::table
        .inner_join(schedules::table)
        .filter(slots::practice_id.eq(practice))
        .filter(schedules::external_id.eq(schedule))
        .filter(slots::status.eq("free"))
        .filter(slots::slot_type.is_not_null())
        .filter(slots::start_at.ge(midnight(day)))
        .filter(slots::start_at.lt(midnight(day + Days::new(1))))
        .order(slots::start_at)
        .select((
            slots::id,
            slots::external_id,
            slots::start_at,
            slots::end_at,
            schedules::location_id,
            schedules::practitioner_id,
        ))
        .load(conn)
}

fn patient(conn: &mut PgConnection, practice: PracticeId, nhs: &str) -> QueryResult<PatientId> {
    patients::table
        .filter(patients::practice_id.eq(practice))
        .filter(patients::nhs_number.eq(nhs))
        .select(patients::id)
        .first(conn)
}

fn organisation(ods: &str, org_type: &str, name: &str, phone: &str) -> BookingOrganisation {
    BookingOrganisation {
        ods_code: OdsCode::parse(ods).expect("a valid ODS code"),
        org_type: Some(org_type.into()),
        name: name.into(),
        telecom: vec![Telecom {
            system: "phone".into(),
            value: phone.into(),
            use_: Some("work".into()),
        }],
    }
}

/// Books `slot` for the patient with NHS number `nhs` through GP Connect's domain path.
fn gp_book(
    conn: &mut PgConnection,
    practice: PracticeId,
    slot: &FreeSlot,
    nhs: &str,
    org: BookingOrganisation,
    description: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<Appointment> {
    let patient = patient(conn, practice, nhs)?;
    let actor = Actor::system(&format!("GP Connect: {} (demo seed)", org.ods_code));
    let new = NewAppointment {
        patient,
        slots: vec![slot.0],
        start: slot.2,
        end: slot.3,
        booking_organisation: org,
        description: description.into(),
        comment: None,
        identifiers: vec![],
        created: at,
        location: LocationId(slot.4),
        practitioner: slot.5.map(PractitionerId),
    };
    Ok(book::book(conn, &actor, practice, &new, at)?)
}

/// The first day after `today` with `weekday`.
fn next(today: NaiveDate, weekday: Weekday) -> NaiveDate {
    (1..=7)
        .map(|n| today + Days::new(n))
        .find(|d| d.weekday() == weekday)
        .expect("a week has every weekday")
}

pub fn seed(conn: &mut PgConnection, today: NaiveDate) -> anyhow::Result<()> {
    let Some(practice) = crate::practice::by_ods(conn, &OdsCode::parse(PRACTICE)?)? else {
        return Ok(());
    };
    let practice = practice.id;
    let any: i64 = appointments::table
        .filter(appointments::practice_id.eq(practice))
        .count()
        .get_result(conn)?;
    if any > 0 {
        return Ok(());
    }
    // As at 07:00 this morning, so every booking is in its booking window.
    let at = London
        .from_local_datetime(&today.and_hms_opt(7, 0, 0).expect("07:00"))
        .earliest()
        .expect("07:00 exists")
        .with_timezone(&Utc);
    let nhs111 = || organisation("NLO10", "urgent-care", "NHS 111 Yorkshire", "0300 000 0111");
    let tuesday = next(today, Weekday::Tue);
    let morning = free_slots(conn, practice, "S-GP-AM", tuesday)?;
    let [first, second, third, ..] = morning.as_slice() else {
        anyhow::bail!("the demo rota has too few free morning slots on {tuesday}");
    };
    let nhs111_actor = Actor::system("GP Connect: NLO10 (demo seed)");
    // Booked by NHS 111.
    gp_book(
        conn,
        practice,
        first,
        "9000000009",
        nhs111(),
        "Call back arranged by NHS 111",
        at,
    )?;
    // Booked by NHS 111, then amended.
    let amended = gp_book(
        conn,
        practice,
        second,
        "9000000068",
        nhs111(),
        "Appointment booked by NHS 111",
        at,
    )?;
    change::amend(
        conn,
        &nhs111_actor,
        practice,
        amended.id,
        &amended.version.to_string(),
        &Amendment {
            description: "Appointment booked by NHS 111".into(),
            comment: Some("Patient asked for a chaperone".into()),
        },
        at,
    )?;
    // Booked by NHS 111, then cancelled.
    let cancelled = gp_book(
        conn,
        practice,
        third,
        "9000000017",
        nhs111(),
        "Appointment booked by NHS 111",
        at,
    )?;
    change::cancel(
        conn,
        &nhs111_actor,
        practice,
        cancelled.id,
        &cancelled.version.to_string(),
        "Patient no longer needs the appointment",
        at,
    )?;
    // Booked by a neighbouring practice on the telephone triage list.
    let wednesday = next(today, Weekday::Wed);
    if let Some(call) = free_slots(conn, practice, "S-GP-TEL", wednesday)?.first() {
        let hillview = organisation("B82617", "gp-practice", "Hillview Surgery", "0300 303 6000");
        gp_book(
            conn,
            practice,
            call,
            "9000000122",
            hillview,
            "Telephone call booked by a neighbouring practice",
            at,
        )?;
    }
    // The clinical system's own: a home visit, and a blood test it cancelled.
    let monday = next(today, Weekday::Mon);
    let visit = free_slots(conn, practice, "S-VISIT", monday)?;
    let bloods = free_slots(conn, practice, "S-HCA", monday)?;
    let own =
        |id: &str, status: &str, nhs: &str, slot: &FreeSlot, description: &str| AppointmentIn {
            id: id.into(),
            status: status.into(),
            patient_nhs_number: nhs.into(),
            slots: vec![slot.1.clone()],
            description: description.into(),
            comment: None,
            cancellation_reason: (status == "cancelled").then(|| "Rearranged by phone".into()),
            booking_organisation: None,
            created: None,
        };
    let mut own_appointments = Vec::new();
    if let Some(slot) = visit.first() {
        own_appointments.push(own(
            "EMIS-90001",
            "booked",
            "9000000130",
            slot,
            "Home visit",
        ));
    }
    if let Some(slot) = bloods.first() {
        own_appointments.push(own(
            "EMIS-90002",
            "cancelled",
            "9000000149",
            slot,
            "Blood test",
        ));
    }
    let doc = AppointmentDocument {
        practice: PRACTICE.into(),
        appointments: own_appointments,
    };
    inbound::upsert(
        conn,
        &Actor::system("clinical system (demo seed)"),
        practice,
        &doc,
        at,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
