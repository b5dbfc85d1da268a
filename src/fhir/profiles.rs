//! The names GP Connect 1.2.7 fixes for what this layer sends: the versions, the profiles of
//! each resource, and the code and identifier systems.

pub const GP_CONNECT_VERSION: &str = "1.2.7";
pub const FHIR_VERSION: &str = "3.0.1";
/// The date of this CapabilityStatement's content.
pub const CAPABILITY_DATE: &str = "2026-11-23";

pub const SLOT_PROFILE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Slot-1";
pub const SCHEDULE_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Schedule-1";
pub const PRACTITIONER_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Practitioner-1";
pub const LOCATION_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Location-1";
pub const ORGANIZATION_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1";
pub const OPERATION_OUTCOME_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1";
pub const SPINE_ERROR_SYSTEM: &str = "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1";
pub const SDS_USER_ID_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-user-id";
pub const SDS_ROLE_PROFILE_ID_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";
