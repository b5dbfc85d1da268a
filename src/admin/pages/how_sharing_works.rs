//! "How sharing works": audiences ("Who can book?"), groups, booking limits and booking
//! windows explained in a manager's words, with an example, and the practice's own groups.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::view::{Layout, html};
use crate::availability::groups;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin/how_sharing_works.html")]
struct HowSharingWorksPage {
    layout: Layout,
    ods: String,
    /// The practice's groups: name and number of members.
    groups: Vec<(String, usize)>,
}

pub async fn how_sharing_works_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
) -> Result<HttpResponse, AdminError> {
    let practice = access.id();
    let groups = run(&state, move |conn| Ok(groups::list(conn, practice)?)).await?;
    let page = HowSharingWorksPage {
        layout: access.layout(&session, "How sharing works", "how_sharing_works")?,
        ods: access.ods().to_owned(),
        groups: groups
            .into_iter()
            .map(|g| (g.name, g.members.len()))
            .collect(),
    };
    html(StatusCode::OK, &page)
}
