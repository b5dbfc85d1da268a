//! What the two JSON document imports, the rota ([`crate::rota_import`]) and the patient list
//! ([`crate::patients::import`]), share: how they fail. Both validate the whole document first
//! and write it in one transaction, so every failure leaves the database as it was.

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the import is not valid JSON of the expected shape: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("unknown practice '{0}': create it first (bookable practice add)")]
    UnknownPractice(String),
    #[error("the import was rejected and nothing was written:\n- {}", .0.join("\n- "))]
    Invalid(Vec<String>),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}
