//! The DIMSE listener's work on the store: each received instance is read
//! and routed by `vigil-dicom`, its event ingested into its deployment, and
//! the instance recorded (by its pseudonyms) with what became of it.
//!
//! An instance answered with success is on disk: its event (if any) and its
//! record were each committed before the C-STORE response is sent. A failure
//! on this side answers 0x0110 (processing failure) so that the sender
//! retries; resending is safe, since events and records are idempotent.

use std::net::TcpListener;
use std::sync::Arc;

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use vigil_dicom::scp::{Caller, StoreHandler, StoreRequest, StoreStatus};
use vigil_dicom::{Arrival, Disposition, ReadLimits, Received};
use vigil_domain::{Code, IdentifierKind, NonEmptyText, OrganisationTree, Role, pseudonymise};
use vigil_store::{
    Actor, ChangeContext, DeploymentId, DicomDisposition, DicomInstanceQuery, DicomInstanceRecord,
    Store, StoreError,
};

use crate::config::{DicomConfig, TrustKey};

/// Starts the listener on its own threads; it runs as long as the process.
pub fn start<S: Store + Clone + 'static>(
    store: S,
    config: &DicomConfig,
    key: TrustKey,
) -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind(config.bind)?;
    let address = listener.local_addr()?;
    let handler = Arc::new(Receiver {
        store,
        runtime: tokio::runtime::Handle::current(),
        key,
        config: config.clone(),
    });
    let settings = Arc::new(config.settings.clone());
    std::thread::Builder::new()
        .name("vigil-dimse-listener".to_owned())
        .spawn(move || {
            if let Err(error) = vigil_dicom::scp::serve(listener, settings, handler) {
                tracing::error!(%error, "the DICOM listener stopped");
            }
        })?;
    tracing::info!(%address, ae_title = %config.settings.ae_title, "vigil is listening for DICOM");
    Ok(address)
}

/// What the listener's threads share.
struct Receiver<S> {
    store: S,
    runtime: tokio::runtime::Handle,
    key: TrustKey,
    config: DicomConfig,
}

impl<S: Store + Clone + 'static> StoreHandler for Receiver<S> {
    fn store(&self, request: StoreRequest<'_>) -> StoreStatus {
        let received_at = Timestamp::now();
        let arrival = Arrival {
            key: &self.key.0,
            zone: &self.config.time_zone,
            calling_ae_title: &request.caller.ae_title,
            received_at,
            limits: ReadLimits::default(),
        };
        let received = match vigil_dicom::receive_data_set(
            request.data_set,
            request.transfer_syntax,
            &self.config.routes,
            arrival,
        ) {
            Ok(received) => received,
            Err(error) => {
                // The reason names tags and attributes, never their values.
                tracing::warn!(calling = %request.caller.ae_title, %error, "a DICOM instance was refused");
                return StoreStatus::CannotUnderstand;
            }
        };
        let announced = pseudonymise(
            &self.key.0,
            IdentifierKind::DicomUid,
            request.sop_instance_uid,
        );
        if announced.as_ref().ok() != Some(&received.instance.sop_instance) {
            tracing::warn!(calling = %request.caller.ae_title, "a C-STORE named another SOP instance than its data set");
            return StoreStatus::DoesNotMatch;
        }
        let digest = hex::encode(Sha256::digest(request.data_set));
        let recorded = actor(request.caller).and_then(|actor| {
            self.runtime.block_on(record_received(
                &self.store,
                ChangeContext::at(actor, received_at),
                &request.caller.ae_title,
                received,
                &digest,
            ))
        });
        match recorded {
            Ok(_) => StoreStatus::Success,
            Err(error) => {
                tracing::error!(calling = %request.caller.ae_title, %error, "a DICOM instance could not be stored");
                StoreStatus::ProcessingFailure
            }
        }
    }
}

/// The actor of the listener's changes: `dicom:` and the caller's AE
/// title, in the AI lead role at the caller's Trust.
fn actor(caller: &Caller) -> Result<Actor, StoreError> {
    Ok(Actor {
        name: NonEmptyText::parse(&format!("dicom:{}", caller.ae_title))
            .map_err(StoreError::from)?,
        role: Role::AiLead,
        organisation: Code::parse(&caller.trust).map_err(StoreError::from)?,
    })
}

/// Ingests a received instance's event (if routed to a deployment of the
/// actor's Trust, `context.actor.organisation`) and records the instance;
/// returns what became of it. `calling` names the sender (an AE title, or
/// the DICOMweb client).
pub(crate) async fn record_received<S: Store>(
    store: &S,
    context: ChangeContext,
    calling: &str,
    received: Received,
    digest: &str,
) -> Result<DicomDisposition, StoreError> {
    let trust = context.actor.organisation.clone();
    let instance = received.instance;
    let disposition = match received.disposition {
        Disposition::Acquisition => DicomDisposition::Acquisition {
            metadata: instance.acquisition.clone(),
        },
        Disposition::Quarantine { reason } => DicomDisposition::Quarantined { reason },
        Disposition::Event { deployment, event } => {
            let deployment = DeploymentId(deployment);
            match deploying_trust(store, deployment).await? {
                Some(owner) if owner == trust => {
                    let mut event = *event;
                    complete_metadata(store, &trust, &instance.study, &mut event.metadata).await?;
                    match store
                        .ingest_events(&context, deployment, std::slice::from_ref(&event), digest)
                        .await
                    {
                        Ok(_) => DicomDisposition::Event { deployment },
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
    let record = DicomInstanceRecord {
        id: 0,
        trust,
        sop_instance: instance.sop_instance,
        sop_class_uid: instance.sop_class_uid,
        kind: instance.kind.as_str().to_owned(),
        study: instance.study,
        series: instance.series,
        accession: instance.accession,
        modality: instance.modality,
        calling_ae: calling.to_owned(),
        received_at: context.at,
        disposition,
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
