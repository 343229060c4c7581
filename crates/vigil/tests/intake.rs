//! `vigil serve` taking data from the hospital's systems, end to end:
//! DIMSE, DICOMweb, FHIR and HL7 v2. Over DIMSE, dcmtk's storescu
//! sends an image and AI results; the results become events of the
//! deployment (with the image's acquisition metadata), the unroutable one
//! waits in quarantine, a resend changes nothing, a caller of another Trust
//! cannot store into this Trust's deployment, and the database holds no
//! identifier of any object. Orthanc, as a hospital's PACS, forwards what it
//! stores over DIMSE and by STOW-RS. Reports' outcomes and times arrive by
//! FHIR and HL7 v2. Skipped with a notice without dcmtk or Orthanc, unless
//! `VIGIL_REQUIRE_DCMTK` or `VIGIL_REQUIRE_ORTHANC` is set (as `.ci/run`,
//! which installs both, sets them).

#[path = "support/server.rs"]
mod server;
mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use server::{Server, free_port, http, wait_for_port};
use support::{set_up_database, vigil};

fn dicom_file(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../vigil-dicom/tests/data")
        .join(name)
        .display()
        .to_string()
}

/// Whether a peer program is installed (`found`); when it is not, says so
/// and passes, unless the variable that requires it is set.
fn peer_available(found: bool, required_by: &str, notice: &str) -> bool {
    if !found {
        assert!(
            std::env::var_os(required_by).is_none(),
            "{required_by} is set but {notice}"
        );
        eprintln!("skipping: {notice}");
    }
    found
}

fn dcmtk_available() -> bool {
    peer_available(
        Command::new("storescu").arg("--version").output().is_ok(),
        "VIGIL_REQUIRE_DCMTK",
        "dcmtk is not installed (apt-get install dcmtk)",
    )
}

/// Sends files with storescu as `calling` to Vigil; returns whether every
/// store succeeded and what storescu printed.
fn store(port: u16, calling: &str, files: &[String]) -> (bool, String) {
    store_to(port, calling, "VIGIL", files)
}

/// Sends files with storescu from `calling` to `called`.
fn store_to(port: u16, calling: &str, called: &str, files: &[String]) -> (bool, String) {
    let port = port.to_string();
    // -R proposes exactly the classes of the files sent (dcmtk's default
    // list lacks Comprehensive 3D SR).
    let mut arguments = vec!["-R", "-aet", calling, "-aec", called, "127.0.0.1", &port];
    arguments.extend(files.iter().map(String::as_str));
    let output = Command::new("storescu")
        .args(&arguments)
        .output()
        .expect("storescu");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

/// The JSON body of an HTTP answer that must be 200.
fn json_of(answer: &str) -> serde_json::Value {
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).expect("body");
    serde_json::from_str(body).expect("JSON")
}

/// A running `vigil serve` with its DICOM listener, on a database set up by
/// `set_up_database` (deployment 1 at rw3's main site).
struct Running {
    _server: Server,
    _directory: tempfile::TempDir,
    database: PathBuf,
    /// Where the server keeps original files.
    originals: PathBuf,
    http_port: u16,
    dicom_port: u16,
    hl7_port: u16,
    /// rw3's AI lead's API token, as a bearer header value.
    bearer: String,
}

impl Running {
    /// The JSON of a GET with rw3's AI lead's token, which must answer 200.
    fn get(&self, path: &str) -> serde_json::Value {
        json_of(&http(
            self.http_port,
            "GET",
            path,
            &[("Authorization", self.bearer.as_str())],
            "",
        ))
    }
}

fn start() -> Running {
    let directory = tempfile::tempdir().expect("temporary directory");
    let database = directory.path().join("vigil.db");
    let key = directory.path().join("pseudonym.key");
    let token = set_up_database(&database, &key);
    let (http_port, dicom_port, hl7_port) = (free_port(), free_port(), free_port());
    let config = directory.path().join("vigil.toml");
    let originals = directory.path().join("originals");
    std::fs::write(
        &config,
        format!(
            r#"
[dicom]
bind = "127.0.0.1:{dicom_port}"
ae_title = "VIGIL"

[dicom.originals]
directory = "{originals}"
max_total_gigabytes = 1

[[dicom.callers]]
ae_title = "AI_BOX"
hosts = ["127.0.0.1"]
trust = "rw3"

[[dicom.callers]]
ae_title = "ORTHANC"
hosts = ["127.0.0.1"]
trust = "rw3"

[[dicom.callers]]
ae_title = "RXL_BOX"
hosts = ["127.0.0.1"]
trust = "rxl"

[[dicom.route]]
deployment = 1
manufacturer = "Example AI"
kinds = ["sr"]
score = "DCM:111047"
decision = "DCM:121071"
positive = ["SCT:263654008"]
negative = ["SCT:17621005"]

[[reports.route]]
deployment = 1
codes = ["LN:30799-1"]
positive = ["SCT:50960005"]
negative = ["SCT:281900007"]
source = "report"

[hl7]
bind = "127.0.0.1:{hl7_port}"
hosts = ["127.0.0.1"]
trust = "rw3"
"#,
            originals = originals.display()
        ),
    )
    .expect("config");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["serve", "--config"])
            .arg(&config)
            .args(["--bind", &format!("127.0.0.1:{http_port}")])
            .env("VIGIL_DB", &database)
            .env("VIGIL_PSEUDONYM_KEY_FILE", &key)
            .env("VIGIL_MONITOR_INTERVAL_SECONDS", "0")
            .env("VIGIL_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("vigil serve starts"),
    );
    wait_for_port(http_port);
    wait_for_port(dicom_port);
    wait_for_port(hl7_port);
    Running {
        _server: server,
        _directory: directory,
        database,
        originals,
        http_port,
        dicom_port,
        hl7_port,
        bearer: format!("Bearer {token}"),
    }
}

#[test]
fn results_sent_over_dimse_become_events_and_the_rest_waits_in_quarantine() {
    if !dcmtk_available() {
        return;
    }
    let running = start();
    let (dicom_port, database) = (running.dicom_port, &running.database);

    // The CT image first, then two reports on it, one from another vendor.
    let files = [
        dicom_file("ct_with_accession.dcm"),
        dicom_file("sr_positive.dcm"),
        dicom_file("sr_negative.dcm"),
        dicom_file("sr_other_vendor.dcm"),
    ];
    let (success, printed) = store(dicom_port, "AI_BOX", &files);
    assert!(success, "{printed}");
    // Sent again: nothing new.
    let (success, printed) = store(dicom_port, "AI_BOX", &files);
    assert!(success, "{printed}");
    // Another Trust's caller cannot store into rw3's deployment.
    let (success, printed) = store(dicom_port, "RXL_BOX", &[dicom_file("sr_positive.dcm")]);
    assert!(success, "{printed}");

    let page = running.get("/api/v1/dicom/instances");
    let seen: Vec<(String, String)> = page["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|instance| {
            (
                instance["kind"].as_str().expect("kind").to_owned(),
                instance["disposition"]
                    .as_str()
                    .expect("disposition")
                    .to_owned(),
            )
        })
        .collect();
    // rw3's token sees rw3's instances only, newest first.
    assert_eq!(
        seen,
        [
            ("sr".to_owned(), "quarantined".to_owned()),
            ("sr".to_owned(), "event".to_owned()),
            ("sr".to_owned(), "event".to_owned()),
            ("image".to_owned(), "acquisition".to_owned()),
        ]
    );
    let quarantine = running.get("/api/v1/dicom/instances?disposition=quarantined");
    assert_eq!(
        quarantine["instances"][0]["reason"],
        "no route takes a sr from AI_BOX made by Another Vendor"
    );
    // Each original is kept once, named by its digest, preamble zeroed.
    for instance in page["instances"].as_array().expect("instances") {
        let sha256 = instance["original_sha256"].as_str().expect("kept");
        let file = running
            .originals
            .join(&sha256[..2])
            .join(&sha256[2..4])
            .join(format!("{sha256}.dcm"));
        let bytes = std::fs::read(&file).expect("the original file");
        assert!(bytes[..128].iter().all(|byte| *byte == 0));
        assert_eq!(&bytes[128..132], b"DICM");
    }
    let kept_files = walk_files(&running.originals);
    assert_eq!(kept_files, 4, "four objects, each kept once");

    // Two events, scored and decided, with the CT's scanner.
    let days = running.get("/api/v1/deployments/1/aggregates");
    let days = days.as_array().expect("days");
    let events: u64 = days
        .iter()
        .map(|day| day["events"].as_u64().expect("events"))
        .sum();
    let positive: u64 = days
        .iter()
        .map(|day| day["positive_decisions"].as_u64().expect("positive"))
        .sum();
    assert_eq!((events, positive), (2, 1), "{days:?}");
    let positive_day = days
        .iter()
        .find(|day| day["day"] == "2026-11-30")
        .expect("the positive report's day");
    assert_eq!(
        positive_day["categories"]["scanner_manufacturer"]["GE MEDICAL SYSTEMS"], 1,
        "{positive_day}"
    );

    // No identifier reached the database: no UID, accession number or
    // patient identifier of any object sent.
    drop(running._server);
    let stored = [
        std::fs::read(database).expect("database"),
        std::fs::read(database.with_extension("db-wal")).unwrap_or_default(),
    ]
    .concat();
    let stored = String::from_utf8_lossy(&stored);
    for identifier in [
        "ACC-1001",
        "ACC-1002",
        "ACC-1003",
        "1.2.826.0.1.3680043.10.1234",
        "1.3.6.1.4.1.5962.1.2.1",
        "1CT1",
    ] {
        assert!(
            !stored.contains(identifier),
            "{identifier} is in the database"
        );
    }
    // The audit trail is intact and holds the quarantine and the events.
    let verified = vigil(database, &["audit", "verify"]);
    assert!(verified.starts_with("ok"), "{verified}");
}

/// How many files are under a folder.
fn walk_files(directory: &std::path::Path) -> usize {
    std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| {
                    let path = entry.path();
                    if path.is_dir() { walk_files(&path) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A multipart/related body of the given parts (content type, bytes).
fn multipart(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (content_type, bytes) in parts {
        body.extend_from_slice(
            format!("--VIGILBOUNDARY\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--VIGILBOUNDARY--\r\n");
    body
}

#[test]
fn stow_stores_and_qido_finds_by_original_uid_with_deidentified_answers() {
    let running = start();
    let read = |name: &str| std::fs::read(dicom_file(name)).expect("file");
    let content_type = "multipart/related; type=\"application/dicom\"; boundary=VIGILBOUNDARY";
    let headers = [
        ("Authorization", running.bearer.as_str()),
        ("Content-Type", content_type),
    ];
    let body = multipart(&[
        ("application/dicom", read("ct_with_accession.dcm")),
        ("application/dicom", read("sr_positive.dcm")),
        ("application/dicom", b"not a DICOM file at all".to_vec()),
    ]);
    let answer = server::http_bytes(
        running.http_port,
        "POST",
        "/dicomweb/studies",
        &headers,
        &body,
    );
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    let stored: serde_json::Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).expect("body")).expect("JSON");
    let referenced = stored["00081199"]["Value"].as_array().expect("referenced");
    assert_eq!(referenced.len(), 2, "{stored}");
    assert_eq!(
        referenced[1]["00081155"]["Value"][0], "1.2.826.0.1.3680043.10.1234.2.1",
        "the caller's own UIDs are answered back"
    );
    assert_eq!(
        stored["00081198"]["Value"][0]["00081197"]["Value"][0],
        0xC000
    );

    // Posted to another study: refused with 0xA900, so nothing was stored.
    let answer = server::http_bytes(
        running.http_port,
        "POST",
        "/dicomweb/studies/1.2.3.4",
        &headers,
        &multipart(&[("application/dicom", read("sr_negative.dcm"))]),
    );
    assert!(answer.starts_with("HTTP/1.1 409"), "{answer}");
    let refused: serde_json::Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).expect("body")).expect("JSON");
    assert_eq!(
        refused["00081198"]["Value"][0]["00081197"]["Value"][0],
        0xA900
    );
    // Only what was stored is kept: the CT and the first report, not the
    // unreadable part nor the refused report.
    assert_eq!(walk_files(&running.originals), 2);
    // Not multipart/related: 415.
    let answer = server::http_bytes(
        running.http_port,
        "POST",
        "/dicomweb/studies",
        &[
            ("Authorization", running.bearer.as_str()),
            ("Content-Type", "application/dicom"),
        ],
        &read("sr_negative.dcm"),
    );
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");

    // QIDO: the study by its original UID, answered with de-identified UIDs.
    let auth = [("Authorization", running.bearer.as_str())];
    let study_uid = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322";
    let answer = http(
        running.http_port,
        "GET",
        &format!("/dicomweb/instances?StudyInstanceUID={study_uid}"),
        &auth,
        "",
    );
    let found = json_of(&answer);
    let found = found.as_array().expect("instances");
    assert_eq!(found.len(), 2, "{found:?}");
    for instance in found {
        let uid = instance["0020000D"]["Value"][0].as_str().expect("uid");
        assert!(uid.starts_with("2.25."), "{uid}");
        assert!(!answer.contains(study_uid));
    }
    let studies = json_of(&http(
        running.http_port,
        "GET",
        "/dicomweb/studies?Modality=CT",
        &auth,
        "",
    ));
    assert_eq!(studies.as_array().expect("studies").len(), 1);
    assert_eq!(studies[0]["00201208"]["Value"][0], 2);
    let none = http(
        running.http_port,
        "GET",
        "/dicomweb/instances?Modality=MR",
        &auth,
        "",
    );
    assert!(none.starts_with("HTTP/1.1 204"), "{none}");
    // Without a token: 401.
    let anonymous = http(running.http_port, "GET", "/dicomweb/studies", &[], "");
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
}

/// A running server that has received the tool's positive result on
/// ACC-1001 over DIMSE; `None` (the test skipped) without dcmtk.
fn start_with_a_positive_result() -> Option<Running> {
    if !dcmtk_available() {
        return None;
    }
    let running = start();
    let (success, printed) = store(
        running.dicom_port,
        "AI_BOX",
        &[dicom_file("sr_positive.dcm")],
    );
    assert!(success, "{printed}");
    Some(running)
}

fn fhir_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../vigil-fhir/tests/data")
        .join(name);
    std::fs::read_to_string(path).expect("FHIR file")
}

#[test]
fn fhir_reports_label_the_events_of_their_cases() {
    let Some(running) = start_with_a_positive_result() else {
        return;
    };
    let headers = [
        ("Authorization", running.bearer.as_str()),
        ("Content-Type", "application/fhir+json"),
    ];
    // The radiologist's report on ACC-1001: haemorrhage.
    let answer = http(
        running.http_port,
        "POST",
        "/fhir",
        &headers,
        &fhir_file("report_positive.json"),
    );
    let outcome = json_of(&answer);
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["severity"], "information", "{outcome}");
    let days = running.get("/api/v1/deployments/1/aggregates");
    let outcomes = &days[0]["outcomes"];
    assert_eq!(
        (
            outcomes["labelled"].as_u64(),
            outcomes["true_positives"].as_u64()
        ),
        (Some(1), Some(1)),
        "{days}"
    );

    // A Bundle: each report answered on its own.
    let answer = http(
        running.http_port,
        "POST",
        "/fhir",
        &headers,
        &fhir_file("bundle.json"),
    );
    let outcome = json_of(&answer);
    let diagnostics: Vec<&str> = outcome["issue"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|issue| issue["diagnostics"].as_str().expect("diagnostics"))
        .collect();
    assert_eq!(
        diagnostics,
        [
            "entry 1: outcome recorded",
            "entry 1: report times recorded",
            "entry 2: its status is \"preliminary\"; only final, amended or corrected results are outcomes",
            "entry 2: report times recorded",
            "entry 3: deployment 1: none of its codes is listed as positive or negative",
            "entry 3: report times recorded",
            "entry 5: outcome recorded",
            "entry 5: report times recorded",
            "entry 6: it carries no accession number (an identifier of type ACSN), on itself or the request it is based on",
            "entry 6: its times: it carries no accession number",
            "entry 7: outcome recorded",
            "entry 7: its times: a report's examination (2026-11-30T11:00:00Z) cannot be after its issue (2026-11-30T10:09:00Z)",
        ]
    );
    // The report times kept, newest first: three of the Bundle's and the
    // single report (examined at 09:00, issued at 10:05), which the Bundle's
    // entry 1 repeats and so does not add to.
    let times = running.get("/api/v1/report-times");
    let times = times["times"].as_array().expect("times");
    let statuses: Vec<&str> = times
        .iter()
        .map(|time| time["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        ["final", "final", "preliminary", "final"],
        "{times:?}"
    );
    let first = times.last().expect("the single report");
    assert_eq!(first["examined_at"], "2026-11-30T09:00:00.000000Z");
    assert_eq!(first["issued_at"], "2026-11-30T10:05:00.000000Z");
    assert_eq!(first["turnaround_minutes"], 65.0);
    assert_eq!(first["channel"], "fhir");
    assert!(
        first["case"].as_str().expect("case").starts_with("psn:"),
        "{first}"
    );
    // Not FHIR JSON: 415; a Patient: 400.
    let answer = http(
        running.http_port,
        "POST",
        "/fhir",
        &[
            ("Authorization", running.bearer.as_str()),
            ("Content-Type", "text/plain"),
        ],
        "hello",
    );
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
    let answer = http(
        running.http_port,
        "POST",
        "/fhir",
        &headers,
        r#"{"resourceType": "Patient"}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

/// Sends MLLP-framed messages on one connection; returns their ACKs.
fn mllp(port: u16, messages: &[&str]) -> Vec<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    let mut acks = Vec::new();
    for message in messages {
        stream.write_all(&[0x0B]).expect("write");
        stream.write_all(message.as_bytes()).expect("write");
        stream.write_all(&[0x1C, 0x0D]).expect("write");
        let mut answer = Vec::new();
        let mut byte = [0u8; 1];
        while !answer.ends_with(&[0x1C, 0x0D]) {
            stream.read_exact(&mut byte).expect("read the ACK");
            answer.push(byte[0]);
        }
        acks.push(String::from_utf8_lossy(&answer[1..answer.len() - 2]).into_owned());
    }
    acks
}

#[test]
fn hl7_results_over_mllp_are_acknowledged_and_label_events() {
    let Some(running) = start_with_a_positive_result() else {
        return;
    };
    let result = "MSH|^~\\&|RIS|RW3|VIGIL|RW3|20261130101500||ORU^R01|MSG0001|P|2.4\r\
PID|1||123456^^^RW3^MR\r\
OBR|1|ORD1|ACC-1001|30799-1^CT Head^LN|||20261130090000|||||||||||||||20261130100500|||F\r\
OBX|1|CWE|CONCL^Conclusion^L||50960005^Hemorrhage^SCT||||||F\r";
    let unknown_code = result
        .replace("MSG0001", "MSG0002")
        .replace("50960005^Hemorrhage", "1234567^Something else");
    let admission =
        "MSH|^~\\&|PAS|RW3|VIGIL|RW3|20261130101500||ADT^A01|MSG0003|P|2.4\rPID|1||123\r";
    // A report on another examination, which no route takes: its times are
    // kept all the same.
    let other_examination = result
        .replace("MSG0001", "MSG0004")
        .replace("ACC-1001", "ACC-2001")
        .replace("30799-1^CT Head^LN", "36643-5^XR Chest^LN");
    // A report examined, it says, after it was issued: its outcome is kept,
    // its times are not, and the ACK says so.
    let late_examination = result
        .replace("MSG0001", "MSG0005")
        .replace("ACC-1001", "ACC-3001")
        .replace("|20261130090000|", "|20261130110000|");
    let acks = mllp(
        running.hl7_port,
        &[
            result,
            &unknown_code,
            admission,
            &other_examination,
            &late_examination,
        ],
    );
    assert!(acks[0].contains("\rMSA|AA|MSG0001|"), "{}", acks[0]);
    assert!(
        acks[1].contains("\rMSA|AE|MSG0002|OBR 1: deployment 1: none of its codes is listed as positive or negative"),
        "{}",
        acks[1]
    );
    assert!(acks[3].contains("\rMSA|AA|MSG0004|"), "{}", acks[3]);
    assert!(
        acks[4].contains("\rMSA|AE|MSG0005|OBR 1: its times: a report's examination (2026-11-30T11:00:00Z) cannot be after its issue (2026-11-30T10:05:00Z)"),
        "{}",
        acks[4]
    );
    assert!(
        acks[2].contains("\rMSA|AR|MSG0003|the message is a ADT"),
        "{}",
        acks[2]
    );
    let days = running.get("/api/v1/deployments/1/aggregates");
    assert_eq!(days[0]["outcomes"]["true_positives"], 1, "{days}");
    // Two report times: ACC-1001's (sent twice) and ACC-2001's, each examined
    // at 09:00 and issued at 10:05 London time.
    let times = running.get("/api/v1/report-times");
    let times = times["times"].as_array().expect("times");
    assert_eq!(times.len(), 2, "{times:?}");
    for time in times {
        assert_eq!(time["channel"], "hl7");
        assert_eq!(time["turnaround_minutes"], 65.0);
        assert_eq!(time["issued_at"], "2026-11-30T10:05:00.000000Z");
    }
}

/// Where Debian's orthanc-dicomweb package puts the DICOMweb plugin.
const ORTHANC_DICOMWEB: &str = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

fn orthanc_available() -> bool {
    peer_available(
        Command::new("Orthanc").arg("--version").output().is_ok()
            && std::path::Path::new(ORTHANC_DICOMWEB).exists(),
        "VIGIL_REQUIRE_ORTHANC",
        "Orthanc or its DICOMweb plugin is not installed (apt-get install orthanc orthanc-dicomweb)",
    )
}

/// Orthanc's Lua hook: what a modality stores by DIMSE is forwarded to
/// Vigil by C-STORE; what is uploaded through Orthanc's REST API is pushed
/// to Vigil by DICOMweb STOW-RS.
const FORWARD_LUA: &str = r#"
function OnStoredInstance(instanceId, tags, metadata, origin)
  if origin['RequestOrigin'] == 'RestApi' then
    RestApiPost('/dicom-web/servers/vigil/stow', DumpJson({ Resources = { instanceId } }, true))
  else
    SendToModality(instanceId, 'vigil')
  end
end
"#;

/// A PACS in front of Vigil, as a hospital runs one: Orthanc (loopback only,
/// accepting stores from one known modality) forwards every instance it
/// stores to Vigil with its Lua `OnStoredInstance` hook, over DIMSE for what
/// a modality sends and by STOW-RS for what is uploaded to it.
#[test]
fn orthanc_forwards_what_it_stores_over_dimse_and_by_stow() {
    if !dcmtk_available() || !orthanc_available() {
        return;
    }
    let running = start();
    let directory = tempfile::tempdir().expect("temporary directory");
    let (orthanc_http, orthanc_dicom) = (free_port(), free_port());
    let lua = directory.path().join("forward.lua");
    std::fs::write(&lua, FORWARD_LUA).expect("Lua script");
    let config = serde_json::json!({
        "Name": "VigilTestPacs",
        "StorageDirectory": directory.path().join("storage"),
        "IndexDirectory": directory.path().join("index"),
        "HttpPort": orthanc_http,
        "RemoteAccessAllowed": false,
        "AuthenticationEnabled": false,
        "DicomAet": "ORTHANC",
        "DicomPort": orthanc_dicom,
        "DicomAlwaysAllowStore": false,
        "DicomCheckModalityHost": true,
        "DicomModalities": {
            "modality": ["MODALITY", "127.0.0.1", 104],
            "vigil": ["VIGIL", "127.0.0.1", running.dicom_port],
        },
        "LuaScripts": [lua],
        "Plugins": [ORTHANC_DICOMWEB],
        "DicomWeb": {
            "Enable": true,
            "Root": "/dicom-web/",
            "Servers": {
                "vigil": {
                    "Url": format!("http://127.0.0.1:{}/dicomweb/", running.http_port),
                    "HttpHeaders": { "Authorization": running.bearer },
                },
            },
        },
    });
    let config_file = directory.path().join("orthanc.json");
    std::fs::write(&config_file, config.to_string()).expect("Orthanc configuration");
    let log = std::fs::File::create(directory.path().join("orthanc.log")).expect("log");
    let _orthanc = Server(
        Command::new("Orthanc")
            .arg(&config_file)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("Orthanc starts"),
    );
    wait_for_port(orthanc_http);
    wait_for_port(orthanc_dicom);
    let orthanc_log =
        || std::fs::read_to_string(directory.path().join("orthanc.log")).unwrap_or_default();

    // A modality stores the CT and the positive result in the PACS...
    let (success, printed) = store_to(
        orthanc_dicom,
        "MODALITY",
        "ORTHANC",
        &[
            dicom_file("ct_with_accession.dcm"),
            dicom_file("sr_positive.dcm"),
        ],
    );
    assert!(success, "{printed}\n{}", orthanc_log());
    // ...and an unknown modality cannot.
    let (success, _) = store_to(
        orthanc_dicom,
        "STRANGER",
        "ORTHANC",
        &[dicom_file("sr_negative.dcm")],
    );
    assert!(!success, "Orthanc took a store from an unknown modality");
    // The negative result is uploaded through Orthanc's REST API.
    let uploaded = server::http_bytes(
        orthanc_http,
        "POST",
        "/instances",
        &[("Content-Type", "application/dicom")],
        &std::fs::read(dicom_file("sr_negative.dcm")).expect("file"),
    );
    assert!(uploaded.starts_with("HTTP/1.1 200"), "{uploaded}");

    // All three reach Vigil: two from Orthanc's AE, one by STOW-RS.
    let started = std::time::Instant::now();
    let instances = loop {
        let page = running.get("/api/v1/dicom/instances");
        let instances = page["instances"].as_array().expect("instances").clone();
        if instances.len() >= 3 {
            break instances;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "Vigil received {instances:?}\n{}",
            orthanc_log()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let mut seen: Vec<(String, String, String)> = instances
        .iter()
        .map(|instance| {
            let text = |name: &str| instance[name].as_str().expect(name).to_owned();
            (text("kind"), text("disposition"), text("calling_ae"))
        })
        .collect();
    seen.sort();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(
        seen[0],
        (
            "image".to_owned(),
            "acquisition".to_owned(),
            "ORTHANC".to_owned()
        )
    );
    assert_eq!(
        (&seen[1].0, &seen[1].1, &seen[2].0, &seen[2].1),
        (
            &"sr".to_owned(),
            &"event".to_owned(),
            &"sr".to_owned(),
            &"event".to_owned()
        )
    );
    let callers: std::collections::BTreeSet<&str> = seen[1..]
        .iter()
        .map(|(_, _, calling)| calling.as_str())
        .collect();
    assert!(callers.contains("ORTHANC"), "{seen:?}");
    assert_eq!(callers.len(), 2, "one result came by STOW-RS: {seen:?}");

    let days = running.get("/api/v1/deployments/1/aggregates");
    let events: u64 = days
        .as_array()
        .expect("days")
        .iter()
        .map(|day| day["events"].as_u64().expect("events"))
        .sum();
    assert_eq!(events, 2, "{days}");
}

/// A STOW-RS request declaring a terabyte is answered at once with 413,
/// before any of it is read; the server goes on serving.
#[test]
fn a_huge_content_length_is_refused_before_the_body() {
    use std::io::{Read, Write};
    let running = start();
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", running.http_port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .expect("timeout");
    let started = std::time::Instant::now();
    write!(
        stream,
        "POST /dicomweb/studies HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\n\
         Content-Type: multipart/related; type=\"application/dicom\"; boundary=B\r\n\
         Content-Length: 1000000000000\r\n\r\n--B\r\n",
        running.bearer
    )
    .expect("write");
    let mut answer = [0u8; 12];
    stream
        .read_exact(&mut answer)
        .expect("an answer within 2 s");
    assert_eq!(
        &answer,
        b"HTTP/1.1 413",
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let health = http(running.http_port, "GET", "/healthz", &[], "");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}
