//! The parameters of GP Connect "Search for free slots" (1.2.7), checked as the specification
//! says:
//!
//! - `start` (prefix `ge`) and `end` (prefix `le`), each exactly once, each either a date
//!   `yyyy-mm-dd` or a dateTime `yyyy-mm-ddThh:mm:ss+hh:mm` in UK local time with the offset in
//!   force then (`+00:00` GMT, `+01:00` BST, from chrono-tz's Europe/London). A date `start` is
//!   local midnight; a date `end` covers that whole day. The window is a [`SearchWindow`]: at
//!   most 14 UK local days, never negative.
//! - `status=free` and `_include=Slot:schedule` are required.
//! - `_include:recurse` asks for the schedules' Practitioners and Locations (the Organization is
//!   always returned with any slot; see the module documentation of `fhir`).
//! - `searchFilter=system|code` pairs give the consumer's organisation type and ODS code;
//!   search filters of other systems are ignored, as are unknown parameters.
//!
//! A required parameter that is missing is 400 `BAD_REQUEST`; one that is present but wrong
//! (empty, malformed, another prefix, a partial date, a wrong offset, repeated, a window too
//! long or negative, a status other than `free`) is 422 `INVALID_PARAMETER`.

use chrono::{DateTime, Days, FixedOffset, NaiveDate, Offset, Utc};
use chrono_tz::Europe::London;

use super::error::FhirError;
use crate::availability::codes::{ODS_CODE_SYSTEM, ORGANISATION_TYPE_SYSTEM, OdsCode};
use crate::availability::query::{Consumer, SearchWindow, WindowError, local_midnight};

/// A slot search request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSearch {
    pub window: SearchWindow,
    pub consumer: Consumer,
    pub include_practitioners: bool,
    pub include_locations: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Start,
    End,
}

impl Bound {
    fn name(self) -> &'static str {
        match self {
            Bound::Start => "start",
            Bound::End => "end",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Bound::Start => "ge",
            Bound::End => "le",
        }
    }
}

fn values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// One `yyyy-mm-dd` date, nothing partial, in years 0001 to 9999 (FHIR's `date`: there is no
/// year 0000).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape || s.starts_with("0000") {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// One `yyyy-mm-ddThh:mm:ss+hh:mm` dateTime, with the offset Europe/London had at that instant.
/// A leap second (`:60`) is refused: Europe/London's clocks never show one and FHIR's
/// `dateTime` has no such second. `-00:00` (RFC 3339's "offset unknown") is refused: UK time is
/// `+00:00` or `+01:00`.
fn parse_date_time(s: &str) -> Result<DateTime<Utc>, String> {
    // An unencoded '+' in a query string decodes as a space.
    let s = match s.len().checked_sub(6).map(|i| s.split_at(i)) {
        Some((head, tail)) if tail.starts_with(' ') => format!("{head}+{}", &tail[1..]),
        _ => s.to_owned(),
    };
    let b = s.as_bytes();
    let shape = b.len() == 25
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (b[19] == b'+' || b[19] == b'-')
        && b[22] == b':';
    if !shape || parse_date(&s[..10]).is_none() {
        return Err("expected yyyy-mm-dd or yyyy-mm-ddThh:mm:ss+hh:mm".into());
    }
    if &s[17..19] == "60" {
        return Err("a leap second (:60) is not a time in the UK".into());
    }
    if &s[19..] == "-00:00" {
        return Err("-00:00 is not a UK offset (+00:00 GMT, +01:00 BST)".into());
    }
    let dt = DateTime::<FixedOffset>::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%:z")
        .map_err(|_| "expected yyyy-mm-dd or yyyy-mm-ddThh:mm:ss+hh:mm".to_string())?;
    let in_force = dt.with_timezone(&London).offset().fix();
    if in_force != *dt.offset() {
        return Err(format!(
            "{} is not the UK offset at that time: it was {in_force} (+00:00 GMT, +01:00 BST)",
            dt.offset()
        ));
    }
    Ok(dt.with_timezone(&Utc))
}

/// A bound as an instant, and its date when it was sent as a date.
fn parse_bound(
    pairs: &[(String, String)],
    bound: Bound,
) -> Result<(DateTime<Utc>, Option<NaiveDate>), FhirError> {
    let name = bound.name();
    let raw = match values(pairs, name)[..] {
        [] => {
            return Err(FhirError::bad_request(format!(
                "the {name} parameter is missing"
            )));
        }
        [one] => one,
        _ => {
            return Err(FhirError::invalid_parameter(format!(
                "the {name} parameter must be sent once"
            )));
        }
    };
    let invalid = |why: &str| FhirError::invalid_parameter(format!("{name}={raw}: {why}"));
    let Some(value) = raw.strip_prefix(bound.prefix()) else {
        return Err(invalid(&format!(
            "the {name} parameter needs the '{}' prefix",
            bound.prefix()
        )));
    };
    if let Some(day) = parse_date(value) {
        let instant = match bound {
            Bound::Start => local_midnight(day),
            Bound::End => day
                .checked_add_days(Days::new(1))
                .map(local_midnight)
                .ok_or_else(|| invalid("the date is out of range"))?,
        };
        return Ok((instant, Some(day)));
    }
    parse_date_time(value)
        .map(|instant| (instant, None))
        .map_err(|why| invalid(&why))
}

fn single_filter<'a>(found: &[&'a str], what: &str) -> Result<Option<&'a str>, FhirError> {
    match found {
        [] => Ok(None),
        [first, rest @ ..] if rest.iter().all(|c| c == first) => Ok(Some(first)),
        _ => Err(FhirError::invalid_parameter(format!(
            "searchFilter gives more than one {what}"
        ))),
    }
}

/// The organisation type as bookable stores it: GPConnect-OrganisationType-1's kebab-case codes;
/// the CodeSystem's first published codes (`Urgent Care`, `GP Practice`) are read as those.
fn organisation_type(code: &str) -> String {
    match code {
        "Urgent Care" => "urgent-care".into(),
        "GP Practice" => "gp-practice".into(),
        other => other.into(),
    }
}

fn parse_consumer(pairs: &[(String, String)]) -> Result<Consumer, FhirError> {
    let mut org_types = Vec::new();
    let mut ods_codes = Vec::new();
    for filter in values(pairs, "searchFilter") {
        // Search filters of systems this specification doesn't define are ignored, not refused.
        let Some((system, code)) = filter.split_once('|') else {
            continue;
        };
        let known = match system {
            ORGANISATION_TYPE_SYSTEM => &mut org_types,
            ODS_CODE_SYSTEM => &mut ods_codes,
            _ => continue,
        };
        if code.trim().is_empty() {
            return Err(FhirError::invalid_parameter(format!(
                "searchFilter={filter}: the code is empty"
            )));
        }
        known.push(code.trim());
    }
    let org_type = single_filter(&org_types, "organisation type")?.map(organisation_type);
    let ods_code = single_filter(&ods_codes, "ODS code")?
        .map(|c| {
            OdsCode::parse(c)
                .map_err(|e| FhirError::invalid_parameter(format!("searchFilter ODS code: {e}")))
        })
        .transpose()?;
    Ok(Consumer::new(org_type.as_deref(), ods_code))
}

/// Checks the query parameters of a slot search.
pub fn parse(pairs: &[(String, String)]) -> Result<SlotSearch, FhirError> {
    let missing: Vec<&str> = ["start", "end", "status"]
        .into_iter()
        .filter(|p| values(pairs, p).is_empty())
        .collect();
    if !missing.is_empty() {
        return Err(FhirError::bad_request(format!(
            "required parameters missing: {}",
            missing.join(", ")
        )));
    }
    let (start, _) = parse_bound(pairs, Bound::Start)?;
    let (end, end_day) = parse_bound(pairs, Bound::End)?;
    match values(pairs, "status")[..] {
        ["free"] => {}
        [other] => {
            return Err(FhirError::invalid_parameter(format!(
                "status={other}: only status=free may be searched"
            )));
        }
        _ => {
            return Err(FhirError::invalid_parameter(
                "the status parameter must be sent once",
            ));
        }
    }
    if !values(pairs, "_include").contains(&"Slot:schedule") {
        return Err(FhirError::bad_request(
            "the _include=Slot:schedule parameter is missing",
        ));
    }
    // A date end covers its whole day, so an end day before the start's day must be caught
    // before it becomes an empty window instead of a negative one.
    let negative = FhirError::invalid_parameter("the end of the search window is before its start");
    if end_day.is_some_and(|day| day < start.with_timezone(&London).date_naive()) {
        return Err(negative);
    }
    let window = SearchWindow::new(start, end).map_err(|e| match e {
        WindowError::Negative => negative,
        WindowError::TooLong => FhirError::invalid_parameter(format!(
            "the search window is longer than {} days (UK local days)",
            SearchWindow::MAX_LOCAL_DAYS
        )),
    })?;
    let recurse = values(pairs, "_include:recurse");
    Ok(SlotSearch {
        window,
        consumer: parse_consumer(pairs)?,
        include_practitioners: recurse.contains(&"Schedule:actor:Practitioner"),
        include_locations: recurse.contains(&"Schedule:actor:Location"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn date_times_need_the_uk_offset_in_force() {
        assert_eq!(
            parse_date_time("2026-06-10T09:00:00+01:00"),
            Ok(utc("2026-06-10T08:00:00Z"))
        );
        assert_eq!(
            parse_date_time("2026-01-10T09:00:00+00:00"),
            Ok(utc("2026-01-10T09:00:00Z"))
        );
        assert_eq!(
            parse_date_time("2026-06-10T09:00:00 01:00"),
            Ok(utc("2026-06-10T08:00:00Z")),
            "an unencoded + is read as a +"
        );
        for bad in [
            "2026-06-10T09:00:00+00:00",
            "2026-01-10T09:00:00+01:00",
            "2026-06-10T09:00:00Z",
            "2026-06-10T09:00:00",
            "2026-06-10T09:00:00.000+01:00",
            "2026-06-10T09:00+01:00",
            // 01:30 GMT on 29 March 2026 does not exist in the UK: clocks went to 02:00 BST.
            "2026-03-29T01:30:00+00:00",
            // No year 0000, no leap second, no "unknown offset".
            "0000-06-10T09:00:00+00:00",
            "2016-12-31T23:59:60+00:00",
            "2026-01-10T09:00:00-00:00",
        ] {
            assert!(parse_date_time(bad).is_err(), "{bad}");
        }
        // Both 01:30s of 25 October 2026 exist, one in BST and one in GMT.
        assert_eq!(
            parse_date_time("2026-10-25T01:30:00+01:00"),
            Ok(utc("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            parse_date_time("2026-10-25T01:30:00+00:00"),
            Ok(utc("2026-10-25T01:30:00Z"))
        );
    }

    #[test]
    fn dates_are_whole_and_complete() {
        assert_eq!(
            parse_date("2026-06-10"),
            NaiveDate::from_ymd_opt(2026, 6, 10)
        );
        for bad in [
            "2026",
            "2026-06",
            "2026-6-10",
            "2026-02-30",
            "20260610",
            "+2026-06-10",
            "0000-01-01",
            "0000-06-10",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
