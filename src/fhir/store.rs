//! What the FHIR layer reads besides the slot search (which is the query module's alone): the
//! practice behind a base URL with its ASID, and single Practitioners and Locations of a
//! practice for the read interactions.

use diesel::prelude::*;
use serde_json::json;

use super::security::is_asid;
use crate::availability::codes::OdsCode;
use crate::availability::query::{LocationSummary, PractitionerSummary};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{LocationId, PracticeId, PractitionerId};
use crate::db::schema::{locations, practices, practitioners};

/// A practice as its GP Connect endpoint needs it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = practices)]
pub struct PracticeEndpoint {
    pub id: PracticeId,
    pub ods_code: String,
    pub name: String,
    /// The ASID consumers must send as Ssp-To; `None` while the practice is not registered.
    pub asid: Option<String>,
}

pub fn practice_by_ods(
    conn: &mut PgConnection,
    ods: &OdsCode,
) -> QueryResult<Option<PracticeEndpoint>> {
    practices::table
        .filter(practices::ods_code.eq(ods.as_str()))
        .select(PracticeEndpoint::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, thiserror::Error)]
pub enum AsidError {
    #[error("'{0}' is not an ASID: expected the digits of a Spine accredited system id")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Sets (or clears) the ASID of a practice's GP Connect endpoint, with an audit row.
pub fn set_asid(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    asid: Option<&str>,
) -> Result<(), AsidError> {
    if let Some(a) = asid
        && !is_asid(a)
    {
        return Err(AsidError::Invalid(a.to_owned()));
    }
    conn.transaction(|conn| {
        let before: Option<String> = practices::table
            .find(practice)
            .select(practices::asid)
            .first(conn)?;
        diesel::update(practices::table.find(practice))
            .set(practices::asid.eq(asid))
            .execute(conn)?;
        change_log::record(
            conn,
            actor,
            Change {
                practice: Some(practice),
                action: "update",
                entity: "practice_asid",
                entity_id: Some(practice.0),
                before: Some(json!({ "asid": before })),
                after: Some(json!({ "asid": asid })),
            },
        )?;
        Ok(())
    })
}

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
