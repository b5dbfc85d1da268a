//! The words the reports use for the codes they break capacity down by.

use crate::availability::codes::{OrganisationType, PractitionerRole};

pub fn channel_label(code: Option<&str>) -> String {
    code.unwrap_or("Not set").to_owned()
}

pub fn role_label(code: Option<&str>) -> String {
    match code.map(PractitionerRole::parse) {
        Some(Ok(role)) => format!("{} ({})", role.display(), role.code()),
        Some(Err(_)) => code.unwrap_or_default().to_owned(),
        None => "Not set".to_owned(),
    }
}

pub fn org_type_label(code: &str) -> String {
    OrganisationType::parse(code).map_or_else(|_| code.to_owned(), |t| t.display().to_owned())
}

pub fn named_label(key: Option<&str>) -> String {
    match key {
        None => "Any organisation (no ODS code or group restriction)".to_owned(),
        Some(k) => match k.strip_prefix("group:") {
            Some(group) => format!("Group: {group}"),
            None => k.to_owned(),
        },
    }
}
