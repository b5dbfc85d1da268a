//! The words the reports use for the codes they break capacity down by.

use crate::availability::codes::PractitionerRole;

pub fn channel_label(code: Option<&str>) -> String {
    code.unwrap_or("Not set").to_owned()
}

pub fn role_label(code: Option<&str>) -> String {
    code.map_or_else(|| "Not set".to_owned(), PractitionerRole::label)
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
