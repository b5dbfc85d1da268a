//! Prometheus metrics at `GET /metrics`, outside the admin and GP Connect scopes (on the main
//! address, or on one of its own: `bookable serve --metrics-bind`).
//!
//! Recorded through the `metrics` facade into `metrics-exporter-prometheus`'s recorder, which is
//! installed once per process; with metrics off no recorder is installed and every `counter!`
//! and `histogram!` is a no-op. Labels never carry a practice, a user or anything a client
//! chooses freely: the area, the GP Connect interaction (one of those served, else `unknown`) or
//! the route's pattern, and the status.
//!
//! | series | labels |
//! |---|---|
//! | `bookable_http_requests_total` | `area`, `interaction`, `status` |
//! | `bookable_http_request_duration_seconds` (histogram) | `area`, `interaction` |
//! | `bookable_db_pool_connections`, `bookable_db_pool_in_use`, `bookable_db_pool_waiting` | |
//! | `bookable_gpconnect_audit_queue_depth`, `bookable_gpconnect_audit_write_failures_total` | |
//! | `bookable_report_cache_refreshes_total` | `result` (`refreshed`, `failed`) |
//! | `bookable_report_cache_refresh_duration_seconds` (histogram) | |

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::fhir::interaction::Interaction;
use crate::fhir::request_trail::RequestTrail;
use crate::state::AppState;

pub const REQUESTS: &str = "bookable_http_requests_total";
pub const REQUEST_DURATION: &str = "bookable_http_request_duration_seconds";
pub const AUDIT_WRITE_FAILURES: &str = "bookable_gpconnect_audit_write_failures_total";
pub const REPORT_REFRESHES: &str = "bookable_report_cache_refreshes_total";
pub const REPORT_REFRESH_DURATION: &str = "bookable_report_cache_refresh_duration_seconds";

/// Latency buckets (seconds): a slot search takes a few milliseconds, an outage answer two
/// seconds at most, a report refresh may take many.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same handle).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .expect("the buckets are not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed")
        })
        .clone()
}

/// Which part of bookable a path belongs to.
fn area(path: &str) -> &'static str {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/fhir") {
        "gpconnect"
    } else if under("/api") {
        "api"
    } else if matches!(path, "/health" | "/ready" | "/metrics") {
        "ops"
    } else if under("/static") {
        "static"
    } else {
        "admin"
    }
}

/// The GP Connect interaction asked for, among those served, without its common prefix.
fn gpconnect_interaction(req: &ServiceRequest) -> &'static str {
    let sent = req
        .headers()
        .get("Ssp-InteractionID")
        .and_then(|v| v.to_str().ok());
    sent.and_then(Interaction::from_id).map_or("unknown", |i| {
        i.id()
            .trim_start_matches("urn:nhs:names:services:gpconnect:fhir:")
    })
}

/// Counts and times every request (wrapped around the whole app when metrics are on).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let area = area(req.path());
    let gpconnect = (area == "gpconnect").then(|| gpconnect_interaction(&req));
    let res = next.call(req).await?;
    // Route patterns are few and fixed ("/practices/{ods}/schedules"), never a path's values.
    let interaction = match gpconnect {
        Some(i) => i.to_owned(),
        None => res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned()),
    };
    let status = res.status().as_u16().to_string();
    metrics::histogram!(REQUEST_DURATION, "area" => area, "interaction" => interaction.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(REQUESTS, "area" => area, "interaction" => interaction, "status" => status)
        .increment(1);
    Ok(res)
}

/// `GET /metrics`: the gauges read now, then every series in Prometheus' text format.
pub async fn scrape(
    handle: web::Data<PrometheusHandle>,
    state: web::Data<AppState>,
    trail: web::Data<RequestTrail>,
) -> HttpResponse {
    let pool = state.pool.state();
    metrics::gauge!("bookable_db_pool_connections").set(pool.connections);
    metrics::gauge!("bookable_db_pool_in_use").set(pool.connections - pool.idle_connections);
    metrics::gauge!("bookable_db_pool_waiting").set(state.pool.waiting() as f64);
    metrics::gauge!("bookable_gpconnect_audit_queue_depth").set(trail.queued() as f64);
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; version=0.0.4"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(handle.render())
}

/// Drains the histograms' recent samples into their buckets every few seconds, as the
/// exporter's own listener would (started with the server, on its runtime).
pub fn start_upkeep(handle: PrometheusHandle) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::area;

    #[test]
    fn paths_fall_in_their_area() {
        assert_eq!(area("/fhir/A20047/STU3/1/gpconnect/Slot"), "gpconnect");
        assert_eq!(area("/fhir"), "gpconnect");
        assert_eq!(area("/fhirish"), "admin");
        assert_eq!(area("/api/practices/A20047/bookings"), "api");
        assert_eq!(area("/metrics"), "ops");
        assert_eq!(area("/static/app.css"), "static");
        assert_eq!(area("/practices/A20047/schedules"), "admin");
    }
}
