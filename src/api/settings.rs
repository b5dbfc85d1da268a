//! The practice systems' JSON API settings: its bearer token.

use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

/// The API's bearer token, kept only as its SHA-256.
#[derive(Clone, Default)]
pub struct ApiSettings {
    token_sha256: Option<[u8; 32]>,
}

impl ApiSettings {
    pub fn with_token(token: &str) -> Self {
        ApiSettings {
            token_sha256: Some(Sha256::digest(token.as_bytes()).into()),
        }
    }

    pub(super) fn accepts(&self, req: &HttpRequest) -> bool {
        let presented = req
            .headers()
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "));
        match (self.token_sha256, presented) {
            (Some(expected), Some(token)) => {
                let got: [u8; 32] = Sha256::digest(token.as_bytes()).into();
                // Compare every byte, so the time taken says nothing about where they differ.
                expected
                    .iter()
                    .zip(got)
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
            }
            _ => false,
        }
    }
}
