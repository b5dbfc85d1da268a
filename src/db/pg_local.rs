//! Private PostgreSQL clusters started from the machine's server binaries (found on PATH or under
//! /usr/lib/postgresql/*/bin), listening only on a Unix socket in their own folder, so they never
//! clash with another server. [`LocalPostgres`] is a throw-away cluster for the tests;
//! [`super::data_dir`] keeps bookable's own data in a persistent one built on [`Cluster`].
//!
//! PostgreSQL refuses to run as root, so when we are root the cluster belongs to the `postgres`
//! OS user and every server command goes through `runuser -u postgres --`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

pub const SUPERUSER: &str = "bookable";

/// Unix socket paths are limited to 107 bytes; PostgreSQL adds `/.s.PGSQL.5432`.
const MAX_SOCKET_DIR: usize = 90;

/// A cluster in `dir`: its data in `dir/data`, its socket and log in `dir`.
pub struct Cluster {
    dir: PathBuf,
    bindir: PathBuf,
    run_as_postgres: bool,
}

impl Cluster {
    /// `dir` must exist; as root it is handed to the `postgres` user.
    pub fn new(dir: PathBuf) -> anyhow::Result<Self> {
        if dir.as_os_str().len() > MAX_SOCKET_DIR {
            bail!(
                "the PostgreSQL folder {} is too long a path for its Unix socket \
                 (at most {MAX_SOCKET_DIR} bytes): choose a shorter data folder",
                dir.display()
            );
        }
        // geteuid has no preconditions and cannot fail.
        #[allow(unsafe_code)]
        let run_as_postgres = unsafe { libc::geteuid() } == 0;
        if run_as_postgres {
            chown_to_postgres(&dir)?;
        }
        Ok(Cluster {
            dir,
            bindir: find_bindir()?,
            run_as_postgres,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn is_initialised(&self) -> bool {
        self.data().join("PG_VERSION").is_file()
    }

    /// Creates the cluster's files; `durable: false` skips the flushes to disk (tests only).
    pub fn initdb(&self, durable: bool) -> anyhow::Result<()> {
        let data = self.data();
        let mut args: Vec<&OsStr> = vec![
            "-D".as_ref(),
            data.as_os_str(),
            "-U".as_ref(),
            SUPERUSER.as_ref(),
            "--auth=trust".as_ref(),
            "-E".as_ref(),
            "UTF8".as_ref(),
            "--locale=C.UTF-8".as_ref(),
        ];
        if !durable {
            args.push("--no-sync".as_ref());
        }
        self.run("initdb", &args)
    }

    /// Whether a server is running on this cluster's data.
    pub fn is_running(&self) -> bool {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D".as_ref(), data.as_os_str(), "status".as_ref()],
        )
        .is_ok()
    }

    /// Starts the server (and waits until it accepts connections); `extra` are server options.
    pub fn start(&self, extra: &str) -> anyhow::Result<()> {
        let opts = format!(
            "-k {} -c listen_addresses='' -c max_connections=200 {extra}",
            self.dir.display()
        );
        let data = self.data();
        let log = self.dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-o".as_ref(),
                opts.as_ref(),
                "start".as_ref(),
            ],
        )
        .with_context(|| format!("starting PostgreSQL; its log is {}", log.display()))
    }

    /// Stops the server: fast shutdown (open sessions are ended, everything committed is kept).
    pub fn stop(&self) -> anyhow::Result<()> {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )
    }

    /// A libpq URL for `database` on this cluster's socket.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@/{database}?host={}",
            self.dir.display()
        )
    }

    fn run(&self, program: &str, args: &[&OsStr]) -> anyhow::Result<()> {
        let exe = self.bindir.join(program);
        let mut cmd = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .current_dir(&self.dir)
            .output()
            .with_context(|| format!("running {}", exe.display()))?;
        if !out.status.success() {
            bail!(
                "{program} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

/// A throw-away cluster in a fresh temporary folder, without flushes to disk, removed on stop.
pub struct LocalPostgres {
    cluster: Cluster,
    stopped: bool,
}

impl LocalPostgres {
    /// Creates and starts a new cluster in a fresh temporary folder.
    pub fn start() -> anyhow::Result<Self> {
        let cluster = Cluster::new(make_temp_dir()?)?;
        let pg = LocalPostgres {
            cluster,
            stopped: false,
        };
        pg.cluster.initdb(false)?;
        pg.cluster.start(
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c shared_buffers=256MB",
        )?;
        Ok(pg)
    }

    /// A libpq URL for `database` on this cluster's socket.
    pub fn url(&self, database: &str) -> String {
        self.cluster.url(database)
    }

    pub fn dir(&self) -> &Path {
        self.cluster.dir()
    }

    /// Stops the server (fast shutdown) and removes its folder.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let _ = self.cluster.stop();
        let _ = std::fs::remove_dir_all(self.cluster.dir());
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The folder holding initdb and pg_ctl: PATH first, then the newest /usr/lib/postgresql/*/bin.
fn find_bindir() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Ok(dir);
            }
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    candidates.sort();
    match candidates.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin; \
             install them (Debian: apt-get install postgresql) or set DATABASE_URL"
        ),
    }
}

/// A fresh folder under the system temp dir: short enough for a Unix socket path, and reachable
/// by the postgres user even when the project lives under a private home directory.
fn make_temp_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for _ in 0..100 {
        let dir = base.join(format!("bookable-pg-{:08x}", rand::random::<u32>()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).context("creating the PostgreSQL folder"),
        }
    }
    bail!(
        "could not create a folder for PostgreSQL under {}",
        base.display()
    )
}

fn chown_to_postgres(dir: &Path) -> anyhow::Result<()> {
    let status = Command::new("chown")
        .arg("postgres:")
        .arg(dir)
        .status()
        .context("running chown")?;
    if !status.success() {
        bail!(
            "chown postgres {} failed: is there a postgres OS user?",
            dir.display()
        );
    }
    Ok(())
}
