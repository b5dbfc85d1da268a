//! What an operations team sees of a running instance: Prometheus metrics (`metrics`) and the
//! log format (`logs`).

pub mod logs;
pub mod metrics;
