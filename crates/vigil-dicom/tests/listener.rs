//! The DIMSE listener against dcmtk's `echoscu` and `storescu` on
//! loopback: the allow-list, every transfer syntax dcmtk proposes, and the
//! status each instance gets. dcmtk comes from Debian (`apt-get install
//! dcmtk`, as `.ci/run` does); without it these tests say so and pass,
//! unless `VIGIL_REQUIRE_DCMTK` is set.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use jiff::tz::TimeZone;
use vigil_dicom::scp::{AllowedCaller, ScpSettings, StoreHandler, StoreRequest, StoreStatus};
use vigil_dicom::{Arrival, InstanceKind, ReadLimits, Routes, receive_data_set};
use vigil_domain::PseudonymKey;

/// What the handler saw of one instance.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    trust: String,
    calling: String,
    transfer_syntax: String,
    kind: Option<InstanceKind>,
}

/// Reads every instance as the server would and records it.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
}

impl StoreHandler for Recorder {
    fn store(&self, request: StoreRequest<'_>) -> StoreStatus {
        let key = PseudonymKey::from_bytes([1; 32]);
        let arrival = Arrival {
            key: &key,
            zone: &TimeZone::UTC,
            calling_ae_title: &request.caller.ae_title,
            received_at: jiff::Timestamp::now(),
            limits: ReadLimits::default(),
        };
        let received = receive_data_set(
            request.data_set,
            request.transfer_syntax,
            &Routes::default(),
            arrival,
        );
        self.seen.lock().expect("lock").push(Seen {
            trust: request.caller.trust.clone(),
            calling: request.caller.ae_title.clone(),
            transfer_syntax: request.transfer_syntax.to_owned(),
            kind: received
                .as_ref()
                .ok()
                .map(|received| received.instance.kind),
        });
        match received {
            Ok(_) => StoreStatus::Success,
            Err(_) => StoreStatus::CannotUnderstand,
        }
    }
}

fn dcmtk_available() -> bool {
    let found = Command::new("storescu").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("VIGIL_REQUIRE_DCMTK").is_none(),
            "VIGIL_REQUIRE_DCMTK is set but dcmtk's storescu is not installed"
        );
        eprintln!(
            "skipping the DIMSE listener tests: dcmtk is not installed (apt-get install dcmtk)"
        );
    }
    found
}

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .display()
        .to_string()
}

/// Starts a listener that allows AI_BOX (Trust rx1) from loopback.
fn start(settings: impl FnOnce(&mut ScpSettings)) -> (u16, Arc<Recorder>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let mut scp = ScpSettings::new(
        "VIGIL",
        vec![AllowedCaller {
            ae_title: "AI_BOX".to_owned(),
            hosts: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            trust: "rx1".to_owned(),
        }],
    );
    settings(&mut scp);
    let recorder = Arc::new(Recorder::default());
    let handler: Arc<dyn StoreHandler> = recorder.clone();
    let settings = Arc::new(scp);
    std::thread::spawn(move || vigil_dicom::scp::serve(listener, settings, handler));
    (port, recorder)
}

/// Runs a dcmtk tool; returns whether it succeeded and what it printed.
fn run(tool: &str, arguments: &[&str]) -> (bool, String) {
    let output = Command::new(tool).args(arguments).output().expect(tool);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

/// Runs a dcmtk tool as AI_BOX calling VIGIL on the port.
fn as_ai_box(tool: &str, port: u16, options: &[&str], files: &[&str]) -> (bool, String) {
    let port = port.to_string();
    let mut arguments = options.to_vec();
    arguments.extend(["-aet", "AI_BOX", "-aec", "VIGIL", "127.0.0.1", &port]);
    arguments.extend(files);
    run(tool, &arguments)
}

#[test]
fn echo_is_answered_for_allowed_callers_only() {
    if !dcmtk_available() {
        return;
    }
    let (port, _) = start(|_| {});
    let port = port.to_string();
    let cases = [
        ("AI_BOX", "VIGIL", true, ""),
        (
            "STRANGER",
            "VIGIL",
            false,
            "Calling AE Title Not Recognized",
        ),
        (
            "AI_BOX",
            "SOMEONE_ELSE",
            false,
            "Called AE Title Not Recognized",
        ),
    ];
    for (calling, called, succeeds, printed) in cases {
        let (success, output) = run(
            "echoscu",
            &["-aet", calling, "-aec", called, "127.0.0.1", &port],
        );
        assert_eq!(success, succeeds, "{calling} → {called}: {output}");
        assert!(output.contains(printed), "{calling} → {called}: {output}");
    }
}

#[test]
fn a_caller_from_another_address_is_rejected() {
    if !dcmtk_available() {
        return;
    }
    // AI_BOX is allowed only from 10.0.0.9 here.
    let (port, recorder) = start(|settings| {
        settings.callers[0].hosts = vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9))];
    });
    let (success, output) = as_ai_box("storescu", port, &[], &[&data("sr_positive.dcm")]);
    assert!(!success, "{output}");
    assert!(
        output.contains("Calling AE Title Not Recognized"),
        "{output}"
    );
    assert!(recorder.seen.lock().expect("lock").is_empty());
}

#[test]
fn instances_arrive_in_every_proposed_transfer_syntax() {
    if !dcmtk_available() {
        return;
    }
    let (port, recorder) = start(|settings| {
        // Small PDUs: every data set arrives in several PDVs.
        settings.max_pdu_length = 4096;
    });
    let files = [
        data("CT_small.dcm"),
        data("MR_small.dcm"),
        data("rtstruct.dcm"),
        data("test-SR.dcm"),
        data("sr_positive.dcm"),
        data("seg.dcm"),
    ];
    // storescu sends a file in its own transfer syntax when that was
    // accepted, so the big endian case sends copies converted by dcmconv.
    let scratch = tempfile::tempdir().expect("scratch");
    let big_endian: Vec<String> = files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            let converted = scratch
                .path()
                .join(format!("{index}.dcm"))
                .display()
                .to_string();
            let (success, output) = run("dcmconv", &["+tb", file, &converted]);
            assert!(success, "dcmconv {file}: {output}");
            converted
        })
        .collect();
    let proposals = [
        ("-xi", &files[..], "1.2.840.10008.1.2"),
        ("-xe", &files[..], "1.2.840.10008.1.2.1"),
        ("-xb", &big_endian[..], "1.2.840.10008.1.2.2"),
        ("-xd", &files[..], "1.2.840.10008.1.2.1.99"),
    ];
    for (option, files, transfer_syntax) in proposals {
        recorder.seen.lock().expect("lock").clear();
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        let (success, output) = as_ai_box("storescu", port, &[option, "-R"], &files);
        assert!(success, "{option}: {output}");
        let seen = recorder.seen.lock().expect("lock").clone();
        let kinds: Vec<Option<InstanceKind>> = seen.iter().map(|seen| seen.kind).collect();
        assert_eq!(
            kinds,
            [
                Some(InstanceKind::Image),
                Some(InstanceKind::Image),
                Some(InstanceKind::RtStructureSet),
                Some(InstanceKind::StructuredReport),
                Some(InstanceKind::StructuredReport),
                Some(InstanceKind::Segmentation),
            ],
            "{option}: {output}"
        );
        for one in &seen {
            assert_eq!(
                (one.trust.as_str(), one.calling.as_str()),
                ("rx1", "AI_BOX")
            );
            assert_eq!(one.transfer_syntax, transfer_syntax, "{option}");
        }
    }
}

#[test]
fn associations_beyond_the_limit_are_refused_as_transient() {
    if !dcmtk_available() {
        return;
    }
    let (port, _) = start(|settings| settings.max_associations = 0);
    let (success, output) = as_ai_box("echoscu", port, &[], &[]);
    assert!(!success, "{output}");
    assert!(output.contains("Local Limit Exceeded"), "{output}");
}

#[test]
fn an_instance_beyond_the_size_limit_aborts_the_association() {
    if !dcmtk_available() {
        return;
    }
    let (port, recorder) = start(|settings| settings.max_instance_bytes = 10_000);
    let (success, output) = as_ai_box("storescu", port, &[], &[&data("CT_small.dcm")]);
    assert!(!success, "{output}");
    assert!(recorder.seen.lock().expect("lock").is_empty());
}

/// Two hundred callers at once: the listener holds the limit's worth of
/// associations, refuses the rest as transient (they may try again), and
/// serves the next caller once they have gone. Needs no dcmtk: the callers
/// are dicom-ul clients.
#[test]
fn two_hundred_concurrent_associations_are_capped_without_a_crash() {
    const CALLERS: usize = 200;
    let (port, _) = start(|_| {});
    let limit = ScpSettings::new("VIGIL", Vec::new()).max_associations;
    let all_tried = Arc::new(std::sync::Barrier::new(CALLERS));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let all_tried = all_tried.clone();
            std::thread::spawn(move || {
                let association = dicom_ul::ClientAssociationOptions::new()
                    .calling_ae_title("AI_BOX")
                    .called_ae_title("VIGIL")
                    .with_abstract_syntax("1.2.840.10008.1.1")
                    .read_timeout(std::time::Duration::from_secs(30))
                    .establish(("127.0.0.1", port));
                // Hold what was accepted until every caller has tried.
                all_tried.wait();
                match association {
                    Ok(association) => {
                        let _ = association.release();
                        Ok(())
                    }
                    Err(error) => Err(error.to_string()),
                }
            })
        })
        .collect();
    let outcomes: Vec<Result<(), String>> = callers
        .into_iter()
        .map(|caller| caller.join().expect("caller thread"))
        .collect();
    let accepted = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(accepted, limit, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
        assert!(refused.contains("rejected"), "{refused}");
    }
    // The listener is still there: the next caller is served.
    let started = std::time::Instant::now();
    let again = loop {
        let attempt = dicom_ul::ClientAssociationOptions::new()
            .calling_ae_title("AI_BOX")
            .called_ae_title("VIGIL")
            .with_abstract_syntax("1.2.840.10008.1.1")
            .establish(("127.0.0.1", port));
        // Released associations are counted out when their threads end.
        if attempt.is_ok() || started.elapsed() > std::time::Duration::from_secs(10) {
            break attempt;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    again
        .expect("an association after the crowd")
        .release()
        .expect("release");
}
