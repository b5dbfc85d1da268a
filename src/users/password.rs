//! What a password must be (NIST SP 800-63B 5.1.1.2, OWASP ASVS 2.1): 12 to 256 characters,
//! any characters at all (spaces and emoji included, never trimmed or truncated), not only
//! spaces, not one character repeated, not the username, and not on the list of common and
//! breached passwords shipped with the crate (compared ignoring case).

use std::collections::HashSet;
use std::sync::LazyLock;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 256;

/// The passwords of 12 characters or more in the UK National Cyber Security Centre's list of
/// the 100,000 passwords most often found in breaches (from Have I Been Pwned), lower-cased;
/// shorter ones are refused by length anyway. Source and licence: docs/architecture.md.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("the password must be at least 12 characters long")]
    TooShort,
    #[error("the password must be 256 characters or fewer")]
    TooLong,
    #[error("the password must not be only spaces")]
    Blank,
    #[error("the password must not be one character repeated")]
    Repeated,
    #[error("the password must not contain the username")]
    ContainsUsername,
    #[error("that password is too common: it is on a list of passwords criminals try first")]
    Common,
}

/// Checks a new password for the user `username` (as typed: never trimmed).
pub fn check(password: &str, username: &str) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    if password.chars().all(char::is_whitespace) {
        return Err(PasswordProblem::Blank);
    }
    let mut distinct = password.chars();
    let first = distinct.next();
    if distinct.all(|c| Some(c) == first) {
        return Err(PasswordProblem::Repeated);
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err(PasswordProblem::ContainsUsername);
    }
    if COMMON.contains(lower.as_str()) {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{PasswordProblem as P, check};

    #[test]
    fn the_rules_of_nist_800_63b() {
        for (password, expected) in [
            ("short pass", Err(P::TooShort)),
            ("            ", Err(P::Blank)),
            ("\t \n         ", Err(P::Blank)),
            ("aaaaaaaaaaaa", Err(P::Repeated)),
            ("bbbbbbbbbbbbbbbb", Err(P::Repeated)),
            ("jo.bloggs2026!", Err(P::ContainsUsername)),
            ("1qaz2wsx3edc", Err(P::Common)),
            ("1QAZ2WSX3EDC", Err(P::Common)),
            ("QwertyuiopASDFGHJKL", Err(P::Common)),
            ("correct horse battery", Ok(())),
            ("  leading and trailing spaces  ", Ok(())),
            ("ünïcödé pässwörd ✓", Ok(())),
        ] {
            assert_eq!(check(password, "jo.bloggs"), expected, "{password:?}");
        }
        assert_eq!(check(&"x1".repeat(64), "jo"), Ok(()), "128 characters");
        assert_eq!(check(&"x1".repeat(128), "jo"), Ok(()), "256 characters");
        assert_eq!(check(&"x1".repeat(129), "jo"), Err(P::TooLong));
        // Counted in characters, not bytes: 11 two-byte letters are too short.
        assert_eq!(check(&"éà".repeat(5), "jo"), Err(P::TooShort));
        assert_eq!(check(&"éà".repeat(6), "jo"), Ok(()));
    }

    #[test]
    fn the_shipped_list_is_lower_case_and_long_enough_to_matter() {
        let list = include_str!("common_passwords.txt");
        assert!(list.lines().count() > 1000);
        assert!(
            list.lines()
                .all(|l| l == l.to_lowercase() && l.chars().count() >= 12)
        );
    }
}
