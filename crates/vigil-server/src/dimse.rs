//! The DIMSE listener's work on the store: each received instance is read
//! and routed by `vigil-dicom`, its event ingested into its deployment, and
//! the instance recorded (by its pseudonyms) with what became of it.
//!
//! An instance answered with success is on disk: its event (if any) and its
//! record were committed, in one transaction, before the C-STORE response
//! is sent. A failure
//! on this side answers 0x0110 (processing failure) so that the sender
//! retries; resending is safe, since events and records are idempotent.

use std::net::TcpListener;
use std::sync::Arc;

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use vigil_dicom::scp::{Caller, StoreHandler, StoreRequest, StoreStatus};
use vigil_dicom::{Arrival, ReadLimits};
use vigil_domain::{Code, IdentifierKind, NonEmptyText, Role, pseudonymise};
use vigil_store::{Actor, ChangeContext, Store, StoreError};

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
        let original =
            crate::intake::keep_original(self.config.originals.as_deref(), |originals| {
                originals.keep_data_set(
                    request.sop_class_uid,
                    request.sop_instance_uid,
                    request.transfer_syntax,
                    request.data_set,
                )
            });
        let original = match original {
            Ok(original) => original,
            Err(error) => {
                tracing::error!(calling = %request.caller.ae_title, %error, "a DICOM instance's original could not be kept");
                return StoreStatus::ProcessingFailure;
            }
        };
        let digest = hex::encode(Sha256::digest(request.data_set));
        let recorded = actor(request.caller).and_then(|actor| {
            self.runtime.block_on(crate::intake::record_received(
                &self.store,
                ChangeContext::at(actor, received_at),
                &request.caller.ae_title,
                received,
                &digest,
                original,
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
