//! The GP Connect interactions bookable serves: the `Ssp-InteractionID` each request must send
//! and the `requested_scope` its token must hold.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    SearchSlot,
    ReadMetadata,
    ReadPractitioner,
    ReadLocation,
    ReadOrganization,
    SearchPatient,
    ReadPatient,
    RegisterPatient,
    BookAppointment,
    ReadAppointment,
    AmendAppointment,
    CancelAppointment,
    RetrievePatientAppointments,
}

impl Interaction {
    pub const ALL: [Interaction; 13] = [
        Self::SearchSlot,
        Self::ReadMetadata,
        Self::ReadPractitioner,
        Self::ReadLocation,
        Self::ReadOrganization,
        Self::SearchPatient,
        Self::ReadPatient,
        Self::RegisterPatient,
        Self::BookAppointment,
        Self::ReadAppointment,
        Self::AmendAppointment,
        Self::CancelAppointment,
        Self::RetrievePatientAppointments,
    ];

    /// The interaction whose `Ssp-InteractionID` this is, if bookable serves it.
    pub fn from_id(id: &str) -> Option<Interaction> {
        Self::ALL.into_iter().find(|i| i.id() == id)
    }

    pub fn id(self) -> &'static str {
        match self {
            Self::SearchSlot => "urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1",
            Self::ReadMetadata => "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1",
            Self::ReadPractitioner => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:practitioner-1"
            }
            Self::ReadLocation => "urn:nhs:names:services:gpconnect:fhir:rest:read:location-1",
            Self::ReadOrganization => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:organization-1"
            }
            Self::SearchPatient => "urn:nhs:names:services:gpconnect:fhir:rest:search:patient-1",
            Self::ReadPatient => "urn:nhs:names:services:gpconnect:fhir:rest:read:patient-1",
            Self::RegisterPatient => {
                "urn:nhs:names:services:gpconnect:fhir:operation:gpc.registerpatient-1"
            }
            Self::BookAppointment => {
                "urn:nhs:names:services:gpconnect:fhir:rest:create:appointment-1"
            }
            Self::ReadAppointment => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:appointment-1"
            }
            Self::AmendAppointment => {
                "urn:nhs:names:services:gpconnect:fhir:rest:update:appointment-1"
            }
            Self::CancelAppointment => {
                "urn:nhs:names:services:gpconnect:fhir:rest:cancel:appointment-1"
            }
            Self::RetrievePatientAppointments => {
                "urn:nhs:names:services:gpconnect:fhir:rest:search:patient_appointments-1"
            }
        }
    }

    /// The `requested_scope` the interaction needs.
    pub fn scope(self) -> &'static str {
        match self {
            Self::SearchPatient | Self::ReadPatient => "patient/*.read",
            Self::RegisterPatient => "patient/*.write",
            Self::BookAppointment | Self::AmendAppointment | Self::CancelAppointment => {
                "patient/*.write"
            }
            Self::ReadAppointment | Self::RetrievePatientAppointments => "patient/*.read",
            _ => "organization/*.read",
        }
    }
}
