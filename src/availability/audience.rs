//! Who can book: the audiences of a schedule or slot.
//!
//! Managers think in audiences joined by "and also": "NHS 111, and also the practices of our
//! PCN, and also Y03032". A schedule or slot has a list of audiences; a consumer sees its slots
//! when it matches **any** of them, and a list with none lets every GP Connect consumer book.
//! An audience is one of
//! - an organisation type ("NHS 111 and other urgent care services", "other GP practices");
//! - a named organisation (an ODS code) or an organisation group of the practice;
//! - an organisation type *and* a named organisation or group together (the specification's
//!   own case: the consumer must send both).
//!
//! Which consumer matches an audience is the query module's decision (`query`, its rule
//! table): the specification's four-case table applied to that one audience. This module only
//! holds, validates, stores (as text tokens, see the migration `…_audiences`) and names them.

use std::fmt;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Array, Text};
use serde::Serialize;

use super::codes::{CodeError, OdsCode, OrganisationType};
use crate::db::ids::GroupId;

/// The organisation type NHS 111 services send.
pub const URGENT_CARE: &str = "urgent-care";
/// The organisation type GP practices send.
pub const GP_PRACTICE: &str = "gp-practice";

/// The named part of an audience: one organisation, or a group of the practice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Named {
    Ods(OdsCode),
    Group(GroupId),
}

impl Named {
    fn token(&self) -> String {
        match self {
            Named::Ods(c) => format!("ods:{c}"),
            Named::Group(g) => format!("group:{}", g.0),
        }
    }

    fn parse_token(token: &str) -> Option<Named> {
        if let Some(code) = token.strip_prefix("ods:") {
            return OdsCode::parse(code)
                .ok()
                .filter(|c| c.as_str() == code)
                .map(Named::Ods);
        }
        let id = token.strip_prefix("group:")?;
        (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            .then(|| id.parse().ok().map(|id| Named::Group(GroupId(id))))
            .flatten()
    }
}

/// One audience: an organisation type, a named organisation or group, or both together.
/// At least one part is always there.
/// Serialised (the change log, JSON answers) as its stored token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Audience {
    /// A GPConnect-OrganisationType-1 code. Stored ones may be codes bookable no longer offers
    /// (they match no consumer's type); new ones are checked by [`OrganisationType`].
    org_type: Option<String>,
    named: Option<Named>,
}

impl Audience {
    pub fn org_type(t: OrganisationType) -> Audience {
        Audience {
            org_type: Some(t.code().to_owned()),
            named: None,
        }
    }

    pub fn named(n: Named) -> Audience {
        Audience {
            org_type: None,
            named: Some(n),
        }
    }

    pub fn ods(code: OdsCode) -> Audience {
        Audience::named(Named::Ods(code))
    }

    pub fn group(id: GroupId) -> Audience {
        Audience::named(Named::Group(id))
    }

    /// The consumer must be of type `t` *and* be the named organisation (or in the group).
    pub fn type_and(t: OrganisationType, n: Named) -> Audience {
        Audience {
            org_type: Some(t.code().to_owned()),
            named: Some(n),
        }
    }

    pub fn type_code(&self) -> Option<&str> {
        self.org_type.as_deref()
    }

    pub fn named_part(&self) -> Option<&Named> {
        self.named.as_ref()
    }

    /// The stored form: `type:T`, `ods:O`, `group:N`, `type:T+ods:O`, `type:T+group:N`.
    pub fn token(&self) -> String {
        match (&self.org_type, &self.named) {
            (Some(t), Some(n)) => format!("type:{t}+{}", n.token()),
            (Some(t), None) => format!("type:{t}"),
            (None, Some(n)) => n.token(),
            (None, None) => unreachable!("an audience has a type or a named organisation"),
        }
    }

    /// Reads a stored token (the database's CHECK constraint admits only these shapes).
    pub fn parse_token(token: &str) -> Result<Audience, CodeError> {
        let bad = || CodeError(format!("'{token}' is not an audience"));
        let type_part = |t: &str| {
            (!t.is_empty() && !t.contains([':', '+']))
                .then(|| t.to_owned())
                .ok_or_else(bad)
        };
        if let Some(rest) = token.strip_prefix("type:") {
            return Ok(match rest.split_once('+') {
                Some((t, n)) => Audience {
                    org_type: Some(type_part(t)?),
                    named: Some(Named::parse_token(n).ok_or_else(bad)?),
                },
                None => Audience {
                    org_type: Some(type_part(rest)?),
                    named: None,
                },
            });
        }
        Named::parse_token(token)
            .map(Audience::named)
            .ok_or_else(bad)
    }

    /// The audience for a practice manager, with `group_name` naming the practice's groups.
    pub fn describe(&self, group_name: &dyn Fn(GroupId) -> Option<String>) -> String {
        let named = |n: &Named| match n {
            Named::Ods(c) => c.to_string(),
            Named::Group(g) => {
                group_name(*g).unwrap_or_else(|| "a group that no longer exists".into())
            }
        };
        match (&self.org_type, &self.named) {
            (Some(t), None) => type_phrase(t),
            (None, Some(n)) => named(n),
            (Some(t), Some(n)) => format!("{} when it books as {}", named(n), type_singular(t)),
            (None, None) => unreachable!("an audience has a type or a named organisation"),
        }
    }
}

/// "NHS 111 and other urgent care services", "Other GP practices", or the code as stored.
pub fn type_phrase(code: &str) -> String {
    match code {
        URGENT_CARE => "NHS 111 and other urgent care services".into(),
        GP_PRACTICE => "Other GP practices".into(),
        other => format!("Organisations of type '{other}'"),
    }
}

fn type_singular(code: &str) -> String {
    match code {
        URGENT_CARE => "an urgent care service".into(),
        GP_PRACTICE => "a GP practice".into(),
        other => format!("an organisation of type '{other}'"),
    }
}

/// Who can book a schedule or slot: its audiences, sorted and without repeats. Empty: every
/// GP Connect consumer. Stored as the `audiences text[]` columns, one token each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, AsExpression, FromSqlRow)]
#[serde(transparent)]
#[diesel(sql_type = Array<Text>)]
pub struct Audiences(Vec<Audience>);

impl FromSql<Array<Text>, Pg> for Audiences {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let tokens = <Vec<String> as FromSql<Array<Text>, Pg>>::from_sql(bytes)?;
        Ok(Audiences::from_tokens(&tokens)?)
    }
}

impl ToSql<Array<Text>, Pg> for Audiences {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        let tokens = self.tokens();
        <Vec<String> as ToSql<Array<Text>, Pg>>::to_sql(&tokens, &mut out.reborrow())
    }
}

impl Audiences {
    pub fn new(mut list: Vec<Audience>) -> Audiences {
        list.sort();
        list.dedup();
        Audiences(list)
    }

    /// Every GP Connect consumer.
    pub fn everyone() -> Audiences {
        Audiences::default()
    }

    pub fn is_everyone(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Audience> {
        self.0.iter()
    }

    pub fn contains(&self, a: &Audience) -> bool {
        self.0.contains(a)
    }

    /// The stored form, one token per audience, in order.
    pub fn tokens(&self) -> Vec<String> {
        self.0.iter().map(Audience::token).collect()
    }

    pub fn from_tokens<S: AsRef<str>>(tokens: &[S]) -> Result<Audiences, CodeError> {
        tokens
            .iter()
            .map(|t| Audience::parse_token(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(Audiences::new)
    }

    /// The audiences equivalent to one (organisation types, named organisations) restriction
    /// pair under the four-case table, as the rota import's documents still describe it: a
    /// consumer passes the pair when it matches one of the types (if any are given) and one of
    /// the named organisations (if any are given). The migration `…_audiences` converts the
    /// stored pairs the same way.
    pub fn from_restriction(types: &[OrganisationType], named: &[Named]) -> Audiences {
        let list = match (types.is_empty(), named.is_empty()) {
            (true, true) => vec![],
            (false, true) => types.iter().map(|t| Audience::org_type(*t)).collect(),
            (true, false) => named.iter().cloned().map(Audience::named).collect(),
            (false, false) => types
                .iter()
                .flat_map(|t| named.iter().map(|n| Audience::type_and(*t, n.clone())))
                .collect(),
        };
        Audiences::new(list)
    }

    /// Every audience, for a practice manager, joined by "and also" commas.
    pub fn describe(&self, group_name: &dyn Fn(GroupId) -> Option<String>) -> String {
        if self.0.is_empty() {
            return "Any organisation using GP Connect".into();
        }
        self.0
            .iter()
            .map(|a| a.describe(group_name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Types first, then named organisations and groups, then the two together.
impl Ord for Audience {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let key = |a: &Audience| {
            let rank = match (&a.org_type, &a.named) {
                (Some(_), None) => 0,
                (None, Some(_)) => 1,
                _ => 2,
            };
            (rank, a.org_type.clone(), a.named.clone())
        };
        key(self).cmp(&key(other))
    }
}

impl PartialOrd for Audience {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Audience {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.token())
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.token())
    }
}

impl<'a> IntoIterator for &'a Audiences {
    type Item = &'a Audience;
    type IntoIter = std::slice::Iter<'a, Audience>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(code: &str) -> OrganisationType {
        OrganisationType::parse(code).unwrap()
    }

    fn ods(code: &str) -> Named {
        Named::Ods(OdsCode::parse(code).unwrap())
    }

    #[test]
    fn tokens_round_trip_and_malformed_ones_are_refused() {
        for token in [
            "type:urgent-care",
            "ods:Y03032",
            "group:12",
            "type:gp-practice+ods:Y03032",
            "type:gp-practice+group:3",
            "type:oncology",
        ] {
            assert_eq!(Audience::parse_token(token).unwrap().token(), token);
        }
        for bad in [
            "",
            "type:",
            "ods:y03032",
            "ods:Y0",
            "group:x",
            "type:gp-practice+type:urgent-care",
            "nhs111",
        ] {
            assert!(Audience::parse_token(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_restriction_pair_becomes_its_cross_product() {
        assert!(Audiences::from_restriction(&[], &[]).is_everyone());
        assert_eq!(
            Audiences::from_restriction(&[t("urgent-care"), t("gp-practice")], &[]).tokens(),
            ["type:gp-practice", "type:urgent-care"]
        );
        assert_eq!(
            Audiences::from_restriction(&[], &[ods("Y03032"), Named::Group(GroupId(4))]).tokens(),
            ["ods:Y03032", "group:4"]
        );
        assert_eq!(
            Audiences::from_restriction(&[t("urgent-care")], &[ods("Y03032"), ods("A20047")])
                .tokens(),
            ["type:urgent-care+ods:A20047", "type:urgent-care+ods:Y03032"]
        );
    }

    #[test]
    fn audiences_are_described_in_plain_words() {
        let names = |g: GroupId| (g.0 == 4).then(|| "Our PCN".to_owned());
        let list = Audiences::new(vec![
            Audience::org_type(t("urgent-care")),
            Audience::group(GroupId(4)),
            Audience::type_and(t("gp-practice"), ods("Y03032")),
        ]);
        assert_eq!(
            list.describe(&names),
            "NHS 111 and other urgent care services, Our PCN, \
             Y03032 when it books as a GP practice"
        );
        assert_eq!(
            Audiences::everyone().describe(&names),
            "Any organisation using GP Connect"
        );
    }
}
