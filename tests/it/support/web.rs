//! The admin UI's test client: users with a known password, sign-in, and a signed-in
//! [`Session`] that reads pages and posts forms with the session's CSRF token.

use bookable::change_log::Actor;
use bookable::db::ids::PracticeId;
use bookable::users::{self, Role};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};

use crate::harness::TestApp;

pub const PASSWORD: &str = "correct horse battery";

/// A user `username` ("User username") with `PASSWORD` and these roles.
pub fn add_user(app: &TestApp, username: &str, roles: &[(PracticeId, Role)]) {
    users::upsert(
        &mut app.conn(),
        &Actor::system("test"),
        username,
        &format!("User {username}"),
        PASSWORD,
        roles,
    )
    .unwrap();
}

/// A client that keeps its cookies and does not follow redirects (tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first hidden field `name` on a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("a {name} field"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// The CSRF token of the first form on a page.
pub fn csrf(html: &str) -> String {
    let token = hidden(html, "csrf_token");
    assert_eq!(token.len(), 64, "a CSRF token");
    token
}

/// Posts the sign-in form (with the login page's CSRF token) from `client`.
pub async fn try_sign_in(
    client: &reqwest::Client,
    app: &TestApp,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let page = client.get(app.url("/login")).send().await.unwrap();
    let token = csrf(&page.text().await.unwrap());
    client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// A signed-in user's client.
pub struct Session {
    pub client: reqwest::Client,
    pub base: String,
}

/// Signs `username` in with `PASSWORD`, asserting the redirect home.
pub async fn sign_in(app: &TestApp, username: &str) -> Session {
    let client = client();
    let r = try_sign_in(&client, app, username, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {username}");
    assert_eq!(r.headers()[LOCATION], "/");
    Session {
        client,
        base: app.address.clone(),
    }
}

impl Session {
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Posts `form` as given (include the token with [`Session::token`]).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let headers = r.headers().clone();
        (r.status(), headers, r.text().await.unwrap())
    }

    /// Posts `form` with a fresh CSRF token of the session.
    pub async fn submit(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let token = self.token().await;
        let mut fields = vec![("csrf_token", token.as_str())];
        fields.extend_from_slice(form);
        self.post(path, &fields).await
    }

    /// A fresh CSRF token from a page of the session.
    pub async fn token(&self) -> String {
        csrf(&self.get("/").await.1)
    }
}
