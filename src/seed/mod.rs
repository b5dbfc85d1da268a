//! Seed data: the demo's practices, rota and manager ([`demo`]), and the synthetic data set the
//! benchmarks and load tests run on ([`synthetic`]).

pub mod demo;
pub mod synthetic;
