//! bookable: GP Connect slot availability management for a GP practice provider system.

pub mod admin;
pub mod api;
pub mod appointments;
pub mod availability;
pub mod change_log;
pub mod clock;
pub mod credentials;
pub mod db;
pub mod document_import;
pub mod fhir;
pub mod patients;
pub mod pds;
pub mod practice;
pub mod reports;
pub mod rota_import;
pub mod seed;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod users;
