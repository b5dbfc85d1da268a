//! Seed data: the demo's practices, rota and manager ([`demo`]), its appointments in every
//! state ([`appointments`]), and the synthetic data set the
//! benchmarks and load tests run on ([`synthetic`]).

pub mod appointments;
pub mod demo;
pub mod gp_connect_requests;
pub mod synthetic;
