//! Reports on the capacity practices expose through GP Connect.
//!
//! # What "exposed" means
//! A slot is **exposed** when a GP Connect consumer could find it, leaving aside who asks, when,
//! and whether it is still free: rules 2 to 4 of the query module
//! ([`crate::availability::query`]) hold for it, read through the `slot_effective` view so a
//! slot's own bookability overrides its schedule's exactly as in a slot search:
//! - it is GP Connect bookable;
//! - its delivery channel is not `Visit`;
//! - its schedule has a practitioner role and the slot has a slot type.
//!
//! Status (rule 1), consumer matching (rule 5), booking windows and limits, and the search
//! window are left out: the report counts what the practice offers, booked or free. So for a
//! consumer whose searches no window or limit restricts, the **free** exposed slots it matches
//! are exactly what `query::free_slots` returns for it (a test pins this).
//!
//! # How slots are counted
//! - A slot counts on the Europe/London local day it starts, and in that day's ISO week
//!   (Monday to Sunday, local time). A week at either end of the period counts only its days
//!   inside the period.
//! - Minutes are clinical minutes: end minus start.
//! - **Booked** is status `busy`; **free** is the rest.
//! - The **share of the appointment book** is exposed over all slots (exposed or not), by slots
//!   and by minutes.
//! - **By organisation type** T: the exposed slots a consumer of type T finds without naming
//!   itself: no organisation-type restriction or T among them, and no ODS-code or group
//!   restriction. An unrestricted slot counts for every organisation type.
//! - **By named organisation**: slots restricted to ODS codes or groups count once under each
//!   code and group (`group:<name>`) they name; the others under "any organisation".
//! - **By channel, practitioner role, slot type**: each exposed slot once, under its own value.
//! - **Uptake** ([`uptake`]): slots booked through GP Connect by organisation type and by
//!   organisation, against the exposed slots offered to them.
//!
//! # NHS 111 direct booking minimum
//! The GP contract asks a practice to make at least one appointment a day per 3,000 registered
//! patients available for direct booking by NHS 111, and at least one: the minimum is
//! `max(1, floor(list size / ratio))` (7,500 → 2, 9,000 → 3). The ratio is a setting
//! ([`settings`], table `report_settings`). A day's offer is what NHS 111 could really book
//! ([`nhs111`]): the slots exposed to `urgent-care` (as counted by organisation type above),
//! booked or free since the duty is to make slots available, whose booking window is ever open
//! (the query module's window rules), capped by the booking limits set for urgent care (a
//! practice exposing 23 a day but letting NHS 111 book 6 offers 6). For the days after the
//! report's, it also says how many NHS 111 could still book: free, within what the limits leave
//! after its bookings. Only Monday to Friday are flagged when short: practices are not open at
//! weekends (bank holidays are not known to bookable and are flagged like any weekday).
//!
//! # Hidden capacity
//! Free slots a manager marked GP Connect bookable (themselves or through their schedule) that
//! no consumer can see, with every reason that applies ([`exposure::HiddenCapacityReason`]):
//! Visit, no practitioner role, no slot type (the query module's own codes and messages),
//! restricted to no one (only organisation types GP Connect doesn't have, only invalid ODS
//! codes, or only groups without members), or in the past at the time of the report: started, by
//! the query module's own "already started" rule (its start is not after that time), so what
//! the report counts as still free is what a search at that time offers.

pub mod capacity;
pub mod chart;
pub mod export;
pub mod exposure;
pub mod figures;
pub mod labels;
pub mod nhs111;
pub mod page;
pub mod period;
pub mod practice_chart;
pub mod refresher;
pub mod settings;
pub mod slot_lines;
pub mod summary;
pub mod uptake;
pub mod web;
