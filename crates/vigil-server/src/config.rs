//! Server configuration: a TOML file, overridden by `VIGIL_*` environment
//! variables, with safe defaults. Secrets (the database URL's password) are
//! redacted in `Debug` and logs.
//!
//! ```toml
//! bind = "127.0.0.1:8080"
//! database = "vigil.db"                 # or postgres://user:password@host/db
//! request_body_limit_bytes = 67108864
//! request_timeout_seconds = 60
//! session_idle_minutes = 30             # a session unused this long ends
//! session_absolute_hours = 12           # and every session ends after this
//! secure_cookies = false                # true behind a TLS-terminating proxy
//! tls_certificate = "/etc/vigil/cert.pem"   # both set: serve HTTPS (rustls)
//! tls_private_key = "/etc/vigil/key.pem"
//! login_failures_per_user = 5           # within 15 minutes, then 429
//! login_failures_per_client = 20
//! trusted_proxies = ["127.0.0.1"]       # whose X-Forwarded-For names the client
//! pseudonym_key_file = "/etc/vigil/pseudonym.key"   # the Trust's key (vigil keygen)
//! monitor_interval_seconds = 900        # judge live deployments' rules; 0: on request only
//! webhook_retry_seconds = 5             # first retry of a failed webhook delivery, doubling
//!
//! [dicom]                               # the DIMSE listener (C-ECHO, C-STORE); needs the Trust's key
//! bind = "0.0.0.0:11112"
//! ae_title = "VIGIL"
//! time_zone = "Europe/London"           # of DICOM dates without an offset
//! max_associations = 32
//! max_instance_megabytes = 256
//!
//! [[dicom.callers]]                     # who may store, from where, into which Trust
//! ae_title = "QURE_CXR"
//! hosts = ["10.20.30.40"]
//! trust = "rw3"
//!
//! [[dicom.route]]                       # which deployment a result belongs to (vigil_dicom::mapping)
//! deployment = 12
//! calling_ae_titles = ["QURE_CXR"]
//! score = "DCM:111047"
//!
//! [[reports.route]]                     # which reports (FHIR, HL7 v2) give which deployment outcomes
//! deployment = 12
//! positive = ["SCT:50960005"]
//! negative = ["SCT:281900007"]
//! source = "report"
//!
//! [hl7]                                 # the MLLP listener for ORU^R01 results
//! bind = "0.0.0.0:2575"
//! hosts = ["10.20.30.50"]               # the integration engine
//! trust = "rw3"
//! ```
//!
//! Environment: `VIGIL_BIND`, `VIGIL_DB`, `VIGIL_REQUEST_BODY_LIMIT_BYTES`,
//! `VIGIL_REQUEST_TIMEOUT_SECONDS`, `VIGIL_SESSION_IDLE_MINUTES`,
//! `VIGIL_SESSION_ABSOLUTE_HOURS`, `VIGIL_SECURE_COOKIES`,
//! `VIGIL_TLS_CERTIFICATE`, `VIGIL_TLS_PRIVATE_KEY`, `VIGIL_TRUSTED_PROXIES`
//! (comma-separated addresses), `VIGIL_PSEUDONYM_KEY` (the key itself, hex)
//! or `VIGIL_PSEUDONYM_KEY_FILE`, `VIGIL_MONITOR_INTERVAL_SECONDS`,
//! `VIGIL_WEBHOOK_RETRY_SECONDS`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the configuration {path} is not valid: {message}")]
    Invalid { path: String, message: String },
    #[error("{variable} = {value:?} is not valid: {reason}")]
    Environment {
        variable: &'static str,
        value: String,
        reason: String,
    },
    #[error(
        "refusing to serve plain HTTP on {bind}, which is not a loopback address: hospital networks are shared. \
         Configure tls_certificate and tls_private_key, or put Vigil behind a TLS-terminating proxy and pass \
         --insecure-http-behind-proxy, or bind 127.0.0.1"
    )]
    UnsafeBind { bind: SocketAddr },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    bind: Option<SocketAddr>,
    database: Option<String>,
    request_body_limit_bytes: Option<usize>,
    request_timeout_seconds: Option<u64>,
    session_idle_minutes: Option<u64>,
    session_absolute_hours: Option<u64>,
    secure_cookies: Option<bool>,
    tls_certificate: Option<PathBuf>,
    tls_private_key: Option<PathBuf>,
    login_failures_per_user: Option<usize>,
    login_failures_per_client: Option<usize>,
    trusted_proxies: Option<Vec<IpAddr>>,
    pseudonym_key_file: Option<PathBuf>,
    monitor_interval_seconds: Option<u64>,
    webhook_retry_seconds: Option<u64>,
    dicom: Option<DicomFile>,
    reports: Option<ReportsFile>,
    hl7: Option<Hl7File>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportsFile {
    #[serde(default)]
    route: Vec<vigil_fhir::RawRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Hl7File {
    bind: SocketAddr,
    hosts: Vec<IpAddr>,
    trust: String,
    time_zone: Option<String>,
}

/// The HL7 v2 MLLP listener's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Hl7Config {
    pub bind: SocketAddr,
    /// The addresses allowed to connect (the Trust's integration engine).
    pub hosts: Vec<IpAddr>,
    /// The Trust whose messages these are.
    pub trust: vigil_domain::Code,
    /// The zone of HL7 times without an offset.
    pub time_zone: jiff::tz::TimeZone,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DicomFile {
    bind: SocketAddr,
    ae_title: String,
    time_zone: Option<String>,
    max_associations: Option<usize>,
    max_instance_megabytes: Option<usize>,
    #[serde(default)]
    callers: Vec<CallerFile>,
    #[serde(default)]
    route: Vec<vigil_dicom::mapping::RawRoute>,
    originals: Option<OriginalsFile>,
}

/// `[dicom.originals]`: keep the original files, within caps.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OriginalsFile {
    directory: PathBuf,
    max_file_megabytes: Option<u64>,
    max_total_gigabytes: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallerFile {
    ae_title: String,
    hosts: Vec<IpAddr>,
    trust: String,
}

/// The DIMSE listener's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct DicomConfig {
    pub bind: SocketAddr,
    pub settings: vigil_dicom::scp::ScpSettings,
    pub routes: vigil_dicom::Routes,
    /// The zone of DICOM dates and times that state no offset.
    pub time_zone: jiff::tz::TimeZone,
    /// The store of original files, when they are kept (opened with the
    /// configuration; shared by the listener and STOW-RS).
    pub originals: Option<std::sync::Arc<vigil_dicom::originals::Originals>>,
}

/// Whether text is a valid AE title: 1 to 16 characters of the default
/// repertoire, no backslash, not only spaces.
fn check_ae_title(title: &str) -> Result<(), String> {
    if title.trim().is_empty()
        || title.len() > 16
        || title
            .chars()
            .any(|c| !(' '..='~').contains(&c) || c == '\\')
    {
        return Err(format!(
            "{title:?} is not an AE title (1 to 16 printable ASCII characters, no backslash)"
        ));
    }
    Ok(())
}

impl DicomFile {
    fn into_config(self) -> Result<DicomConfig, String> {
        check_ae_title(&self.ae_title).map_err(|message| format!("dicom.ae_title: {message}"))?;
        let zone_name = self.time_zone.as_deref().unwrap_or("Europe/London");
        let time_zone = jiff::tz::TimeZone::get(zone_name)
            .map_err(|error| format!("dicom.time_zone: {zone_name:?}: {error}"))?;
        let mut callers = Vec::new();
        for (index, caller) in self.callers.into_iter().enumerate() {
            let place = format!("dicom.callers[{}]", index + 1);
            check_ae_title(&caller.ae_title)
                .map_err(|message| format!("{place}.ae_title: {message}"))?;
            if caller.hosts.is_empty() {
                return Err(format!(
                    "{place}.hosts: name the addresses the caller sends from"
                ));
            }
            vigil_domain::Code::parse(&caller.trust)
                .map_err(|error| format!("{place}.trust: {error}"))?;
            callers.push(vigil_dicom::scp::AllowedCaller {
                ae_title: caller.ae_title.trim().to_owned(),
                hosts: caller.hosts,
                trust: caller.trust,
            });
        }
        let routes =
            vigil_dicom::Routes::from_raw(self.route).map_err(|error| format!("dicom.{error}"))?;
        let mut settings = vigil_dicom::scp::ScpSettings::new(self.ae_title.trim(), callers);
        if let Some(limit) = self.max_associations {
            settings.max_associations = limit;
        }
        if let Some(megabytes) = self.max_instance_megabytes {
            settings.max_instance_bytes = megabytes.saturating_mul(1 << 20);
        }
        let originals = match self.originals {
            None => None,
            Some(file) => {
                if file.max_total_gigabytes == 0 {
                    return Err(
                        "dicom.originals.max_total_gigabytes: must be at least 1".to_owned()
                    );
                }
                let settings = vigil_dicom::originals::OriginalsSettings {
                    directory: file.directory,
                    max_file_bytes: file
                        .max_file_megabytes
                        .unwrap_or(64)
                        .saturating_mul(1 << 20),
                    max_total_bytes: file.max_total_gigabytes.saturating_mul(1 << 30),
                };
                let store = vigil_dicom::originals::Originals::open(settings)
                    .map_err(|error| format!("dicom.originals.directory: {error}"))?;
                Some(std::sync::Arc::new(store))
            }
        };
        Ok(DicomConfig {
            bind: self.bind,
            settings,
            routes,
            time_zone,
            originals,
        })
    }
}

/// The Trust's pseudonymisation key, redacted wherever it is shown.
#[derive(Clone)]
pub struct TrustKey(pub vigil_domain::PseudonymKey);

impl fmt::Debug for TrustKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("TrustKey(***)")
    }
}

impl PartialEq for TrustKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_hex() == other.0.to_hex()
    }
}

impl Eq for TrustKey {}

/// Where the server's TLS certificate chain and private key are (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

/// Everything the server needs to start.
#[derive(Clone, PartialEq)]
pub struct ServerConfig {
    /// Where to listen; 127.0.0.1:8080 by default.
    pub bind: SocketAddr,
    /// SQLite path or PostgreSQL URL.
    pub database: String,
    /// Largest accepted request body; 64 MiB by default (ingest batches).
    pub request_body_limit_bytes: usize,
    /// Longest a request may take; 60 s by default.
    pub request_timeout_seconds: u64,
    /// Serve plain HTTP on a non-loopback address (behind a proxy).
    pub insecure_http_behind_proxy: bool,
    /// A session unused for this long ends; 30 minutes by default.
    pub session_idle_minutes: u64,
    /// Every session ends this long after sign-in; 12 hours by default.
    pub session_absolute_hours: u64,
    /// Mark the session cookie `Secure` (always so under TLS).
    pub secure_cookies: bool,
    /// Serve HTTPS with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// Sign-in failures allowed per user name within 15 minutes.
    pub login_failures_per_user: usize,
    /// Sign-in failures allowed per client address within 15 minutes.
    pub login_failures_per_client: usize,
    /// Proxies whose `X-Forwarded-For` names the client (for throttling and
    /// the audit trail); none by default.
    pub trusted_proxies: Vec<IpAddr>,
    /// The key that pseudonymises case identifiers of arriving events;
    /// without one, only pseudonyms are accepted.
    pub pseudonym_key: Option<TrustKey>,
    /// How often the rules of every live deployment are judged and alerts
    /// raised; 15 minutes by default, 0 to judge only on request.
    pub monitor_interval_seconds: u64,
    /// The wait before retrying a failed webhook delivery, doubled after
    /// each failure (at most an hour); 5 seconds by default.
    pub webhook_retry_seconds: u64,
    /// The DIMSE listener, when configured.
    pub dicom: Option<DicomConfig>,
    /// How reports (FHIR, HL7 v2) become outcomes (`[[reports.route]]`).
    pub report_routes: vigil_fhir::Routes,
    /// The HL7 v2 listener, when configured.
    pub hl7: Option<Hl7Config>,
}

impl ServerConfig {
    /// Whether the session cookie carries `Secure`: under TLS, behind a
    /// TLS-terminating proxy, or when configured so.
    pub fn cookies_are_secure(&self) -> bool {
        self.secure_cookies || self.tls.is_some() || self.insecure_http_behind_proxy
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: "vigil.db".to_owned(),
            request_body_limit_bytes: 64 << 20,
            request_timeout_seconds: 60,
            insecure_http_behind_proxy: false,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            secure_cookies: false,
            tls: None,
            login_failures_per_user: 5,
            login_failures_per_client: 20,
            trusted_proxies: Vec::new(),
            pseudonym_key: None,
            monitor_interval_seconds: 900,
            webhook_retry_seconds: 5,
            dicom: None,
            report_routes: vigil_fhir::Routes::default(),
            hl7: None,
        }
    }
}

/// The database URL with any password replaced by `***`.
pub fn redact_database(database: &str) -> String {
    match (database.find("://"), database.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &database[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => {
                    format!("{}{user}:***{}", &database[..scheme + 3], &database[at..])
                }
                None => database.to_owned(),
            }
        }
        _ => database.to_owned(),
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ServerConfig")
            .field("bind", &self.bind)
            .field("database", &redact_database(&self.database))
            .field("request_body_limit_bytes", &self.request_body_limit_bytes)
            .field("request_timeout_seconds", &self.request_timeout_seconds)
            .field(
                "insecure_http_behind_proxy",
                &self.insecure_http_behind_proxy,
            )
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_hours", &self.session_absolute_hours)
            .field("secure_cookies", &self.secure_cookies)
            .field("tls", &self.tls)
            .field("login_failures_per_user", &self.login_failures_per_user)
            .field("login_failures_per_client", &self.login_failures_per_client)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("pseudonym_key", &self.pseudonym_key)
            .field("monitor_interval_seconds", &self.monitor_interval_seconds)
            .field("webhook_retry_seconds", &self.webhook_retry_seconds)
            .field("dicom", &self.dicom)
            .field("report_routes", &self.report_routes)
            .field("hl7", &self.hl7)
            .finish()
    }
}

fn from_environment<T: std::str::FromStr>(
    environment: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: fmt::Display,
{
    environment(variable)
        .map(|value| {
            value
                .trim()
                .parse::<T>()
                .map_err(|error| ConfigError::Environment {
                    variable,
                    value: value.clone(),
                    reason: error.to_string(),
                })
        })
        .transpose()
}

/// Reads the Trust's key from a file made by `vigil keygen`.
fn read_key_file(path: &Path) -> Result<TrustKey, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    vigil_domain::PseudonymKey::from_hex(&text)
        .map(TrustKey)
        .map_err(|error| ConfigError::Invalid {
            path: path.display().to_string(),
            message: error.to_string(),
        })
}

impl ServerConfig {
    /// The defaults, then the file (if any), then the environment.
    pub fn load(
        file: Option<&Path>,
        environment: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut config = ServerConfig::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let parsed: ConfigFile =
                toml::from_str(&text).map_err(|error| ConfigError::Invalid {
                    path: path.display().to_string(),
                    message: error.to_string(),
                })?;
            config.bind = parsed.bind.unwrap_or(config.bind);
            config.database = parsed.database.unwrap_or(config.database);
            config.request_body_limit_bytes = parsed
                .request_body_limit_bytes
                .unwrap_or(config.request_body_limit_bytes);
            config.request_timeout_seconds = parsed
                .request_timeout_seconds
                .unwrap_or(config.request_timeout_seconds);
            config.session_idle_minutes = parsed
                .session_idle_minutes
                .unwrap_or(config.session_idle_minutes);
            config.session_absolute_hours = parsed
                .session_absolute_hours
                .unwrap_or(config.session_absolute_hours);
            config.secure_cookies = parsed.secure_cookies.unwrap_or(config.secure_cookies);
            config.login_failures_per_user = parsed
                .login_failures_per_user
                .unwrap_or(config.login_failures_per_user);
            config.login_failures_per_client = parsed
                .login_failures_per_client
                .unwrap_or(config.login_failures_per_client);
            config.trusted_proxies = parsed.trusted_proxies.unwrap_or(config.trusted_proxies);
            config.monitor_interval_seconds = parsed
                .monitor_interval_seconds
                .unwrap_or(config.monitor_interval_seconds);
            config.webhook_retry_seconds = parsed
                .webhook_retry_seconds
                .unwrap_or(config.webhook_retry_seconds);
            if let Some(dicom) = parsed.dicom {
                config.dicom =
                    Some(
                        dicom
                            .into_config()
                            .map_err(|message| ConfigError::Invalid {
                                path: path.display().to_string(),
                                message,
                            })?,
                    );
            }
            let invalid = |message: String| ConfigError::Invalid {
                path: path.display().to_string(),
                message,
            };
            if let Some(reports) = parsed.reports {
                config.report_routes = vigil_fhir::Routes::from_raw(reports.route)
                    .map_err(|error| invalid(format!("reports.{error}")))?;
            }
            if let Some(hl7) = parsed.hl7 {
                let zone_name = hl7.time_zone.as_deref().unwrap_or("Europe/London");
                config.hl7 = Some(Hl7Config {
                    bind: hl7.bind,
                    hosts: hl7.hosts,
                    trust: vigil_domain::Code::parse(&hl7.trust)
                        .map_err(|error| invalid(format!("hl7.trust: {error}")))?,
                    time_zone: jiff::tz::TimeZone::get(zone_name).map_err(|error| {
                        invalid(format!("hl7.time_zone: {zone_name:?}: {error}"))
                    })?,
                });
            }
            if let Some(key_file) = parsed.pseudonym_key_file {
                config.pseudonym_key = Some(read_key_file(&key_file)?);
            }
            match (parsed.tls_certificate, parsed.tls_private_key) {
                (Some(certificate), Some(private_key)) => {
                    config.tls = Some(TlsFiles {
                        certificate,
                        private_key,
                    });
                }
                (None, None) => {}
                _ => {
                    return Err(ConfigError::Invalid {
                        path: path.display().to_string(),
                        message:
                            "tls_certificate and tls_private_key go together: set both or neither"
                                .to_owned(),
                    });
                }
            }
        }
        if let Some(bind) = from_environment(&environment, "VIGIL_BIND")? {
            config.bind = bind;
        }
        if let Some(database) = environment("VIGIL_DB") {
            config.database = database;
        }
        if let Some(limit) = from_environment(&environment, "VIGIL_REQUEST_BODY_LIMIT_BYTES")? {
            config.request_body_limit_bytes = limit;
        }
        if let Some(timeout) = from_environment(&environment, "VIGIL_REQUEST_TIMEOUT_SECONDS")? {
            config.request_timeout_seconds = timeout;
        }
        if let Some(interval) = from_environment(&environment, "VIGIL_MONITOR_INTERVAL_SECONDS")? {
            config.monitor_interval_seconds = interval;
        }
        if let Some(retry) = from_environment(&environment, "VIGIL_WEBHOOK_RETRY_SECONDS")? {
            config.webhook_retry_seconds = retry;
        }
        if let Some(key_file) = environment("VIGIL_PSEUDONYM_KEY_FILE") {
            config.pseudonym_key = Some(read_key_file(Path::new(&key_file))?);
        }
        if let Some(hex) = environment("VIGIL_PSEUDONYM_KEY") {
            config.pseudonym_key = Some(TrustKey(
                vigil_domain::PseudonymKey::from_hex(&hex).map_err(|error| {
                    ConfigError::Environment {
                        variable: "VIGIL_PSEUDONYM_KEY",
                        value: "***".to_owned(),
                        reason: error.to_string(),
                    }
                })?,
            ));
        }
        if let Some(proxies) = environment("VIGIL_TRUSTED_PROXIES") {
            config.trusted_proxies = proxies
                .split(',')
                .map(str::trim)
                .filter(|address| !address.is_empty())
                .map(|address| {
                    address.parse().map_err(|error: std::net::AddrParseError| {
                        ConfigError::Environment {
                            variable: "VIGIL_TRUSTED_PROXIES",
                            value: proxies.clone(),
                            reason: format!("{address:?}: {error}"),
                        }
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(minutes) = from_environment(&environment, "VIGIL_SESSION_IDLE_MINUTES")? {
            config.session_idle_minutes = minutes;
        }
        if let Some(hours) = from_environment(&environment, "VIGIL_SESSION_ABSOLUTE_HOURS")? {
            config.session_absolute_hours = hours;
        }
        if let Some(secure) = from_environment(&environment, "VIGIL_SECURE_COOKIES")? {
            config.secure_cookies = secure;
        }
        match (
            environment("VIGIL_TLS_CERTIFICATE"),
            environment("VIGIL_TLS_PRIVATE_KEY"),
        ) {
            (Some(certificate), Some(private_key)) => {
                config.tls = Some(TlsFiles {
                    certificate: certificate.into(),
                    private_key: private_key.into(),
                });
            }
            (None, None) => {}
            (certificate, _) => {
                return Err(ConfigError::Environment {
                    variable: if certificate.is_some() {
                        "VIGIL_TLS_PRIVATE_KEY"
                    } else {
                        "VIGIL_TLS_CERTIFICATE"
                    },
                    value: String::new(),
                    reason: "VIGIL_TLS_CERTIFICATE and VIGIL_TLS_PRIVATE_KEY go together: set both or neither"
                        .to_owned(),
                });
            }
        }
        for (name, value) in [
            ("session_idle_minutes", config.session_idle_minutes),
            ("session_absolute_hours", config.session_absolute_hours),
        ] {
            if value == 0 {
                return Err(ConfigError::Environment {
                    variable: name,
                    value: "0".to_owned(),
                    reason: "must be at least 1".to_owned(),
                });
            }
        }
        if (config.dicom.is_some() || config.hl7.is_some()) && config.pseudonym_key.is_none() {
            return Err(ConfigError::Environment {
                variable: "pseudonym_key_file",
                value: String::new(),
                reason: "the DICOM and HL7 listeners pseudonymise identifiers on arrival: configure the Trust's key \
                         (pseudonym_key_file or VIGIL_PSEUDONYM_KEY)"
                    .to_owned(),
            });
        }
        if config.request_timeout_seconds == 0 {
            return Err(ConfigError::Environment {
                variable: "request_timeout_seconds",
                value: "0".to_owned(),
                reason: "must be at least 1".to_owned(),
            });
        }
        Ok(config)
    }

    /// Refuses plain HTTP on a non-loopback address unless TLS is
    /// configured or the operator has said a TLS-terminating proxy is in
    /// front.
    pub fn check_bind(&self) -> Result<(), ConfigError> {
        if self.bind.ip().is_loopback() || self.tls.is_some() || self.insecure_http_behind_proxy {
            Ok(())
        } else {
            Err(ConfigError::UnsafeBind { bind: self.bind })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn defaults_file_and_environment_apply_in_order() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let file = directory.path().join("vigil.toml");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:9000\"\ndatabase = \"trust.db\"\nrequest_timeout_seconds = 30\n",
        )
        .expect("write");
        let config = ServerConfig::load(
            Some(&file),
            environment(&[("VIGIL_BIND", "127.0.0.1:9100")]),
        )
        .expect("load");
        assert_eq!(config.bind, "127.0.0.1:9100".parse().expect("address"));
        assert_eq!(config.database, "trust.db");
        assert_eq!(config.request_timeout_seconds, 30);
        assert_eq!(config.request_body_limit_bytes, 64 << 20);
    }

    #[test]
    fn bad_values_are_named() {
        let error = ServerConfig::load(None, environment(&[("VIGIL_BIND", "everywhere")]))
            .expect_err("refused");
        assert!(
            error
                .to_string()
                .starts_with("VIGIL_BIND = \"everywhere\" is not valid"),
            "{error}"
        );
        let directory = tempfile::tempdir().expect("temporary directory");
        let file = directory.path().join("vigil.toml");
        std::fs::write(&file, "port = 8080\n").expect("write");
        let error = ServerConfig::load(Some(&file), environment(&[])).expect_err("refused");
        assert!(
            error.to_string().contains("unknown field `port`"),
            "{error}"
        );
    }

    #[test]
    fn trusted_proxies_are_read_from_the_environment() {
        let config = ServerConfig::load(
            None,
            environment(&[("VIGIL_TRUSTED_PROXIES", "127.0.0.1, ::1")]),
        )
        .expect("load");
        assert_eq!(
            config.trusted_proxies,
            vec![
                "127.0.0.1".parse::<IpAddr>().expect("address"),
                "::1".parse::<IpAddr>().expect("address")
            ]
        );
        let error = ServerConfig::load(
            None,
            environment(&[("VIGIL_TRUSTED_PROXIES", "proxy.local")]),
        )
        .expect_err("refused");
        assert!(error.to_string().contains("\"proxy.local\""), "{error}");
    }

    #[test]
    fn the_pseudonym_key_is_read_and_never_shown() {
        const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let config =
            ServerConfig::load(None, environment(&[("VIGIL_PSEUDONYM_KEY", HEX)])).expect("load");
        assert!(config.pseudonym_key.is_some());
        let shown = format!("{config:?}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        let error = ServerConfig::load(None, environment(&[("VIGIL_PSEUDONYM_KEY", "00")]))
            .expect_err("refused");
        assert!(
            error
                .to_string()
                .starts_with("VIGIL_PSEUDONYM_KEY = \"***\" is not valid"),
            "{error}"
        );
    }

    #[test]
    fn the_database_password_never_shows() {
        let config = ServerConfig::load(
            None,
            environment(&[("VIGIL_DB", "postgres://vigil:s3cret@db.example:5432/vigil")]),
        )
        .expect("load");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("postgres://vigil:***@db.example:5432/vigil"),
            "{shown}"
        );
        assert_eq!(redact_database("vigil.db"), "vigil.db");
    }

    #[test]
    fn plain_http_stays_on_loopback_unless_a_proxy_is_declared() {
        let mut config = ServerConfig::default();
        assert!(config.check_bind().is_ok());
        config.bind = "0.0.0.0:8080".parse().expect("address");
        assert!(matches!(
            config.check_bind(),
            Err(ConfigError::UnsafeBind { .. })
        ));
        config.insecure_http_behind_proxy = true;
        assert!(config.check_bind().is_ok());
        assert!(
            config.cookies_are_secure(),
            "behind a TLS-terminating proxy the browser speaks HTTPS"
        );
        config.insecure_http_behind_proxy = false;
        assert!(!config.cookies_are_secure());
        config.tls = Some(TlsFiles {
            certificate: "cert.pem".into(),
            private_key: "key.pem".into(),
        });
        assert!(config.check_bind().is_ok());
        assert!(config.cookies_are_secure());
        config.tls = None;
        config.bind = "[::1]:8080".parse().expect("address");
        config.insecure_http_behind_proxy = false;
        assert!(config.check_bind().is_ok());
    }
}
