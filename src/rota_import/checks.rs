//! Checks of the document on its own, before the database is asked anything: every string is
//! text XML 1.0 can carry (what bookable stores is sent as FHIR XML, and PostgreSQL can't store
//! a NUL at all), and each location, practitioner, schedule and slot id appears once (one
//! upsert can't write the same row twice).

use std::collections::HashMap;

use super::{BookabilityIn, ImportDocument};
use crate::fhir::node::xml_allows;

/// Every problem found, each naming where it is. (The practice's ODS code needs no check here:
/// anything but letters and digits is not an ODS code.)
pub(super) fn check(doc: &ImportDocument) -> Vec<String> {
    let mut c = Checker(Vec::new());
    for (i, l) in doc.locations.iter().enumerate() {
        let at = format!("locations[{i}]");
        c.text(&at, "id", &l.id);
        c.text(&at, "name", &l.name);
        for (n, line) in l.address.iter().enumerate() {
            c.text(&at, &format!("address[{n}]"), line);
        }
        c.optional(&at, &[("postcode", &l.postcode), ("phone", &l.phone)]);
    }
    for (i, p) in doc.practitioners.iter().enumerate() {
        let at = format!("practitioners[{i}]");
        c.text(&at, "id", &p.id);
        c.text(&at, "family_name", &p.family_name);
        c.optional(
            &at,
            &[
                ("given_name", &p.given_name),
                ("prefix", &p.prefix),
                ("sds_user_id", &p.sds_user_id),
                ("sds_role_profile_id", &p.sds_role_profile_id),
                ("gender", &p.gender),
            ],
        );
    }
    for (i, s) in doc.schedules.iter().enumerate() {
        let at = format!("schedules[{i}]");
        c.text(&at, "id", &s.id);
        c.text(&at, "location", &s.location);
        c.optional(
            &at,
            &[
                ("practitioner", &s.practitioner),
                ("schedule_type", &s.schedule_type),
                ("practitioner_role", &s.practitioner_role),
                ("delivery_channel", &s.delivery_channel),
            ],
        );
        c.bookability(&at, s.bookable.as_ref());
    }
    for (i, s) in doc.slots.iter().enumerate() {
        let at = format!("slots[{i}]");
        c.text(&at, "id", &s.id);
        c.text(&at, "schedule", &s.schedule);
        c.text(&at, "status", &s.status);
        c.optional(
            &at,
            &[
                ("slot_type", &s.slot_type),
                ("delivery_channel", &s.delivery_channel),
            ],
        );
        c.bookability(&at, s.bookable.as_ref());
    }
    let mut errors = c.0;
    unique(
        &mut errors,
        "locations",
        doc.locations.iter().map(|l| &l.id),
    );
    unique(
        &mut errors,
        "practitioners",
        doc.practitioners.iter().map(|p| &p.id),
    );
    unique(
        &mut errors,
        "schedules",
        doc.schedules.iter().map(|s| &s.id),
    );
    unique(&mut errors, "slots", doc.slots.iter().map(|s| &s.id));
    errors
}

struct Checker(Vec<String>);

impl Checker {
    /// A problem if `value` holds a character XML 1.0 forbids, naming each (once).
    fn text(&mut self, at: &str, field: &str, value: &str) {
        let mut bad: Vec<String> = Vec::new();
        for c in value.chars().filter(|&c| !xml_allows(c)) {
            let code = format!("U+{:04X}", u32::from(c));
            if !bad.contains(&code) {
                bad.push(code);
            }
        }
        if !bad.is_empty() {
            self.0.push(format!(
                "{at}: {field} contains a character that is not allowed in text ({})",
                bad.join(", ")
            ));
        }
    }

    fn optional(&mut self, at: &str, fields: &[(&str, &Option<String>)]) {
        for (field, value) in fields {
            if let Some(v) = value {
                self.text(at, field, v);
            }
        }
    }

    fn bookability(&mut self, at: &str, b: Option<&BookabilityIn>) {
        let Some(b) = b else { return };
        for (n, t) in b.org_types.iter().enumerate() {
            self.text(at, &format!("bookable.org_types[{n}]"), t);
        }
        for (n, code) in b.ods_codes.iter().enumerate() {
            self.text(at, &format!("bookable.ods_codes[{n}]"), code);
        }
    }
}

/// One problem for each id given again, naming where it was first.
fn unique<'a>(errors: &mut Vec<String>, list: &str, ids: impl Iterator<Item = &'a String>) {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, id) in ids.enumerate() {
        if let Some(earlier) = first.get(id.as_str()) {
            errors.push(format!(
                "{list}[{i}] (id {id:?}): the same id as {list}[{earlier}]; each id may appear once"
            ));
        } else {
            first.insert(id, i);
        }
    }
}
