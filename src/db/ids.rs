//! Typed ids: a `PracticeId` can't be passed where a `SlotId` is expected, which is what keeps
//! practice isolation from being broken by a swapped integer.

use diesel_derive_newtype::DieselNewType;
use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(DieselNewType, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )*};
}

typed_id!(
    PracticeId,
    LocationId,
    PractitionerId,
    ScheduleId,
    SlotId,
    UserId,
    AuditId,
    GroupId,
    LimitId,
    BookingId,
    CredentialId,
    PatientId,
    RegistrationId,
    AppointmentId
);
