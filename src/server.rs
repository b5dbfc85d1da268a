//! The composition root: every area's routes and middleware, and the server that runs them.
//! Nothing imports this module but `main` and the tests.

use std::net::TcpListener;

use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::http::header;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpResponse, HttpServer, get, web};

use crate::db::DbPool;
use crate::fhir::request_trail::{RequestTrail, TrailWriter};
use crate::reports::refresher::Refresher;
use crate::state::AppState;
use crate::telemetry::{logs, metrics};

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

/// How long a stopping server lets in-flight requests finish (`bookable serve
/// --shutdown-timeout-s`).
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Where `GET /metrics` is served, if anywhere.
pub enum Metrics {
    Off,
    /// On the main address, beside `/health`.
    Here,
    /// On an address of its own (plain HTTP, for a private network), and not on the main one.
    Apart(TcpListener),
}

/// What `bookable serve` may change from [`run`]'s defaults (no TLS, the 30 s shutdown
/// timeout, no metrics).
pub struct Options {
    /// Serve over TLS (see `fhir::tls`: with client certificates verified).
    pub tls: Option<rustls::ServerConfig>,
    pub shutdown_timeout: Duration,
    pub metrics: Metrics,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tls: None,
            shutdown_timeout: SHUTDOWN_TIMEOUT,
            metrics: Metrics::Off,
        }
    }
}

/// A started server: its actix server (and the metrics one, if apart) and the GP Connect audit
/// writer behind it.
pub struct Running {
    server: Server,
    /// The metrics server apart, already running on the runtime.
    metrics: Option<(
        ServerHandle,
        actix_web::rt::task::JoinHandle<std::io::Result<()>>,
    )>,
    trail: TrailWriter,
    /// Keeps the report summary cache up to date in the background.
    refresher: Refresher,
    pool: DbPool,
}

impl Running {
    /// Stops it (`stop(true)`: gracefully) from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGTERM or the handle; SIGINT stops at once): then it stops accepting, lets
    /// in-flight requests finish (at most the shutdown timeout), stops the report refresher
    /// after its current batch, writes every GP Connect audit row still queued, and lets go of
    /// the pool.
    pub async fn serve(self) -> std::io::Result<()> {
        let Running {
            server,
            metrics,
            trail,
            refresher,
            pool,
        } = self;
        let served = server.await;
        refresher.stop().await;
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        let rows = trail.finish().await;
        tracing::info!(
            audit_rows_written = rows,
            "stopped: every queued GP Connect audit row written"
        );
        // The workers' handles went with them: the idle connections close as the last go.
        drop(pool);
        served
    }
}

/// Starts serving on `listener`; the caller awaits [`Running::serve`].
pub fn run(listener: TcpListener, state: AppState) -> std::io::Result<Running> {
    run_with(listener, state, Options::default())
}

/// As [`run`], with `options`.
pub fn run_with(
    listener: TcpListener,
    state: AppState,
    options: Options,
) -> std::io::Result<Running> {
    // Every database call runs on a blocking thread holding a pooled connection, so more
    // blocking threads than connections would only wait; each thread also keeps an allocator
    // heap of its own (memory, BENCHMARKS.md).
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let blocking_threads = (state.pool.max_size() as usize).div_ceil(workers).max(1);
    let (trail, writer) = RequestTrail::start(state.pool.clone());
    let audit = web::Data::new(trail);
    crate::admin::housekeeping::start(&state);
    let refresher = crate::reports::refresher::start(state.pool.clone());
    let pool = state.pool.clone();
    let data = web::Data::new(state);
    let prometheus = match options.metrics {
        Metrics::Off => None,
        Metrics::Here | Metrics::Apart(_) => {
            let handle = metrics::install();
            metrics::start_upkeep(handle.clone());
            Some(web::Data::new(handle))
        }
    };
    let record = prometheus.is_some();
    let scrape_here = matches!(options.metrics, Metrics::Here);
    let (app_data, app_audit, app_prometheus) = (data.clone(), audit.clone(), prometheus.clone());
    let server = HttpServer::new(move || {
        let app = App::new()
            .wrap(Condition::new(record, from_fn(metrics::record)))
            .wrap(from_fn(logs::request_line))
            .wrap(tracing_actix_web::TracingLogger::default())
            .app_data(app_data.clone())
            .app_data(app_audit.clone());
        let app = match (&app_prometheus, scrape_here) {
            (Some(handle), true) => app
                .app_data(handle.clone())
                .route("/metrics", web::get().to(metrics::scrape)),
            _ => app,
        };
        app.configure(|cfg| configure(cfg, &app_data))
            .service(actix_files::Files::new(
                "/static",
                concat!(env!("CARGO_MANIFEST_DIR"), "/static"),
            ))
    })
    // Without it, a response's last small segment can wait for the client's delayed ACK
    // (Nagle's algorithm): ~40 ms stalls seen in the GP Connect load test.
    .tcp_nodelay(true)
    .workers(workers)
    .worker_max_blocking_threads(blocking_threads)
    .shutdown_timeout(options.shutdown_timeout.as_secs());
    let server = match options.tls {
        Some(config) => server.listen_rustls_0_23(listener, config)?,
        None => server.listen(listener)?,
    };
    let metrics = match (options.metrics, prometheus) {
        (Metrics::Apart(listener), Some(handle)) => Some(
            HttpServer::new(move || {
                App::new()
                    .app_data(handle.clone())
                    .app_data(data.clone())
                    .app_data(audit.clone())
                    .route("/metrics", web::get().to(metrics::scrape))
            })
            .workers(1)
            .shutdown_timeout(options.shutdown_timeout.as_secs())
            .listen(listener)?
            .run(),
        ),
        _ => None,
    };
    // A server serves only while polled: the main one by `Running::serve`, this one from now.
    let metrics = metrics.map(|m| (m.handle(), actix_web::rt::spawn(m)));
    Ok(Running {
        server: server.run(),
        metrics,
        trail: writer,
        refresher,
        pool,
    })
}
