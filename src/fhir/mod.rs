//! GP Connect 1.2.7 (FHIR STU3) for each practice served: "Search for free slots" and what its
//! response refers to.
//!
//! Each practice has its own service root URL, `/fhir/{ODS}/STU3/1/gpconnect`, under which:
//!
//! | request                   | Ssp-InteractionID                                                  |
//! |---------------------------|--------------------------------------------------------------------|
//! | `GET Slot?…`              | `urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1`         |
//! | `GET metadata`            | `urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1`       |
//! | `GET Practitioner/{id}`   | `urn:nhs:names:services:gpconnect:fhir:rest:read:practitioner-1`   |
//! | `GET Location/{id}`       | `urn:nhs:names:services:gpconnect:fhir:rest:read:location-1`       |
//! | `GET Organization/{id}`   | `urn:nhs:names:services:gpconnect:fhir:rest:read:organization-1`   |
//!
//! and the patient interactions of [`patients`] (Find, Read, Register a patient).
//!
//! Every request is checked in this order: the response format ([`format`], else 415), the
//! Spine Secure Proxy headers ([`ssp`], 400) and the audit JWT ([`jwt`], 400/422), the practice
//! (404 `ORGANISATION_NOT_FOUND`) and its ASID as `Ssp-To` ([`ssp`], 400), then the request
//! itself ([`search`]: 400/422; reads: 404). Which slots a consumer sees is decided by the query module
//! alone (`availability::query::free_slots`); this layer only parses the request and writes the
//! answer ([`resources`]). Every response, errors included, carries `Cache-Control: no-store`,
//! and everything logged while serving it is in a span with the request's `Ssp-TraceID`; every
//! request, refused ones included, leaves a row in the [`request_trail`].
//!
//! Where the 1.2.7 specification differs from our digest of it, the specification is followed:
//! the Organization is returned with any slot whether or not
//! `_include:recurse=Location:managingOrganization` was sent (a known issue the specification
//! keeps), and the error coding system is the one the specification and its provider test suite
//! use, `https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1`.

mod appointment_handlers;
pub mod appointment_range;
pub mod appointment_request;
pub mod appointment_resource;
pub mod error;
pub mod format;
mod handlers;
pub mod interaction;
pub mod jwt;
pub mod node;
pub mod patient_resource;
pub mod patients;
pub mod profiles;
pub mod register_request;
pub mod request_trail;
pub mod resources;
pub mod search;
pub mod ssp;
pub mod store;
pub mod tls;
pub mod trail_query;
pub mod trail_retention;
mod xml_request;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, HeaderValue};
use actix_web::middleware::{Compress, Next, from_fn};
use actix_web::web;
use tracing::Instrument;

use error::SpineCode;
use request_trail::{Entry, RequestTrail};

/// The path of a practice's service root URL; `{ods}` is the practice's ODS code.
pub const BASE_PATH: &str = "/fhir/{ods}/STU3/1/gpconnect";

/// bookable's own limits on a GP Connect request's size, below actix-http's (a request head of
/// 128 KiB or 96 headers, and the `http` crate's URI of 64 KiB, all answered before any
/// middleware runs, without a body or an audit row; see docs/gp-connect.md): a request over
/// these reaches this layer and is refused with an OperationOutcome and audited.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// A GP Connect JWT is about 2 KB.
pub const MAX_AUTHORIZATION_BYTES: usize = 16 * 1024;
pub const MAX_HEADERS: usize = 64;
/// How much of an oversized URI the request trail keeps.
const KEPT_URI_CHARS: usize = 1024;

/// Why the request is over bookable's own size limits, if it is.
fn oversized(req: &ServiceRequest) -> Option<String> {
    let uri = req.uri().to_string().len();
    let authorization = req.headers().get(AUTHORIZATION).map_or(0, |v| v.len());
    let headers = req.headers().len();
    if uri > MAX_URI_BYTES {
        Some(format!(
            "the request URI is {uri} bytes long; at most {MAX_URI_BYTES} are accepted"
        ))
    } else if authorization > MAX_AUTHORIZATION_BYTES {
        Some(format!(
            "the Authorization header is {authorization} bytes long; at most \
             {MAX_AUTHORIZATION_BYTES} are accepted"
        ))
    } else if headers > MAX_HEADERS {
        Some(format!(
            "the request has {headers} headers; at most {MAX_HEADERS} are accepted"
        ))
    } else {
        None
    }
}

/// `Cache-Control: no-store` on every response, the `Ssp-TraceID` span around the handler, and
/// the request's row in the request trail. A request over bookable's size limits is refused
/// here, its row keeping only the start of its URI and none of its token.
async fn gpconnect_layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let too_big = oversized(&req);
    // Headers as sent, cut short: they come from outside.
    let optional = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect::<String>())
    };
    let span = tracing::info_span!(
        "gpconnect",
        ssp_trace_id = %optional("Ssp-TraceID").unwrap_or_default(),
        ssp_interaction = %optional("Ssp-InteractionID").unwrap_or_default(),
    );
    let mut entry = Entry {
        at: chrono::Utc::now(),
        practice_ods: req.match_info().get("ods").unwrap_or_default().to_owned(),
        method: req.method().to_string(),
        path_query: match &too_big {
            None => req.uri().to_string(),
            Some(_) => {
                let uri = req.uri().to_string();
                let kept: String = uri.chars().take(KEPT_URI_CHARS).collect();
                match kept.len() < uri.len() {
                    true => format!("{kept}… ({} bytes in all)", uri.len()),
                    false => kept,
                }
            }
        },
        ssp_trace_id: optional("Ssp-TraceID"),
        ssp_from: optional("Ssp-From"),
        ssp_to: optional("Ssp-To"),
        interaction: optional("Ssp-InteractionID"),
        status: 0,
        error_code: None,
        sanitised: false,
        jwt_claims: match &too_big {
            None => jwt::claims_as_sent(
                req.headers()
                    .get(AUTHORIZATION)
                    .and_then(|v| v.to_str().ok()),
            ),
            Some(_) => None,
        },
    };
    let trail = req
        .app_data::<web::Data<RequestTrail>>()
        .map(|trail| trail.get_ref().clone());
    // Handlers and their extractors turn errors into responses, which pass through here.
    let mut res = match too_big {
        None => next.call(req).instrument(span).await?.map_into_boxed_body(),
        Some(why) => {
            let format = format::negotiate(req.request()).unwrap_or(format::Format::Json);
            let refusal = span.in_scope(|| error::FhirError::bad_request(why).respond(format));
            req.into_response(refusal)
        }
    };
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    entry.status = res.status().as_u16() as i16;
    entry.error_code = res
        .response()
        .extensions()
        .get::<SpineCode>()
        .map(|c| c.code());
    match trail {
        Some(trail) => trail.record(entry).await,
        None => tracing::error!(?entry, "no GP Connect request trail configured"),
    }
    Ok(res)
}

/// Registers the GP Connect endpoints (`cfg.configure(crate::fhir::routes)`), on a scope of
/// their own with their own middleware.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(BASE_PATH)
            // gzip when the consumer asks for it (Accept-Encoding), as the general API guidance
            // requires.
            .wrap(Compress::default())
            .wrap(from_fn(gpconnect_layer))
            .service(
                web::resource("/Slot")
                    .get(handlers::slot_search)
                    .default_service(web::to(handlers::unsupported)),
            )
            .service(
                web::resource("/Appointment")
                    .app_data(web::PayloadConfig::new(appointment_request::BODY_LIMIT))
                    .post(appointment_handlers::book)
                    .default_service(web::to(handlers::unsupported)),
            )
            .service(
                web::resource("/Appointment/{id}")
                    .app_data(web::PayloadConfig::new(appointment_request::BODY_LIMIT))
                    .get(appointment_handlers::read)
                    .put(appointment_handlers::update)
                    .default_service(web::to(handlers::unsupported)),
            )
            .service(
                web::resource("/Patient/{id}/Appointment")
                    .get(appointment_handlers::retrieve)
                    .default_service(web::to(handlers::unsupported)),
            )
            .service(
                web::resource("/metadata")
                    .get(handlers::metadata)
                    .default_service(web::to(handlers::unsupported)),
            )
            .service(
                web::resource("/Practitioner/{id}")
                    .get(handlers::read_practitioner)
                    .default_service(web::to(handlers::unsupported)),
            )
            .service(
                web::resource("/Location/{id}")
                    .get(handlers::read_location)
                    .default_service(web::to(handlers::unsupported)),
            )
            .service(
                web::resource("/Patient")
                    .get(patients::find_patient)
                    .default_service(web::to(handlers::unsupported)),
            )
            .service(
                web::resource("/Patient/$gpc.registerpatient")
                    .post(patients::register_patient)
                    .default_service(web::to(handlers::unsupported)),
            )
            .service(
                web::resource("/Patient/{id}")
                    .get(patients::read_patient)
                    .default_service(web::to(handlers::unsupported)),
            )
            .service(
                web::resource("/Organization/{id}")
                    .get(handlers::read_organization)
                    .default_service(web::to(handlers::unsupported)),
            )
            .default_service(web::to(handlers::unsupported)),
    );
    // Anything else under /fhir (another base URL, a mistyped path) is GP Connect's too: an
    // OperationOutcome, audited.
    cfg.service(
        web::scope("/fhir")
            .wrap(from_fn(gpconnect_layer))
            .default_service(web::to(handlers::unsupported)),
    );
}

#[cfg(test)]
mod tests {
    use std::io::{self, Write};
    use std::sync::{Arc, Mutex};

    use actix_web::{App, test, web};

    use super::routes;
    use crate::state::AppState;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn logs_carry_the_ssp_trace_id_and_refusals_are_no_store() {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        // Refused before any database work: a pool that never connects is enough.
        let pool = crate::db::pool_unchecked(
            "postgres://nowhere.invalid/none",
            &crate::db::PoolSettings::new(1),
        );
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(AppState::new(pool)))
                .configure(routes),
        )
        .await;
        let trace_id = "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b";
        let req = test::TestRequest::get()
            .uri("/fhir/A20047/STU3/1/gpconnect/metadata")
            .insert_header(("Ssp-TraceID", trace_id))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 400);
        assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
        let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let line = logs
            .lines()
            .find(|l| l.contains("GP Connect request refused"))
            .unwrap_or_else(|| panic!("no refusal logged: {logs}"));
        assert!(line.contains(&format!("ssp_trace_id={trace_id}")), "{line}");
        assert!(line.contains("code=\"BAD_REQUEST\""), "{line}");
    }
}
