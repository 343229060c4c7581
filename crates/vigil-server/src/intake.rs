//! What arrives from the hospital's systems, stored: received DICOM
//! instances (from the DIMSE listener and STOW-RS) and outcomes read from
//! reports (FHIR and HL7 v2). Every path checks that a route's deployment
//! belongs to the sender's Trust.

use std::collections::BTreeMap;

use vigil_dicom::{Disposition, Received};
use vigil_domain::{Code, OrganisationTree};
use vigil_store::{
    ChangeContext, DeploymentId, DicomDisposition, DicomInstanceQuery, DicomInstanceRecord, Store,
    StoreError,
};

/// Ingests a received instance's event (if routed to a deployment of the
/// actor's Trust, `context.actor.organisation`) and records the instance;
/// returns what became of it. `calling` names the sender (an AE title, or
/// the DICOMweb client); `original` is the SHA-256 of its kept original
/// file, if one was kept.
pub(crate) async fn record_received<S: Store>(
    store: &S,
    context: ChangeContext,
    calling: &str,
    received: Received,
    digest: &str,
    original: Option<String>,
) -> Result<DicomDisposition, StoreError> {
    let trust = context.actor.organisation.clone();
    let instance = received.instance;
    let mut record = DicomInstanceRecord {
        id: 0,
        trust: trust.clone(),
        sop_instance: instance.sop_instance,
        sop_class_uid: instance.sop_class_uid,
        kind: instance.kind.as_str().to_owned(),
        study: instance.study,
        series: instance.series,
        accession: instance.accession,
        modality: instance.modality,
        calling_ae: calling.to_owned(),
        received_at: context.at,
        disposition: DicomDisposition::Quarantined {
            reason: String::new(),
        },
        original_sha256: original,
    };
    record.disposition = match received.disposition {
        Disposition::Acquisition => DicomDisposition::Acquisition {
            metadata: instance.acquisition,
        },
        Disposition::Quarantine { reason } => DicomDisposition::Quarantined { reason },
        Disposition::Event { deployment, event } => {
            let deployment = DeploymentId(deployment);
            match deploying_trust(store, deployment).await? {
                Some(owner) if owner == trust => {
                    let mut event = *event;
                    complete_metadata(store, &trust, &record.study, &mut event.metadata).await?;
                    record.disposition = DicomDisposition::Event { deployment };
                    // The event and the record in one transaction.
                    match store
                        .record_dicom_result(&context, deployment, &event, digest, &record)
                        .await
                    {
                        Ok(_) => return Ok(record.disposition),
                        Err(StoreError::Conflict(_)) => DicomDisposition::Quarantined {
                            reason: format!(
                                "deployment {}: this SOP instance was stored before with other content",
                                deployment.0
                            ),
                        },
                        Err(error) => return Err(error),
                    }
                }
                _ => DicomDisposition::Quarantined {
                    reason: format!(
                        "deployment {} is not one of {trust}'s deployments",
                        deployment.0
                    ),
                },
            }
        }
    };
    store.record_dicom_instance(&context, &record).await?;
    Ok(record.disposition)
}

/// The Trust that runs a deployment; `None` when there is no such
/// deployment.
pub(crate) async fn deploying_trust<S: Store>(
    store: &S,
    deployment: DeploymentId,
) -> Result<Option<Code>, StoreError> {
    let record = match store.deployment(deployment).await {
        Ok(record) => record,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(error) => return Err(error),
    };
    let tree = OrganisationTree::new(store.organisations().await?)
        .map_err(|error| StoreError::corrupt("organisation tree", error))?;
    Ok(vigil_store::governance::deploying_trust(&tree, &record.deployment.site).ok())
}

/// Fills a result's missing scanner, protocol and acquisition fields from
/// the latest image of the same study the Trust has sent.
async fn complete_metadata<S: Store>(
    store: &S,
    trust: &Code,
    study: &vigil_domain::Pseudonym,
    metadata: &mut vigil_monitor::Metadata,
) -> Result<(), StoreError> {
    let images = store
        .dicom_instances(&DicomInstanceQuery {
            trusts: Some(vec![trust.as_str().to_owned()]),
            disposition: Some("acquisition".to_owned()),
            study: Some(study.as_str().to_owned()),
            before_id: None,
            limit: 1,
        })
        .await?;
    let Some(DicomDisposition::Acquisition { metadata: image }) =
        images.into_iter().next().map(|record| record.disposition)
    else {
        return Ok(());
    };
    metadata.scanner_manufacturer = metadata
        .scanner_manufacturer
        .take()
        .or(image.scanner_manufacturer);
    metadata.scanner_model = metadata.scanner_model.take().or(image.scanner_model);
    metadata.protocol = metadata.protocol.take().or(image.protocol);
    metadata.slice_thickness_mm = metadata.slice_thickness_mm.or(image.slice_thickness_mm);
    metadata.kvp = metadata.kvp.or(image.kvp);
    metadata.age_band = metadata.age_band.take().or(image.age_band);
    metadata.sex = metadata.sex.or(image.sex);
    Ok(())
}

/// What became of one report (an entry of a FHIR Bundle, an OBR group of
/// an HL7 message): recorded, or why not.
pub(crate) type ReportOutcome = (String, Result<(), String>);

/// One report by name, with the outcomes it gives each deployment or the
/// reason it gives none.
pub(crate) type ReportReading = (String, Result<Vec<(i64, vigil_monitor::Outcome)>, String>);

/// Stores the outcomes read from reports, all or nothing per deployment
/// (as a batch of `POST …/outcomes`), for deployments of the sender's Trust
/// (`context.actor.organisation`). `readings` pairs each report's name with
/// its outcomes or the reason it has none; the answer names each report.
pub(crate) async fn store_outcomes<S: Store>(
    store: &S,
    context: &ChangeContext,
    readings: Vec<ReportReading>,
    digest: &str,
) -> Result<Vec<ReportOutcome>, StoreError> {
    let trust = &context.actor.organisation;
    let mut by_deployment: BTreeMap<i64, (Vec<vigil_monitor::Outcome>, Vec<String>)> =
        BTreeMap::new();
    let mut answers = Vec::new();
    for (name, result) in readings {
        match result {
            Ok(outcomes) => {
                for (deployment, outcome) in outcomes {
                    let slot = by_deployment.entry(deployment).or_default();
                    slot.0.push(outcome);
                    slot.1.push(name.clone());
                }
            }
            Err(reason) => answers.push((name, Err(reason))),
        }
    }
    for (deployment, (outcomes, names)) in by_deployment {
        let owner = deploying_trust(store, DeploymentId(deployment)).await?;
        let outcome = if owner.as_ref() != Some(trust) {
            Err(format!(
                "deployment {deployment} is not one of {trust}'s deployments"
            ))
        } else {
            match store
                .ingest_outcomes(context, DeploymentId(deployment), &outcomes, digest)
                .await
            {
                Ok(_) => Ok(()),
                Err(error @ (StoreError::Conflict(_) | StoreError::InvalidReference(_))) => {
                    Err(format!("deployment {deployment}: {error}"))
                }
                Err(error) => return Err(error),
            }
        };
        answers.extend(names.into_iter().map(|name| (name, outcome.clone())));
    }
    Ok(answers)
}

/// Keeps an original file when the configuration says so; `Ok(None)` when
/// it is not kept (not configured, too large, or the store is full, each
/// logged), an error when the disk failed (the sender should try again).
pub(crate) fn keep_original(
    originals: Option<&vigil_dicom::originals::Originals>,
    keep: impl FnOnce(
        &vigil_dicom::originals::Originals,
    )
        -> Result<vigil_dicom::originals::Kept, vigil_dicom::originals::OriginalsError>,
) -> Result<Option<String>, vigil_dicom::originals::OriginalsError> {
    use vigil_dicom::originals::Kept;
    let Some(originals) = originals else {
        return Ok(None);
    };
    let kept = keep(originals)?;
    match &kept {
        Kept::TooLarge { bytes } => {
            tracing::warn!(
                bytes,
                "an original file was not kept: larger than dicom.originals.max_file_megabytes"
            );
        }
        Kept::Full => {
            tracing::warn!(
                "an original file was not kept: the store has reached dicom.originals.max_total_gigabytes"
            );
        }
        Kept::Stored { .. } | Kept::AlreadyKept { .. } => {}
    }
    Ok(kept.sha256().map(str::to_owned))
}
