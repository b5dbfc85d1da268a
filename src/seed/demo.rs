//! The demo: two practices with a realistic rota for four weeks from today, imported through the
//! same rota import a clinical system uses, and a practice manager who can sign in.

use chrono::{Datelike, Days, NaiveDate, TimeZone, Weekday};
use chrono_tz::Europe::London;
use diesel::prelude::*;

use crate::availability::codes::{OdsCode, OrganisationType};
use crate::availability::{groups, limits};
use crate::change_log::Actor;
use crate::db::ids::{PracticeId, ScheduleId};
use crate::db::schema::schedules;
use crate::practice;
use crate::rota_import::{
    self, BookabilityIn, ImportDocument, LocationIn, PractitionerIn, ScheduleIn, SlotIn,
};
use crate::users::{self, Role};

pub const DEMO_USER: &str = "demo.manager";
pub const DEMO_PASSWORD: &str = "demo-password-2026";

struct Session {
    id: &'static str,
    practitioner: &'static str,
    location: &'static str,
    schedule_type: &'static str,
    role: &'static str,
    channel: &'static str,
    slot_type: &'static str,
    /// (gp_connect, org types, ODS codes); None: not bookable.
    bookable: Option<(&'static [&'static str], &'static [&'static str])>,
    weekdays: &'static [Weekday],
    start: (u32, u32),
    minutes: u32,
    count: u32,
}

const SESSIONS: &[Session] = &[
    Session {
        id: "S-GP-AM",
        practitioner: "P-GP1",
        location: "L-MAIN",
        schedule_type: "GP morning surgery",
        role: "R0260",
        channel: "In-person",
        slot_type: "Routine GP appointment",
        bookable: Some((&["urgent-care"], &[])),
        weekdays: &[
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
        start: (8, 30),
        minutes: 10,
        count: 18,
    },
    Session {
        id: "S-GP-TEL",
        practitioner: "P-GP2",
        location: "L-MAIN",
        schedule_type: "GP telephone triage",
        role: "R0270",
        channel: "Telephone",
        slot_type: "Same-day telephone call",
        bookable: Some((&["urgent-care", "gp-practice"], &[])),
        weekdays: &[Weekday::Mon, Weekday::Wed, Weekday::Fri],
        start: (14, 0),
        minutes: 10,
        count: 12,
    },
    Session {
        id: "S-NURSE",
        practitioner: "P-NURSE",
        location: "L-BRANCH",
        schedule_type: "Practice nurse clinic",
        role: "R0620",
        channel: "In-person",
        slot_type: "Nurse appointment",
        bookable: Some((&[], &["Y03032", "B82617", "A20047"])),
        weekdays: &[Weekday::Tue, Weekday::Thu],
        start: (9, 0),
        minutes: 15,
        count: 12,
    },
    Session {
        id: "S-VIDEO",
        practitioner: "P-GP1",
        location: "L-MAIN",
        schedule_type: "Extended access video clinic",
        role: "R0260",
        channel: "Video",
        slot_type: "Video consultation",
        bookable: Some((&[], &[])),
        weekdays: &[Weekday::Tue, Weekday::Thu],
        start: (18, 30),
        minutes: 15,
        count: 6,
    },
    Session {
        id: "S-VISIT",
        practitioner: "P-GP2",
        location: "L-MAIN",
        schedule_type: "Home visits",
        role: "R0270",
        channel: "Visit",
        slot_type: "Home visit",
        bookable: None,
        weekdays: &[Weekday::Mon, Weekday::Wed, Weekday::Fri],
        start: (12, 30),
        minutes: 30,
        count: 3,
    },
    Session {
        id: "S-HCA",
        practitioner: "P-HCA",
        location: "L-BRANCH",
        schedule_type: "Phlebotomy clinic",
        role: "R1480",
        channel: "In-person",
        slot_type: "Blood test",
        bookable: None,
        weekdays: &[
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
        start: (8, 0),
        minutes: 10,
        count: 12,
    },
];

/// The rota document for one demo practice, covering `days` days from `first`.
pub fn rota(ods: &str, town: &str, first: NaiveDate, days: u64) -> ImportDocument {
    let locations = vec![
        LocationIn {
            id: "L-MAIN".into(),
            name: format!("{town} Health Centre"),
            address: vec!["1 High Street".into(), town.into()],
            postcode: Some("LS1 6AE".into()),
            phone: Some("0300 303 5678".into()),
        },
        LocationIn {
            id: "L-BRANCH".into(),
            name: format!("{town} Branch Surgery"),
            address: vec!["22 Mill Lane".into(), town.into()],
            postcode: Some("LS2 7QP".into()),
            phone: Some("0300 303 5679".into()),
        },
    ];
    let person =
        |id: &str, prefix: &str, given: &str, family: &str, gender: &str, n: u32| PractitionerIn {
            id: id.into(),
            family_name: family.into(),
            given_name: Some(given.into()),
            prefix: Some(prefix.into()),
            sds_user_id: Some(format!("G{:07}", 1000 * n + ods.len() as u32)),
            sds_role_profile_id: Some(format!("{:012}", 500_000 + n)),
            gender: Some(gender.into()),
        };
    let practitioners = vec![
        person("P-GP1", "Dr", "Amelia", "Okafor", "female", 1),
        person("P-GP2", "Dr", "Rajesh", "Patel", "male", 2),
        person("P-NURSE", "Mrs", "Sarah", "Black", "female", 3),
        person("P-HCA", "Mr", "Tom", "Hughes", "male", 4),
    ];
    let schedules = SESSIONS
        .iter()
        .map(|s| ScheduleIn {
            id: s.id.into(),
            location: s.location.into(),
            practitioner: Some(s.practitioner.into()),
            schedule_type: Some(s.schedule_type.into()),
            practitioner_role: Some(s.role.into()),
            delivery_channel: Some(s.channel.into()),
            bookable: Some(match s.bookable {
                Some((types, codes)) => BookabilityIn {
                    gp_connect: true,
                    org_types: types.iter().map(|t| t.to_string()).collect(),
                    ods_codes: codes.iter().map(|c| c.to_string()).collect(),
                },
                None => BookabilityIn {
                    gp_connect: false,
                    org_types: vec![],
                    ods_codes: vec![],
                },
            }),
        })
        .collect();

    let mut slots = Vec::new();
    for offset in 0..days {
        let day = first + Days::new(offset);
        for s in SESSIONS
            .iter()
            .filter(|s| s.weekdays.contains(&day.weekday()))
        {
            for i in 0..s.count {
                let minute = s.start.0 * 60 + s.start.1 + i * s.minutes;
                let local = |m: u32| {
                    London
                        .from_local_datetime(
                            &day.and_hms_opt(m / 60, m % 60, 0).expect("valid time"),
                        )
                        .earliest()
                        .expect("sessions avoid the 01:00 clock change")
                        .fixed_offset()
                };
                let n = offset as u32 * 100 + i;
                // A realistic book: about a third already booked, the last GP slot of each
                // morning kept for one neighbouring practice, and a few slots left untyped.
                let status = if n.is_multiple_of(3) { "busy" } else { "free" };
                let bookable = (s.id == "S-GP-AM" && i == s.count - 1).then(|| BookabilityIn {
                    gp_connect: true,
                    org_types: vec![],
                    ods_codes: vec!["Y03032".into()],
                });
                let slot_type = (!(s.id == "S-GP-TEL" && i == 0)).then(|| s.slot_type.to_string());
                slots.push(SlotIn {
                    id: format!("{}-{}-{i:02}", s.id, day.format("%Y%m%d")),
                    schedule: s.id.into(),
                    start: local(minute),
                    end: local(minute + s.minutes),
                    status: status.into(),
                    slot_type,
                    delivery_channel: None,
                    bookable,
                });
            }
        }
    }
    ImportDocument {
        practice: ods.into(),
        locations,
        practitioners,
        schedules,
        slots,
    }
}

/// A group for the nurse clinic and the telephone triage (an audience beside NHS 111 and other
/// practices), a daily limit for NHS 111 and a booking window on the GP
/// morning surgery; left alone when the practice already has sharing rules.
fn sharing_rules(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
) -> anyhow::Result<()> {
    if !groups::list(conn, practice)?.is_empty() {
        return Ok(());
    }
    let members =
        ["Y03032", "C81001", "C81002"].map(|c| OdsCode::parse(c).expect("valid ODS code"));
    let pcn = groups::save(conn, actor, practice, None, "Our PCN", &members)?;
    let schedule = |conn: &mut PgConnection, external: &str| {
        schedules::table
            .filter(schedules::practice_id.eq(practice))
            .filter(schedules::external_id.eq(external))
            .select(schedules::id)
            .first::<ScheduleId>(conn)
    };
    let nurse = schedule(conn, "S-NURSE")?;
    groups::set_bookable_groups(
        conn,
        actor,
        practice,
        groups::Target::Schedule(nurse),
        &[pcn],
    )?;
    // Who can book the telephone triage: NHS 111, other GP practices, and also the PCN's
    // members whatever type they send (an audience of its own).
    let triage = schedule(conn, "S-GP-TEL")?;
    groups::set_bookable_groups(
        conn,
        actor,
        practice,
        groups::Target::Schedule(triage),
        &[pcn],
    )?;
    let urgent_care = OrganisationType::parse("urgent-care")?;
    limits::add(
        conn,
        actor,
        practice,
        None,
        limits::NewSubject::OrgType(urgent_care),
        limits::Period::Day,
        6,
    )?;
    let morning = schedule(conn, "S-GP-AM")?;
    let window = limits::BookingWindow {
        from_days: Some(14),
        until_minutes: Some(60),
    };
    limits::set_window(
        conn,
        actor,
        practice,
        limits::WindowTarget::Schedule(morning),
        window,
    )?;
    Ok(())
}

/// Seeds (or refreshes) the demo practices and the demo user; safe to run again.
pub fn seed(conn: &mut PgConnection, today: NaiveDate) -> anyhow::Result<()> {
    let actor = Actor::system("demo seed");
    let mut roles = Vec::new();
    for (ods, name, town, list_size, asid) in [
        (
            "A20047",
            "Riverside Medical Practice",
            "Leeds",
            9_000,
            "200000000359",
        ),
        (
            "B82617",
            "Hillview Surgery",
            "Harrogate",
            7_500,
            "200000000360",
        ),
    ] {
        let ods_code = OdsCode::parse(ods)?;
        let p = practice::upsert(conn, &actor, &ods_code, name, list_size)?;
        // The ASID GP Connect consumers send as Ssp-To (see docs/gp-connect.md).
        crate::practice::set_asid(conn, &actor, p.id, Some(asid))?;
        rota_import::import(conn, &actor, &rota(ods, town, today, 28))?;
        sharing_rules(conn, &actor, p.id)?;
        // The demo user is Riverside's admin (its GP Connect requests page is for admins) and
        // Hillview's manager.
        roles.push((
            p.id,
            if ods == "A20047" {
                Role::Admin
            } else {
                Role::Manager
            },
        ));
    }
    users::upsert(
        conn,
        &actor,
        DEMO_USER,
        "Demo Practice Manager",
        DEMO_PASSWORD,
        &roles,
    )?;
    super::gp_connect_requests::seed(conn, today)?;
    Ok(())
}
