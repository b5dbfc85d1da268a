//! What "exposed" and "hidden capacity" mean, in SQL over `slot_effective` rows (see the
//! module docs of [`super`]).

use std::sync::LazyLock;

use serde::Serialize;

use crate::availability::codes::ORGANISATION_TYPES;
use crate::availability::query::{self, HiddenReason};

/// Rules 2 to 4 of the query module: those that hold for an exposed slot.
const EXPOSURE_RULES: [HiddenReason; 4] = [
    HiddenReason::NotBookable,
    HiddenReason::Visit,
    HiddenReason::NoPractitionerRole,
    HiddenReason::NoSlotType,
];

/// A slot is exposed when rules 2 to 4 of the query module hold for it (see the module docs):
/// SQL over `e`, a `slot_effective` row, made from the query module's own rule table.
pub(super) static EXPOSED: LazyLock<String> = LazyLock::new(|| {
    EXPOSURE_RULES
        .iter()
        .map(|r| format!("NOT ({})", rule(*r)))
        .collect::<Vec<_>>()
        .join(" AND ")
});

/// The query module's condition under which `reason` hides a slot.
fn rule(reason: HiddenReason) -> &'static str {
    query::hidden_when(reason).expect("a rule of the query module's rule table")
}

/// Why capacity a manager marked GP Connect bookable reaches no one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HiddenCapacityReason {
    Visit,
    NoPractitionerRole,
    NoSlotType,
    RestrictedToNoOne,
    InThePast,
}

impl HiddenCapacityReason {
    pub const ALL: [HiddenCapacityReason; 5] = [
        Self::Visit,
        Self::NoPractitionerRole,
        Self::NoSlotType,
        Self::RestrictedToNoOne,
        Self::InThePast,
    ];

    /// The query module's reason, where there is one.
    pub fn query_reason(self) -> Option<HiddenReason> {
        match self {
            Self::Visit => Some(HiddenReason::Visit),
            Self::NoPractitionerRole => Some(HiddenReason::NoPractitionerRole),
            Self::NoSlotType => Some(HiddenReason::NoSlotType),
            Self::InThePast => Some(HiddenReason::AlreadyStarted),
            Self::RestrictedToNoOne => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::RestrictedToNoOne => "restricted-to-no-one",
            Self::InThePast => "in-the-past",
            other => other.query_reason().map_or("", HiddenReason::code),
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// When it applies to a free, bookable slot: SQL over `e`, a `slot_effective` row, with
    /// `$org_types` the organisation types consumers send and `$now` the time of the report.
    /// All but "restricted to no one" are the query module's own rules ("in the past" is its
    /// "already started"), so the report's still-free counts and a slot search at the same
    /// time agree.
    pub(super) fn condition(self) -> String {
        match self {
            Self::RestrictedToNoOne => {
                "(cardinality(e.audiences) > 0 AND NOT EXISTS ( \
                    SELECT 1 FROM unnest(e.audiences) a \
                    WHERE (audience_type(a) IS NULL OR audience_type(a) = ANY($org_types::text[])) \
                      AND (audience_group(a) IS NULL OR EXISTS ( \
                          SELECT 1 FROM org_group_members m WHERE m.group_id = audience_group(a)))))"
                    .into()
            }
            other => rule(other.query_reason().expect("a query module reason"))
                .replace("{NOW}", "$now"),
        }
    }

    /// A sentence for a practice manager.
    pub fn message(self) -> &'static str {
        match self {
            Self::RestrictedToNoOne => {
                "Everyone who can book it is someone no GP Connect consumer can be (an unknown \
                 organisation type, or a group with no members)."
            }
            other => other.query_reason().map_or("", HiddenReason::message),
        }
    }
}

/// The organisation type codes consumers send, in GPConnect-OrganisationType-1 order: the order
/// of the reports' per-type figures and of the `$org_types` parameter.
pub fn org_types() -> Vec<&'static str> {
    ORGANISATION_TYPES.iter().map(|(c, _)| *c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_capacity_reasons_reuse_the_query_module_codes() {
        assert_eq!(
            HiddenCapacityReason::Visit.code(),
            HiddenReason::Visit.code()
        );
        assert_eq!(
            HiddenCapacityReason::NoSlotType.message(),
            HiddenReason::NoSlotType.message()
        );
        for r in HiddenCapacityReason::ALL {
            assert_eq!(HiddenCapacityReason::parse(r.code()), Some(r));
            assert!(!r.message().is_empty());
        }
    }
}
