//! The DIMSE service class provider: C-ECHO and C-STORE over DICOM upper
//! layer associations (dicom-ul), one thread an association.
//!
//! Who may call is an allow-list: a calling AE title together with the
//! addresses it may call from, and the Trust it stores into. An unknown
//! title, a known title from another address, or a called AE title other
//! than this listener's is rejected during association negotiation. Every
//! abstract syntax is accepted (a storage SCP cannot know every vendor's
//! class), with every transfer syntax the registry reads (deflated ones are
//! inflated with a bound by [`crate::read`]).
//!
//! Resources are bounded: at most [`ScpSettings::max_associations`] at
//! once (beyond that an association is rejected as transient, local limit
//! exceeded, and the caller retries later), an instance of at most
//! [`ScpSettings::max_instance_bytes`], and at most
//! [`ScpSettings::max_buffered_bytes`] of data held across all
//! associations; an association that would exceed either is aborted.
//! Commands split over several PDVs and PDUs are reassembled.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;
use dicom_ul::association::server::AccessControl;
use dicom_ul::association::{Association, SyncAssociation};
use dicom_ul::pdu::{
    AbortRQServiceProviderReason, AbortRQSource, AssociationRJ, AssociationRJResult,
    AssociationRJServiceProviderPresentationReason, AssociationRJServiceUserReason,
    AssociationRJSource, PDataValue, PDataValueType, PresentationContextResultReason, UserIdentity,
};
use dicom_ul::{Pdu, ServerAssociationOptions};

use crate::attributes::text;

/// The Verification SOP class (C-ECHO).
pub const VERIFICATION_CLASS: &str = "1.2.840.10008.1.1";

const C_STORE_RQ: u16 = 0x0001;
const C_ECHO_RQ: u16 = 0x0030;
const RESPONSE_BIT: u16 = 0x8000;
const NO_DATA_SET: u16 = 0x0101;

/// A caller allowed to associate: its AE title, the addresses it may call
/// from, and the Trust whose data it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedCaller {
    /// Compared without padding; case matters, as in DICOM.
    pub ae_title: String,
    pub hosts: Vec<IpAddr>,
    /// The Trust's organisation code.
    pub trust: String,
}

/// How the listener behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpSettings {
    /// This listener's AE title, which callers must call.
    pub ae_title: String,
    pub callers: Vec<AllowedCaller>,
    pub max_associations: usize,
    pub max_instance_bytes: usize,
    pub max_buffered_bytes: usize,
    /// An association silent for this long is closed.
    pub idle_timeout: Duration,
    /// The largest PDU this listener accepts.
    pub max_pdu_length: u32,
}

impl ScpSettings {
    /// Settings with the defaults: 32 associations, 256 MiB an instance,
    /// 1 GiB buffered, 60 s idle, 64 KiB PDUs.
    pub fn new(ae_title: impl Into<String>, callers: Vec<AllowedCaller>) -> ScpSettings {
        ScpSettings {
            ae_title: ae_title.into(),
            callers,
            max_associations: 32,
            max_instance_bytes: 256 << 20,
            max_buffered_bytes: 1 << 30,
            idle_timeout: Duration::from_secs(60),
            max_pdu_length: 65_536,
        }
    }

    /// The allowed caller with this title at this address.
    pub fn caller(&self, ae_title: &str, address: IpAddr) -> Option<&AllowedCaller> {
        let title = ae_title.trim_matches([' ', '\0']);
        self.callers
            .iter()
            .find(|caller| caller.ae_title == title && caller.hosts.contains(&address))
    }
}

/// Who sent an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub ae_title: String,
    pub address: SocketAddr,
    /// The Trust's organisation code.
    pub trust: String,
}

/// One C-STORE request with its data set.
#[derive(Debug)]
pub struct StoreRequest<'a> {
    pub caller: &'a Caller,
    pub sop_class_uid: &'a str,
    pub sop_instance_uid: &'a str,
    pub transfer_syntax: &'a str,
    pub data_set: &'a [u8],
}

/// The outcome of a C-STORE, as its DIMSE status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreStatus {
    /// Stored (the instance is on disk: as an event, metadata, or in
    /// quarantine).
    Success,
    /// Refused: out of resources (0xA700); the caller may retry.
    OutOfResources,
    /// The data set cannot be read (0xC000).
    CannotUnderstand,
    /// The data set does not match its SOP class or instance (0xA900).
    DoesNotMatch,
    /// Something failed on this side (0x0110); the caller may retry.
    ProcessingFailure,
}

impl StoreStatus {
    /// The DIMSE status code.
    pub fn code(&self) -> u16 {
        match self {
            StoreStatus::Success => 0x0000,
            StoreStatus::OutOfResources => 0xA700,
            StoreStatus::CannotUnderstand => 0xC000,
            StoreStatus::DoesNotMatch => 0xA900,
            StoreStatus::ProcessingFailure => 0x0110,
        }
    }
}

/// What the listener does with received instances.
pub trait StoreHandler: Send + Sync + 'static {
    /// Takes one instance. A success must mean the instance is durable.
    fn store(&self, request: StoreRequest<'_>) -> StoreStatus;
}

/// Accepts associations until the listener fails; each association runs on
/// its own thread.
pub fn serve(
    listener: TcpListener,
    settings: Arc<ScpSettings>,
    handler: Arc<dyn StoreHandler>,
) -> std::io::Result<()> {
    let open = Arc::new(AtomicUsize::new(0));
    let buffered = Arc::new(AtomicUsize::new(0));
    loop {
        let (socket, address) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) if is_transient(&error) => {
                tracing::warn!(%error, "a DICOM connection could not be accepted");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(error) => return Err(error),
        };
        // DIMSE is request and response: a response held back by Nagle's
        // algorithm waits for the peer's delayed acknowledgement (40 ms
        // an instance on Linux).
        if let Err(error) = socket.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY could not be set");
        }
        if open.fetch_add(1, Ordering::AcqRel) >= settings.max_associations {
            open.fetch_sub(1, Ordering::AcqRel);
            tracing::warn!(%address, limit = settings.max_associations, "DICOM association refused: too many at once");
            reject_busy(socket);
            continue;
        }
        let settings = Arc::clone(&settings);
        let handler = Arc::clone(&handler);
        let open = Arc::clone(&open);
        let buffered = Arc::clone(&buffered);
        let spawned = std::thread::Builder::new()
            .name("vigil-dimse".to_owned())
            .spawn(move || {
                let _release = Release(&open);
                associate(socket, address, &settings, handler.as_ref(), &buffered);
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "no thread for a DICOM association");
        }
    }
}

/// Decrements the count of open associations when dropped.
struct Release<'a>(&'a AtomicUsize);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | TimedOut
    ) || error.raw_os_error() == Some(24) // EMFILE: too many open files
}

/// Answers an association request beyond the limit with a transient
/// rejection.
fn reject_busy(mut socket: TcpStream) {
    let _ = socket.set_write_timeout(Some(Duration::from_secs(5)));
    let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
    // The request is read (and discarded) first, so the caller sees the
    // rejection rather than a reset.
    let mut request = [0u8; 16_384];
    let _ = std::io::Read::read(&mut socket, &mut request);
    let rejection = Pdu::AssociationRJ(AssociationRJ {
        result: AssociationRJResult::Transient,
        source: AssociationRJSource::ServiceProviderPresentation(
            AssociationRJServiceProviderPresentationReason::LocalLimitExceeded,
        ),
    });
    let mut bytes = Vec::new();
    if dicom_ul::write_pdu(&mut bytes, &rejection).is_ok() {
        let _ = socket.write_all(&bytes);
    }
}

/// The allow-list check made during negotiation.
struct AllowList<'a> {
    settings: &'a ScpSettings,
    peer: IpAddr,
}

impl AccessControl for AllowList<'_> {
    fn check_access(
        &self,
        _this_ae_title: &str,
        calling_ae_title: &str,
        called_ae_title: &str,
        _user_identity: Option<&UserIdentity>,
    ) -> Result<(), AssociationRJServiceUserReason> {
        if called_ae_title.trim_matches([' ', '\0']) != self.settings.ae_title {
            return Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized);
        }
        if self.settings.caller(calling_ae_title, self.peer).is_none() {
            return Err(AssociationRJServiceUserReason::CallingAETitleNotRecognized);
        }
        Ok(())
    }
}

/// A message being received: its command, then its data set.
#[derive(Default)]
struct Incoming {
    context: u8,
    command: Vec<u8>,
    parsed: Option<Command>,
    data: Vec<u8>,
}

/// The fields of a request command this listener reads.
#[derive(Debug, Clone)]
struct Command {
    field: u16,
    message_id: u16,
    sop_class_uid: String,
    sop_instance_uid: String,
    has_data_set: bool,
}

/// Runs one association to its end.
fn associate(
    socket: TcpStream,
    address: SocketAddr,
    settings: &ScpSettings,
    handler: &dyn StoreHandler,
    buffered: &AtomicUsize,
) {
    let options = ServerAssociationOptions::new()
        .ae_access_control(AllowList {
            settings,
            peer: address.ip(),
        })
        .ae_title(settings.ae_title.as_str())
        .with_abstract_syntax(VERIFICATION_CLASS)
        .promiscuous(true)
        .max_pdu_length(settings.max_pdu_length)
        .read_timeout(settings.idle_timeout)
        .write_timeout(settings.idle_timeout);
    let mut association = match options.establish(socket) {
        Ok(association) => association,
        Err(error) => {
            tracing::warn!(%address, %error, "DICOM association not established");
            return;
        }
    };
    let calling = association
        .peer_ae_title()
        .trim_matches([' ', '\0'])
        .to_owned();
    let Some(allowed) = settings.caller(&calling, address.ip()) else {
        let _ = association.abort();
        return;
    };
    let caller = Caller {
        ae_title: calling,
        address,
        trust: allowed.trust.clone(),
    };
    tracing::info!(%address, calling = %caller.ae_title, trust = %caller.trust, "DICOM association established");
    let mut incoming = Incoming::default();
    let mut held = Held { buffered, bytes: 0 };
    loop {
        let pdu = match association.receive() {
            Ok(pdu) => pdu,
            Err(error) => {
                tracing::warn!(%address, %error, "DICOM association ended abnormally");
                return;
            }
        };
        match pdu {
            Pdu::PData { data } => {
                for value in data {
                    match take(&mut incoming, value, settings, &mut held) {
                        Ok(Some(reply)) => {
                            let outcome =
                                answer(&mut association, &incoming, reply, &caller, handler);
                            incoming = Incoming::default();
                            held.release();
                            if let Err(error) = outcome {
                                tracing::warn!(%address, %error, "a DIMSE response could not be sent");
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(reason) => {
                            tracing::warn!(%address, calling = %caller.ae_title, %reason, "DICOM association aborted");
                            let _ = association.send(&Pdu::AbortRQ {
                                source: AbortRQSource::ServiceProvider(
                                    AbortRQServiceProviderReason::ReasonNotSpecified,
                                ),
                            });
                            return;
                        }
                    }
                }
            }
            Pdu::ReleaseRQ => {
                let _ = association.send(&Pdu::ReleaseRP);
                tracing::info!(%address, calling = %caller.ae_title, "DICOM association released");
                return;
            }
            Pdu::AbortRQ { .. } => {
                tracing::info!(%address, calling = %caller.ae_title, "DICOM association aborted by the caller");
                return;
            }
            other => {
                tracing::warn!(%address, pdu = %other.short_description(), "unexpected PDU; aborting");
                let _ = association.send(&Pdu::AbortRQ {
                    source: AbortRQSource::ServiceProvider(
                        AbortRQServiceProviderReason::UnexpectedPdu,
                    ),
                });
                return;
            }
        }
    }
}

/// The bytes of data one association holds against the shared budget.
struct Held<'a> {
    buffered: &'a AtomicUsize,
    bytes: usize,
}

impl Held<'_> {
    fn reserve(&mut self, more: usize, limit: usize) -> bool {
        let before = self.buffered.fetch_add(more, Ordering::AcqRel);
        if before + more > limit {
            self.buffered.fetch_sub(more, Ordering::AcqRel);
            return false;
        }
        self.bytes += more;
        true
    }

    fn release(&mut self) {
        self.buffered.fetch_sub(self.bytes, Ordering::AcqRel);
        self.bytes = 0;
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

/// What to answer once a message is complete.
enum Reply {
    Echo,
    Store,
    Unsupported,
}

/// Adds one PDV to the message being received; returns the reply due when
/// the message is complete, or why the association must be aborted.
fn take(
    incoming: &mut Incoming,
    value: PDataValue,
    settings: &ScpSettings,
    held: &mut Held<'_>,
) -> Result<Option<Reply>, String> {
    if incoming.command.is_empty() && incoming.parsed.is_none() {
        incoming.context = value.presentation_context_id;
    } else if value.presentation_context_id != incoming.context {
        return Err("a message switched presentation context midway".to_owned());
    }
    match value.value_type {
        PDataValueType::Command => {
            if incoming.parsed.is_some() {
                return Err("a command arrived while a data set was awaited".to_owned());
            }
            if incoming.command.len() + value.data.len() > 64 * 1024 {
                return Err("a command set larger than 64 KiB".to_owned());
            }
            incoming.command.extend_from_slice(&value.data);
            if !value.is_last {
                return Ok(None);
            }
            let command = parse_command(&incoming.command)?;
            let reply = match command.field {
                C_ECHO_RQ => Some(Reply::Echo),
                C_STORE_RQ if command.has_data_set => None,
                C_STORE_RQ => return Err("a C-STORE request without a data set".to_owned()),
                _ if command.has_data_set => None,
                _ => Some(Reply::Unsupported),
            };
            incoming.parsed = Some(command);
            Ok(reply)
        }
        PDataValueType::Data => {
            let Some(command) = &incoming.parsed else {
                return Err("a data set arrived before its command".to_owned());
            };
            let size = incoming.data.len() + value.data.len();
            if size > settings.max_instance_bytes {
                return Err(format!(
                    "an instance larger than {} bytes",
                    settings.max_instance_bytes
                ));
            }
            if !held.reserve(value.data.len(), settings.max_buffered_bytes) {
                return Err("the listener holds as much data as it may; try again later".to_owned());
            }
            incoming.data.extend_from_slice(&value.data);
            if !value.is_last {
                return Ok(None);
            }
            Ok(Some(if command.field == C_STORE_RQ {
                Reply::Store
            } else {
                Reply::Unsupported
            }))
        }
    }
}

fn parse_command(bytes: &[u8]) -> Result<Command, String> {
    let object = InMemDicomObject::read_dataset_with_ts(bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .map_err(|error| format!("an unreadable command set: {error}"))?;
    let unsigned = |tag: Tag| {
        object
            .get(tag)
            .and_then(|element| element.to_int::<u16>().ok())
    };
    let field = unsigned(tags::COMMAND_FIELD).ok_or("a command without a CommandField")?;
    Ok(Command {
        field,
        message_id: unsigned(tags::MESSAGE_ID).unwrap_or(0),
        sop_class_uid: text(&object, tags::AFFECTED_SOP_CLASS_UID).unwrap_or_default(),
        sop_instance_uid: text(&object, tags::AFFECTED_SOP_INSTANCE_UID).unwrap_or_default(),
        has_data_set: unsigned(tags::COMMAND_DATA_SET_TYPE).is_some_and(|kind| kind != NO_DATA_SET),
    })
}

/// Handles a complete message and sends its response.
fn answer<S>(
    association: &mut S,
    incoming: &Incoming,
    reply: Reply,
    caller: &Caller,
    handler: &dyn StoreHandler,
) -> Result<(), String>
where
    S: SyncAssociation<TcpStream> + Association,
{
    let Some(command) = &incoming.parsed else {
        return Err("no command".to_owned());
    };
    let status = match reply {
        Reply::Echo => 0x0000,
        Reply::Unsupported => 0x0211, // unrecognised operation
        Reply::Store => {
            let context = association
                .presentation_contexts()
                .iter()
                .find(|context| {
                    context.id == incoming.context
                        && context.reason == PresentationContextResultReason::Acceptance
                })
                .map(|context| context.transfer_syntax.clone());
            match context {
                None => StoreStatus::DoesNotMatch.code(),
                Some(transfer_syntax) => handler
                    .store(StoreRequest {
                        caller,
                        sop_class_uid: &command.sop_class_uid,
                        sop_instance_uid: &command.sop_instance_uid,
                        transfer_syntax: transfer_syntax.trim_end_matches(['\0', ' ']),
                        data_set: &incoming.data,
                    })
                    .code(),
            }
        }
    };
    let response = encode_response(command, status)?;
    SyncAssociation::send(
        association,
        &Pdu::PData {
            data: vec![PDataValue {
                presentation_context_id: incoming.context,
                value_type: PDataValueType::Command,
                is_last: true,
                data: response,
            }],
        },
    )
    .map_err(|error| error.to_string())
}

/// The response command set, implicit VR little endian.
fn encode_response(command: &Command, status: u16) -> Result<Vec<u8>, String> {
    let uid = |tag: Tag, value: &str| {
        let mut value = value.to_owned();
        if value.len() % 2 == 1 {
            value.push('\0');
        }
        DataElement::new(tag, VR::UI, PrimitiveValue::from(value))
    };
    let number = |tag: Tag, value: u16| DataElement::new(tag, VR::US, PrimitiveValue::from(value));
    let mut elements = vec![
        uid(tags::AFFECTED_SOP_CLASS_UID, &command.sop_class_uid),
        number(tags::COMMAND_FIELD, command.field | RESPONSE_BIT),
        number(tags::MESSAGE_ID_BEING_RESPONDED_TO, command.message_id),
        number(tags::COMMAND_DATA_SET_TYPE, NO_DATA_SET),
        number(tags::STATUS, status),
    ];
    if !command.sop_instance_uid.is_empty() {
        elements.push(uid(
            tags::AFFECTED_SOP_INSTANCE_UID,
            &command.sop_instance_uid,
        ));
    }
    let object = InMemDicomObject::command_from_element_iter(elements);
    let mut bytes = Vec::new();
    object
        .write_dataset_with_ts(&mut bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .map_err(|error| error.to_string())?;
    Ok(bytes)
}
