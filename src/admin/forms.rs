//! Typed form input (repeated keys kept, as checkboxes send them) and the NHS.UK error pattern:
//! an error summary linking to each field, and the message beside the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, error, web};
use chrono::{Datelike, NaiveDate, NaiveTime};
use serde::de::{Deserialize, DeserializeOwned, Deserializer};

use crate::availability::codes::OdsCode;

/// A form body as a `#[derive(Deserialize)]` struct (`serde_html_form`: a repeated key, as
/// checkboxes send it, fills a `Vec<String>`). Unknown fields, such as the CSRF token the
/// middleware has already checked, are ignored. Give the struct `#[serde(default)]`, so a field
/// left out is a form error shown on the page, not a bare 400.
pub struct Form<T>(pub T);

/// The body size `actix_web::web::Form` accepts by default.
const FORM_LIMIT: usize = 16 * 1024;
const FORM_TYPE: &str = "application/x-www-form-urlencoded";

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req.content_type() == FORM_TYPE;
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_form {
                return Err(error::ErrorUnsupportedMediaType("expected a form"));
            }
            let body = body.await?;
            if body.len() > FORM_LIMIT {
                return Err(error::ErrorPayloadTooLarge("form too large"));
            }
            serde_html_form::from_bytes(&body)
                .map(Form)
                .map_err(error::ErrorBadRequest)
        })
    }
}

/// A text field, trimmed (`#[serde(deserialize_with = "forms::text")]`); a field left out
/// reads as "", like a blank one.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = String::deserialize(d)?;
    Ok(v.trim().to_owned())
}

/// Every value of a repeated field (checkboxes), trimmed, blanks left out.
pub fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Vec::<String>::deserialize(d)?
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect())
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

/// A required date (blank is missing).
pub fn date(
    value: &str,
    field: &'static str,
    label: &str,
    errors: &mut Errors,
) -> Option<NaiveDate> {
    match Some(value.trim()).filter(|v| !v.is_empty()) {
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

/// A date in the NHS.UK date input pattern: day, month and year fields (`FIELD_day`,
/// `FIELD_month`, `FIELD_year`; the day's input has the id `FIELD`, where the error summary
/// links), shown again as typed when it is wrong. A link may give the date as `FIELD=2026-11-24`.
pub struct DateInput {
    pub field: &'static str,
    pub day: String,
    pub month: String,
    pub year: String,
}

impl DateInput {
    /// The fields showing `date`.
    pub fn of(field: &'static str, date: NaiveDate) -> DateInput {
        DateInput {
            field,
            day: date.day().to_string(),
            month: date.month().to_string(),
            year: date.year().to_string(),
        }
    }

    /// Blank fields.
    pub fn blank(field: &'static str) -> DateInput {
        DateInput {
            field,
            day: String::new(),
            month: String::new(),
            year: String::new(),
        }
    }

    /// What was sent: the three fields, else the date of a link; None when neither was.
    pub fn sent(
        field: &'static str,
        iso: Option<&str>,
        [day, month, year]: [Option<&str>; 3],
    ) -> Option<DateInput> {
        if day.is_some() || month.is_some() || year.is_some() {
            let v = |s: Option<&str>| s.unwrap_or_default().trim().to_owned();
            return Some(DateInput {
                field,
                day: v(day),
                month: v(month),
                year: v(year),
            });
        }
        let iso = iso.map(str::trim)?;
        Some(match NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
            Ok(d) => DateInput::of(field, d),
            // Shown as sent, in the day field, with the error.
            Err(_) => DateInput {
                field,
                day: iso.to_owned(),
                month: String::new(),
                year: String::new(),
            },
        })
    }

    /// The date of an optional filter: None, without an error, when all three are blank.
    pub fn parse_optional(&self, label: &str, errors: &mut Errors) -> Option<NaiveDate> {
        if [&self.day, &self.month, &self.year]
            .iter()
            .all(|p| p.is_empty())
        {
            return None;
        }
        self.parse(label, errors)
    }

    /// The date, or the NHS.UK pattern's error ("Enter the first day", "… must be a real date").
    pub fn parse(&self, label: &str, errors: &mut Errors) -> Option<NaiveDate> {
        let parts = [&self.day, &self.month, &self.year];
        if parts.iter().all(|p| p.is_empty()) {
            errors.add(self.field, format!("Enter the {label}"));
            return None;
        }
        let missing: Vec<&str> = ["day", "month", "year"]
            .into_iter()
            .zip(parts)
            .filter(|(_, p)| p.is_empty())
            .map(|(name, _)| name)
            .collect();
        if !missing.is_empty() {
            errors.add(
                self.field,
                format!("The {label} must include a {}", missing.join(" and a ")),
            );
            return None;
        }
        let number = |p: &str| p.parse::<u32>().ok();
        let date = match (number(&self.day), number(&self.month), number(&self.year)) {
            (Some(d), Some(m), Some(y)) if (1000..=9999).contains(&y) => {
                NaiveDate::from_ymd_opt(y as i32, m, d)
            }
            _ => None,
        };
        if date.is_none() {
            errors.add(
                self.field,
                format!("The {label} must be a real date, for example 24 11 2026"),
            );
        }
        date
    }
}

pub fn optional_time(
    value: &str,
    field: &'static str,
    label: &str,
    errors: &mut Errors,
) -> Option<NaiveTime> {
    let v = Some(value.trim()).filter(|v| !v.is_empty())?;
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

    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Sample {
        #[serde(deserialize_with = "text")]
        name: String,
        #[serde(deserialize_with = "texts")]
        boxes: Vec<String>,
    }

    #[test]
    fn typed_forms_trim_text_and_collect_repeated_checkboxes() {
        let f: Sample =
            serde_html_form::from_str("csrf_token=x&name=+a+&boxes=one&boxes=&boxes=two").unwrap();
        assert_eq!(f.name, "a");
        assert_eq!(f.boxes, ["one", "two"]);
        let f: Sample = serde_html_form::from_str("name=++&boxes=one").unwrap();
        assert_eq!(f.name, "");
        assert_eq!(f.boxes, ["one"]);
        let f: Sample = serde_html_form::from_str("").unwrap();
        assert!(f.name.is_empty() && f.boxes.is_empty());
    }

    #[actix_web::test]
    async fn the_form_extractor_reads_forms_only() {
        use actix_web::test::TestRequest;
        let (req, mut payload) = TestRequest::post()
            .insert_header(("content-type", FORM_TYPE))
            .set_payload("csrf_token=t&boxes=a&boxes=b&name=x")
            .to_http_parts();
        let Form(f) = Form::<Sample>::from_request(&req, &mut payload)
            .await
            .unwrap();
        assert_eq!((f.name.as_str(), f.boxes.len()), ("x", 2));
        let (req, mut payload) = TestRequest::post()
            .insert_header(("content-type", "application/json"))
            .set_payload("{}")
            .to_http_parts();
        let refused = Form::<Sample>::from_request(&req, &mut payload).await;
        let status = refused.err().unwrap().as_response_error().status_code();
        assert_eq!(status, actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn dates_are_read_from_day_month_and_year_or_from_a_link() {
        let mut errors = Errors::default();
        let sent = DateInput::sent("from", None, [Some(" 8 "), Some("12"), Some("2026")]).unwrap();
        assert_eq!(
            sent.parse("first day", &mut errors),
            NaiveDate::from_ymd_opt(2026, 12, 8)
        );
        let link = DateInput::sent("from", Some("2026-12-08"), [None; 3]).unwrap();
        assert_eq!((link.day.as_str(), link.month.as_str()), ("8", "12"));
        assert!(errors.is_empty());
        assert!(DateInput::sent("from", None, [None; 3]).is_none());

        let wrong = DateInput::sent("from", None, [Some("31"), Some("2"), Some("2026")]).unwrap();
        assert_eq!(wrong.parse("first day", &mut errors), None);
        assert_eq!(
            errors.get("from"),
            Some("The first day must be a real date, for example 24 11 2026")
        );
        let mut errors = Errors::default();
        let part = DateInput::sent("to", None, [Some("8"), Some(""), None]).unwrap();
        assert_eq!(part.parse("last day", &mut errors), None);
        assert_eq!(
            errors.get("to"),
            Some("The last day must include a month and a year")
        );
        let mut errors = Errors::default();
        let blank = DateInput::sent("to", None, [Some(""), Some(""), Some("")]).unwrap();
        assert_eq!(blank.parse("last day", &mut errors), None);
        assert_eq!(errors.get("to"), Some("Enter the last day"));
        let mut errors = Errors::default();
        let bad_link = DateInput::sent("to", Some("2026-13-45"), [None; 3]).unwrap();
        assert_eq!(bad_link.day, "2026-13-45");
        assert_eq!(bad_link.parse("last day", &mut errors), None);
        assert!(errors.has("to"));
    }

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
