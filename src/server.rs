//! The composition root: every area's routes and middleware, and the server that runs them.
//! Nothing imports this module but `main` and the tests.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, get, web};
use diesel::RunQueryDsl;

use crate::fhir::request_trail::RequestTrail;
use crate::state::AppState;

/// Liveness and database reachability, for load balancers and the demo's own check.
#[get("/health")]
async fn health(state: web::Data<AppState>) -> HttpResponse {
    let db_ok = crate::db::run(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn)?;
        Ok::<_, anyhow::Error>(())
    })
    .await
    .is_ok();
    let body =
        serde_json::json!({ "status": if db_ok { "ok" } else { "degraded" }, "database": db_ok });
    if db_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub fn configure(cfg: &mut web::ServiceConfig, state: &AppState) {
    cfg.service(health);
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
