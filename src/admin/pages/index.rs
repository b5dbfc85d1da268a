//! The home page: the practices the signed-in user has a role at.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::admin::auth::{SignedIn, run};
use crate::admin::error::AdminError;
use crate::admin::view::{Layout, html, layout, see_other};
use crate::db::schema::{practices, user_practices};
use crate::state::AppState;
use crate::users::Role;

#[derive(Template)]
#[template(path = "admin/index.html")]
struct IndexPage {
    layout: Layout,
    practices: Vec<(String, String, &'static str)>,
}

pub async fn index(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
) -> Result<HttpResponse, AdminError> {
    let id = user.id;
    let rows: Vec<(String, String, String)> = run(&state, move |conn| {
        Ok(practices::table
            .inner_join(user_practices::table)
            .filter(user_practices::user_id.eq(id))
            .order(practices::ods_code)
            .select((practices::ods_code, practices::name, user_practices::role))
            .load(conn)?)
    })
    .await?;
    let practices = rows
        .into_iter()
        .filter_map(|(ods, name, role)| Some((ods, name, Role::parse(&role)?.code())))
        .collect();
    let page = IndexPage {
        layout: layout(&session, &user.display_name, "Your practices".into())?,
        practices,
    };
    html(StatusCode::OK, &page)
}

/// `/practices` has no page of its own: the home page lists them.
pub async fn to_index() -> HttpResponse {
    see_other("/")
}
