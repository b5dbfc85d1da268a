//! Who may see a practice's pages: the user's role at the practice in the path, and the
//! extractor ([`PracticeAccess`]) every practice page starts from.

use std::future::Future;
use std::pin::Pin;

use actix_session::Session;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use diesel::prelude::*;

use super::auth::{SignedIn, run};
use super::error::AdminError;
use super::view::{Layout, PracticeNav, layout};
use crate::availability::codes::OdsCode;
use crate::change_log::Actor;
use crate::db::ids::{PracticeId, UserId};
use crate::db::schema::{practices, user_practices};
use crate::practice::Practice;
use crate::state::AppState;
use crate::users::Role;

/// A user's access to one practice.
#[derive(Debug, Clone)]
pub struct Access {
    pub practice: Practice,
    pub role: Role,
}

impl Access {
    /// Looks up the practice in the path among the user's own; any other is "not found".
    pub fn load(conn: &mut PgConnection, user: UserId, ods: &str) -> Result<Access, AdminError> {
        let ods = OdsCode::parse(ods).map_err(|_| AdminError::NotFound)?;
        let (practice, role): (Practice, String) = practices::table
            .inner_join(user_practices::table)
            .filter(practices::ods_code.eq(ods.as_str()))
            .filter(user_practices::user_id.eq(user))
            .select((Practice::as_select(), user_practices::role))
            .first(conn)
            .optional()?
            .ok_or(AdminError::NotFound)?;
        let role = Role::parse(&role).ok_or(AdminError::NotFound)?;
        Ok(Access { practice, role })
    }

    pub fn id(&self) -> PracticeId {
        self.practice.id
    }

    pub fn can_edit(&self) -> bool {
        self.role >= Role::Manager
    }

    pub fn require_admin(&self) -> Result<(), AdminError> {
        if self.role >= Role::Admin {
            Ok(())
        } else {
            Err(AdminError::Forbidden(
                "Only admins of this practice can manage its users.",
            ))
        }
    }

    pub fn require_manager(&self) -> Result<(), AdminError> {
        if self.can_edit() {
            Ok(())
        } else {
            Err(AdminError::Forbidden(
                "Your role at this practice is viewer: only practice managers and admins can \
                 change what GP Connect consumers may book.",
            ))
        }
    }
}

/// The signed-in user and their access to the practice in the path (`/practices/{ods}/...`).
/// Extracting it redirects to sign in without a session, and answers 404 for a practice that
/// is not the user's.
#[derive(Debug, Clone)]
pub struct PracticeAccess {
    pub user: SignedIn,
    pub access: Access,
}

impl FromRequest for PracticeAccess {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = SignedIn::from_request(req, payload);
        let ods = req.match_info().get("ods").map(str::to_owned);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let user = user.await?;
            let ods = ods.ok_or(AdminError::NotFound)?;
            let state = state.ok_or_else(|| AdminError::internal("no AppState"))?;
            let uid = user.id;
            let access = run(&state, move |conn| Access::load(conn, uid, &ods)).await?;
            Ok(PracticeAccess { user, access })
        })
    }
}

impl PracticeAccess {
    pub fn id(&self) -> PracticeId {
        self.access.id()
    }

    /// The practice's ODS code as stored (upper case), for links.
    pub fn ods(&self) -> &str {
        &self.access.practice.ods_code
    }

    pub fn can_edit(&self) -> bool {
        self.access.can_edit()
    }

    pub fn require_manager(&self) -> Result<(), AdminError> {
        self.access.require_manager()
    }

    pub fn require_admin(&self) -> Result<(), AdminError> {
        self.access.require_admin()
    }

    pub fn is_admin(&self) -> bool {
        self.access.role >= Role::Admin
    }

    /// The user, as the change log records them.
    pub fn actor(&self) -> Actor {
        Actor {
            user: Some(self.user.id),
            name: self.user.display_name.clone(),
        }
    }

    /// The layout of one of the practice's pages; `current` is its navigation item.
    pub fn layout(
        &self,
        session: &Session,
        title: &str,
        current: &'static str,
    ) -> Result<Layout, AdminError> {
        let practice = &self.access.practice;
        let mut l = layout(
            session,
            &self.user.display_name,
            format!("{title} – {}", practice.name),
        )?;
        l.practice = Some(PracticeNav {
            ods: practice.ods_code.clone(),
            name: practice.name.clone(),
            role: self.access.role.code(),
            current,
        });
        Ok(l)
    }
}
