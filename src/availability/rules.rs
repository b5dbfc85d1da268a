//! Write-side bookability rules: what a practice may mark as GP Connect bookable.
//!
//! The read side (which slots a consumer sees) is in `query`; both name the same reasons.

use serde::Serialize;

use super::audience::Audiences;
use super::codes::DeliveryChannel;

/// A schedule's or slot's GP Connect bookability: bookable or not, and who can book it
/// (no audiences: every GP Connect consumer).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bookability {
    pub bookable: bool,
    pub audiences: Audiences,
}

/// Why something can't be made GP Connect bookable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    #[error(
        "a Visit (home visit) slot can never be GP Connect bookable: GP Connect 1.2.7 returns \
         Visit appointments only when they are read, never in a slot search"
    )]
    Visit,
    #[error(
        "it has no practitioner role: GP Connect consumers need the SDS job role of whoever \
         delivers the appointment, so set the schedule's practitioner role first"
    )]
    NoPractitionerRole,
    #[error(
        "it has no slot type: GP Connect requires the practice's slot type \
         (Slot.serviceType.text), so set one first"
    )]
    NoSlotType,
}

/// What the rules need to know about a schedule or slot to be marked bookable.
pub struct Exposable<'a> {
    /// The delivery channel in force (the slot's own, else its schedule's).
    pub channel: Option<DeliveryChannel>,
    /// The practitioner role code of the schedule.
    pub practitioner_role: Option<&'a str>,
    /// The slot type, for a slot; `None` when checking a whole schedule.
    pub slot_type: Option<Option<&'a str>>,
}

/// Refuses to make bookable what GP Connect could never expose.
pub fn check_can_be_bookable(target: &Exposable<'_>) -> Result<(), Refusal> {
    if target.channel == Some(DeliveryChannel::Visit) {
        return Err(Refusal::Visit);
    }
    if target.practitioner_role.is_none_or(|r| r.trim().is_empty()) {
        return Err(Refusal::NoPractitionerRole);
    }
    if let Some(slot_type) = target.slot_type
        && slot_type.is_none_or(|t| t.trim().is_empty())
    {
        return Err(Refusal::NoSlotType);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(
        channel: Option<DeliveryChannel>,
        role: Option<&'static str>,
        slot_type: Option<Option<&'static str>>,
    ) -> Exposable<'static> {
        Exposable {
            channel,
            practitioner_role: role,
            slot_type,
        }
    }

    #[test]
    fn visit_is_refused_whatever_else_is_set() {
        let t = target(
            Some(DeliveryChannel::Visit),
            Some("R0260"),
            Some(Some("Routine")),
        );
        assert_eq!(check_can_be_bookable(&t), Err(Refusal::Visit));
    }

    #[test]
    fn missing_role_or_slot_type_is_refused() {
        let no_role = target(
            Some(DeliveryChannel::Telephone),
            None,
            Some(Some("Routine")),
        );
        assert_eq!(
            check_can_be_bookable(&no_role),
            Err(Refusal::NoPractitionerRole)
        );
        let no_type = target(
            Some(DeliveryChannel::Telephone),
            Some("R0260"),
            Some(Some("  ")),
        );
        assert_eq!(check_can_be_bookable(&no_type), Err(Refusal::NoSlotType));
    }

    #[test]
    fn a_schedule_needs_no_slot_type_and_a_channel_is_optional() {
        assert_eq!(
            check_can_be_bookable(&target(None, Some("R0620"), None)),
            Ok(())
        );
        let slot = target(
            Some(DeliveryChannel::Video),
            Some("R0620"),
            Some(Some("Routine")),
        );
        assert_eq!(check_can_be_bookable(&slot), Ok(()));
    }
}
