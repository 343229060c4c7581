//! DICOM objects from the hospital network, read into what monitoring
//! keeps.
//!
//! AI tools in imaging and radiotherapy deliver their results as DICOM
//! objects (structured reports, segmentations, RT structure sets), pushed
//! over DIMSE or DICOMweb; the images they were made from carry the
//! acquisition metadata that drift monitoring compares. This crate turns
//! the bytes of one object into an [`Instance`] (identifiers pseudonymised
//! on arrival, equipment, metadata) and a [`Disposition`] (an inference
//! event of a deployment, an image's metadata, or quarantine with the
//! reason), and provides the DIMSE service class provider ([`scp`]) that
//! receives them.
//!
//! # Hostile input
//!
//! Every declared element length is checked against the bytes, sequence
//! nesting is bounded ([`MAX_NESTING`]) and deflated data sets are inflated
//! to a bounded size before the DICOM parser sees anything (module
//! [`read`]); every failure is an error naming what is wrong, never a
//! panic.
//!
//! Original files are kept only where the server is configured to, in the
//! content-addressed store of [`originals`].

pub mod attributes;
pub mod instance;
pub mod mapping;
pub mod multipart;
pub mod originals;
mod preflight;
pub mod read;
pub mod scp;
pub mod sr;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use vigil_domain::PseudonymKey;

pub use instance::{Equipment, Instance, InstanceError, InstanceKind};
pub use mapping::{Disposition, Route, RouteError, Routes};
pub use preflight::MAX_NESTING;
pub use read::{Object, ReadError, ReadLimits, parse_data_set, parse_part10};

/// Why a received object was refused outright (it is not kept, and the
/// sender is told).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiveError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Instance(#[from] InstanceError),
}

/// One received object, read and routed.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub instance: Instance,
    pub disposition: Disposition,
}

/// Where a received object came from and how to read it.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    /// The Trust's pseudonymisation key.
    pub key: &'a PseudonymKey,
    /// The zone of local DICOM dates and times without an offset.
    pub zone: &'a TimeZone,
    /// The caller's AE title (DIMSE), or the DICOMweb client's name.
    pub calling_ae_title: &'a str,
    pub received_at: Timestamp,
    pub limits: ReadLimits,
}

/// Reads a bare data set in its negotiated transfer syntax (DIMSE) and
/// routes it.
pub fn receive_data_set(
    bytes: &[u8],
    transfer_syntax: &str,
    routes: &Routes,
    arrival: Arrival<'_>,
) -> Result<Received, ReceiveError> {
    let object = parse_data_set(bytes, transfer_syntax, arrival.limits, true)?;
    receive_object(&object, routes, arrival)
}

/// Reads a Part 10 file (DICOMweb, a folder) and routes it.
pub fn receive_part10(
    bytes: &[u8],
    routes: &Routes,
    arrival: Arrival<'_>,
) -> Result<Received, ReceiveError> {
    let file = parse_part10(bytes, arrival.limits, true)?;
    receive_object(&file.data_set, routes, arrival)
}

/// Reads an object already parsed and routes it.
pub fn receive_object(
    object: &Object,
    routes: &Routes,
    arrival: Arrival<'_>,
) -> Result<Received, ReceiveError> {
    let instance = Instance::read(object, arrival.key, arrival.zone)?;
    let disposition = routes.route(
        &instance,
        object,
        arrival.calling_ae_title,
        arrival.received_at,
    );
    Ok(Received {
        instance,
        disposition,
    })
}
