//! The dashboard in a real browser: seeds the demonstration (story
//! deployments only), serves it with the real binary, and runs
//! `e2e/dashboard.mjs` (playwright-core driving Debian's headless
//! Chromium). Skipped, with a notice, where Chromium, Node.js or the e2e
//! packages are missing (`.ci/run` installs them).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why the browser test cannot run here, if it cannot.
fn missing_prerequisite() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("no Node.js".to_owned());
    }
    if !repository()
        .join("e2e/node_modules/playwright-core")
        .exists()
    {
        return Some("e2e/node_modules is missing (npm ci --prefix e2e)".to_owned());
    }
    None
}

/// Stops the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_browser_walks_the_dashboard_of_the_demonstration() {
    if let Some(reason) = missing_prerequisite() {
        eprintln!("skipping the browser test: {reason}");
        return;
    }
    let directory = tempfile::tempdir().expect("temporary directory");
    let database = directory.path().join("demo.db");
    let database = database.to_str().expect("path");
    let seeded = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "--db",
            database,
            "demo",
            "--replace",
            "--no-serve",
            "--ordinary-volume",
            "0",
            "--end",
            "2026-11-30",
        ])
        .output()
        .expect("vigil runs");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args([
                "--db",
                database,
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
            ])
            .env("VIGIL_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts"),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let screenshots = directory.path().join("screenshots");
    let walked = Command::new("node")
        .arg(repository().join("e2e/dashboard.mjs"))
        .env("VIGIL_URL", format!("http://127.0.0.1:{port}"))
        .env("VIGIL_SCREENSHOTS", &screenshots)
        .output()
        .expect("node runs");
    assert!(
        walked.status.success(),
        "the browser walk failed:\n{}\n{}",
        String::from_utf8_lossy(&walked.stdout),
        String::from_utf8_lossy(&walked.stderr)
    );
    for name in [
        "overview-national.admin.png",
        "overview-rpn.viewer.png",
        "deployment-chestflag.png",
        "deployment-after-alert.png",
        "product-chestflag.png",
        "deployment-suspended.png",
        "audit.png",
        "other-trust.png",
    ] {
        let size = std::fs::metadata(screenshots.join(name))
            .map(|metadata| metadata.len())
            .unwrap_or(0);
        assert!(size > 10_000, "{name} is {size} bytes");
    }
}
