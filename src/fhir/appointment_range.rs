//! The date range of Retrieve a patient's appointments: exactly two `start` parameters, one
//! `ge` and one `le`, each a whole date (`yyyy-mm-dd`), neither before today (UK local), the
//! `le` not before the `ge`. Anything else is 422 `INVALID_PARAMETER`.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;

use super::error::FhirError;

/// The instants [from, to) the range covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

fn local_midnight(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    London
        .from_local_datetime(&midnight)
        .earliest()
        .expect("UK midnight exists")
        .with_timezone(&Utc)
}

fn date(value: &str) -> Result<NaiveDate, FhirError> {
    let well_formed = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    well_formed
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            FhirError::invalid_parameter(format!(
                "start '{value}' is not a date: use yyyy-mm-dd, without a time"
            ))
        })
}

/// The range of the query `params`, on `today` (UK local).
pub fn parse(params: &[(String, String)], today: NaiveDate) -> Result<Range, FhirError> {
    let starts: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "start")
        .map(|(_, v)| v.as_str())
        .collect();
    let [a, b] = starts[..] else {
        return Err(FhirError::invalid_parameter(
            "send exactly two start parameters: start=ge{yyyy-mm-dd}&start=le{yyyy-mm-dd}",
        ));
    };
    let (mut ge, mut le) = (None, None);
    for value in [a, b] {
        if let Some(d) = value.strip_prefix("ge") {
            if ge.replace(date(d)?).is_some() {
                return Err(FhirError::invalid_parameter("start=ge is sent twice"));
            }
        } else if let Some(d) = value.strip_prefix("le") {
            if le.replace(date(d)?).is_some() {
                return Err(FhirError::invalid_parameter("start=le is sent twice"));
            }
        } else {
            return Err(FhirError::invalid_parameter(format!(
                "start '{value}' must have the prefix ge or le"
            )));
        }
    }
    let (Some(ge), Some(le)) = (ge, le) else {
        return Err(FhirError::invalid_parameter(
            "send one start=ge and one start=le",
        ));
    };
    if ge < today || le < today {
        return Err(FhirError::invalid_parameter(
            "past appointments can't be requested: the range must not start before today",
        ));
    }
    if le < ge {
        return Err(FhirError::invalid_parameter(
            "the start=le date is before the start=ge date",
        ));
    }
    Ok(Range {
        from: local_midnight(ge),
        to: local_midnight(le.checked_add_days(Days::new(1)).unwrap_or(le)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(values: &[&str]) -> Result<Range, FhirError> {
        let params: Vec<(String, String)> = values
            .iter()
            .map(|v| ("start".to_owned(), (*v).to_owned()))
            .collect();
        parse(&params, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
    }

    #[test]
    fn one_ge_and_one_le_date_from_today_on() {
        let r = range(&["le2026-12-02", "ge2026-12-01"]).unwrap();
        assert_eq!(r.from, Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(r.to, Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap());
    }

    #[test]
    fn every_other_shape_is_invalid_parameter() {
        for values in [
            &[][..],
            &["ge2026-12-01"],
            &["ge2026-12-01", "ge2026-12-02"],
            &["le2026-12-01", "le2026-12-02"],
            &["lt2026-12-02", "ge2026-12-01"],
            &["gt2026-12-01", "le2026-12-02"],
            &["eq2026-12-01", "le2026-12-02"],
            &["2026-12-01", "le2026-12-02"],
            &["ge2026-12-01T10:00:00", "le2026-12-02"],
            &["ge2026-12-01Z", "le2026-12-02"],
            &["ge2026", "le2026-12-02"],
            &["ge2026-12", "le2026-12-02"],
            &["ge2026-11-30", "le2026-12-02"],
            &["ge2026-12-03", "le2026-12-02"],
            &["ge2026-12-01", "le2026-12-02", "le2026-12-03"],
        ] {
            let e = range(values).unwrap_err();
            assert_eq!(
                e.code,
                super::super::error::SpineCode::InvalidParameter,
                "{values:?}"
            );
        }
        let past = range(&["ge2026-11-30", "le2026-12-02"]).unwrap_err();
        assert!(past.diagnostics.contains("past appointments"), "{past:?}");
    }
}
