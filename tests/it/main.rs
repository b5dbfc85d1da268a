//! One integration-test binary (zero-to-production's layout): modules share the harness and
//! link once.

mod admin;
mod api;
mod api_patients;
mod demo;
mod embedded_database;
mod fhir;
mod fixture;
mod harness;
mod limits;
mod limits_history;
mod migration;
mod ops;
mod patients_import;
mod pds;
mod query;
mod reports;
mod rota_import;
mod schema;
mod server;
mod support;
mod visit;
