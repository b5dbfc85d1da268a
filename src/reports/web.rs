//! The report pages, CSV downloads and JSON, inside the admin UI's guarded scope: the admin
//! module's sign-in ([`SignedIn`]) and practice access ([`Access`]) decide who sees what.
//! Reports are read-only, so any role at a practice (viewer and up) may see that practice's
//! report; another practice's report, CSV and JSON are "not found", as elsewhere in the UI.
//!
//! - `GET /practices/{ods}/reports[?from=YYYY-MM-DD&to=YYYY-MM-DD]` — one practice (HTML)
//! - `GET /practices/{ods}/reports/{table}.csv`, `…/report.json` — the same, as CSV or JSON
//! - `GET /reports`, `/reports/{table}.csv`, `/reports/report.json` — every practice the user
//!   has a role at, together

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;

use super::export::{self, Report, Table};
use super::page::{self, PageScope};
use super::period::{Period, PeriodError};
use crate::admin::{Access, AdminError, Layout, PracticeAccess, SignedIn, layout, run};
use crate::db::ids::PracticeId;
use crate::db::schema::user_practices;
use crate::state::AppState;

/// Registers the report routes; the admin scope configures them, so they get its sessions,
/// CSRF protection and security headers.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/reports", web::get().to(all_page))
        .route("/reports/{file}", web::get().to(all_file))
        .route("/practices/{ods}/reports", web::get().to(practice_page))
        .route(
            "/practices/{ods}/reports/{file}",
            web::get().to(practice_file),
        );
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("{0}")]
    BadRequest(String),
}

impl From<diesel::result::Error> for ReportError {
    fn from(e: diesel::result::Error) -> Self {
        ReportError::Admin(e.into())
    }
}

impl ResponseError for ReportError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        match self {
            ReportError::Admin(e) => e.status_code(),
            ReportError::BadRequest(_) => actix_web::http::StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ReportError::Admin(e) => e.error_response(),
            ReportError::BadRequest(why) => HttpResponse::BadRequest()
                .content_type("text/plain; charset=utf-8")
                .body(why.clone()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

impl PeriodQuery {
    /// The period asked for: the next four weeks by default, or from `from` (four weeks, or to
    /// `to`), with today as of `now`; an error names what is wrong.
    fn period(&self, now: DateTime<Utc>) -> Result<Period, String> {
        let parse = |v: &Option<String>, what: &str| -> Result<Option<NaiveDate>, String> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| format!("Enter the {what} date as a real date, like 2026-11-23")),
            }
        };
        let default = Period::next_four_weeks(now);
        let first = parse(&self.from, "start")?.unwrap_or(default.first);
        let last = parse(&self.to, "end")?
            .unwrap_or_else(|| first + chrono::Days::new(Period::DEFAULT_DAYS - 1));
        Period::new(first, last).map_err(|e| match e {
            PeriodError::Negative => "The end date must be on or after the start date".to_owned(),
            PeriodError::TooLong => format!(
                "A report can cover at most {} days; choose a shorter period",
                Period::MAX_DAYS
            ),
        })
    }
}

/// Whose report: one practice, or all of the user's.
struct Scope {
    /// `A20047`, or `all` in file names.
    name: String,
    title: String,
    base: String,
    practices: Vec<PracticeId>,
    single: bool,
}

async fn practice_scope(
    state: &AppState,
    user: &SignedIn,
    ods: String,
) -> Result<Scope, ReportError> {
    let uid = user.id;
    let access = run(state, move |conn| Access::load(conn, uid, &ods)).await?;
    let p = access.practice;
    Ok(Scope {
        base: format!("/practices/{}/reports", p.ods_code),
        title: format!("{} ({})", p.name, p.ods_code),
        name: p.ods_code,
        practices: vec![p.id],
        single: true,
    })
}

async fn all_scope(state: &AppState, user: &SignedIn) -> Result<Scope, ReportError> {
    let uid = user.id;
    let practices = run(state, move |conn| {
        Ok(user_practices::table
            .filter(user_practices::user_id.eq(uid))
            .select(user_practices::practice_id)
            .load::<PracticeId>(conn)?)
    })
    .await?;
    Ok(Scope {
        name: "all".into(),
        title: "All your practices".into(),
        base: "/reports".into(),
        practices,
        single: false,
    })
}

/// The report; the detail (every exposed slot) only when it is shown or asked for.
async fn load(
    state: &AppState,
    scope: &Scope,
    period: Period,
    with_detail: bool,
) -> Result<Report, ReportError> {
    let ids = scope.practices.clone();
    let now = state.clock.now();
    Ok(run(state, move |conn| {
        Ok(Report::load_with(conn, &ids, &period, now, with_detail)?)
    })
    .await?)
}

async fn practice_page(
    state: web::Data<AppState>,
    access: PracticeAccess,
    session: Session,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ReportError> {
    let layout = access.layout(&session, "Reports", "reports")?;
    let p = &access.access.practice;
    let scope = Scope {
        base: format!("/practices/{}/reports", p.ods_code),
        title: format!("{} ({})", p.name, p.ods_code),
        name: p.ods_code.clone(),
        practices: vec![p.id],
        single: true,
    };
    page(&state, layout, scope, &q).await
}

async fn all_page(
    state: web::Data<AppState>,
    user: SignedIn,
    session: Session,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ReportError> {
    let scope = all_scope(&state, &user).await?;
    let layout = layout(
        &session,
        &user.display_name,
        "Reports – all your practices".into(),
    )?;
    page(&state, layout, scope, &q).await
}

async fn practice_file(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String)>,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ReportError> {
    let (ods, file) = path.into_inner();
    let scope = practice_scope(&state, &user, ods).await?;
    download(&state, scope, &file, &q).await
}

async fn all_file(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ReportError> {
    let scope = all_scope(&state, &user).await?;
    download(&state, scope, &path.into_inner(), &q).await
}

/// `report.json`, or `{table}.csv`.
async fn download(
    state: &AppState,
    scope: Scope,
    file: &str,
    q: &PeriodQuery,
) -> Result<HttpResponse, ReportError> {
    let table = match file {
        "report.json" => None,
        f => Some(
            f.strip_suffix(".csv")
                .and_then(Table::parse)
                .ok_or(AdminError::NotFound)?,
        ),
    };
    let period = q
        .period(state.clock.now())
        .map_err(ReportError::BadRequest)?;
    let report = load(
        state,
        &scope,
        period,
        matches!(table, None | Some(Table::Detail)),
    )
    .await?;
    Ok(match table {
        None => HttpResponse::Ok().json(&report),
        Some(table) => {
            let body = export::csv(&report, table).map_err(AdminError::internal)?;
            HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}\"",
                        export::file_name(&scope.name, table, &period)
                    ),
                ))
                .body(body)
        }
    })
}

async fn page(
    state: &AppState,
    layout: Layout,
    scope: Scope,
    q: &PeriodQuery,
) -> Result<HttpResponse, ReportError> {
    let now = state.clock.now();
    let (period, error) = match q.period(now) {
        Ok(p) => (p, None),
        Err(e) => (Period::next_four_weeks(now), Some(e)),
    };
    let report = load(state, &scope, period, scope.single).await?;
    let body = page::render(
        layout,
        &PageScope {
            title: &scope.title,
            base: &scope.base,
            single: scope.single,
        },
        period,
        error,
        report,
    )?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(from: Option<&str>, to: Option<&str>) -> PeriodQuery {
        PeriodQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        }
    }

    #[test]
    fn the_period_defaults_to_four_weeks_and_explains_mistakes() {
        let p = q(Some("2026-06-08"), None).period(Utc::now()).unwrap();
        assert_eq!(p.last.to_string(), "2026-07-05");
        let p = q(Some("2026-06-08"), Some("2026-06-21"))
            .period(Utc::now())
            .unwrap();
        assert_eq!(p.last.to_string(), "2026-06-21");
        assert!(
            q(Some("8/6/2026"), None)
                .period(Utc::now())
                .unwrap_err()
                .contains("start")
        );
        assert!(
            q(Some("2026-06-08"), Some("2026-06-01"))
                .period(Utc::now())
                .unwrap_err()
                .contains("on or after")
        );
        assert!(
            q(Some("2026-01-01"), Some("2027-12-31"))
                .period(Utc::now())
                .unwrap_err()
                .contains("at most")
        );
        assert_eq!(q(None, None).period(Utc::now()).unwrap().days().count(), 28);
    }
}
