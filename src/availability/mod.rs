//! The domain: GP Connect codes, bookability rules and the query module that decides which
//! slots a consumer sees.

pub mod audience;
pub mod booking;
pub mod codes;
pub mod groups;
pub mod impact;
pub mod limits;
pub mod manage;
pub mod query;
pub mod rules;
