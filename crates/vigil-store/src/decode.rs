//! Decoding the row types from any sqlx database row, so that each backend
//! only writes its SQL.

use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::rows::{
    ApiTokenRow, AuditHeadRow, AuditRow, CredentialRow, DecisionRow, DeploymentRow, EvaluationRow,
    OrganisationRow, PendingSignOffRow, PolicyRow, ProductRow, UserRow, VersionRow,
};

/// A database row from which text, 64-bit integers and reals can be read by
/// column name.
pub trait DecodeRow: Row {
    fn text(&self, column: &str) -> Result<String, sqlx::Error>;
    fn optional_text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    fn integer(&self, column: &str) -> Result<i64, sqlx::Error>;
    fn optional_integer(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
    fn optional_real(&self, column: &str) -> Result<Option<f64>, sqlx::Error>;
}

impl<R> DecodeRow for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, column: &str) -> Result<String, sqlx::Error> {
        self.try_get(column)
    }

    fn optional_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
        self.try_get(column)
    }

    fn integer(&self, column: &str) -> Result<i64, sqlx::Error> {
        self.try_get(column)
    }

    fn optional_integer(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(column)
    }

    fn optional_real(&self, column: &str) -> Result<Option<f64>, sqlx::Error> {
        self.try_get(column)
    }
}

pub fn organisation_row(row: &impl DecodeRow) -> Result<OrganisationRow, sqlx::Error> {
    Ok(OrganisationRow {
        code: row.text("code")?,
        name: row.text("name")?,
        kind: row.text("kind")?,
        parent: row.optional_text("parent")?,
        created_at: row.text("created_at")?,
    })
}

pub fn user_row(row: &impl DecodeRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: row.integer("id")?,
        user_name: row.text("user_name")?,
        display_name: row.text("display_name")?,
        role: row.text("role")?,
        organisation: row.text("organisation")?,
        created_at: row.text("created_at")?,
        disabled: row.integer("disabled")?,
    })
}

pub fn api_token_row(row: &impl DecodeRow) -> Result<ApiTokenRow, sqlx::Error> {
    Ok(ApiTokenRow {
        id: row.integer("id")?,
        name: row.text("name")?,
        token_hash: row.text("token_hash")?,
        organisation: row.text("organisation")?,
        role: row.text("role")?,
        created_by: row.text("created_by")?,
        created_at: row.text("created_at")?,
        last_used_at: row.optional_text("last_used_at")?,
        revoked_at: row.optional_text("revoked_at")?,
    })
}

pub fn credential_row(row: &impl DecodeRow) -> Result<CredentialRow, sqlx::Error> {
    Ok(CredentialRow {
        user_id: row.integer("user_id")?,
        password_hash: row.text("password_hash")?,
        set_at: row.text("set_at")?,
    })
}

pub fn pending_sign_off_row(row: &impl DecodeRow) -> Result<PendingSignOffRow, sqlx::Error> {
    Ok(PendingSignOffRow {
        deployment_id: row.integer("deployment_id")?,
        revision: row.integer("revision")?,
        to_state: row.text("to_state")?,
        user_name: row.text("user_name")?,
        role: row.text("role")?,
        signed_at: row.text("signed_at")?,
        audit_sequence: row.integer("audit_sequence")?,
    })
}

/// An evaluation row; listings select empty `result` and `report`.
pub fn evaluation_row(row: &impl DecodeRow) -> Result<EvaluationRow, sqlx::Error> {
    Ok(EvaluationRow {
        id: row.integer("id")?,
        deployment_id: row.integer("deployment_id")?,
        version_id: row.integer("version_id")?,
        verdict: row.text("verdict")?,
        protocol: row.text("protocol")?,
        options: row.text("options")?,
        cases_sha256: row.text("cases_sha256")?,
        cases_bytes: row.integer("cases_bytes")?,
        result: row.text("result")?,
        report: row.text("report")?,
        created_by: row.text("created_by")?,
        created_at: row.text("created_at")?,
        audit_sequence: row.integer("audit_sequence")?,
    })
}

pub fn product_row(row: &impl DecodeRow) -> Result<ProductRow, sqlx::Error> {
    Ok(ProductRow {
        id: row.integer("id")?,
        vendor: row.text("vendor")?,
        name: row.text("name")?,
        intended_purpose: row.text("intended_purpose")?,
        modality: row.text("modality")?,
        body_part: row.text("body_part")?,
        task_type: row.text("task_type")?,
        regulatory_class: row.text("regulatory_class")?,
        marking: row.text("marking")?,
        created_at: row.text("created_at")?,
    })
}

pub fn version_row(row: &impl DecodeRow) -> Result<VersionRow, sqlx::Error> {
    Ok(VersionRow {
        id: row.integer("id")?,
        product_id: row.integer("product_id")?,
        version: row.text("version")?,
        release_date: row.text("release_date")?,
        change_notes: row.text("change_notes")?,
        change_kind: row.text("change_kind")?,
        created_at: row.text("created_at")?,
    })
}

pub fn deployment_row(row: &impl DecodeRow) -> Result<DeploymentRow, sqlx::Error> {
    Ok(DeploymentRow {
        id: row.integer("id")?,
        product_id: row.integer("product_id")?,
        version_id: row.integer("version_id")?,
        site: row.text("site")?,
        owning_team: row.text("owning_team")?,
        thresholds: row.text("thresholds")?,
        change_control: row.text("change_control")?,
        state: row.text("state")?,
        revision: row.integer("revision")?,
        created_at: row.text("created_at")?,
    })
}

pub fn decision_row(row: &impl DecodeRow) -> Result<DecisionRow, sqlx::Error> {
    Ok(DecisionRow {
        id: row.integer("id")?,
        deployment_id: row.integer("deployment_id")?,
        from_state: row.text("from_state")?,
        to_state: row.text("to_state")?,
        version_id: row.integer("version_id")?,
        sign_offs: row.text("sign_offs")?,
        rationale: row.text("rationale")?,
        evidence: row.text("evidence")?,
        decided_by: row.text("decided_by")?,
        decided_at: row.text("decided_at")?,
        audit_sequence: row.integer("audit_sequence")?,
    })
}

pub fn audit_row(row: &impl DecodeRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        sequence: row.integer("sequence")?,
        recorded_at: row.text("recorded_at")?,
        actor: row.text("actor")?,
        role: row.text("role")?,
        organisation: row.text("organisation")?,
        action: row.text("action")?,
        subject: row.text("subject")?,
        payload: row.text("payload")?,
        previous_hash: row.text("previous_hash")?,
        hash: row.text("hash")?,
    })
}

pub fn policy_row(row: &impl DecodeRow) -> Result<PolicyRow, sqlx::Error> {
    Ok(PolicyRow {
        version: row.integer("version")?,
        entries: row.text("entries")?,
        set_by: row.text("set_by")?,
        set_at: row.text("set_at")?,
        audit_sequence: row.integer("audit_sequence")?,
    })
}

pub fn audit_head_row(row: &impl DecodeRow) -> Result<AuditHeadRow, sqlx::Error> {
    Ok(AuditHeadRow {
        sequence: row.integer("sequence")?,
        hash: row.text("hash")?,
    })
}

/// Classifies a database error: unique and foreign-key violations are the
/// user's; anything else is internal.
pub fn database_error(error: sqlx::Error) -> crate::StoreError {
    use crate::StoreError;
    if let sqlx::Error::Database(database) = &error {
        match database.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                return StoreError::AlreadyExists {
                    what: "an object with this key",
                    key: database.message().to_owned(),
                };
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                return StoreError::InvalidReference(
                    "a referenced object (organisation, product or version) does not exist"
                        .to_owned(),
                );
            }
            _ => {}
        }
    }
    StoreError::Database(Box::new(error))
}

/// Like [`database_error`], naming the object when a unique key is taken:
/// `.map_err(already_exists("product", || key))`.
pub fn already_exists(
    what: &'static str,
    key: impl FnOnce() -> String,
) -> impl FnOnce(sqlx::Error) -> crate::StoreError {
    move |error| match database_error(error) {
        crate::StoreError::AlreadyExists { .. } => {
            crate::StoreError::AlreadyExists { what, key: key() }
        }
        other => other,
    }
}

/// The embedded migrations of one backend as an sqlx migration source.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigrations(pub &'static [(i64, &'static str, &'static str)]);

impl<'s> sqlx::migrate::MigrationSource<'s> for EmbeddedMigrations {
    fn resolve(
        self,
    ) -> futures_core::future::BoxFuture<
        's,
        Result<Vec<sqlx::migrate::Migration>, sqlx::error::BoxDynError>,
    > {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    sqlx::migrate::Migration::new(
                        *version,
                        std::borrow::Cow::Borrowed(description),
                        sqlx::migrate::MigrationType::Simple,
                        sqlx::SqlStr::from_static(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// The migrator for a backend's embedded migrations.
pub async fn migrator(
    migrations: EmbeddedMigrations,
) -> Result<sqlx::migrate::Migrator, crate::StoreError> {
    sqlx::migrate::Migrator::new(migrations)
        .await
        .map_err(|error| crate::StoreError::Database(Box::new(error)))
}

/// A row of `monitoring_rules` as a record.
pub fn rules_record(row: &impl DecodeRow) -> Result<crate::RulesRecord, crate::StoreError> {
    let rules: String = row.text("rules").map_err(database_error)?;
    Ok(crate::RulesRecord {
        deployment: crate::DeploymentId(row.integer("deployment_id").map_err(database_error)?),
        version: row.integer("version").map_err(database_error)?,
        rules: vigil_monitor::RuleSet::from_stored_json(&rules)
            .map_err(|error| crate::StoreError::corrupt("monitoring rules", error))?,
        reason: row.text("reason").map_err(database_error)?,
        created_by: row.text("created_by").map_err(database_error)?,
        created_at: crate::rows::timestamp(
            "rules time",
            &row.text("created_at").map_err(database_error)?,
        )?,
        audit_sequence: u64::try_from(row.integer("audit_sequence").map_err(database_error)?)
            .map_err(|error| crate::StoreError::corrupt("audit sequence", error))?,
    })
}

/// A row of `success_criteria` as a record.
pub fn success_criteria_record(
    row: &impl DecodeRow,
) -> Result<crate::SuccessCriteriaRecord, crate::StoreError> {
    let criteria: String = row.text("criteria").map_err(database_error)?;
    Ok(crate::SuccessCriteriaRecord {
        deployment: crate::DeploymentId(row.integer("deployment_id").map_err(database_error)?),
        version: row.integer("version").map_err(database_error)?,
        criteria: serde_json::from_str(&criteria)
            .map_err(|error| crate::StoreError::corrupt("success criteria", error))?,
        rationale: row.text("rationale").map_err(database_error)?,
        registered_by: row.text("registered_by").map_err(database_error)?,
        registered_at: crate::rows::timestamp(
            "criteria time",
            &row.text("registered_at").map_err(database_error)?,
        )?,
        audit_sequence: u64::try_from(row.integer("audit_sequence").map_err(database_error)?)
            .map_err(|error| crate::StoreError::corrupt("audit sequence", error))?,
    })
}

/// A row of `hazards` as a record, with its linked alerts.
pub fn hazard_record(
    row: &impl DecodeRow,
    alerts: Vec<i64>,
) -> Result<crate::HazardRecord, crate::StoreError> {
    let hazard: String = row.text("hazard").map_err(database_error)?;
    Ok(crate::HazardRecord {
        id: row.integer("id").map_err(database_error)?,
        deployment: crate::DeploymentId(row.integer("deployment_id").map_err(database_error)?),
        revision: row.integer("revision").map_err(database_error)?,
        hazard: serde_json::from_str(&hazard)
            .map_err(|error| crate::StoreError::corrupt("hazard", error))?,
        updated_by: row.text("updated_by").map_err(database_error)?,
        updated_at: crate::rows::timestamp(
            "hazard time",
            &row.text("updated_at").map_err(database_error)?,
        )?,
        audit_sequence: u64::try_from(row.integer("audit_sequence").map_err(database_error)?)
            .map_err(|error| crate::StoreError::corrupt("audit sequence", error))?,
        alerts,
    })
}

/// A row of `hazard_history` as a revision.
pub fn hazard_revision(row: &impl DecodeRow) -> Result<crate::HazardRevision, crate::StoreError> {
    let hazard: String = row.text("hazard").map_err(database_error)?;
    Ok(crate::HazardRevision {
        hazard_id: row.integer("hazard_id").map_err(database_error)?,
        revision: row.integer("revision").map_err(database_error)?,
        hazard: serde_json::from_str(&hazard)
            .map_err(|error| crate::StoreError::corrupt("hazard revision", error))?,
        reason: row.text("reason").map_err(database_error)?,
        alert: row.optional_integer("alert_id").map_err(database_error)?,
        recorded_by: row.text("recorded_by").map_err(database_error)?,
        recorded_at: crate::rows::timestamp(
            "hazard revision time",
            &row.text("recorded_at").map_err(database_error)?,
        )?,
        audit_sequence: u64::try_from(row.integer("audit_sequence").map_err(database_error)?)
            .map_err(|error| crate::StoreError::corrupt("audit sequence", error))?,
    })
}

/// A row of `safety_case_signatures`.
pub fn safety_case_signature(
    row: &impl DecodeRow,
) -> Result<crate::SafetyCaseSignature, crate::StoreError> {
    Ok(crate::SafetyCaseSignature {
        id: row.integer("id").map_err(database_error)?,
        deployment: crate::DeploymentId(row.integer("deployment_id").map_err(database_error)?),
        log_sha256: row.text("log_sha256").map_err(database_error)?,
        report_sha256: row.text("report_sha256").map_err(database_error)?,
        statement: row.text("statement").map_err(database_error)?,
        signed_by: row.text("signed_by").map_err(database_error)?,
        role: row.text("role").map_err(database_error)?,
        signed_at: crate::rows::timestamp(
            "signature time",
            &row.text("signed_at").map_err(database_error)?,
        )?,
        audit_sequence: u64::try_from(row.integer("audit_sequence").map_err(database_error)?)
            .map_err(|error| crate::StoreError::corrupt("audit sequence", error))?,
    })
}

/// A row of `procurement_assessments`.
pub fn assessment_record(
    row: &impl DecodeRow,
) -> Result<crate::AssessmentRecord, crate::StoreError> {
    let template_toml = row.text("template").map_err(database_error)?;
    let answers = row.text("answers").map_err(database_error)?;
    let moment = |column: &str| -> Result<jiff::Timestamp, crate::StoreError> {
        crate::rows::timestamp(
            "assessment time",
            &row.text(column).map_err(database_error)?,
        )
    };
    Ok(crate::AssessmentRecord {
        id: row.integer("id").map_err(database_error)?,
        version: crate::VersionId(row.integer("version_id").map_err(database_error)?),
        organisation: row.text("organisation").map_err(database_error)?,
        template: vigil_domain::procurement::Template::from_toml(&template_toml)
            .map_err(|error| crate::StoreError::corrupt("assessment template", error))?,
        template_toml,
        answers: serde_json::from_str(&answers)
            .map_err(|error| crate::StoreError::corrupt("assessment answers", error))?,
        state: row.text("state").map_err(database_error)?,
        outcome: row.optional_text("outcome").map_err(database_error)?,
        total_percent: row.optional_real("total_percent").map_err(database_error)?,
        revision: row.integer("revision").map_err(database_error)?,
        created_by: row.text("created_by").map_err(database_error)?,
        created_at: moment("created_at")?,
        updated_by: row.text("updated_by").map_err(database_error)?,
        updated_at: moment("updated_at")?,
        audit_sequence: u64::try_from(row.integer("audit_sequence").map_err(database_error)?)
            .map_err(|error| crate::StoreError::corrupt("audit sequence", error))?,
    })
}

/// A row of `attachments`, without its content.
pub fn attachment_record(
    row: &impl DecodeRow,
) -> Result<crate::AttachmentRecord, crate::StoreError> {
    Ok(crate::AttachmentRecord {
        organisation: row.text("organisation").map_err(database_error)?,
        sha256: row.text("sha256").map_err(database_error)?,
        media_type: row.text("media_type").map_err(database_error)?,
        size_bytes: row.integer("size_bytes").map_err(database_error)?,
        uploaded_by: row.text("uploaded_by").map_err(database_error)?,
        uploaded_at: crate::rows::timestamp(
            "attachment time",
            &row.text("uploaded_at").map_err(database_error)?,
        )?,
    })
}

/// A row of `alerts` as a record.
pub fn alert_record(row: &impl DecodeRow) -> Result<crate::AlertRecord, crate::StoreError> {
    let text = |column: &str| row.text(column).map_err(database_error);
    let optional = |column: &str| row.optional_text(column).map_err(database_error);
    let moment = |what: &'static str, value: Option<String>| {
        value
            .map(|value| crate::rows::timestamp(what, &value))
            .transpose()
    };
    let state = text("state")?;
    let evidence = text("evidence")?;
    Ok(crate::AlertRecord {
        id: row.integer("id").map_err(database_error)?,
        deployment: crate::DeploymentId(row.integer("deployment_id").map_err(database_error)?),
        rule: text("rule_id")?,
        rules_version: row.integer("rules_version").map_err(database_error)?,
        state: crate::AlertState::parse(&state)
            .ok_or_else(|| crate::StoreError::corrupt("alert state", state))?,
        assessment: serde_json::from_str(&evidence)
            .map_err(|error| crate::StoreError::corrupt("alert evidence", error))?,
        proposes_suspension: row.integer("proposes_suspension").map_err(database_error)? == 1,
        raised_at: crate::rows::timestamp("alert time", &text("raised_at")?)?,
        raised_by: text("raised_by")?,
        acknowledged_at: moment("alert time", optional("acknowledged_at")?)?,
        acknowledged_by: optional("acknowledged_by")?,
        acknowledgement: optional("acknowledgement")?,
        resolved_at: moment("alert time", optional("resolved_at")?)?,
        resolved_by: optional("resolved_by")?,
        resolution: optional("resolution")?,
    })
}
