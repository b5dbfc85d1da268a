//! `bookable serve` as a process of its own, on a free loopback port, its output kept in a file.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Serve {
    child: Child,
    pub address: String,
    stdout: PathBuf,
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Serve {
    /// Starts `bookable serve` on `database_url` with `args` after it, and waits until
    /// `/health` answers (at most 30 s).
    pub async fn start(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> Serve {
        let port = free_port();
        let stdout =
            std::env::temp_dir().join(format!("bk-serve-{}-{port}.log", std::process::id()));
        let child = Command::new(env!("CARGO_BIN_EXE_bookable"))
            .arg("serve")
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("BOOKABLE_COOKIE_SECURE", "false")
            .env("RUST_LOG", "info,diesel=warn")
            .envs(env.iter().copied())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start bookable serve");
        let s = Serve {
            child,
            address: format!("http://127.0.0.1:{port}"),
            stdout,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/health", s.address)).await
                && r.status() == 200
            {
                return s;
            }
            assert!(Instant::now() < deadline, "bookable serve did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn signal(&self, signal: libc::c_int) {
        #[allow(unsafe_code)]
        // SAFETY: kill(2) on the pid of a child this struct owns and has not reaped.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(sent, 0, "signal sent");
    }

    /// Waits for the process to end (at most `limit`).
    pub async fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "bookable serve did not stop");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What it has written to standard output so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stdout);
    }
}
