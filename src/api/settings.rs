//! The practice systems' JSON API settings: the development token that opens every practice.

use sha2::{Digest, Sha256};

/// `BOOKABLE_API_TOKEN`, kept only as its SHA-256: for development and the demo, a token that may
/// act for **every** practice. Real practice systems get credentials of their own, scoped to the
/// practices they serve (`bookable credential issue`).
#[derive(Clone, Default)]
pub struct ApiSettings {
    all_practices_token_sha256: Option<[u8; 32]>,
}

impl ApiSettings {
    pub fn with_all_practices_token(token: &str) -> Self {
        ApiSettings {
            all_practices_token_sha256: Some(Sha256::digest(token.as_bytes()).into()),
        }
    }

    /// Whether `token` is the all-practices development token.
    pub(super) fn is_all_practices_token(&self, token: &str) -> bool {
        let Some(expected) = self.all_practices_token_sha256 else {
            return false;
        };
        let got: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare every byte, so the time taken says nothing about where they differ.
        expected
            .iter()
            .zip(got)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}
