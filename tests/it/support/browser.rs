//! Headless Chromium for the end-to-end tests (Debian's chromium and chromium-driver, which
//! scripts/test installs), one at a time, and the few page actions the tests share.
//!
//! Every lookup is a `query(...).first()`, which waits (up to 20 s) for the page a click led
//! to; `find` would look at whatever page is there at once.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;
use tokio::sync::Semaphore;

const CHROMIUM: &str = "/usr/bin/chromium";

/// One browser at a time: CI has two cores, and the server and PostgreSQL need them too.
pub static BROWSERS: Semaphore = Semaphore::const_new(1);

/// A chromedriver on a free port, stopped (and its profile removed) on drop.
pub struct Browser {
    driver: Option<WebDriver>,
    chromedriver: Child,
    profile: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chromedriver_path() -> PathBuf {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("chromedriver is missing: run scripts/test, which installs chromium-driver")
}

impl Browser {
    pub async fn start() -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "chromium is missing: run scripts/test, which installs it"
        );
        let port = free_port();
        let chromedriver = Command::new(chromedriver_path())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("bookable-e2e-{}-{port}", std::process::id()));
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,1024",
            &format!("--user-data-dir={}", profile.display()),
        ] {
            caps.add_arg(arg).unwrap();
        }
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps)
            .await
            .expect("a Chromium session");
        Browser {
            driver: Some(driver),
            chromedriver,
            profile,
        }
    }

    pub fn driver(&self) -> &WebDriver {
        self.driver.as_ref().unwrap()
    }

    pub async fn quit(mut self) {
        if let Some(d) = self.driver.take() {
            d.quit().await.unwrap();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

pub async fn click(d: &WebDriver, id: &str) {
    click_on(d, By::Id(id)).await;
}

async fn click_on(d: &WebDriver, by: By) {
    d.query(by).first().await.unwrap().click().await.unwrap();
}

pub async fn fill(d: &WebDriver, id: &str, text: &str) {
    let e = d.query(By::Id(id)).first().await.unwrap();
    e.clear().await.unwrap();
    if !text.is_empty() {
        e.send_keys(text).await.unwrap();
    }
}

pub async fn choose(d: &WebDriver, select_id: &str, value: &str) {
    click_on(d, By::Css(format!("#{select_id} option[value='{value}']"))).await;
}

/// Sets a date or time input (typing into them depends on the browser's locale).
pub async fn set_value(d: &WebDriver, id: &str, value: &str) {
    d.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![serde_json::json!(id), serde_json::json!(value)],
    )
    .await
    .unwrap();
}

pub async fn set_checked(d: &WebDriver, id: &str, checked: bool) {
    let e = d.query(By::Id(id)).first().await.unwrap();
    if e.is_selected().await.unwrap() != checked {
        e.click().await.unwrap();
    }
}

/// The success banner of the page a form led to (waiting for the page to load).
pub async fn flash(d: &WebDriver) -> String {
    text(d, By::Id("flash")).await
}

/// The text of the first element `by` finds (waiting for it).
pub async fn text(d: &WebDriver, by: By) -> String {
    d.query(by).first().await.unwrap().text().await.unwrap()
}

pub async fn page(d: &WebDriver) -> String {
    d.source().await.unwrap()
}
