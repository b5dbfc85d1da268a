//! The JSON API for the practice's own systems (its clinical system, or the provider system's
//! FHIR layer): rota imports, and recording and releasing GP Connect bookings so booking limits
//! can count them. Calls carry `Authorization: Bearer <BOOKABLE_API_TOKEN>`; with no token
//! configured the API is switched off.

mod settings;

pub use settings::ApiSettings;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::availability::booking::{self, Booker, BookingError};
use crate::availability::codes::{OdsCode, OrganisationType};
use crate::change_log::Actor;
use crate::db::ids::{BookingId, PracticeId, SlotId};
use crate::db::schema::slots;
use crate::ingest::{self, ImportError};
use crate::state::AppState;

/// A status and JSON body, built on the blocking pool (an `HttpResponse` can't cross threads).
type Reply = (StatusCode, Value);

/// A reply that ends the request early: a problem of the practice lookup or the database.
struct Problem(Reply);

impl From<crate::db::DbError> for Problem {
    fn from(e: crate::db::DbError) -> Self {
        Problem(internal(e))
    }
}

fn problem(status: StatusCode, message: impl Into<String>) -> Reply {
    (status, json!({ "error": message.into() }))
}

fn internal(e: impl std::fmt::Display) -> Reply {
    tracing::error!("API request failed: {e}");
    problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

/// Runs `f` on a pooled connection for the practice named in the path, after the token check.
async fn with_practice<F>(
    state: web::Data<AppState>,
    req: HttpRequest,
    ods: String,
    f: F,
) -> HttpResponse
where
    F: FnOnce(&mut PgConnection, PracticeId) -> Reply + Send + 'static,
{
    let (status, body) = if !state.api.accepts(&req) {
        problem(
            StatusCode::UNAUTHORIZED,
            "a valid bearer token (BOOKABLE_API_TOKEN) is required",
        )
    } else if let Ok(ods) = OdsCode::parse(&ods) {
        crate::db::run(&state.pool, move |conn| {
            match crate::practice::by_ods(conn, &ods).map_err(|e| Problem(internal(e)))? {
                Some(p) => Ok(f(conn, p.id)),
                None => Err(Problem(problem(StatusCode::NOT_FOUND, "unknown practice"))),
            }
        })
        .await
        .unwrap_or_else(|Problem(reply)| reply)
    } else {
        problem(StatusCode::NOT_FOUND, "unknown practice")
    };
    if status == StatusCode::NO_CONTENT {
        return HttpResponse::NoContent().finish();
    }
    HttpResponse::build(status).json(body)
}

async fn import_rota(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let ods = path.into_inner();
    with_practice(state, req, ods.clone(), move |conn, _| {
        let Ok(json) = std::str::from_utf8(&body) else {
            return problem(StatusCode::BAD_REQUEST, "the body is not UTF-8");
        };
        let doc: ingest::ImportDocument = match serde_json::from_str(json) {
            Ok(doc) => doc,
            Err(e) => return problem(StatusCode::BAD_REQUEST, ImportError::Malformed(e).to_string()),
        };
        if !doc.practice.eq_ignore_ascii_case(&ods) {
            return problem(StatusCode::UNPROCESSABLE_ENTITY, "the document is for another practice");
        }
        match ingest::import(conn, &Actor::system("api import"), &doc) {
            Ok(summary) => (StatusCode::OK, json!(summary)),
            Err(ImportError::Invalid(errors)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": "the import was rejected and nothing was written", "problems": errors }),
            ),
            Err(e @ ImportError::UnknownPractice(_)) => problem(StatusCode::NOT_FOUND, e.to_string()),
            Err(e) => internal(e),
        }
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
) -> HttpResponse {
    let body = body.into_inner();
    with_practice(state, req, path.into_inner(), move |conn, practice| {
        let ods_code = match OdsCode::parse(&body.ods_code) {
            Ok(c) => c,
            Err(e) => return problem(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        };
        if let Some(Err(e)) = body.org_type.as_deref().map(OrganisationType::parse) {
            return problem(StatusCode::UNPROCESSABLE_ENTITY, e.to_string());
        }
        let slot: Option<SlotId> = match slots::table
            .filter(slots::practice_id.eq(practice))
            .filter(slots::external_id.eq(&body.slot))
            .select(slots::id)
            .first(conn)
            .optional()
        {
            Ok(s) => s,
            Err(e) => return internal(e),
        };
        let Some(slot) = slot else {
            return problem(
                StatusCode::NOT_FOUND,
                format!("no slot '{}' at this practice", body.slot),
            );
        };
        let booker = Booker {
            ods_code,
            org_type: body.org_type,
        };
        match booking::book(
            conn,
            &Actor::system("api booking"),
            practice,
            slot,
            &booker,
            Utc::now(),
        ) {
            Ok(id) => (
                StatusCode::CREATED,
                json!({ "booking": id, "slot": body.slot }),
            ),
            Err(BookingError::NotBookable(reasons)) => {
                let e = BookingError::NotBookable(reasons.clone());
                let codes: Vec<_> = reasons.iter().map(|r| r.code()).collect();
                (
                    StatusCode::CONFLICT,
                    json!({ "error": e.to_string(), "reasons": codes }),
                )
            }
            Err(e @ BookingError::NotFound) => problem(StatusCode::NOT_FOUND, e.to_string()),
            Err(e) => internal(e),
        }
    })
    .await
}

async fn release(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> HttpResponse {
    let (ods, id) = path.into_inner();
    with_practice(
        state,
        req,
        ods,
        move |conn, practice| match booking::release(
            conn,
            &Actor::system("api booking"),
            practice,
            BookingId(id),
            Utc::now(),
        ) {
            Ok(_) => (StatusCode::NO_CONTENT, Value::Null),
            Err(e @ BookingError::NotFound) => problem(StatusCode::NOT_FOUND, e.to_string()),
            Err(e) => internal(e),
        },
    )
    .await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/practices/{ods}")
            .route("/rota", web::post().to(import_rota))
            .route("/bookings", web::post().to(book))
            .route("/bookings/{id}/release", web::post().to(release)),
    );
}
