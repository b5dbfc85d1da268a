//! The log: human-readable lines (`--log-format text`, the default) or one JSON object a line
//! (`--log-format json`) for a log collector, and one line for every request answered, carrying
//! its GP Connect `Ssp-TraceID` and the practice it was for.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Sets up the process's log on standard output, filtered by `RUST_LOG` (default: info, and
/// only diesel's warnings).
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,diesel=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        // An event's fields at the top level of its object, beside `timestamp`, `level`,
        // `target` and `message`; the spans it was in under `spans`.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
}

/// One info line per request once it is answered: method, path (without its query, which may
/// carry an NHS number), status, milliseconds taken, the `Ssp-TraceID` sent, if any, and the
/// practice of the path (its ODS code), if any.
pub async fn request_line(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !tracing::enabled!(tracing::Level::INFO) {
        return next.call(req).await;
    }
    let started = Instant::now();
    let trace_id = req
        .headers()
        .get("Ssp-TraceID")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(64).collect::<String>());
    let method = req.method().to_string();
    let path: String = req.path().chars().take(256).collect();
    let res = next.call(req).await?;
    let practice = res
        .request()
        .match_info()
        .get("ods")
        .map(|ods| ods.chars().take(16).collect::<String>());
    tracing::info!(
        method = method.as_str(),
        path = path.as_str(),
        status = res.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        ssp_trace_id = trace_id.as_deref(),
        practice = practice.as_deref(),
        "request"
    );
    Ok(res)
}
