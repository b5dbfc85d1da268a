//! The `bookable` command: serve, migrate, run the demo, and manage practices, users and imports.

use std::io::BufRead;
use std::net::TcpListener;

use anyhow::{Context, bail};
use bookable::availability::codes::OdsCode;
use bookable::change_log::Actor;
use bookable::db::{self, data_dir::SharedPostgres};
use bookable::seed::demo;
use bookable::server;
use bookable::state::AppState;
use bookable::telemetry::logs::LogFormat;
use bookable::users::{self, Role};
use bookable::{practice, rota_import};
use clap::{Parser, Subcommand};
use diesel::{Connection, PgConnection};

/// mimalloc rather than glibc malloc: the GP Connect search allocates many small objects on
/// several blocking threads at once, where glibc's arenas cost time and memory (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "bookable",
    version,
    about = "GP Connect slot availability management"
)]
struct Cli {
    /// PostgreSQL URL. When unset, bookable keeps its data in a private PostgreSQL of its own, in
    /// the data folder.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// The data folder of that private PostgreSQL (default: /var/lib/bookable as root, else
    /// $XDG_DATA_HOME/bookable or ~/.local/share/bookable).
    #[arg(long, env = "BOOKABLE_DATA_DIR", global = true)]
    data_dir: Option<std::path::PathBuf>,
    /// For development only: a bearer token of the JSON API that may act for every practice.
    /// Practice systems get credentials of their own (`bookable credential issue`).
    #[arg(
        long,
        env = "BOOKABLE_API_TOKEN",
        global = true,
        hide_env_values = true
    )]
    api_token: Option<String>,
    /// The log's format on standard output: text lines, or one JSON object a line.
    #[arg(
        long,
        env = "BOOKABLE_LOG_FORMAT",
        value_enum,
        default_value_t,
        global = true
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the admin UI and the GP Connect API.
    Serve {
        #[arg(long, env = "BOOKABLE_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        #[command(flatten)]
        tls: bookable::fhir::tls::TlsArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Seed two demo practices with four weeks of slots and a demo manager, then serve. Without
    /// DATABASE_URL the demo keeps its own database (bookable_demo) in the data folder.
    Demo {
        #[arg(long, env = "BOOKABLE_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Start from an empty demo database, forgetting every change made in earlier demos.
        #[arg(long)]
        fresh: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Manage practices.
    #[command(subcommand)]
    Practice(PracticeCommand),
    /// Manage users of the admin UI.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the credentials of practice systems for the JSON API.
    #[command(subcommand)]
    Credential(CredentialCommand),
    /// Keep the GP Connect request trail: export a month, then drop it.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Keep the managers' change log (kept forever unless you remove old entries).
    #[command(subcommand)]
    ChangeLog(ChangeLogCommand),
    /// Import a practice's schedules and slots from a JSON document (see README).
    Import { file: std::path::PathBuf },
    /// Import a practice's patient list from a JSON document (see README).
    ImportPatients { file: std::path::PathBuf },
    /// Serve a local stand-in for the PDS FHIR API from a file of test patients (see README).
    PdsStandin {
        /// The test patients (the demo's when left out).
        #[arg(long)]
        patients: Option<std::path::PathBuf>,
        #[arg(long, default_value = "127.0.0.1:8090")]
        bind: String,
    },
    /// Show, or change, the settings of the capacity reports.
    ReportSettings {
        /// Registered patients per daily NHS 111 appointment (GP contract: 3000).
        #[arg(long)]
        nhs111_patients_per_appointment: Option<i32>,
    },
    /// Generate the synthetic benchmark data set (practices S00001…, weekday slots from a Monday).
    Synthetic {
        #[arg(long, default_value_t = 200)]
        practices: i32,
        #[arg(long, default_value_t = 26)]
        weeks: i32,
        /// The Monday the slots start on (default: this week's).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
    },
}

/// How a serving process uses its database and stops.
#[derive(clap::Args)]
struct RunArgs {
    /// Connections in the pool (default: four per core, at least eight).
    #[arg(long, env = "BOOKABLE_DB_POOL_SIZE")]
    db_pool_size: Option<u32>,
    /// Milliseconds a request waits for a database connection before it is answered
    /// "service unavailable".
    #[arg(long, env = "BOOKABLE_DB_CHECKOUT_TIMEOUT_MS", default_value_t = 2000)]
    db_checkout_timeout_ms: u64,
    /// Seconds a stopping server (SIGTERM) lets in-flight requests finish before it
    /// drops them; the GP Connect audit rows of every answered request are written after.
    #[arg(long, env = "BOOKABLE_SHUTDOWN_TIMEOUT_S", default_value_t = 30)]
    shutdown_timeout_s: u64,
    /// Prometheus metrics at GET /metrics (`off`: none recorded).
    #[arg(long, env = "BOOKABLE_METRICS", value_enum, default_value_t = Switch::On)]
    metrics: Switch,
    /// Serve /metrics on this address (plain HTTP) instead of the main one.
    #[arg(long, env = "BOOKABLE_METRICS_BIND")]
    metrics_bind: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Switch {
    On,
    Off,
}

impl RunArgs {
    fn pool_settings(&self) -> db::PoolSettings {
        // A few connections per core: more only queue inside PostgreSQL (see server::serve).
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as u32;
        let mut settings = db::PoolSettings::new(self.db_pool_size.unwrap_or((4 * cores).max(8)));
        settings.checkout_timeout = std::time::Duration::from_millis(self.db_checkout_timeout_ms);
        settings
    }
}

#[derive(Subcommand)]
enum PracticeCommand {
    /// Create a practice, or update its name and list size.
    Add {
        #[arg(long)]
        ods: String,
        #[arg(long)]
        name: String,
        /// Registered patients, for the NHS 111 direct booking minimum.
        #[arg(long, default_value_t = 0)]
        list_size: i32,
        /// The ASID of the practice's GP Connect endpoint, which consumers send as Ssp-To.
        #[arg(long)]
        asid: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Write every GP Connect request of a calendar month (UTC) as JSON lines, and record the
    /// export so the month may be dropped.
    Export {
        /// The month, as YYYY-MM.
        #[arg(long)]
        month: String,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Drop a month of the GP Connect request trail: refused unless it has ended and was
    /// exported with every row it holds.
    Drop {
        #[arg(long)]
        month: String,
    },
    /// Keep this month and the N months before it: export every older month to the export
    /// folder, then drop it (run it daily from a scheduled job).
    Retain {
        #[arg(long, env = "BOOKABLE_AUDIT_RETENTION_MONTHS")]
        keep_months: u32,
        #[arg(long, env = "BOOKABLE_AUDIT_EXPORT_DIR")]
        export_dir: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum ChangeLogCommand {
    /// Remove the entries older than N months, after writing them to a file as JSON lines.
    Retain {
        #[arg(long, env = "BOOKABLE_CHANGE_LOG_RETENTION_MONTHS")]
        keep_months: u32,
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (password from BOOKABLE_PASSWORD, else the first line of standard input).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// A practice and role, as ODS:role (viewer, manager or admin); repeatable.
        #[arg(long = "practice", required = true)]
        practices: Vec<String>,
    },
}

#[derive(Subcommand)]
enum CredentialCommand {
    /// Issue a credential for the practices one system serves; its secret is shown only now.
    Issue {
        /// Who holds it, e.g. "Riverside clinical system".
        #[arg(long)]
        name: String,
        /// The ODS code of a practice it may act for; repeatable.
        #[arg(long = "practice", required = true)]
        practices: Vec<String>,
    },
    /// Revoke a credential at once.
    Revoke {
        #[arg(long)]
        id: i64,
    },
    /// List the credentials (never their secrets).
    List,
}

/// The database to use: DATABASE_URL's, or `database` in the private cluster of the data folder,
/// in use as long as the guard lives. `fresh`: empty that database first.
fn database(
    cli: &Cli,
    database: &str,
    fresh: bool,
) -> anyhow::Result<(String, Option<SharedPostgres>)> {
    if let Some(url) = &cli.database_url {
        return Ok((url.clone(), None));
    }
    let dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(db::data_dir::default_dir);
    let pg = SharedPostgres::open(&dir, database)
        .context("starting the private PostgreSQL (DATABASE_URL is unset)")?;
    if fresh {
        pg.recreate_database(database)?;
    }
    eprintln!(
        "Data: database {database} of the private PostgreSQL in {} (BOOKABLE_DATA_DIR)",
        pg.dir().display()
    );
    Ok((pg.url(database), Some(pg)))
}

fn migrated(url: &str) -> anyhow::Result<PgConnection> {
    let mut conn = PgConnection::establish(url).with_context(|| "connecting to PostgreSQL")?;
    db::migrate(&mut conn)?;
    Ok(conn)
}

/// `cookie_secure`: the admin UI's default for its session cookie (false only for the demo,
/// which serves plain HTTP on loopback).
async fn serve(
    url: &str,
    bind: &str,
    run: &RunArgs,
    api_token: Option<&str>,
    cookie_secure: bool,
    tls: Option<rustls::ServerConfig>,
    pds: Option<bookable::pds::settings::PdsSettings>,
) -> anyhow::Result<()> {
    let pool = db::pool_with(url, &run.pool_settings())?;
    let listener = TcpListener::bind(bind).with_context(|| format!("binding {bind}"))?;
    let mut state = AppState::new(pool);
    state.admin = bookable::admin::AdminSettings::from_env(cookie_secure, tls.is_some())?;
    if let Some(token) = api_token {
        tracing::warn!(
            "BOOKABLE_API_TOKEN is set: it opens the JSON API of every practice (for development); \
             give each practice system its own credential (bookable credential issue)"
        );
        state.api = bookable::api::ApiSettings::with_all_practices_token(token);
    }
    state.pds = pds.map(bookable::pds::client::PdsClient::new).transpose()?;
    let metrics = match (run.metrics, &run.metrics_bind) {
        (Switch::Off, _) => server::Metrics::Off,
        (Switch::On, None) => server::Metrics::Here,
        (Switch::On, Some(bind)) => server::Metrics::Apart(
            TcpListener::bind(bind).with_context(|| format!("binding {bind} (metrics)"))?,
        ),
    };
    let options = server::Options {
        tls,
        shutdown_timeout: std::time::Duration::from_secs(run.shutdown_timeout_s),
        metrics,
    };
    server::run_with(listener, state, options)?.serve().await?;
    tracing::info!("bookable stopped");
    Ok(())
}

fn credential(
    conn: &mut PgConnection,
    actor: &Actor,
    command: CredentialCommand,
) -> anyhow::Result<()> {
    use bookable::credentials;
    match command {
        CredentialCommand::Issue { name, practices } => {
            anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
            let mut ids = Vec::new();
            for ods in &practices {
                let Some(p) = practice::by_ods(conn, &OdsCode::parse(ods)?)? else {
                    bail!("unknown practice {ods}");
                };
                ids.push(p.id);
            }
            let (id, secret) = credentials::issue(conn, actor, &name, &ids)?;
            println!(
                "Credential {id} issued to {name} for {}.",
                practices.join(", ")
            );
            println!("Its secret, shown only this once (send it as Authorization: Bearer …):");
            println!("{secret}");
        }
        CredentialCommand::Revoke { id } => {
            if !credentials::revoke(conn, actor, bookable::db::ids::CredentialId(id))? {
                bail!("no live credential {id}");
            }
            println!("Credential {id} revoked.");
        }
        CredentialCommand::List => {
            for l in credentials::list(conn, None)? {
                let c = &l.credential;
                let state = match c.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "live".to_owned(),
                };
                let used = c
                    .last_used_at
                    .map_or("never used".to_owned(), |t| format!("last used {t}"));
                println!(
                    "{}\t{}\t{}\t{state}\t{used}",
                    c.id,
                    c.name,
                    l.practices.join(",")
                );
            }
        }
    }
    Ok(())
}

fn audit(conn: &mut PgConnection, command: AuditCommand) -> anyhow::Result<()> {
    use bookable::fhir::trail_retention::{self, Month};
    match command {
        AuditCommand::Export { month, out } => {
            let month: Month = month.parse()?;
            let file = std::fs::File::create(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let label = out.display().to_string();
            let rows = trail_retention::export(conn, month, &mut writer, &label)?;
            println!("Exported {rows} GP Connect requests of {month} to {label}.");
        }
        AuditCommand::Drop { month } => {
            let month: Month = month.parse()?;
            let rows = trail_retention::drop_month(conn, month, chrono::Utc::now())?;
            println!("Dropped {month}: {rows} GP Connect requests (exported before).");
        }
        AuditCommand::Retain {
            keep_months,
            export_dir,
        } => {
            let let_go =
                trail_retention::retain(conn, keep_months, &export_dir, chrono::Utc::now())?;
            for (month, rows) in &let_go {
                println!("Exported and dropped {month}: {rows} GP Connect requests.");
            }
            if let_go.is_empty() {
                println!("Nothing older than {keep_months} months to let go.");
            }
        }
    }
    Ok(())
}

/// `bookable pds-standin`: needs no database.
async fn pds_standin(patients: Option<&std::path::Path>, bind: &str) -> anyhow::Result<()> {
    use bookable::pds::standin::{self, StandinPatients};
    let json = match patients {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => standin::DEMO_PATIENTS.to_owned(),
    };
    let patients = StandinPatients::parse(&json)?;
    let listener = TcpListener::bind(bind).with_context(|| format!("binding {bind}"))?;
    println!("PDS stand-in on http://{bind}/ (GET /Patient/{{nhs-number}})");
    standin::run(listener, patients)?.await?;
    Ok(())
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    bookable::telemetry::logs::init(cli.log_format);
    if let Command::PdsStandin { patients, bind } = &cli.command {
        return pds_standin(patients.as_deref(), bind).await;
    }
    let (name, fresh) = match cli.command {
        Command::Demo { fresh, .. } => ("bookable_demo", fresh),
        _ => ("bookable", false),
    };
    let (url, _private_pg) = database(&cli, name, fresh)?;
    let actor = Actor::system("command line");
    match cli.command {
        Command::Migrate => {
            migrated(&url)?;
            println!("Migrations applied.");
        }
        Command::Serve { bind, tls, run } => {
            migrated(&url)?;
            let tls = tls.server_config()?;
            let scheme = if tls.is_some() { "https" } else { "http" };
            tracing::info!(address = %format!("{scheme}://{bind}/"), "bookable listening");
            let pds = bookable::pds::settings::PdsSettings::from_env();
            serve(&url, &bind, &run, cli.api_token.as_deref(), true, tls, pds).await?;
        }
        Command::Demo { bind, run, .. } => {
            let mut conn = migrated(&url)?;
            let today = chrono::Utc::now()
                .with_timezone(&chrono_tz::Europe::London)
                .date_naive();
            demo::seed(&mut conn, today)?;
            println!("bookable demo on http://{bind}/");
            println!(
                "  sign in as {} with password {}",
                demo::DEMO_USER,
                demo::DEMO_PASSWORD
            );
            println!("  practices A20047 and B82617, four weeks of slots from {today}");
            bookable::patients::import::import_json(
                &mut conn,
                &Actor::system("demo"),
                bookable::patients::import::DEMO_PATIENTS,
            )?;
            bookable::seed::appointments::seed(&mut conn, today)?;
            let pds = match bookable::pds::settings::PdsSettings::from_env() {
                Some(pds) => pds,
                None => {
                    use bookable::pds::standin::{self, StandinPatients};
                    let listener = TcpListener::bind("127.0.0.1:0")?;
                    let url = format!("http://{}", listener.local_addr()?);
                    let patients = StandinPatients::parse(standin::DEMO_PATIENTS)?;
                    actix_web::rt::spawn(standin::run(listener, patients)?);
                    println!("  the PDS stand-in on {url} (the demo's patients: README)");
                    bookable::pds::settings::PdsSettings::new(&url)
                }
            };
            serve(
                &url,
                &bind,
                &run,
                cli.api_token.as_deref(),
                false,
                None,
                Some(pds),
            )
            .await?;
        }
        Command::Practice(PracticeCommand::Add {
            ods,
            name,
            list_size,
            asid,
        }) => {
            let mut conn = migrated(&url)?;
            let p = practice::upsert(&mut conn, &actor, &OdsCode::parse(&ods)?, &name, list_size)?;
            if let Some(asid) = asid {
                practice::set_asid(&mut conn, &actor, p.id, Some(&asid))?;
            }
            println!("Practice {} ({}) saved.", p.ods_code, p.name);
        }
        Command::User(UserCommand::Add {
            username,
            display_name,
            practices,
        }) => {
            let mut conn = migrated(&url)?;
            let mut roles = Vec::new();
            for spec in &practices {
                let (ods, role) = spec.split_once(':').context("--practice takes ODS:role")?;
                let role = Role::parse(role).with_context(|| format!("unknown role '{role}'"))?;
                let Some(p) = practice::by_ods(&mut conn, &OdsCode::parse(ods)?)? else {
                    bail!("unknown practice {ods}");
                };
                roles.push((p.id, role));
            }
            let password = match std::env::var("BOOKABLE_PASSWORD") {
                Ok(p) => p,
                Err(_) => std::io::stdin()
                    .lock()
                    .lines()
                    .next()
                    .context("no password given")??,
            };
            users::upsert(
                &mut conn,
                &actor,
                &username,
                &display_name,
                &password,
                &roles,
            )?;
            println!("User {username} saved.");
        }
        Command::Credential(command) => credential(&mut migrated(&url)?, &actor, command)?,
        Command::Audit(command) => audit(&mut migrated(&url)?, command)?,
        Command::ChangeLog(ChangeLogCommand::Retain { keep_months, out }) => {
            let actor = Actor::system("change-log retention");
            let removed = bookable::change_log::remove_old(
                &mut migrated(&url)?,
                &actor,
                keep_months,
                chrono::Utc::now(),
                &out,
            )?;
            println!(
                "Removed {removed} change-log entries older than {keep_months} months (written to {}).",
                out.display()
            );
        }
        Command::Synthetic {
            practices,
            weeks,
            from,
        } => {
            let mut conn = migrated(&url)?;
            let today = chrono::Utc::now()
                .with_timezone(&chrono_tz::Europe::London)
                .date_naive();
            let monday = from.unwrap_or_else(|| today.week(chrono::Weekday::Mon).first_day());
            let first = bookable::availability::query::local_midnight(monday);
            bookable::seed::synthetic::generate(&mut conn, practices, weeks, first)?;
            println!("Generated {practices} practices × {weeks} weeks of slots from {monday}.");
        }
        Command::ReportSettings {
            nhs111_patients_per_appointment,
        } => {
            let mut conn = migrated(&url)?;
            if let Some(n) = nhs111_patients_per_appointment {
                bookable::reports::settings::set_nhs111_patients_per_appointment(
                    &mut conn, &actor, n,
                )?;
            }
            println!(
                "NHS 111 minimum: one appointment a day per {} registered patients.",
                bookable::reports::settings::nhs111_patients_per_appointment(&mut conn)?
            );
        }
        Command::PdsStandin { .. } => unreachable!("served before the database starts"),
        Command::ImportPatients { file } => {
            let mut conn = migrated(&url)?;
            let json = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let s = bookable::patients::import::import_json(&mut conn, &actor, &json)?;
            println!(
                "Imported patients: {} new, {} changed, {} unchanged.",
                s.created, s.updated, s.unchanged
            );
        }
        Command::Import { file } => {
            let mut conn = migrated(&url)?;
            let json = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let summary = rota_import::import_json(&mut conn, &actor, &json)?;
            println!(
                "Imported {} locations, {} practitioners, {} schedules, {} slots.",
                summary.locations, summary.practitioners, summary.schedules, summary.slots
            );
        }
    }
    Ok(())
}
