//! Appointments: the upcoming appointments organisations booked through GP Connect, booked and
//! cancelled, grouped by organisation. No description, comment or reason (they may hold
//! clinical information), and the patient only by initials and the NHS number's last digits,
//! for every role.

use std::collections::BTreeMap;

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::view::{Layout, html, local_day, local_stamp, local_time};
use crate::appointments::listing;
use crate::availability::codes::OrganisationType;
use crate::state::AppState;

/// The most appointments the page shows.
const LIMIT: i64 = 1000;

struct Row {
    when: String,
    patient: String,
    nhs_number_ends: String,
    booked: bool,
    status: String,
    booked_at: String,
}

struct Organisation {
    name: String,
    ods_code: String,
    kind: String,
    booked: usize,
    cancelled: usize,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "admin/appointments.html")]
struct AppointmentsPage {
    layout: Layout,
    organisations: Vec<Organisation>,
    total: usize,
    limit: i64,
    digits: usize,
}

pub async fn appointments_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
) -> Result<HttpResponse, AdminError> {
    let practice = access.id();
    let now = state.clock.now();
    let listed = run(&state, move |conn| {
        Ok(listing::upcoming_gp_connect(conn, practice, now, LIMIT)?)
    })
    .await?;
    let total = listed.len();
    let mut by_org: BTreeMap<(String, String), Organisation> = BTreeMap::new();
    for a in listed {
        let org = by_org
            .entry((a.org_name.clone(), a.org_ods_code.clone()))
            .or_insert_with(|| Organisation {
                name: a.org_name.clone(),
                ods_code: a.org_ods_code.clone(),
                kind: a
                    .org_type
                    .as_deref()
                    .map(OrganisationType::label)
                    .unwrap_or_else(|| "Type not given".into()),
                booked: 0,
                cancelled: 0,
                rows: Vec::new(),
            });
        if a.cancelled {
            org.cancelled += 1;
        } else {
            org.booked += 1;
        }
        org.rows.push(Row {
            when: format!(
                "{} {}–{}",
                local_day(&a.start),
                local_time(&a.start),
                local_time(&a.end)
            ),
            patient: a.patient_initials,
            nhs_number_ends: a.nhs_number_ends,
            booked: !a.cancelled,
            status: match a.cancelled_at {
                Some(at) if a.cancelled => format!("Cancelled {}", local_stamp(&at)),
                _ if a.cancelled => "Cancelled".into(),
                _ => "Booked".into(),
            },
            booked_at: local_stamp(&a.booked_at),
        });
    }
    let page = AppointmentsPage {
        layout: access.layout(&session, "Appointments", "appointments")?,
        organisations: by_org.into_values().collect(),
        total,
        limit: LIMIT,
        digits: listing::NHS_DIGITS_SHOWN,
    };
    html(StatusCode::OK, &page)
}
