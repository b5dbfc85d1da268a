//! What the FHIR read interactions load besides the slot search (which is the query module's
//! alone, as the practice behind a base URL is the practice module's): single Practitioners and
//! Locations of a practice.

use diesel::prelude::*;

use crate::availability::query::{LocationSummary, PractitionerSummary};
use crate::db::ids::{LocationId, PracticeId, PractitionerId};
use crate::db::schema::{locations, practitioners};

type PractitionerRow = (
    PractitionerId,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub fn practitioner(
    conn: &mut PgConnection,
    practice: PracticeId,
    id: PractitionerId,
) -> QueryResult<Option<PractitionerSummary>> {
    let row: Option<PractitionerRow> = practitioners::table
        .filter(practitioners::id.eq(id))
        .filter(practitioners::practice_id.eq(practice))
        .select((
            practitioners::id,
            practitioners::family_name,
            practitioners::given_name,
            practitioners::prefix,
            practitioners::sds_user_id,
            practitioners::sds_role_profile_id,
            practitioners::gender,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(id, family_name, given_name, prefix, sds_user_id, sds_role_profile_id, gender)| {
            PractitionerSummary {
                id,
                family_name,
                given_name,
                prefix,
                sds_user_id,
                sds_role_profile_id,
                gender,
            }
        },
    ))
}

type LocationRow = (
    LocationId,
    String,
    Vec<String>,
    Option<String>,
    Option<String>,
);

pub fn location(
    conn: &mut PgConnection,
    practice: PracticeId,
    id: LocationId,
) -> QueryResult<Option<LocationSummary>> {
    let row: Option<LocationRow> = locations::table
        .filter(locations::id.eq(id))
        .filter(locations::practice_id.eq(practice))
        .select((
            locations::id,
            locations::name,
            locations::address_lines,
            locations::postcode,
            locations::phone,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(id, name, address_lines, postcode, phone)| LocationSummary {
            id,
            name,
            address_lines,
            postcode,
            phone,
        },
    ))
}
