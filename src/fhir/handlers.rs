//! The request handlers: checks in the order the module documentation gives, then one blocking
//! database round trip per request.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::PgConnection;

use super::error::{FhirError, SpineCode};
use super::format::{Format, negotiate};
use super::interaction::Interaction;
use super::jwt::{Requester, check_jwt};
use super::node::Node;
use super::resources::{self, Includes};
use super::search;
use super::ssp::{SspHeaders, check_addressed_to, check_ssp_headers};
use super::store;
use crate::availability::codes::OdsCode;
use crate::availability::query;
use crate::practice::{self, Practice};
use crate::state::AppState;

/// A request whose format, headers and token passed the checks.
pub(super) struct Checked {
    pub(super) format: Format,
    pub(super) ssp: SspHeaders,
    pub(super) requester: Requester,
}

/// The checks every request passes first; a refusal comes with the format to send it in.
pub(super) fn check(
    req: &HttpRequest,
    interaction: Interaction,
) -> Result<Checked, (Format, FhirError)> {
    let format = negotiate(req).map_err(|e| (Format::Json, e.into()))?;
    let refuse = |e: FhirError| (format, e);
    let ssp = check_ssp_headers(req, interaction).map_err(refuse)?;
    let now = chrono::Utc::now().timestamp();
    let requester = check_jwt(req, interaction, now).map_err(refuse)?;
    Ok(Checked {
        format,
        ssp,
        requester,
    })
}

pub(super) fn ok(format: Format, resource: &Node, etag: bool) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type(format.content_type());
    if etag {
        let version = resource
            .fields()
            .iter()
            .find(|(k, _)| *k == "meta")
            .and_then(|(_, meta)| meta.fields().iter().find(|(k, _)| *k == "versionId"))
            .and_then(|(_, v)| match v {
                Node::Str(s) => Some(s.as_ref()),
                _ => None,
            });
        if let Some(v) = version {
            res.insert_header(("ETag", format!("W/\"{v}\"")));
        }
    }
    res.body(match format {
        Format::Json => resource.to_json(),
        Format::Xml => resource.to_xml(),
    })
}

/// Runs `work` on a pooled connection for the practice `ods`, once the practice is known and
/// `Ssp-To` is its ASID.
pub(super) async fn with_practice<T: Send + 'static>(
    state: &AppState,
    ods: String,
    ssp: &SspHeaders,
    work: impl FnOnce(&mut PgConnection, &Practice) -> Result<T, FhirError> + Send + 'static,
) -> Result<T, FhirError> {
    let ssp = ssp.clone();
    crate::db::run(&state.pool, move |conn| {
        let not_found = || {
            FhirError::new(
                SpineCode::OrganisationNotFound,
                format!("no practice with ODS code '{ods}' is served here"),
            )
        };
        let ods = OdsCode::parse(&ods).map_err(|_| not_found())?;
        let practice = practice::by_ods(conn, &ods)
            .map_err(database_error)?
            .ok_or_else(not_found)?;
        check_addressed_to(&ssp, &practice)?;
        work(conn, &practice)
    })
    .await
}

pub(super) fn database_error(e: diesel::result::Error) -> FhirError {
    tracing::error!(error = %e, "database error");
    FhirError::internal("database error")
}

/// `GET [base]/Slot`: Search for free slots.
pub async fn slot_search(
    req: HttpRequest,
    state: web::Data<AppState>,
    ods: web::Path<String>,
) -> HttpResponse {
    let checked = match check(&req, Interaction::SearchSlot) {
        Ok(c) => c,
        Err((format, e)) => return e.respond(format),
    };
    let params = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| FhirError::bad_request(format!("the query string is malformed: {e}")))
        .and_then(|pairs| search::parse(&pairs));
    let conn_info = req.connection_info().clone();
    let (scheme, host) = (conn_info.scheme().to_owned(), conn_info.host().to_owned());
    let format = checked.format;
    let now = state.clock.now();
    let outcome = with_practice(
        &state,
        ods.into_inner(),
        &checked.ssp,
        move |conn, practice| {
            let params = params?;
            let result =
                query::free_slots(conn, practice.id, &params.window, &params.consumer, now)
                    .map_err(database_error)?;
            let base = format!(
                "{scheme}://{host}/fhir/{}/STU3/1/gpconnect",
                practice.ods_code
            );
            let includes = Includes {
                practitioners: params.include_practitioners,
                locations: params.include_locations,
            };
            let bundle = resources::search_bundle(&result, practice, includes, &base);
            let capacity = 512 + result.slots.len() * resources::SEARCH_BYTES_PER_SLOT;
            let body = match format {
                Format::Json => bundle.to_json(capacity),
                Format::Xml => bundle.to_xml(2 * capacity),
            };
            Ok((
                practice.ods_code.clone(),
                params.consumer,
                result.slots.len(),
                body,
            ))
        },
    )
    .await;
    match outcome {
        Ok((practice, consumer, slots, body)) => {
            tracing::info!(
                practice = %practice,
                org_type = consumer.org_type.as_deref().unwrap_or("-"),
                ods_code = consumer.ods_code.as_ref().map(OdsCode::as_str).unwrap_or("-"),
                slots,
                requesting_organization = %checked.requester.organization_ods,
                requesting_practitioner = %checked.requester.practitioner_id,
                sds_user_id = %checked.requester.sds_user_id,
                requesting_device = %checked.requester.device,
                ssp_from = %checked.ssp.from_asid,
                "slot search"
            );
            HttpResponse::Ok()
                .content_type(format.content_type())
                .body(body)
        }
        Err(e) => e.respond(format),
    }
}

/// `GET [base]/metadata`: the CapabilityStatement.
pub async fn metadata(
    req: HttpRequest,
    state: web::Data<AppState>,
    ods: web::Path<String>,
) -> HttpResponse {
    let checked = match check(&req, Interaction::ReadMetadata) {
        Ok(c) => c,
        Err((format, e)) => return e.respond(format),
    };
    match with_practice(&state, ods.into_inner(), &checked.ssp, |_, _| Ok(())).await {
        Ok(()) => ok(checked.format, &resources::capability_statement(), false),
        Err(e) => e.respond(checked.format),
    }
}

/// Reads one resource of the practice; `not_found` is the error for an unknown id.
async fn read(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    interaction: Interaction,
    not_found: SpineCode,
    load: fn(&mut PgConnection, &Practice, i64) -> diesel::QueryResult<Option<Node>>,
) -> HttpResponse {
    let checked = match check(&req, interaction) {
        Ok(c) => c,
        Err((format, e)) => return e.respond(format),
    };
    let (ods, id) = path.into_inner();
    let outcome = with_practice(&state, ods, &checked.ssp, move |conn, practice| {
        let missing = || FhirError::new(not_found, format!("no resource with id '{id}' here"));
        let numeric: i64 = id.parse().map_err(|_| missing())?;
        load(conn, practice, numeric)
            .map_err(database_error)?
            .ok_or_else(missing)
    })
    .await;
    match outcome {
        Ok(resource) => ok(checked.format, &resource, true),
        Err(e) => e.respond(checked.format),
    }
}

/// `GET [base]/Practitioner/{id}`
pub async fn read_practitioner(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    read(
        req,
        state,
        path,
        Interaction::ReadPractitioner,
        SpineCode::PractitionerNotFound,
        |conn, practice, id| {
            Ok(
                store::practitioner(conn, practice.id, crate::db::ids::PractitionerId(id))?
                    .map(|p| resources::practitioner(&p)),
            )
        },
    )
    .await
}

/// `GET [base]/Location/{id}`
pub async fn read_location(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    read(
        req,
        state,
        path,
        Interaction::ReadLocation,
        SpineCode::NoRecordFound,
        |conn, practice, id| {
            Ok(
                store::location(conn, practice.id, crate::db::ids::LocationId(id))?
                    .map(|l| resources::location(&l, practice.id)),
            )
        },
    )
    .await
}

/// `GET [base]/Organization/{id}`: only the practice's own.
pub async fn read_organization(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    read(
        req,
        state,
        path,
        Interaction::ReadOrganization,
        SpineCode::OrganisationNotFound,
        |_, practice, id| Ok((id == practice.id.0).then(|| resources::organization(practice))),
    )
    .await
}

/// Anything else under a practice's base URL: another verb is a bad request; another resource
/// or operation is not implemented.
pub async fn unsupported(req: HttpRequest) -> HttpResponse {
    let format = negotiate(&req).unwrap_or(Format::Json);
    let error = if req.method() != Method::GET {
        FhirError::bad_request(format!(
            "HTTP {} is not supported on {}",
            req.method(),
            req.path()
        ))
    } else {
        FhirError::new(
            SpineCode::NotImplemented,
            format!("{} is not implemented here", req.path()),
        )
    };
    error.respond(format)
}
