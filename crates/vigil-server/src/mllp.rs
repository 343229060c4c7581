//! The HL7 v2 listener: MLLP over TCP (start block 0x0B, the message, end
//! block 0x1C and a carriage return), one ACK a message.
//!
//! Only the configured addresses (the Trust's integration engine) may
//! connect; their ORU^R01 results are read by `vigil_fhir::hl7` with the
//! report routes and stored as outcomes of the Trust's deployments. The ACK
//! is AA when every result was recorded, AE (with the reasons) when some
//! could not be, or could not be stored now (send again), and AR for
//! anything that is not an ORU^R01. A message longer than 1 MiB closes the
//! connection; at most 32 connections are served at once.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use vigil_domain::{NonEmptyText, ReportChannel, Role};
use vigil_fhir::hl7::{self, AckCode, Message};
use vigil_store::{Actor, ChangeContext, Store};

use crate::config::{Hl7Config, TrustKey};

/// The most connections served at once.
const MAX_CONNECTIONS: usize = 32;

/// How long a connection may stay silent.
const IDLE: Duration = Duration::from_secs(300);

/// What every connection shares.
struct Shared<S> {
    store: S,
    config: Hl7Config,
    key: TrustKey,
    routes: vigil_fhir::Routes,
}

/// Binds the listener and serves it on the runtime until the process ends.
pub async fn start<S: Store + Clone + 'static>(
    store: S,
    config: &Hl7Config,
    key: TrustKey,
    routes: vigil_fhir::Routes,
) -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind(config.bind).await?;
    let address = listener.local_addr()?;
    let shared = Arc::new(Shared {
        store,
        config: config.clone(),
        key,
        routes,
    });
    tokio::spawn(accept_loop(listener, shared));
    tracing::info!(%address, trust = %config.trust, "vigil is listening for HL7 v2 (MLLP)");
    Ok(address)
}

async fn accept_loop<S: Store + 'static>(listener: TcpListener, shared: Arc<Shared<S>>) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (socket, address) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "an HL7 connection could not be accepted");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if !shared.config.hosts.contains(&address.ip()) {
            tracing::warn!(%address, "HL7 connection refused: the address is not allowed");
            continue;
        }
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tracing::warn!(%address, "HL7 connection refused: too many at once");
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            if let Err(error) = serve_connection(socket, &shared).await {
                tracing::warn!(%address, %error, "HL7 connection ended");
            }
            drop(permit);
        });
    }
}

/// Reads framed messages and answers each with its ACK.
async fn serve_connection<S: Store>(
    mut socket: TcpStream,
    shared: &Shared<S>,
) -> std::io::Result<()> {
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        // A complete frame already buffered?
        if let Some(end) = pending.windows(2).position(|window| window == [0x1C, 0x0D]) {
            let frame: Vec<u8> = pending.drain(..end + 2).collect();
            let start = frame
                .iter()
                .position(|byte| *byte == 0x0B)
                .map_or(0, |at| at + 1);
            let message = &frame[start.min(end)..end];
            let answer = answer(message, shared).await;
            socket.write_all(&hl7::frame(&answer)).await?;
            continue;
        }
        if pending.len() > hl7::MAX_MESSAGE + 3 {
            return Err(std::io::Error::other("a message longer than 1 MiB"));
        }
        let read = tokio::time::timeout(IDLE, socket.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::other("idle"))??;
        if read == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&chunk[..read]);
    }
}

/// The ACK of one message, after storing what it says.
async fn answer<S: Store>(bytes: &[u8], shared: &Shared<S>) -> Vec<u8> {
    let now = Timestamp::now();
    let message = match Message::parse(bytes) {
        Ok(message) => message,
        Err(error) => return hl7::ack(None, AckCode::Reject, &error.to_string(), now),
    };
    let readings = match hl7::read_oru(
        &message,
        &shared.routes,
        &shared.key.0,
        &shared.config.time_zone,
        now,
    ) {
        Ok(readings) => readings,
        Err(error) => return hl7::ack(Some(&message), AckCode::Reject, &error.to_string(), now),
    };
    let sender = message.field("MSH", 3).unwrap_or_default();
    let actor = NonEmptyText::parse(&format!(
        "hl7:{}",
        sender.split('^').next().unwrap_or_default()
    ))
    .map(|name| Actor {
        name,
        role: Role::AiLead,
        organisation: shared.config.trust.clone(),
    });
    let Ok(actor) = actor else {
        return hl7::ack(
            Some(&message),
            AckCode::Reject,
            "MSH-3 names no sending application",
            now,
        );
    };
    let context = ChangeContext::at(actor, now);
    let mut timings = Vec::new();
    let mut timed_groups = std::collections::BTreeSet::new();
    let mut timing_problems = std::collections::BTreeMap::new();
    let named = readings
        .into_iter()
        .map(|reading| {
            let name = format!("OBR {}", reading.group);
            match reading.timing {
                Some(Ok(timing)) => {
                    timings.push(timing);
                    timed_groups.insert(name.clone());
                }
                Some(Err(reason)) => {
                    timing_problems.insert(name.clone(), reason);
                }
                None => {}
            }
            (name, reading.result)
        })
        .collect();
    let digest = hex::encode(Sha256::digest(bytes));
    let stored = async {
        shared
            .store
            .record_report_times(&shared.config.trust, ReportChannel::Hl7, now, &timings)
            .await?;
        crate::intake::store_outcomes(&shared.store, &context, named, &digest).await
    };
    match stored.await {
        Ok(answers) => {
            // A result no route takes is still a report whose times were
            // kept: only what gave neither an outcome nor times is a
            // problem.
            let problems: Vec<String> = answers
                .iter()
                .filter_map(|(name, outcome)| {
                    let reason = outcome.as_ref().err()?;
                    let times_kept = timed_groups.contains(name);
                    (!(times_kept && reason.starts_with(vigil_fhir::NO_ROUTE)))
                        .then(|| format!("{name}: {reason}"))
                })
                .chain(
                    timing_problems
                        .iter()
                        .map(|(name, reason)| format!("{name}: {reason}")),
                )
                .collect();
            if problems.is_empty() {
                hl7::ack(Some(&message), AckCode::Accept, "", now)
            } else {
                hl7::ack(Some(&message), AckCode::Error, &problems.join("; "), now)
            }
        }
        Err(error) => {
            tracing::error!(%error, "HL7 results could not be stored");
            hl7::ack(
                Some(&message),
                AckCode::Error,
                "the results could not be stored now; send again",
                now,
            )
        }
    }
}
