//! The JSON API for the practice's own systems (its clinical system, or the provider system's
//! FHIR layer): rota imports, and recording and releasing GP Connect bookings so booking limits
//! can count them. Calls carry `Authorization: Bearer <secret>`: a practice system credential,
//! scoped to the practices it serves (`bookable credential issue`), or in development the
//! all-practices `BOOKABLE_API_TOKEN`. Every answer, errors included, is JSON.

mod appointments;
mod body;
mod error;
mod import;
mod settings;

pub use error::ApiError;
pub use settings::ApiSettings;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use crate::availability::booking::{self, Booker, BookingError};
use crate::availability::codes::{OdsCode, OrganisationType};
use crate::change_log::Actor;
use crate::credentials::{self, Authorised};
use crate::db::ids::{BookingId, PracticeId, SlotId};
use crate::db::schema::slots;
use crate::state::AppState;

/// The practice in the path, and who is acting for it.
struct Caller {
    practice: PracticeId,
    actor: Actor,
}

/// Checks the bearer token for the practice named in the path, then runs `work` for it.
async fn for_practice<T, F>(
    state: &AppState,
    req: &HttpRequest,
    ods: String,
    work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut PgConnection, Caller) -> Result<T, ApiError> + Send + 'static,
{
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_owned)
        .ok_or(ApiError::Unauthorized)?;
    let all_practices = state.api.is_all_practices_token(&token);
    let code = OdsCode::parse(&ods);
    let unknown = move || ApiError::NotFound(format!("unknown practice '{ods}'"));
    let code = code.map_err(|_| unknown())?;
    crate::db::run(&state.pool, move |conn| {
        let practice = crate::practice::by_ods(conn, &code)?.ok_or_else(unknown)?;
        let actor = if all_practices {
            Actor::system("api (all-practices development token)")
        } else {
            match credentials::authorise(conn, &token, practice.id)? {
                Authorised::Yes(actor) => actor,
                Authorised::OtherPractice => return Err(ApiError::OtherPractice(code.to_string())),
                Authorised::Unknown => return Err(ApiError::Unauthorized),
            }
        };
        work(
            conn,
            Caller {
                practice: practice.id,
                actor,
            },
        )
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookingRequest {
    /// The slot's id in the clinical system (its import id).
    slot: String,
    /// The booking organisation's ODS code and, when known, its GPConnect-OrganisationType-1 code.
    ods_code: String,
    org_type: Option<String>,
}

async fn book(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<BookingRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let invalid = |field: &str, e: &dyn std::fmt::Display| ApiError::Invalid {
        message: "the booking request is not valid".into(),
        problems: vec![format!("{field}: {e}")],
    };
    let ods_code = OdsCode::parse(&body.ods_code).map_err(|e| invalid("ods_code", &e))?;
    if let Some(Err(e)) = body.org_type.as_deref().map(OrganisationType::parse) {
        return Err(invalid("org_type", &e));
    }
    let slot_ref = body.slot.clone();
    let now = state.clock.now();
    let id = for_practice(&state, &req, path.into_inner(), move |conn, caller| {
        let slot: SlotId = slots::table
            .filter(slots::practice_id.eq(caller.practice))
            .filter(slots::external_id.eq(&body.slot))
            .select(slots::id)
            .first(conn)
            .optional()?
            .ok_or_else(|| {
                ApiError::NotFound(format!("no slot '{}' at this practice", body.slot))
            })?;
        let booker = Booker {
            ods_code,
            org_type: body.org_type,
        };
        booking::book(conn, &caller.actor, caller.practice, slot, &booker, now).map_err(|e| match e
        {
            BookingError::NotBookable(reasons) => ApiError::Conflict {
                message: BookingError::NotBookable(reasons.clone()).to_string(),
                reasons: reasons.iter().map(|r| r.code()).collect(),
            },
            e @ BookingError::NotFound => ApiError::NotFound(e.to_string()),
            e => ApiError::internal(e),
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({ "booking": id, "slot": slot_ref })))
}

async fn release(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (ods, id) = path.into_inner();
    let now = state.clock.now();
    for_practice(&state, &req, ods, move |conn, caller| {
        booking::release(conn, &caller.actor, caller.practice, BookingId(id), now).map_err(|e| {
            match e {
                e @ BookingError::NotFound => ApiError::NotFound(e.to_string()),
                e => ApiError::internal(e),
            }
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn no_such_call() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such API call".into()))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .app_data(
                web::JsonConfig::default()
                    .limit(16 * 1024)
                    .error_handler(|e, _| error::json_error(e).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|e, _| error::path_error(e).into()))
            .configure(import::routes)
            .route("/practices/{ods}/bookings", web::post().to(book))
            .configure(appointments::routes)
            .route(
                "/practices/{ods}/bookings/{id}/release",
                web::post().to(release),
            )
            .default_service(web::to(no_such_call)),
    );
}
