//! The capacity reports: the report's figures ([`capacity`]) on a fixed data set ([`data`]),
//! NHS 111's figure under booking limits and windows ([`nhs111`]), its summary cache
//! ([`summary`]) and its background refresher ([`refresher`]), its pages and downloads
//! ([`web`]) and in a browser ([`e2e`]).

mod capacity;
mod data;
mod e2e;
mod nhs111;
mod refresher;
mod summary;
mod web;

use bookable::reports::period::Period;
use chrono::{DateTime, Utc};

use crate::fixture::day;

/// Tuesday 9 June 2026, 12:00 BST: slots before it are in the past.
pub fn now() -> DateTime<Utc> {
    "2026-06-09T11:00:00Z".parse().unwrap()
}

pub fn fortnight() -> Period {
    Period::new(day(2026, 6, 8), day(2026, 6, 21)).unwrap()
}
