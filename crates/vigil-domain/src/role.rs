//! The roles a person acts in when they sign a governance decision or use
//! Vigil.
//!
//! A person may hold several roles; a sign-off names the one role the person
//! signs in.

named_enum! {
    /// A role in the governance of clinical AI tools.
    pub enum Role: "role" {
        /// Reads dashboards and reports; signs nothing.
        Viewer = "viewer",
        /// A radiologist, radiographer or therapeutic radiographer who records
        /// agreement with AI outputs and reviews flagged cases.
        Clinician = "clinician",
        /// The AI lead or clinical scientist who registers tools, writes
        /// protocols, validates and monitors.
        AiLead = "ai_lead",
        /// The Clinical Safety Officer, who owns the hazard log and safety
        /// case (DCB0160) and signs go-live and suspension; "cso" is read as
        /// this.
        ClinicalSafetyOfficer = "clinical_safety_officer" | "cso",
        /// The clinical lead for the service the tool is used in.
        ClinicalLead = "clinical_lead",
        /// The Medical Physics Expert, who signs acceptance and commissioning
        /// under IR(ME)R; "mpe" is read as this.
        MedicalPhysicsExpert = "medical_physics_expert" | "mpe",
        /// The procurement or digital lead who runs the procurement
        /// assessment.
        ProcurementLead = "procurement_lead",
        /// Administers one organisation and what lies below it.
        OrganisationAdmin = "organisation_admin",
        /// Administers the national hub.
        NationalAdmin = "national_admin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_have_snake_case_names_that_parse_back() {
        assert_eq!(Role::ALL.len(), 9);
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
        assert_eq!(
            Role::ClinicalSafetyOfficer.as_str(),
            "clinical_safety_officer"
        );
        assert_eq!(Role::AiLead.as_str(), "ai_lead");
    }

    #[test]
    fn cso_and_mpe_are_aliases() {
        assert_eq!(Role::parse("cso"), Ok(Role::ClinicalSafetyOfficer));
        assert_eq!(Role::parse(" CSO "), Ok(Role::ClinicalSafetyOfficer));
        assert_eq!(Role::parse("mpe"), Ok(Role::MedicalPhysicsExpert));
        assert_eq!("ai_lead".parse::<Role>(), Ok(Role::AiLead));
    }

    #[test]
    fn unknown_roles_are_rejected_with_the_list() {
        let message = Role::parse("radiologist").unwrap_err().to_string();
        assert!(message.starts_with(
            "\"radiologist\" is not a known role; expected one of: viewer, clinician,"
        ));
    }
}
