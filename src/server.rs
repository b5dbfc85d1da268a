//! The composition root: every area's routes and middleware, and the server that runs them.
//! Nothing imports this module but `main` and the tests.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, get, web};

use crate::fhir::request_trail::RequestTrail;
use crate::state::AppState;

/// Liveness: the process is up and serving (no database work, so it never waits).
#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "status": "ok" }))
}

/// Readiness, for load balancers: the database answers (as its watcher last saw, so this never
/// waits behind request work), every migration is applied and the audit writer is running.
#[get("/ready")]
async fn ready(state: web::Data<AppState>, audit: web::Data<RequestTrail>) -> HttpResponse {
    let db = state.pool.health().readiness();
    let audit_writer = audit.is_running();
    let ok = db.database && db.migrations && audit_writer;
    let body = serde_json::json!({
        "status": if ok { "ready" } else { "unavailable" },
        "database": db.database,
        "migrations": db.migrations,
        "audit_writer": audit_writer,
    });
    let mut res = if ok {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

pub fn configure(cfg: &mut web::ServiceConfig, state: &AppState) {
    cfg.service(health).service(ready);
    crate::admin::configure(cfg, state);
    cfg.configure(crate::fhir::routes);
    cfg.configure(crate::api::routes);
}

/// Starts serving on `listener`; the caller awaits the returned server.
pub fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    serve(listener, state, None)
}

/// As [`run`], over TLS (see `fhir::tls`: with client certificates verified).
pub fn run_tls(
    listener: TcpListener,
    state: AppState,
    tls: rustls::ServerConfig,
) -> std::io::Result<Server> {
    serve(listener, state, Some(tls))
}

fn serve(
    listener: TcpListener,
    state: AppState,
    tls: Option<rustls::ServerConfig>,
) -> std::io::Result<Server> {
    // Every database call runs on a blocking thread holding a pooled connection, so more
    // blocking threads than connections would only wait; each thread also keeps an allocator
    // heap of its own (memory, BENCHMARKS.md).
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let blocking_threads = (state.pool.max_size() as usize).div_ceil(workers).max(1);
    let audit = web::Data::new(RequestTrail::start(state.pool.clone()));
    crate::admin::housekeeping::start(&state);
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(tracing_actix_web::TracingLogger::default())
            .app_data(data.clone())
            .app_data(audit.clone())
            .configure(|cfg| configure(cfg, &data))
            .service(actix_files::Files::new(
                "/static",
                concat!(env!("CARGO_MANIFEST_DIR"), "/static"),
            ))
    })
    // Without it, a response's last small segment can wait for the client's delayed ACK
    // (Nagle's algorithm): ~40 ms stalls seen in the GP Connect load test.
    .tcp_nodelay(true)
    .workers(workers)
    .worker_max_blocking_threads(blocking_threads);
    let server = match tls {
        Some(config) => server.listen_rustls_0_23(listener, config)?,
        None => server.listen(listener)?,
    };
    Ok(server.run())
}
