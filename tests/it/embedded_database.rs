//! Without `DATABASE_URL`, the real `bookable` commands keep their data in one persistent private
//! PostgreSQL in the data folder, shared by commands running at the same time.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::web::{client, csrf};

const PASSWORD: &str = "correct horse battery staple";

fn bookable(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bookable"));
    cmd.env_remove("DATABASE_URL")
        .env("BOOKABLE_DATA_DIR", data)
        .env("BOOKABLE_COOKIE_SECURE", "false")
        .env("RUST_LOG", "warn");
    cmd
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("run bookable");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn add_user(data: &Path, username: &str) {
    run_ok(bookable(data).env("BOOKABLE_PASSWORD", PASSWORD).args([
        "user",
        "add",
        "--username",
        username,
        "--display-name",
        "Jo Bloggs",
        "--practice",
        "A20047:manager",
    ]));
}

/// `bookable serve` on a free port, once it answers.
struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    async fn start(data: &Path) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let child = bookable(data)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("{base}/health")).await
                && r.status() == StatusCode::OK
            {
                break;
            }
            assert!(Instant::now() < deadline, "serve did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Serve { child, base }
    }

    async fn signs_in(&self, username: &str) -> bool {
        let client = client();
        let page = client
            .get(format!("{}/login", self.base))
            .send()
            .await
            .unwrap();
        let token = csrf(&page.text().await.unwrap());
        let r = client
            .post(format!("{}/login", self.base))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", username),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        r.status() == StatusCode::SEE_OTHER
    }

    /// Ctrl-C, as a person at the terminal would; the server exits cleanly.
    fn stop(mut self) {
        // SIGINT has no preconditions; the child is ours.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT)
        };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "serve exited with {status}");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn postgres_running(data: &Path) -> bool {
    data.join("pg/data/postmaster.pid").exists()
}

#[actix_web::test]
async fn users_added_by_the_command_line_outlive_the_command_and_restarts() {
    let data = std::env::temp_dir().join(format!("bookable-data-{}", rand::random::<u32>()));
    run_ok(bookable(&data).args(["practice", "add", "--ods", "A20047", "--name", "Riverside"]));
    add_user(&data, "jo.bloggs");
    assert!(
        !postgres_running(&data),
        "the last command stops PostgreSQL"
    );

    let serve = Serve::start(&data).await;
    assert!(serve.signs_in("jo.bloggs").await);
    // A command run while serve runs shares its PostgreSQL, and leaves it running for serve.
    add_user(&data, "sam.jones");
    assert!(postgres_running(&data));
    assert!(serve.signs_in("sam.jones").await);
    assert!(!serve.signs_in("nobody").await);
    serve.stop();
    assert!(
        !postgres_running(&data),
        "serve stops PostgreSQL when it exits last"
    );

    let serve = Serve::start(&data).await;
    assert!(
        serve.signs_in("jo.bloggs").await,
        "still there after a restart"
    );
    assert!(serve.signs_in("sam.jones").await);
    serve.stop();
    std::fs::remove_dir_all(&data).unwrap();
}
