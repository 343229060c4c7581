//! A seeded national registry behind the router, and one way to call it.
//!
//! Two Trusts in one region: `trust-a` (site `trust-a-main`), whose people
//! and tokens make the requests, and `trust-b` (site `trust-b-main`), whose
//! objects carry the canary text `CANARY-B` and must never reach a caller
//! of Trust A.

#![allow(dead_code)]

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;
use vigil_domain::{
    ChangeControlPlan, ChangeKind, Code, Deployment, Modality, NonEmptyText, OperatingThreshold,
    Organisation, OrganisationKind, Product, ProductVersion, RegulatoryClass, Role, TaskType,
};
use vigil_server::{ServerConfig, router};
use vigil_store::{Actor, ChangeContext, DeploymentId, NewApiToken, NewEvaluation, NewUser, Store};
use vigil_store_sqlite::SqliteStore;

pub const PASSWORD: &str = "correct horse battery staple";
pub const CANARY: &str = "CANARY-B";

pub fn text(value: &str) -> NonEmptyText {
    NonEmptyText::parse(value).expect("text")
}

pub fn code(value: &str) -> Code {
    Code::parse(value).expect("code")
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(String),
    /// A session cookie and its CSRF token (sent when `Some`).
    Session {
        cookie: String,
        csrf: Option<String>,
    },
}

/// A response, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

/// The seeded registry and the router over it.
pub struct Harness {
    pub app: Router,
    pub store: SqliteStore,
    pub directory: tempfile::TempDir,
    /// The secret of a token of each role at Trust A (national_admin at
    /// the nation).
    pub tokens: BTreeMap<Role, String>,
    /// Ids of objects of Trust A and of Trust B.
    pub deployment_a: i64,
    pub deployment_b: i64,
    pub evaluation_a: i64,
    pub evaluation_b: i64,
    pub alert_a: i64,
    pub alert_b: i64,
    pub hazard_a: i64,
    pub hazard_b: i64,
    pub assessment_a: i64,
    pub assessment_b: i64,
    /// SHA-256 of an evidence file kept by each Trust.
    pub attachment_a: String,
    pub attachment_b: String,
    pub product: i64,
    pub version: i64,
    pub user_a: i64,
    pub user_b: i64,
    pub token_a: i64,
    pub token_b: i64,
    /// The secret of an AI lead's token at Trust B.
    pub trust_b_ai_lead: String,
}

/// A hazard as the API takes it, titled `title`, open.
pub fn hazard_json(title: &str) -> Value {
    serde_json::json!({
        "title": title,
        "cause": "Images from a new detector are darker than the training data",
        "effect": "A finding is not flagged and its report is delayed",
        "controls": [{"description": "Every study is still reported by a radiologist", "evidence": ["rule:sensitivity"]}],
        "initial": {"severity": "major", "likelihood": "medium"},
        "residual": {"severity": "major", "likelihood": "low"},
        "owner": "Clinical safety officer",
        "status": "open",
    })
}

/// A positive-rate rule's signal, with the given explanation.
pub fn signal(explanation: &str) -> vigil_monitor::Assessment {
    vigil_monitor::Assessment {
        rule: "positive-rate".to_owned(),
        kind: "positive_rate".to_owned(),
        window_from: "2026-11-24".parse().expect("date"),
        window_to: "2026-11-30".parse().expect("date"),
        verdict: vigil_monitor::Verdict::Signal,
        propose_suspension: true,
        evidence: vigil_monitor::Evidence {
            statistic: "positive_rate".to_owned(),
            value: Some(0.4),
            interval: Some((0.35, 0.45)),
            baseline: Some(0.2),
            p_value: None,
            effect_size: Some(0.2),
            threshold: "positive rate at least 0.05 from the baseline".to_owned(),
            cases: 400,
            reference_cases: None,
            explanation: explanation.to_owned(),
        },
    }
}

pub fn context(name: &str, role: Role, organisation: &str) -> ChangeContext {
    ChangeContext::now(Actor {
        name: text(name),
        role,
        organisation: code(organisation),
    })
}

/// The user name of the seeded user of `role` at a Trust ("a" or "b").
pub fn user_name(trust: &str, role: Role) -> String {
    format!("{trust}-{}", role.as_str())
}

fn evaluation(deployment: i64, marker: &str) -> NewEvaluation {
    NewEvaluation {
        deployment: DeploymentId(deployment),
        verdict: "pass".to_owned(),
        protocol: format!("# {marker}\n"),
        options: "{}".to_owned(),
        cases_sha256: "00".repeat(32),
        cases_bytes: 10,
        result: format!("{{\"note\": \"{marker}\"}}"),
        report: format!("<!doctype html><p>{marker}</p>"),
    }
}

impl Harness {
    /// The seeded registry behind a server with the Trust's pseudonym key
    /// configured.
    pub async fn new() -> Harness {
        Harness::with_config(ServerConfig {
            pseudonym_key: Some(vigil_server::config::TrustKey(
                vigil_domain::PseudonymKey::from_bytes([5; 32]),
            )),
            ..ServerConfig::default()
        })
        .await
    }

    pub async fn with_config(config: ServerConfig) -> Harness {
        let directory = tempfile::tempdir().expect("temporary directory");
        let store = SqliteStore::open(&directory.path().join("vigil.db"))
            .await
            .expect("open");
        let admin = context("national", Role::NationalAdmin, "england");
        let tree = [
            ("england", "NHS England", OrganisationKind::Nation, None),
            (
                "north",
                "North Imaging Network",
                OrganisationKind::Region,
                Some(("england", OrganisationKind::Nation)),
            ),
            (
                "trust-a",
                "Trust A",
                OrganisationKind::Trust,
                Some(("north", OrganisationKind::Region)),
            ),
            (
                "trust-a-main",
                "Trust A main site",
                OrganisationKind::Site,
                Some(("trust-a", OrganisationKind::Trust)),
            ),
            (
                "trust-b",
                "Trust B CANARY-B",
                OrganisationKind::Trust,
                Some(("north", OrganisationKind::Region)),
            ),
            (
                "trust-b-main",
                "Trust B main site CANARY-B",
                OrganisationKind::Site,
                Some(("trust-b", OrganisationKind::Trust)),
            ),
        ];
        let organisations: Vec<Organisation> = tree
            .iter()
            .map(|(code_text, name, kind, parent)| {
                let parent_code = parent.map(|(parent, kind)| (code(parent), kind));
                Organisation::new(
                    code(code_text),
                    text(name),
                    *kind,
                    parent_code.as_ref().map(|(parent, kind)| (parent, *kind)),
                )
                .expect("organisation")
            })
            .collect();
        store
            .initialise(
                &admin,
                &organisations,
                &NewUser {
                    user_name: text("national"),
                    display_name: text("National Administrator"),
                    role: Role::NationalAdmin,
                    organisation: code("england"),
                },
            )
            .await
            .expect("initialise");
        let mut user_a = 0;
        let mut user_b = 0;
        for (trust, organisation, display) in [
            ("a", "trust-a", "Person"),
            ("b", "trust-b", "Person CANARY-B"),
        ] {
            for role in Role::ALL {
                if role == Role::NationalAdmin {
                    continue;
                }
                let record = store
                    .add_user(
                        &admin,
                        &NewUser {
                            user_name: text(&user_name(trust, role)),
                            display_name: text(&format!("{display} {role}")),
                            role,
                            organisation: code(organisation),
                        },
                    )
                    .await
                    .expect("user");
                if role == Role::Viewer {
                    if trust == "a" {
                        user_a = record.id;
                    } else {
                        user_b = record.id;
                    }
                }
            }
        }
        let product = store
            .add_product(
                &admin,
                &Product {
                    vendor: text("Acme Imaging"),
                    name: text("ChestTriage"),
                    intended_purpose: text("Triage of chest radiographs"),
                    modality: Modality::parse("radiography").expect("modality"),
                    body_part: text("chest"),
                    task_type: TaskType::parse("triage").expect("task"),
                    regulatory_class: RegulatoryClass::parse("iia").expect("class"),
                    marking: text("UKCA"),
                },
            )
            .await
            .expect("product");
        let version = store
            .add_version(
                &admin,
                product,
                &ProductVersion {
                    version: text("1.0.0"),
                    release_date: "2026-01-15".parse().expect("date"),
                    change_notes: text("First release"),
                    change_kind: ChangeKind::Initial,
                },
            )
            .await
            .expect("version");
        let mut deployments = Vec::new();
        for (site, team) in [
            ("trust-a-main", "Radiology AI"),
            ("trust-b-main", "Radiology AI CANARY-B"),
        ] {
            let id = store
                .add_deployment(
                    &admin,
                    version,
                    &Deployment {
                        site: code(site),
                        owning_team: text(team),
                        thresholds: vec![(
                            text("default"),
                            OperatingThreshold::parse(0.5).expect("threshold"),
                        )],
                        change_control: ChangeControlPlan::none(),
                    },
                )
                .await
                .expect("deployment");
            deployments.push(id.0);
        }
        let evaluation_a = store
            .add_evaluation(
                &context("a-ai_lead", Role::AiLead, "trust-a"),
                &evaluation(deployments[0], "trust A"),
            )
            .await
            .expect("evaluation")
            .id;
        let evaluation_b = store
            .add_evaluation(
                &context("b-ai_lead", Role::AiLead, "trust-b"),
                &evaluation(deployments[1], CANARY),
            )
            .await
            .expect("evaluation")
            .id;
        let mut alerts = Vec::new();
        for (deployment, trust, explanation) in [
            (deployments[0], "trust-a", "trust A's positive rate"),
            (deployments[1], "trust-b", CANARY),
        ] {
            let raised = store
                .raise_alerts(
                    &context(&format!("{}-ai_lead", &trust[6..]), Role::AiLead, trust),
                    DeploymentId(deployment),
                    1,
                    &[signal(explanation)],
                )
                .await
                .expect("alert");
            alerts.push(raised[0].id);
        }
        // Trust B's deployment has rules (Trust A's has none, so that a
        // test can set the first).
        store
            .set_rules(
                &context("b-ai_lead", Role::AiLead, "trust-b"),
                DeploymentId(deployments[1]),
                &vigil_monitor::RuleSet::defaults(vigil_monitor::Baseline {
                    source: CANARY.to_owned(),
                    ..vigil_monitor::Baseline::default()
                }),
                "defaults",
                Some(0),
            )
            .await
            .expect("rules");
        let mut hazards = Vec::new();
        for (deployment, trust, title) in [
            (deployments[0], "trust-a", "trust A's missed finding"),
            (deployments[1], "trust-b", CANARY),
        ] {
            let hazard: vigil_domain::Hazard =
                serde_json::from_value(hazard_json(title)).expect("a hazard");
            let record = store
                .add_hazard(
                    &context(
                        &format!("{}-clinical_safety_officer", &trust[6..]),
                        Role::ClinicalSafetyOfficer,
                        trust,
                    ),
                    DeploymentId(deployment),
                    &hazard,
                )
                .await
                .expect("hazard");
            hazards.push(record.id);
        }
        let mut assessments = Vec::new();
        let mut attachments = Vec::new();
        for trust in ["trust-a", "trust-b"] {
            let buyer = context(
                &format!("{}-procurement_lead", &trust[6..]),
                Role::ProcurementLead,
                trust,
            );
            let record = store
                .create_assessment(
                    &buyer,
                    version,
                    &code(trust),
                    vigil_domain::procurement::DEFAULT_TEMPLATE,
                )
                .await
                .expect("assessment");
            assessments.push(record.id);
            let evidence = if trust == "trust-b" {
                format!("Trust B DTAC response {CANARY}")
            } else {
                "Trust A DTAC response".to_owned()
            };
            let (kept, _) = store
                .add_attachment(&buyer, &code(trust), "text/plain", evidence.as_bytes())
                .await
                .expect("attachment");
            attachments.push(kept.sha256);
        }
        // Likewise its success criteria (Trust A's deployment has none).
        store
            .register_success_criteria(
                &context("b-ai_lead", Role::AiLead, "trust-b"),
                DeploymentId(deployments[1]),
                &[
                    vigil_monitor::productivity::SuccessCriterion::MedianTurnaroundReduction {
                        cases: vigil_monitor::productivity::CaseGroup::All,
                        minutes: 15.0,
                    },
                ],
                CANARY,
            )
            .await
            .expect("success criteria");
        let mut tokens = BTreeMap::new();
        for role in Role::ALL {
            let organisation = if role == Role::NationalAdmin {
                "england"
            } else {
                "trust-a"
            };
            let secret = format!(
                "vigil_{}",
                vigil_server::auth::random_secret().expect("secret")
            );
            store
                .add_api_token(
                    &admin,
                    &NewApiToken {
                        name: text(&format!("{role} token")),
                        token_hash: vigil_server::auth::secret_hash(&secret),
                        organisation: code(organisation),
                        role,
                    },
                )
                .await
                .expect("token");
            tokens.insert(role, secret);
        }
        let trust_b_ai_lead = format!(
            "vigil_{}",
            vigil_server::auth::random_secret().expect("secret")
        );
        store
            .add_api_token(
                &admin,
                &NewApiToken {
                    name: text("Trust B AI lead CANARY-B"),
                    token_hash: vigil_server::auth::secret_hash(&trust_b_ai_lead),
                    organisation: code("trust-b"),
                    role: Role::AiLead,
                },
            )
            .await
            .expect("token");
        let mut target_tokens = Vec::new();
        for (organisation, name) in [("trust-a", "target A"), ("trust-b", "target CANARY-B")] {
            target_tokens.push(
                store
                    .add_api_token(
                        &admin,
                        &NewApiToken {
                            name: text(name),
                            token_hash: vigil_server::auth::secret_hash(name),
                            organisation: code(organisation),
                            role: Role::Viewer,
                        },
                    )
                    .await
                    .expect("token")
                    .id,
            );
        }
        let app = router(store.clone(), &config);
        Harness {
            app,
            store,
            directory,
            tokens,
            deployment_a: deployments[0],
            deployment_b: deployments[1],
            evaluation_a,
            evaluation_b,
            alert_a: alerts[0],
            alert_b: alerts[1],
            hazard_a: hazards[0],
            hazard_b: hazards[1],
            assessment_a: assessments[0],
            assessment_b: assessments[1],
            attachment_b: attachments.pop().expect("Trust B's attachment"),
            attachment_a: attachments.pop().expect("Trust A's attachment"),
            product: product.0,
            version: version.0,
            user_a,
            user_b,
            token_a: target_tokens[0],
            token_b: target_tokens[1],
            trust_b_ai_lead,
        }
    }

    /// Sets the seeded password of a user.
    pub async fn set_password(&self, user_name: &str) {
        let user = self
            .store
            .users()
            .await
            .expect("users")
            .into_iter()
            .find(|user| user.user_name.as_str() == user_name)
            .expect("user");
        let hash = vigil_server::auth::hash_password(PASSWORD).expect("hash");
        self.store
            .set_password_hash(
                &context("national", Role::NationalAdmin, "england"),
                user.id,
                &hash,
            )
            .await
            .expect("password");
    }

    pub fn bearer(&self, role: Role) -> Auth {
        Auth::Bearer(self.tokens[&role].clone())
    }

    /// Sends one request.
    pub async fn call(&self, method: &str, path: &str, auth: &Auth, body: Option<Value>) -> Answer {
        let mut request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(path);
        match auth {
            Auth::None => {}
            Auth::Bearer(secret) => {
                request = request.header(header::AUTHORIZATION, format!("Bearer {secret}"));
            }
            Auth::Session { cookie, csrf } => {
                request = request.header(header::COOKIE, format!("vigil_session={cookie}"));
                if let Some(csrf) = csrf {
                    request = request.header("x-csrf-token", csrf);
                }
            }
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("request")).await
    }

    /// Sends a prepared request.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            json,
        }
    }

    /// Signs in and returns the session cookie's value and the CSRF token.
    pub async fn sign_in(&self, user_name: &str) -> (String, String) {
        let answer = self
            .call(
                "POST",
                "/api/v1/session",
                &Auth::None,
                Some(serde_json::json!({"user_name": user_name, "password": PASSWORD})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let cookie = answer.headers[header::SET_COOKIE]
            .to_str()
            .expect("cookie")
            .to_owned();
        let value = cookie
            .strip_prefix("vigil_session=")
            .and_then(|rest| rest.split(';').next())
            .expect("session cookie")
            .to_owned();
        let csrf = answer.json["csrf_token"].as_str().expect("csrf").to_owned();
        (value, csrf)
    }

    /// The actions of the audit trail, in order.
    pub async fn audit_actions(&self) -> Vec<String> {
        self.store
            .audit_trail()
            .await
            .expect("trail")
            .entries
            .iter()
            .map(|entry| entry.record.action.clone())
            .collect()
    }

    /// Answers every question of Trust A's draft assessment of the version
    /// with a 3 and completes it (it passes): the evidence procurement →
    /// validation needs.
    pub async fn pass_assessment_a(&self) {
        let buyer = context("a-procurement_lead", Role::ProcurementLead, "trust-a");
        let answers: Vec<vigil_domain::procurement::Answer> =
            vigil_domain::procurement::Template::default_template()
                .question_keys()
                .into_iter()
                .map(|question| vigil_domain::procurement::Answer {
                    question,
                    score: 3,
                    note: None,
                    attachments: Vec::new(),
                })
                .collect();
        let answered = self
            .store
            .save_answers(&buyer, self.assessment_a, &answers, 1)
            .await
            .expect("answers");
        let completed = self
            .store
            .complete_assessment(&buyer, self.assessment_a, answered.revision)
            .await
            .expect("completed");
        assert_eq!(completed.outcome.as_deref(), Some("pass"));
    }
}

/// Every operation of the API description: (method, path template,
/// permission).
pub fn operations() -> Vec<(String, String, String)> {
    let document = vigil_server::openapi::description();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let permission = operation["x-vigil-permission"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} declares no permission"))
                .to_owned();
            operations.push((method.to_uppercase(), path.clone(), permission));
        }
    }
    operations
}
