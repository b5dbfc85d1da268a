//! The practice system kept in step with GP Connect (issue 14): the appointment event feed it
//! reads (`GET /api/practices/{ODS}/appointment-events`), and the appointments it sends of its
//! own (`POST /api/practices/{ODS}/appointments`, taken by `api::import` with the other
//! documents). README, "Appointments and the practice system".

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::error::ApiError;
use super::for_practice;
use crate::appointments::events;
use crate::state::AppState;

/// The longest a reader may ask the feed to wait for an event (seconds): below the idle
/// timeouts of the proxies between a practice system and bookable.
pub const MAX_WAIT_SECONDS: u64 = 30;

/// How often a waiting read looks for new events. A look is one indexed query on a pooled
/// connection held only for it, so a waiting reader holds no connection between looks
/// (docs/architecture.md, "The appointment event feed").
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The most events one read returns.
const MAX_LIMIT: i64 = 1000;
const DEFAULT_LIMIT: i64 = 100;

struct FeedQuery {
    after: i64,
    wait: Duration,
    limit: i64,
}

fn feed_query(req: &HttpRequest) -> Result<FeedQuery, ApiError> {
    let params = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map_err(|e| ApiError::BadRequest(format!("the query string is malformed: {e}")))?
        .into_inner();
    let mut problems = Vec::new();
    for key in params.keys() {
        if !["after", "wait", "limit"].contains(&key.as_str()) {
            problems.push(format!(
                "{key}: not a parameter of this call (after, wait, limit)"
            ));
        }
    }
    let mut number = |key: &str, default: i64, min: i64, max: i64| match params.get(key) {
        None => default,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                problems.push(format!(
                    "{key}: '{text}' is not a whole number from {min} to {max}"
                ));
                default
            }
        },
    };
    let after = number("after", 0, 0, i64::MAX);
    let wait = number("wait", 0, 0, MAX_WAIT_SECONDS as i64);
    let limit = number("limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    if !problems.is_empty() {
        return Err(ApiError::Invalid {
            message: "the feed can't be read with these parameters".into(),
            problems,
        });
    }
    Ok(FeedQuery {
        after,
        wait: Duration::from_secs(wait as u64),
        limit,
    })
}

/// `GET /api/practices/{ODS}/appointment-events?after={seq}&wait={seconds}&limit={n}`: the
/// events after `seq`, oldest first. With none yet and `wait` > 0, the answer waits until one
/// is written or `wait` seconds have passed (then `events` is empty). The reader keeps the
/// `last_seq` of the events it has processed and asks again after it: delivery is
/// at-least-once and in order, and a restart of either side loses nothing.
async fn feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let query = feed_query(&req)?;
    // The credential is checked once; the looks below read only this practice's rows.
    let practice = for_practice(&state, &req, path.into_inner(), |_, caller| {
        Ok(caller.practice)
    })
    .await?;
    let deadline = Instant::now() + query.wait;
    let (after, limit) = (query.after, query.limit);
    loop {
        let found = crate::db::run(&state.pool, move |conn| {
            events::after(conn, practice, after, limit).map_err(ApiError::from)
        })
        .await?;
        let now = Instant::now();
        if !found.is_empty() || now >= deadline {
            let last_seq = found.last().map_or(after, |e| e.seq);
            return Ok(HttpResponse::Ok()
                .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
                .json(json!({ "events": found, "last_seq": last_seq })));
        }
        actix_web::rt::time::sleep(POLL_INTERVAL.min(deadline - now)).await;
    }
}

/// The routes of this file, inside the `/api` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/practices/{ods}/appointment-events", web::get().to(feed));
}
