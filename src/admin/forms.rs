//! Form input (repeated keys kept, as checkboxes send them) and the NHS.UK error pattern:
//! an error summary linking to each field, and the message beside the field.

use chrono::{NaiveDate, NaiveTime};

use crate::availability::codes::{OdsCode, OrganisationType};

pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`, trimmed; `None` when missing or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

pub struct FieldError {
    /// The id of the input the summary links to.
    pub field: &'static str,
    pub message: String,
}

#[derive(Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub fn org_types(
    form: &FormData,
    field: &'static str,
    errors: &mut Errors,
) -> Vec<OrganisationType> {
    let mut out = Vec::new();
    for code in form.all(field) {
        match OrganisationType::parse(code) {
            Ok(t) if !out.contains(&t) => out.push(t),
            Ok(_) => {}
            Err(e) => errors.add(field, e.0),
        }
    }
    out
}

/// ODS codes separated by commas, spaces or new lines.
pub fn ods_codes(text: &str, field: &'static str, errors: &mut Errors) -> Vec<OdsCode> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for part in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        match OdsCode::parse(part) {
            Ok(c) if !out.contains(&c) => out.push(c),
            Ok(_) => {}
            Err(_) => bad.push(part.to_owned()),
        }
    }
    if !bad.is_empty() {
        errors.add(
            field,
            format!(
                "Enter ODS codes of 3 to 10 letters and digits, such as Y03032 ({} is not one)",
                bad.join(", ")
            ),
        );
    }
    out
}

pub fn date(
    form: &FormData,
    field: &'static str,
    label: &str,
    errors: &mut Errors,
) -> Option<NaiveDate> {
    match form.get(field) {
        None => {
            errors.add(field, format!("Enter the {label}"));
            None
        }
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().or_else(|| {
            errors.add(
                field,
                format!("The {label} must be a real date, like 2026-11-24"),
            );
            None
        }),
    }
}

pub fn optional_time(
    form: &FormData,
    field: &'static str,
    label: &str,
    errors: &mut Errors,
) -> Option<NaiveTime> {
    let v = form.get(field)?;
    NaiveTime::parse_from_str(v, "%H:%M").ok().or_else(|| {
        errors.add(field, format!("The {label} must be a time like 09:30"));
        None
    })
}

/// A message with its first letter in upper case, for a domain error shown as a form error.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ods_codes_are_split_normalised_and_checked() {
        let mut errors = Errors::default();
        let codes = ods_codes("y03032, B82617\nY03032", "ods", &mut errors);
        assert!(errors.is_empty());
        assert_eq!(
            codes.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            ["Y03032", "B82617"]
        );
        ods_codes("Y03032 NOT-ODS", "ods", &mut errors);
        assert!(errors.get("ods").unwrap().contains("NOT-ODS"));
    }
}
