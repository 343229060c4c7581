//! Who may do what: the permission every route declares, the table of
//! permissions each role holds, and the organisation scope of a caller.
//!
//! Enforcement happens in one place, the `authorise` middleware of the API
//! router, which looks up the permission of the matched route in
//! `api::ROUTES`; a route missing from that table is refused. Handlers add
//! the checks that depend on the object concerned: that it lies within the
//! caller's organisation (otherwise the answer is the same `not_found` as
//! for an id that does not exist), and the governance rules of decisions.

use vigil_domain::{Code, OrganisationTree, Role};

/// What a route needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Anyone, signed in or not (signing in, the API description).
    Public,
    /// Any signed-in caller (their own session).
    SignedIn,
    /// Read organisations, products, deployments, decisions, evaluations
    /// and the sign-off policy within the caller's organisation.
    ReadRegistry,
    /// Add organisations below the caller's.
    ManageOrganisations,
    /// Add users, change roles, disable accounts, set passwords.
    ManageUsers,
    /// Create, list and revoke API tokens.
    ManageTokens,
    /// Register products and versions.
    RegisterProducts,
    /// Register deployments and move them to new versions.
    ManageDeployments,
    /// Sign a lifecycle transition in one's own role.
    SignOff,
    /// Record a lifecycle decision (the sign-off policy says who may).
    RecordDecisions,
    /// Run and store local validations.
    RunEvaluations,
    /// Read and verify the audit trail.
    ReadAudit,
    /// Send inference events of a deployment (a data feed's token).
    IngestEvents,
    /// Edit a deployment's monitoring rules, judge them now, and manage
    /// the webhooks alerts go to.
    ManageMonitoring,
    /// Acknowledge and resolve alerts.
    RespondToAlerts,
    /// Read what the hospital's systems sent: the log of received DICOM
    /// instances, their quarantine, and the times of reports.
    ReadIntake,
    /// Keep a deployment's hazard log: add and revise hazards, and link
    /// alerts to them.
    ManageHazards,
    /// Sign a deployment's clinical safety case.
    SignSafetyCase,
    /// Open, answer and complete procurement assessments, and keep their
    /// evidence files.
    AssessProcurement,
}

impl Permission {
    /// Every permission, in table order.
    pub const ALL: [Permission; 19] = [
        Permission::Public,
        Permission::SignedIn,
        Permission::ReadRegistry,
        Permission::ManageOrganisations,
        Permission::ManageUsers,
        Permission::ManageTokens,
        Permission::RegisterProducts,
        Permission::ManageDeployments,
        Permission::SignOff,
        Permission::RecordDecisions,
        Permission::RunEvaluations,
        Permission::ReadAudit,
        Permission::IngestEvents,
        Permission::ManageMonitoring,
        Permission::RespondToAlerts,
        Permission::ReadIntake,
        Permission::ManageHazards,
        Permission::SignSafetyCase,
        Permission::AssessProcurement,
    ];

    /// The permission's name in the API description and in `/session`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Public => "public",
            Permission::SignedIn => "signed_in",
            Permission::ReadRegistry => "read_registry",
            Permission::ManageOrganisations => "manage_organisations",
            Permission::ManageUsers => "manage_users",
            Permission::ManageTokens => "manage_tokens",
            Permission::RegisterProducts => "register_products",
            Permission::ManageDeployments => "manage_deployments",
            Permission::SignOff => "sign_off",
            Permission::RecordDecisions => "record_decisions",
            Permission::RunEvaluations => "run_evaluations",
            Permission::ReadAudit => "read_audit",
            Permission::IngestEvents => "ingest_events",
            Permission::ManageMonitoring => "manage_monitoring",
            Permission::RespondToAlerts => "respond_to_alerts",
            Permission::ReadIntake => "read_intake",
            Permission::ManageHazards => "manage_hazards",
            Permission::SignSafetyCase => "sign_safety_case",
            Permission::AssessProcurement => "assess_procurement",
        }
    }

    /// Whether a caller acting in `role` holds this permission.
    ///
    /// | role | beyond reading |
    /// | --- | --- |
    /// | viewer | nothing |
    /// | clinician | respond to alerts |
    /// | ai_lead | register products and deployments, sign, decide, run evaluations, send events, manage monitoring, respond to alerts, read what the hospital sent, keep the hazard log, assess for procurement |
    /// | procurement_lead | register products and deployments, sign, decide, assess for procurement |
    /// | clinical_safety_officer | sign, decide, read the audit trail, manage monitoring, respond to alerts, read what the hospital sent, keep the hazard log, sign the safety case, assess for procurement |
    /// | clinical_lead | sign, decide, respond to alerts, keep the hazard log, assess for procurement |
    /// | medical_physics_expert | sign, decide, run evaluations, send events, manage monitoring, respond to alerts, read what the hospital sent, keep the hazard log, assess for procurement |
    /// | organisation_admin, national_admin | organisations, users, tokens, products, deployments, audit trail, what the hospital sent |
    ///
    /// Which decisions a signer may record is the sign-off policy's to say.
    pub fn granted_to(self, role: Role) -> bool {
        use Permission::*;
        use Role::*;
        match self {
            Public | SignedIn | ReadRegistry => true,
            ManageOrganisations | ManageUsers | ManageTokens => {
                matches!(role, OrganisationAdmin | NationalAdmin)
            }
            RegisterProducts | ManageDeployments => matches!(
                role,
                AiLead | ProcurementLead | OrganisationAdmin | NationalAdmin
            ),
            SignOff | RecordDecisions => matches!(
                role,
                AiLead
                    | ProcurementLead
                    | ClinicalSafetyOfficer
                    | ClinicalLead
                    | MedicalPhysicsExpert
            ),
            RunEvaluations | IngestEvents => matches!(role, AiLead | MedicalPhysicsExpert),
            ReadAudit => matches!(
                role,
                ClinicalSafetyOfficer | OrganisationAdmin | NationalAdmin
            ),
            ManageMonitoring => {
                matches!(role, AiLead | MedicalPhysicsExpert | ClinicalSafetyOfficer)
            }
            RespondToAlerts => matches!(
                role,
                AiLead | MedicalPhysicsExpert | ClinicalSafetyOfficer | ClinicalLead | Clinician
            ),
            ReadIntake => matches!(
                role,
                AiLead
                    | MedicalPhysicsExpert
                    | ClinicalSafetyOfficer
                    | OrganisationAdmin
                    | NationalAdmin
            ),
            ManageHazards => matches!(
                role,
                ClinicalSafetyOfficer | ClinicalLead | MedicalPhysicsExpert | AiLead
            ),
            SignSafetyCase => matches!(role, ClinicalSafetyOfficer),
            AssessProcurement => matches!(
                role,
                ProcurementLead
                    | AiLead
                    | ClinicalLead
                    | ClinicalSafetyOfficer
                    | MedicalPhysicsExpert
            ),
        }
    }

    /// The permissions of a role, in table order (without `public`).
    pub fn of_role(role: Role) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|permission| *permission != Permission::Public && permission.granted_to(role))
            .collect()
    }
}

/// The part of the organisation tree a caller acts within: their own
/// organisation and everything below it.
#[derive(Debug, Clone)]
pub struct Scope {
    pub tree: OrganisationTree,
    pub organisation: Code,
}

impl Scope {
    /// Whether `code` lies within the caller's organisation.
    pub fn includes(&self, code: &Code) -> bool {
        self.tree.is_within(code, &self.organisation)
    }

    /// Whether a code given as text lies within the caller's organisation
    /// (an unknown or malformed code does not).
    pub fn includes_text(&self, code: &str) -> bool {
        Code::parse(code).is_ok_and(|code| self.includes(&code))
    }

    /// The codes of the caller's organisation and every one below it.
    pub fn codes_within(&self) -> Vec<String> {
        self.tree
            .iter()
            .filter(|organisation| self.includes(&organisation.code))
            .map(|organisation| organisation.code.to_string())
            .collect()
    }

    /// The Trust a site or Trust belongs to, if any.
    pub fn trust_of(&self, code: &Code) -> Option<Code> {
        self.tree
            .get(code)
            .into_iter()
            .chain(self.tree.ancestors(code))
            .find(|organisation| organisation.kind == vigil_domain::OrganisationKind::Trust)
            .map(|organisation| organisation.code.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_only_read_and_administrators_do_not_sign() {
        assert_eq!(
            Permission::of_role(Role::Viewer),
            vec![Permission::SignedIn, Permission::ReadRegistry]
        );
        assert!(!Permission::SignOff.granted_to(Role::OrganisationAdmin));
        assert!(!Permission::RecordDecisions.granted_to(Role::NationalAdmin));
        assert!(Permission::ManageUsers.granted_to(Role::NationalAdmin));
        assert!(!Permission::ManageUsers.granted_to(Role::AiLead));
    }

    #[test]
    fn permission_names_are_distinct() {
        let mut names: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Permission::ALL.len());
    }
}
