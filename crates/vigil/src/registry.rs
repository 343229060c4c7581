//! The registry, governance and audit commands: everything that reads or
//! writes the system of record through a store (SQLite by default,
//! PostgreSQL for a `postgres://` URL).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_audit::{
    Checkpoint, CheckpointKey, Verification, verify, verify_against_trusted_checkpoint,
};
use vigil_domain::{
    ChangeControlPlan, ChangeKind, Code, Deployment, EvidenceReference, IdentifierKind,
    LifecycleState, Modality, NonEmptyText, OperatingThreshold, Organisation, OrganisationKind,
    OrganisationTree, Product, ProductVersion, PseudonymKey, RegulatoryClass, Role, SignOff,
    SignOffPolicy, TaskType, TransitionRequest,
};
use vigil_store::governance;
use vigil_store::{
    Actor, Archive, ChangeContext, DeploymentId, DeploymentRecord, NewUser, ProductId,
    ProductRecord, Store, VersionId,
};
use vigil_store_postgres::PostgresStore;
use vigil_store_sqlite::SqliteStore;

/// Where the system of record lives and how to print results.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// SQLite file path (the default backend; vigil.db if not given), or a
    /// postgres:// URL.
    #[arg(long, global = true, env = "VIGIL_DB", value_name = "URL-or-path")]
    pub db: Option<String>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

impl StoreArgs {
    /// The database named by --db or VIGIL_DB, else `vigil.db`.
    pub fn database(&self) -> &str {
        self.db.as_deref().unwrap_or("vigil.db")
    }
}

/// The registered user making a change (environment `VIGIL_ACTOR`).
#[derive(Debug, Clone, Args)]
pub struct ActorArgs {
    /// User name of the registered user making the change.
    #[arg(long, env = "VIGIL_ACTOR", value_name = "USER")]
    actor: String,
    /// The role the user acts in (default: the user's registered role).
    #[arg(long, value_name = "ROLE")]
    role: Option<String>,
}

impl ActorArgs {
    /// The actor given by other arguments.
    pub fn named(actor: String, role: Option<String>) -> ActorArgs {
        ActorArgs { actor, role }
    }
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Creates the schema, the organisation tree from a TOML file and the
    /// first administrator.
    Init(InitArgs),
    /// Applies pending schema migrations.
    Migrate,
    /// Organisations: nation, regions, Trusts and sites.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users and their roles.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for machine clients.
    #[command(subcommand)]
    Token(TokenCommand),
    /// AI products in the registry.
    #[command(subcommand)]
    Product(ProductCommand),
    /// Product versions.
    #[command(subcommand)]
    Version(VersionCommand),
    /// Deployments of a product version at a site, and their lifecycle.
    #[command(subcommand)]
    Deployment(DeploymentCommand),
    /// Procurement assessments of product versions (required before local
    /// validation starts).
    #[command(subcommand)]
    Assessment(AssessmentCommand),
    /// The sign-off policy: which roles must sign each lifecycle step.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The tamper-evident audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Writes the whole system of record to a portable archive.
    Export {
        /// The archive file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Stores a file of inference events (NDJSON or CSV) for a deployment,
    /// in batches, each validated whole; events already stored are skipped.
    Ingest(Box<crate::ingest::IngestArgs>),
    /// Monitoring: a deployment's rules, assessments and alerts.
    #[command(subcommand)]
    Monitor(crate::monitor::MonitorCommand),
    /// Loads a portable archive into an empty database (for example to move
    /// a Trust from SQLite to PostgreSQL), keeping the audit chain.
    Import {
        /// The archive file to read.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// TOML file with the organisation tree (see examples/organisations.toml).
    #[arg(long, value_name = "FILE.toml")]
    organisations: PathBuf,
    /// User name of the first administrator.
    #[arg(long, value_name = "USER")]
    admin: String,
    /// Display name of the first administrator.
    #[arg(long, value_name = "NAME")]
    admin_name: Option<String>,
    /// Organisation of the first administrator (default: the nation).
    #[arg(long, value_name = "CODE")]
    admin_organisation: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Lists the organisation tree.
    List,
    /// Adds an organisation under its parent.
    Add {
        #[command(flatten)]
        actor: ActorArgs,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// nation, region, trust or site.
        #[arg(long)]
        kind: String,
        /// The parent's code (none for the nation).
        #[arg(long)]
        parent: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    List,
    Add {
        #[command(flatten)]
        actor: ActorArgs,
        #[arg(long = "user-name")]
        user_name: String,
        #[arg(long = "display-name")]
        display_name: String,
        #[arg(long = "user-role")]
        user_role: String,
        #[arg(long)]
        organisation: String,
    },
    /// Sets a user's password for signing in to `vigil serve`, read from the
    /// first line of standard input (at least 12 characters); ends the
    /// user's sessions. An administrator sets anyone's within their
    /// organisation; a user may set their own.
    Password {
        #[command(flatten)]
        actor: ActorArgs,
        #[arg(long = "user-name")]
        user_name: String,
    },
    /// Disables a user: they can no longer sign in, and their sessions end.
    Disable {
        #[command(flatten)]
        actor: ActorArgs,
        #[arg(long = "user-name")]
        user_name: String,
    },
    /// Enables a disabled user again.
    Enable {
        #[command(flatten)]
        actor: ActorArgs,
        #[arg(long = "user-name")]
        user_name: String,
    },
}

/// API tokens for machine clients (ingest, CI).
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Lists tokens (never their secrets).
    List,
    /// Creates a token scoped to one organisation and role, and prints its
    /// secret this once; only its SHA-256 is stored.
    Create {
        #[command(flatten)]
        actor: ActorArgs,
        /// What the token is for, e.g. "ingest from PACS".
        #[arg(long)]
        name: String,
        #[arg(long)]
        organisation: String,
        /// The role the token acts in.
        #[arg(long = "token-role")]
        token_role: String,
    },
    /// Revokes a token at once.
    Revoke {
        #[command(flatten)]
        actor: ActorArgs,
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    List,
    Show { id: String },
    Add(Box<AddProductArgs>),
}

/// The fields of a new product.
#[derive(Debug, Args)]
pub struct AddProductArgs {
    #[command(flatten)]
    actor: ActorArgs,
    #[arg(long)]
    vendor: String,
    #[arg(long)]
    name: String,
    #[arg(long = "intended-purpose")]
    intended_purpose: String,
    /// radiography, ct, mri, mammography, ultrasound, nuclear_medicine, pet, radiotherapy, other.
    #[arg(long)]
    modality: String,
    #[arg(long = "body-part")]
    body_part: String,
    /// triage, classification, detection, segmentation (auto_contouring), quantification.
    #[arg(long = "task")]
    task_type: String,
    /// I, IIa, IIb or III.
    #[arg(long = "class")]
    regulatory_class: String,
    /// e.g. UKCA, "CE (MDR)".
    #[arg(long)]
    marking: String,
}

#[derive(Debug, Subcommand)]
pub enum VersionCommand {
    Add {
        #[command(flatten)]
        actor: ActorArgs,
        #[arg(long)]
        product: String,
        #[arg(long)]
        version: String,
        /// Release date, YYYY-MM-DD.
        #[arg(long)]
        released: String,
        #[arg(long)]
        notes: String,
        /// initial, bug_fix, performance_update, threshold_change, new_indication, new_modality_or_body_part, user_interface.
        #[arg(long)]
        change: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeploymentCommand {
    List,
    Show {
        id: String,
    },
    Add {
        #[command(flatten)]
        actor: ActorArgs,
        /// The product version to deploy.
        #[arg(long)]
        version: String,
        /// The site's organisation code.
        #[arg(long)]
        site: String,
        #[arg(long)]
        team: String,
        /// Operating threshold, NAME=VALUE (repeatable), e.g. default=0.35.
        #[arg(long = "threshold", value_name = "NAME=VALUE")]
        thresholds: Vec<String>,
        /// A kind of change the recorded change-control plan (PCCP) covers
        /// without re-validation (repeatable).
        #[arg(long = "change-control", value_name = "KIND")]
        change_control: Vec<String>,
    },
    /// Records a lifecycle decision with its sign-offs.
    Transition {
        id: String,
        #[command(flatten)]
        actor: ActorArgs,
        /// The state to move to.
        #[arg(long)]
        to: String,
        /// The state the decision starts from (default: the current state);
        /// if another decision got there first, this one is refused.
        #[arg(long)]
        from: Option<String>,
        /// The rationale of the decision.
        #[arg(long)]
        reason: String,
        /// A sign-off, NAME:ROLE (repeatable); the actor signs in their role too.
        #[arg(long = "sign-off", value_name = "NAME:ROLE")]
        sign_offs: Vec<String>,
        /// The deployment's revision the decision was made on (shown by
        /// `deployment show`); any change since is refused as a conflict.
        #[arg(long)]
        revision: Option<i64>,
        /// An evidence reference (repeatable), e.g. evaluation:12 or a document reference.
        #[arg(long = "evidence", value_name = "REFERENCE")]
        evidence: Vec<String>,
    },
    /// Moves a deployment to a newer version of its product.
    Upgrade {
        id: String,
        #[command(flatten)]
        actor: ActorArgs,
        #[arg(long)]
        version: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AssessmentCommand {
    /// Lists assessments, newest first, with their outcome.
    List {
        /// Only assessments of this version.
        #[arg(long)]
        version: Option<String>,
    },
    /// Records a whole assessment of a version by the actor's organisation:
    /// the answers are checked against the template first (every question
    /// answered, scores 0-4), then stored and completed with their outcome
    /// in one transaction: either the completed assessment is stored, or
    /// nothing is.
    Record {
        #[command(flatten)]
        actor: ActorArgs,
        /// The product version assessed.
        #[arg(long)]
        version: String,
        /// JSON array of answers: [{"question": "clinical_need.need", "score": 3, "note": "..."}].
        #[arg(long, value_name = "FILE.json")]
        answers: PathBuf,
        /// The assessment template (TOML; default: the built-in template,
        /// shown by GET /api/v1/procurement/template).
        #[arg(long, value_name = "FILE.toml")]
        template: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Shows the policy in force and its version (0: the built-in defaults).
    Show,
    /// Stores a new version of the policy from a TOML file (administrators
    /// only; audited). Format: `[sign_off]` with keys "FROM->TO" ("*" for
    /// any source) or "radiotherapy:FROM->TO", each a list of roles.
    Set {
        #[command(flatten)]
        actor: ActorArgs,
        #[arg(long, value_name = "FILE.toml")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walks the hash chain: "ok: N entries" (exit 0) or the first bad
    /// entry and why (exit 1).
    Verify {
        /// Also prove the history up to this signed checkpoint is unchanged.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// The trusted public key (hex) the checkpoint must be signed with.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
    /// Signs the current head of the chain with an Ed25519 key kept outside
    /// the database and writes the checkpoint.
    Checkpoint {
        /// The signing key file (made by `vigil audit keygen`).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Where to write the checkpoint (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Makes a new checkpoint signing key.
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Writes a new pseudonymisation key file.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key file to create (kept outside the database; mode 0600).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Pseudonymises identifiers read from standard input, one per line.
#[derive(Debug, Args)]
pub struct PseudonymiseArgs {
    /// The key file made by `vigil keygen`; otherwise the key is read from
    /// the environment variable VIGIL_PSEUDONYM_KEY (64 hex digits).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// nhs_number (checked with the modulus 11 rule), accession or local_patient_id.
    #[arg(long, value_name = "KIND")]
    kind: String,
}

/// Loads the pseudonymisation key from `file`, or else from the environment
/// variable `VIGIL_PSEUDONYM_KEY`; the key never enters the database.
pub fn load_pseudonym_key(file: Option<&Path>) -> Result<PseudonymKey> {
    let (text, source) = match file {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the key file {}", path.display()))?,
            path.display().to_string(),
        ),
        None => (
            std::env::var("VIGIL_PSEUDONYM_KEY").map_err(|_| {
                anyhow!("no pseudonymisation key: pass --key FILE or set VIGIL_PSEUDONYM_KEY")
            })?,
            "VIGIL_PSEUDONYM_KEY".to_owned(),
        ),
    };
    PseudonymKey::from_hex(&text).map_err(|error| anyhow!("{source}: {error}"))
}

/// `vigil pseudonymise`: one pseudonym per input line, in order. A line
/// that is not a valid identifier stops the run with its line number and
/// nothing after it is printed; the identifier itself is never echoed.
pub fn pseudonymise(arguments: &PseudonymiseArgs, json_output: bool) -> Result<()> {
    use std::io::{BufRead, Write};
    let key = load_pseudonym_key(arguments.key.as_deref())?;
    let kind =
        IdentifierKind::parse(&arguments.kind).map_err(|error| anyhow!("--kind: {error}"))?;
    let mut pseudonyms = Vec::new();
    for (index, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("cannot read standard input")?;
        if line.trim().is_empty() {
            continue;
        }
        let pseudonym = vigil_domain::pseudonymise(&key, kind, &line)
            .map_err(|error| anyhow!("line {}: {error}", index + 1))?;
        pseudonyms.push(pseudonym);
    }
    let mut output = std::io::stdout().lock();
    if json_output {
        let list: Vec<&str> = pseudonyms
            .iter()
            .map(|pseudonym| pseudonym.as_str())
            .collect();
        writeln!(output, "{}", json!(list))?;
    } else {
        for pseudonym in pseudonyms {
            writeln!(output, "{}", pseudonym.as_str())?;
        }
    }
    Ok(())
}

/// The organisation tree file of `vigil init`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationFile {
    organisation: Vec<OrganisationEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationEntry {
    code: String,
    name: String,
    kind: String,
    parent: Option<String>,
}

fn text(field: &str, value: &str) -> Result<NonEmptyText> {
    NonEmptyText::parse(value).map_err(|error| anyhow!("{field}: {error}"))
}

fn code(field: &str, value: &str) -> Result<Code> {
    Code::parse(value).map_err(|error| anyhow!("{field}: {error}"))
}

fn parse_id<T: std::str::FromStr<Err = String>>(field: &str, value: &str) -> Result<T> {
    value.parse().map_err(|error| anyhow!("{field}: {error}"))
}

/// The one-line result of a verification.
fn verification_line(verification: &Result<Verification, String>) -> String {
    match verification {
        Ok(verification) => verification.to_string(),
        Err(message) => message.clone(),
    }
}

/// Writes a file that must not already exist, readable only by its owner.
fn create_secret_file(path: &Path, contents: &str) -> Result<()> {
    create_file(path, contents, true)
}

/// Writes and syncs a file that must not already exist; a secret one is
/// readable only by its owner.
fn create_file(path: &Path, contents: &str, secret: bool) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Runs a registry command against the store named by `--db`.
pub fn run(store: &StoreArgs, command: RegistryCommand) -> Result<std::process::ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let database = store.database();
        if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            let backend = PostgresStore::open_url(database).await?;
            execute(&backend, store, command).await
        } else {
            let creates = matches!(
                command,
                RegistryCommand::Init(_)
                    | RegistryCommand::Import { .. }
                    | RegistryCommand::Migrate
            );
            let path = SqliteStore::path_of(database);
            let backend = if creates {
                SqliteStore::open(path).await?
            } else {
                SqliteStore::open_existing(path).await?
            };
            let outcome = execute(&backend, store, command).await;
            backend.close().await;
            outcome
        }
    })
}

/// A contour-agreement cohort's result, to store as the local validation
/// of a deployment (`vigil contours cohort --deployment`).
#[derive(Debug)]
pub struct ContourValidation {
    /// "pass", "fail" or "not_assessed".
    pub verdict: String,
    /// The acceptance protocol's text, or empty.
    pub protocol: String,
    /// The options as JSON text.
    pub options: String,
    /// The result's JSON text.
    pub result: String,
    /// The self-contained HTML report.
    pub report: String,
    /// What was compared (patients, structures, voxel counts), hashed as
    /// the validation's content.
    pub cases: String,
}

/// Stores a contour validation of a deployment as `actor`, who must hold a
/// role that runs evaluations and belong to the deployment's site or an
/// organisation above it; answers the evaluation's id.
pub fn store_contour_validation(
    store: &StoreArgs,
    actor: &str,
    deployment: i64,
    validation: &ContourValidation,
) -> Result<i64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let database = store.database();
        if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            let backend = PostgresStore::open_url(database).await?;
            store_validation_in(&backend, actor, deployment, validation).await
        } else {
            let backend = SqliteStore::open_existing(SqliteStore::path_of(database)).await?;
            let outcome = store_validation_in(&backend, actor, deployment, validation).await;
            backend.close().await;
            outcome
        }
    })
}

async fn store_validation_in(
    store: &impl Store,
    actor: &str,
    deployment: i64,
    validation: &ContourValidation,
) -> Result<i64> {
    let context = actor_context(store, &ActorArgs::named(actor.to_owned(), None)).await?;
    if !vigil_server::access::Permission::RunEvaluations.granted_to(context.actor.role) {
        bail!(
            "{} ({}) may not store a validation; that needs a role that runs evaluations",
            context.actor.name,
            context.actor.role
        );
    }
    let record = store
        .deployment(DeploymentId(deployment))
        .await
        .with_context(|| format!("deployment {deployment}"))?;
    require_within_tree(store, &context, &record.deployment.site).await?;
    let stored = store
        .add_evaluation(
            &context,
            &vigil_store::NewEvaluation {
                deployment: record.id,
                verdict: validation.verdict.clone(),
                protocol: validation.protocol.clone(),
                options: validation.options.clone(),
                cases_sha256: vigil_store::rows::sha256_hex(&validation.cases),
                cases_bytes: i64::try_from(validation.cases.len()).unwrap_or(i64::MAX),
                result: validation.result.clone(),
                report: validation.report.clone(),
            },
        )
        .await?;
    Ok(stored.id)
}

pub(crate) async fn actor_context(store: &impl Store, actor: &ActorArgs) -> Result<ChangeContext> {
    let users = store.users().await?;
    let user = users
        .iter()
        .find(|user| user.user_name.as_str() == actor.actor)
        .ok_or_else(|| {
            anyhow!(
                "{:?} is not a registered user (see `vigil user list`)",
                actor.actor
            )
        })?;
    if let Some(role) = &actor.role {
        let role = Role::parse(role).map_err(|error| anyhow!("--role: {error}"))?;
        if role != user.role {
            bail!(
                "{} holds the role {}, not {role}; a user acts only in the role they hold",
                user.user_name,
                user.role
            );
        }
    }
    Ok(ChangeContext::now(Actor {
        name: user.user_name.clone(),
        role: user.role,
        organisation: user.organisation.clone(),
    }))
}

/// Disables or enables a user, ending their sessions.
async fn set_user_disabled(
    store: &impl Store,
    actor: &ActorArgs,
    user_name: &str,
    disabled: bool,
    json_output: bool,
) -> Result<()> {
    let context = actor_context(store, actor).await?;
    require_role(&context, &ADMINISTRATORS, "disable or enable users")?;
    let user = registered_user(store, user_name).await?;
    require_user_within(store, &context, &user).await?;
    let record = store
        .update_user(
            &context,
            user.id,
            vigil_store::UserChange {
                role: None,
                disabled: Some(disabled),
            },
        )
        .await?;
    print(
        json_output,
        json!({"user_name": record.user_name.as_str(), "disabled": record.disabled}),
        || {
            format!(
                "{} is {}\n",
                record.user_name,
                if record.disabled {
                    "disabled"
                } else {
                    "enabled"
                }
            )
        },
    );
    Ok(())
}

/// The registered user with this user name.
async fn registered_user(store: &impl Store, user_name: &str) -> Result<vigil_store::UserRecord> {
    store
        .users()
        .await?
        .into_iter()
        .find(|user| user.user_name.as_str() == user_name)
        .ok_or_else(|| anyhow!("{user_name:?} is not a registered user (see `vigil user list`)"))
}

/// Refuses a change to a user outside the actor's organisation, or to a
/// national administrator by anyone else.
async fn require_user_within(
    store: &impl Store,
    context: &ChangeContext,
    user: &vigil_store::UserRecord,
) -> Result<()> {
    if user.role == Role::NationalAdmin && context.actor.role != Role::NationalAdmin {
        bail!("only a national administrator may change a national administrator");
    }
    require_within(
        &organisation_tree(store).await?,
        &context.actor.organisation,
        &user.organisation,
        context.actor.name.as_str(),
    )
}

/// Refuses a change to `target` by an actor outside its part of the tree.
pub(crate) async fn require_within_tree(
    store: &impl Store,
    context: &ChangeContext,
    target: &Code,
) -> Result<()> {
    require_within(
        &organisation_tree(store).await?,
        &context.actor.organisation,
        target,
        context.actor.name.as_str(),
    )
}

/// The organisation tree as stored.
async fn organisation_tree(store: &impl Store) -> Result<OrganisationTree> {
    OrganisationTree::new(store.organisations().await?)
        .map_err(|error| anyhow!("the stored organisation tree is invalid: {error}"))
}

/// Refuses a change to `target` by someone of `organisation` unless the
/// target lies within that organisation's part of the tree.
fn require_within(
    tree: &OrganisationTree,
    organisation: &Code,
    target: &Code,
    who: &str,
) -> Result<()> {
    if tree.is_within(target, organisation) {
        Ok(())
    } else {
        bail!("{who} belongs to {organisation}, which does not include {target}")
    }
}

/// Refuses a change unless the actor holds one of `roles`.
fn require_role(context: &ChangeContext, roles: &[Role], action: &str) -> Result<()> {
    if roles.contains(&context.actor.role) {
        Ok(())
    } else {
        let names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
        bail!(
            "{} ({}) may not {action}; that needs one of: {}",
            context.actor.name,
            context.actor.role,
            names.join(", ")
        )
    }
}

const ADMINISTRATORS: [Role; 2] = [Role::OrganisationAdmin, Role::NationalAdmin];
const REGISTRARS: [Role; 4] = [
    Role::AiLead,
    Role::ProcurementLead,
    Role::OrganisationAdmin,
    Role::NationalAdmin,
];

pub(crate) fn print(json_output: bool, value: Value, human: impl FnOnce() -> String) {
    if json_output {
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        print!("{}", human());
    }
}

fn product_json(record: &ProductRecord) -> Value {
    json!({
        "id": record.id.0,
        "vendor": record.product.vendor.as_str(),
        "name": record.product.name.as_str(),
        "intended_purpose": record.product.intended_purpose.as_str(),
        "modality": record.product.modality.as_str(),
        "body_part": record.product.body_part.as_str(),
        "task_type": record.product.task_type.as_str(),
        "regulatory_class": record.product.regulatory_class.as_str(),
        "marking": record.product.marking.as_str(),
        "versions": record.versions.iter().map(|version| json!({
            "id": version.id.0,
            "version": version.version.version.as_str(),
            "release_date": version.version.release_date.to_string(),
            "change_kind": version.version.change_kind.as_str(),
            "change_notes": version.version.change_notes.as_str(),
        })).collect::<Vec<_>>(),
    })
}

fn deployment_json(record: &DeploymentRecord) -> Value {
    json!({
        "id": record.id.0,
        "product": record.product.0,
        "version": record.version.0,
        "site": record.deployment.site.as_str(),
        "owning_team": record.deployment.owning_team.as_str(),
        "state": record.state.as_str(),
        "revision": record.revision,
        "thresholds": record.deployment.thresholds.iter().map(|(name, value)| json!({"name": name.as_str(), "threshold": value.get()})).collect::<Vec<_>>(),
        "change_control": record.deployment.change_control.kinds().map(|kind| kind.as_str()).collect::<Vec<_>>(),
        "decisions": record.decisions.iter().map(|decision| json!({
            "id": decision.id,
            "from": decision.decision.from.as_str(),
            "to": decision.decision.to.as_str(),
            "version": decision.version.0,
            "sign_offs": decision.decision.sign_offs.iter().map(|s| json!({"actor": s.actor.as_str(), "role": s.role.as_str()})).collect::<Vec<_>>(),
            "rationale": decision.decision.rationale.as_str(),
            "evidence": decision.decision.evidence.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
            "decided_at": vigil_audit::format_timestamp(decision.decision.decided_at),
            "recorded_by": decision.recorded_by,
            "audit_sequence": decision.audit_sequence,
        })).collect::<Vec<_>>(),
    })
}

fn parse_sign_off(value: &str) -> Result<SignOff> {
    let (name, role) = value.rsplit_once(':').ok_or_else(|| {
        anyhow!(
            "--sign-off {value:?}: expected NAME:ROLE, e.g. \"Dr A Smith:clinical_safety_officer\""
        )
    })?;
    Ok(SignOff {
        actor: text("--sign-off name", name)?,
        role: Role::parse(role).map_err(|error| anyhow!("--sign-off {value:?}: {error}"))?,
    })
}

fn read_policy_entries(path: &Path) -> Result<Vec<(String, Vec<String>)>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct PolicyFile {
        sign_off: std::collections::BTreeMap<String, Vec<String>>,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: PolicyFile = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid policy", path.display()))?;
    let entries: Vec<(String, Vec<String>)> = file.sign_off.into_iter().collect();
    SignOffPolicy::parse_toml_like(&entries)
        .map_err(|error| anyhow!("{}: {error}", path.display()))?;
    Ok(entries)
}

async fn execute(
    store: &impl Store,
    arguments: &StoreArgs,
    command: RegistryCommand,
) -> Result<std::process::ExitCode> {
    let json_output = arguments.json;
    match command {
        RegistryCommand::Migrate => {
            store.migrate().await?;
            print(json_output, json!({"migrated": true}), || {
                "schema is up to date\n".to_owned()
            });
        }
        RegistryCommand::Init(init) => {
            let text_file = std::fs::read_to_string(&init.organisations)
                .with_context(|| format!("cannot read {}", init.organisations.display()))?;
            let file: OrganisationFile = toml::from_str(&text_file).with_context(|| {
                format!(
                    "{} is not a valid organisation file",
                    init.organisations.display()
                )
            })?;
            if !store.organisations().await?.is_empty() {
                bail!(
                    "this database is already initialised; add organisations with `vigil org add`"
                );
            }
            // Parse and check the whole tree before writing anything.
            let mut parsed: Vec<Organisation> = Vec::new();
            for entry in &file.organisation {
                let kind = OrganisationKind::parse(&entry.kind)
                    .map_err(|error| anyhow!("organisation {}: {error}", entry.code))?;
                let parent_code = entry
                    .parent
                    .as_deref()
                    .map(|parent| code("parent", parent))
                    .transpose()?;
                let parent_kind = match &parent_code {
                    Some(parent) => Some(
                        parsed
                            .iter()
                            .find(|organisation| &organisation.code == parent)
                            .map(|organisation| organisation.kind)
                            .ok_or_else(|| {
                                anyhow!(
                                    "organisation {}: parent {parent} must be listed before it",
                                    entry.code
                                )
                            })?,
                    ),
                    None => None,
                };
                parsed.push(
                    Organisation::new(
                        code("code", &entry.code)?,
                        text("name", &entry.name)?,
                        kind,
                        parent_code.as_ref().zip(parent_kind),
                    )
                    .map_err(|error| anyhow!("organisation {}: {error}", entry.code))?,
                );
            }
            let tree = OrganisationTree::new(parsed.clone()).map_err(|error| anyhow!("{error}"))?;
            let nation = tree
                .iter()
                .find(|organisation| organisation.kind == OrganisationKind::Nation)
                .map(|organisation| organisation.code.clone())
                .ok_or_else(|| anyhow!("the organisation file needs exactly one nation"))?;
            let admin_organisation = match &init.admin_organisation {
                Some(value) => code("--admin-organisation", value)?,
                None => nation,
            };
            if tree.get(&admin_organisation).is_none() {
                bail!("--admin-organisation {admin_organisation} is not in the organisation file");
            }
            // Everything is parsed and checked before anything is written.
            let admin = NewUser {
                user_name: text("--admin", &init.admin)?,
                display_name: text(
                    "--admin-name",
                    init.admin_name.as_deref().unwrap_or(&init.admin),
                )?,
                role: if tree.get(&admin_organisation).map(|o| o.kind)
                    == Some(OrganisationKind::Nation)
                {
                    Role::NationalAdmin
                } else {
                    Role::OrganisationAdmin
                },
                organisation: admin_organisation,
            };
            let context = ChangeContext::now(Actor {
                name: admin.user_name.clone(),
                role: admin.role,
                organisation: admin.organisation.clone(),
            });
            let user = store.initialise(&context, &parsed, &admin).await?;
            print(
                json_output,
                json!({"organisations": parsed.len(), "admin": user.user_name.as_str(), "role": user.role.as_str()}),
                || {
                    format!(
                        "initialised: {} organisations, administrator {} ({})\n",
                        parsed.len(),
                        user.user_name,
                        user.role
                    )
                },
            );
        }
        RegistryCommand::Org(OrgCommand::List) => {
            let organisations = store.organisations().await?;
            let value =
                json!(organisations.iter().map(|o| json!({
                "code": o.code.as_str(), "name": o.name.as_str(), "kind": o.kind.as_str(),
                "parent": o.parent.as_ref().map(Code::as_str),
            })).collect::<Vec<_>>());
            print(json_output, value, || {
                match OrganisationTree::new(organisations.clone()) {
                    Ok(tree) => {
                        // Depth first, so each organisation sits under its parent.
                        let mut lines = String::new();
                        let mut pending = vec![(tree.nation(), 0)];
                        while let Some((organisation, depth)) = pending.pop() {
                            lines += &format!(
                                "{}{} {} ({})\n",
                                "  ".repeat(depth),
                                organisation.code,
                                organisation.name,
                                organisation.kind.as_str()
                            );
                            let mut children = tree.children(&organisation.code);
                            children.reverse();
                            pending.extend(children.into_iter().map(|child| (child, depth + 1)));
                        }
                        lines
                    }
                    Err(_) => organisations
                        .iter()
                        .map(|o| format!("{} {} ({})\n", o.code, o.name, o.kind.as_str()))
                        .collect(),
                }
            });
        }
        RegistryCommand::Org(OrgCommand::Add {
            actor,
            code: new_code,
            name,
            kind,
            parent,
        }) => {
            let context = actor_context(store, &actor).await?;
            let kind =
                OrganisationKind::parse(&kind).map_err(|error| anyhow!("--kind: {error}"))?;
            let parent = parent
                .as_deref()
                .map(|parent| code("--parent", parent))
                .transpose()?;
            let parent_kind = match &parent {
                Some(parent) => Some(
                    store
                        .organisations()
                        .await?
                        .iter()
                        .find(|o| &o.code == parent)
                        .map(|o| o.kind)
                        .ok_or_else(|| anyhow!("--parent {parent} does not exist"))?,
                ),
                None => None,
            };
            let organisation = Organisation::new(
                code("--code", &new_code)?,
                text("--name", &name)?,
                kind,
                parent.as_ref().zip(parent_kind),
            )
            .map_err(|error| anyhow!("{error}"))?;
            require_role(&context, &ADMINISTRATORS, "add organisations")?;
            match &organisation.parent {
                Some(parent) => require_within(
                    &organisation_tree(store).await?,
                    &context.actor.organisation,
                    parent,
                    context.actor.name.as_str(),
                )?,
                None => bail!(
                    "the nation is created by `vigil init`; a new organisation needs --parent"
                ),
            }
            store.add_organisation(&context, &organisation).await?;
            print(
                json_output,
                json!({"code": organisation.code.as_str()}),
                || format!("added organisation {}\n", organisation.code),
            );
        }
        RegistryCommand::User(UserCommand::List) => {
            let users = store.users().await?;
            let value = json!(users.iter().map(|u| json!({
                "id": u.id, "user_name": u.user_name.as_str(), "display_name": u.display_name.as_str(),
                "role": u.role.as_str(), "organisation": u.organisation.as_str(),
            })).collect::<Vec<_>>());
            print(json_output, value, || {
                users
                    .iter()
                    .map(|u| {
                        format!(
                            "{} {} ({}, {})\n",
                            u.user_name, u.display_name, u.role, u.organisation
                        )
                    })
                    .collect()
            });
        }
        RegistryCommand::User(UserCommand::Password { actor, user_name }) => {
            let context = actor_context(store, &actor).await?;
            let user = registered_user(store, &user_name).await?;
            if context.actor.name != user.user_name {
                require_role(&context, &ADMINISTRATORS, "set other users' passwords")?;
                require_user_within(store, &context, &user).await?;
            }
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            vigil_server::auth::check_new_password(password).map_err(|error| anyhow!("{error}"))?;
            let hash = vigil_server::auth::hash_password(password)?;
            store.set_password_hash(&context, user.id, &hash).await?;
            print(
                json_output,
                json!({"user_name": user.user_name.as_str()}),
                || format!("password set for {}\n", user.user_name),
            );
        }
        RegistryCommand::User(UserCommand::Disable { actor, user_name }) => {
            set_user_disabled(store, &actor, &user_name, true, json_output).await?;
        }
        RegistryCommand::User(UserCommand::Enable { actor, user_name }) => {
            set_user_disabled(store, &actor, &user_name, false, json_output).await?;
        }
        RegistryCommand::Token(TokenCommand::List) => {
            let tokens = store.api_tokens().await?;
            let value = json!(tokens.iter().map(|t| json!({
                "id": t.id, "name": t.name.as_str(), "organisation": t.organisation.as_str(), "role": t.role.as_str(),
                "created_by": t.created_by, "revoked": t.revoked_at.is_some(),
            })).collect::<Vec<_>>());
            print(json_output, value, || {
                tokens
                    .iter()
                    .map(|t| {
                        format!(
                            "{} {} ({}, {}){}\n",
                            t.id,
                            t.name,
                            t.role,
                            t.organisation,
                            if t.revoked_at.is_some() {
                                " revoked"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect()
            });
        }
        RegistryCommand::Token(TokenCommand::Create {
            actor,
            name,
            organisation,
            token_role,
        }) => {
            let context = actor_context(store, &actor).await?;
            require_role(&context, &ADMINISTRATORS, "create API tokens")?;
            let organisation = code("--organisation", &organisation)?;
            require_within(
                &organisation_tree(store).await?,
                &context.actor.organisation,
                &organisation,
                context.actor.name.as_str(),
            )?;
            let role =
                Role::parse(&token_role).map_err(|error| anyhow!("--token-role: {error}"))?;
            if role == Role::NationalAdmin {
                if context.actor.role != Role::NationalAdmin {
                    bail!("only a national administrator may create a national_admin token");
                }
                let tree = organisation_tree(store).await?;
                if tree.get(&organisation).map(|o| o.kind) != Some(OrganisationKind::Nation) {
                    bail!("a national_admin token belongs to the nation, not to {organisation}");
                }
            }
            let secret = format!(
                "{}{}",
                vigil_server::auth::TOKEN_PREFIX,
                vigil_server::auth::random_secret()?
            );
            let token = store
                .add_api_token(
                    &context,
                    &vigil_store::NewApiToken {
                        name: text("--name", &name)?,
                        token_hash: vigil_server::auth::secret_hash(&secret),
                        organisation,
                        role,
                    },
                )
                .await?;
            print(
                json_output,
                json!({"id": token.id, "secret": secret}),
                || {
                    format!(
                        "token {} created; its secret, shown this once:\n{secret}\n",
                        token.id
                    )
                },
            );
        }
        RegistryCommand::Token(TokenCommand::Revoke { actor, id }) => {
            let context = actor_context(store, &actor).await?;
            require_role(&context, &ADMINISTRATORS, "revoke API tokens")?;
            let token = store
                .api_tokens()
                .await?
                .into_iter()
                .find(|token| token.id == id)
                .ok_or_else(|| anyhow!("API token {id} does not exist"))?;
            require_within(
                &organisation_tree(store).await?,
                &context.actor.organisation,
                &token.organisation,
                context.actor.name.as_str(),
            )?;
            store.revoke_api_token(&context, id).await?;
            print(json_output, json!({"id": id, "revoked": true}), || {
                format!("token {id} revoked\n")
            });
        }
        RegistryCommand::User(UserCommand::Add {
            actor,
            user_name,
            display_name,
            user_role,
            organisation,
        }) => {
            let context = actor_context(store, &actor).await?;
            let user = NewUser {
                user_name: text("--user-name", &user_name)?,
                display_name: text("--display-name", &display_name)?,
                role: Role::parse(&user_role).map_err(|error| anyhow!("--user-role: {error}"))?,
                organisation: code("--organisation", &organisation)?,
            };
            require_role(&context, &ADMINISTRATORS, "add users")?;
            if user.role == Role::NationalAdmin {
                if context.actor.role != Role::NationalAdmin {
                    bail!(
                        "only a national administrator may create another national administrator"
                    );
                }
                let tree = organisation_tree(store).await?;
                if tree.get(&user.organisation).map(|o| o.kind) != Some(OrganisationKind::Nation) {
                    bail!(
                        "a national administrator belongs to the nation, not to {}",
                        user.organisation
                    );
                }
            }
            require_within(
                &organisation_tree(store).await?,
                &context.actor.organisation,
                &user.organisation,
                context.actor.name.as_str(),
            )?;
            let record = store.add_user(&context, &user).await?;
            print(
                json_output,
                json!({"id": record.id, "user_name": record.user_name.as_str()}),
                || format!("added user {} ({})\n", record.user_name, record.role),
            );
        }
        RegistryCommand::Product(ProductCommand::List) => {
            let products = store.products().await?;
            print(
                json_output,
                json!(products.iter().map(product_json).collect::<Vec<_>>()),
                || {
                    products
                        .iter()
                        .map(|p| {
                            format!(
                                "{} {} {} ({}, {}, {} versions)\n",
                                p.id,
                                p.product.vendor,
                                p.product.name,
                                p.product.modality.as_str(),
                                p.product.task_type.as_str(),
                                p.versions.len()
                            )
                        })
                        .collect()
                },
            );
        }
        RegistryCommand::Product(ProductCommand::Show { id }) => {
            let record = store
                .product(parse_id::<ProductId>("product id", &id)?)
                .await?;
            print(json_output, product_json(&record), || {
                let mut out = format!(
                    "product {}: {} {}\nintended purpose: {}\nmodality: {}, body part: {}, task: {}, class {} ({})\n",
                    record.id,
                    record.product.vendor,
                    record.product.name,
                    record.product.intended_purpose,
                    record.product.modality.as_str(),
                    record.product.body_part,
                    record.product.task_type.as_str(),
                    record.product.regulatory_class.as_str(),
                    record.product.marking
                );
                for version in &record.versions {
                    out += &format!(
                        "  version {} (id {}): {}, released {}: {}\n",
                        version.version.version,
                        version.id,
                        version.version.change_kind.as_str(),
                        version.version.release_date,
                        version.version.change_notes
                    );
                }
                out
            });
        }
        RegistryCommand::Product(ProductCommand::Add(arguments)) => {
            let AddProductArgs {
                actor,
                vendor,
                name,
                intended_purpose,
                modality,
                body_part,
                task_type,
                regulatory_class,
                marking,
            } = *arguments;
            let context = actor_context(store, &actor).await?;
            let product = Product {
                vendor: text("--vendor", &vendor)?,
                name: text("--name", &name)?,
                intended_purpose: text("--intended-purpose", &intended_purpose)?,
                modality: Modality::parse(&modality)
                    .map_err(|error| anyhow!("--modality: {error}"))?,
                body_part: text("--body-part", &body_part)?,
                task_type: TaskType::parse(&task_type)
                    .map_err(|error| anyhow!("--task: {error}"))?,
                regulatory_class: RegulatoryClass::parse(&regulatory_class)
                    .map_err(|error| anyhow!("--class: {error}"))?,
                marking: text("--marking", &marking)?,
            };
            require_role(&context, &REGISTRARS, "register products")?;
            let id = store.add_product(&context, &product).await?;
            print(json_output, json!({"id": id.0}), || {
                format!("added product {id}\n")
            });
        }
        RegistryCommand::Version(VersionCommand::Add {
            actor,
            product,
            version,
            released,
            notes,
            change,
        }) => {
            let context = actor_context(store, &actor).await?;
            let product = parse_id::<ProductId>("--product", &product)?;
            let version = ProductVersion {
                version: text("--version", &version)?,
                release_date: released.parse().map_err(|error| {
                    anyhow!("--released {released:?}: {error} (expected YYYY-MM-DD)")
                })?,
                change_notes: text("--notes", &notes)?,
                change_kind: ChangeKind::parse(&change)
                    .map_err(|error| anyhow!("--change: {error}"))?,
            };
            require_role(&context, &REGISTRARS, "register product versions")?;
            let id = store.add_version(&context, product, &version).await?;
            print(json_output, json!({"id": id.0}), || {
                format!("added version {id}\n")
            });
        }
        RegistryCommand::Assessment(AssessmentCommand::List { version }) => {
            let version = version
                .map(|raw| parse_id::<VersionId>("--version", &raw))
                .transpose()?;
            let assessments = store.assessments(None, version).await?;
            let rows: Vec<Value> = assessments
                .iter()
                .map(|assessment| {
                    json!({
                        "id": assessment.id,
                        "version": assessment.version.0,
                        "organisation": assessment.organisation,
                        "state": assessment.state,
                        "outcome": assessment.outcome,
                        "total_percent": assessment.total_percent,
                    })
                })
                .collect();
            print(json_output, Value::Array(rows), || {
                assessments
                    .iter()
                    .map(|assessment| {
                        format!(
                            "{}\tversion {}\t{}\t{}\t{}\n",
                            assessment.id,
                            assessment.version,
                            assessment.organisation,
                            assessment.outcome.as_deref().unwrap_or(&assessment.state),
                            assessment
                                .total_percent
                                .map_or_else(String::new, |percent| format!("{percent:.1}%"))
                        )
                    })
                    .collect()
            });
        }
        RegistryCommand::Assessment(AssessmentCommand::Record {
            actor,
            version,
            answers,
            template,
        }) => {
            let context = actor_context(store, &actor).await?;
            require_role(
                &context,
                &[
                    Role::ProcurementLead,
                    Role::AiLead,
                    Role::ClinicalLead,
                    Role::ClinicalSafetyOfficer,
                    Role::MedicalPhysicsExpert,
                ],
                "record a procurement assessment",
            )?;
            let version = parse_id::<VersionId>("--version", &version)?;
            let template_text = match &template {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
                None => vigil_domain::procurement::DEFAULT_TEMPLATE.to_owned(),
            };
            let parsed = vigil_domain::procurement::Template::from_toml(&template_text)
                .map_err(|error| anyhow!("--template: {error}"))?;
            let answers_text = std::fs::read_to_string(&answers)
                .with_context(|| format!("cannot read {}", answers.display()))?;
            let answers: Vec<vigil_domain::procurement::Answer> =
                serde_json::from_str(&answers_text).with_context(|| {
                    format!("{} is not a JSON array of answers", answers.display())
                })?;
            vigil_domain::procurement::check_answers(&parsed, &answers)
                .map_err(|error| anyhow!("--answers: {error}"))?;
            let scored = vigil_domain::procurement::score(&parsed, &answers);
            if !scored.unanswered.is_empty() {
                bail!(
                    "--answers: {} question(s) unanswered ({}); nothing was recorded",
                    scored.unanswered.len(),
                    scored.unanswered.join(", ")
                );
            }
            let organisation = context.actor.organisation.clone();
            let completed = store
                .record_assessment(&context, version, &organisation, &template_text, &answers)
                .await?;
            let outcome = completed.outcome.clone().unwrap_or_default();
            let total = completed.total_percent.unwrap_or_default();
            print(
                json_output,
                json!({"id": completed.id, "outcome": outcome, "total_percent": total}),
                || {
                    format!(
                        "assessment {} of version {version} by {organisation}: {outcome} ({total:.1}%)\n",
                        completed.id
                    )
                },
            );
        }
        RegistryCommand::Deployment(DeploymentCommand::List) => {
            let deployments = store.deployments().await?;
            print(
                json_output,
                json!(deployments.iter().map(deployment_json).collect::<Vec<_>>()),
                || {
                    deployments
                        .iter()
                        .map(|d| {
                            format!(
                                "{} product {} version {} at {}: {}\n",
                                d.id, d.product, d.version, d.deployment.site, d.state
                            )
                        })
                        .collect()
                },
            );
        }
        RegistryCommand::Deployment(DeploymentCommand::Show { id }) => {
            let record = store
                .deployment(parse_id::<DeploymentId>("deployment id", &id)?)
                .await?;
            print(json_output, deployment_json(&record), || {
                let mut out = format!(
                    "deployment {} of product {} version {} at {} ({}): {} (revision {})\n",
                    record.id,
                    record.product,
                    record.version,
                    record.deployment.site,
                    record.deployment.owning_team,
                    record.state,
                    record.revision
                );
                for decision in &record.decisions {
                    let signers: Vec<String> = decision
                        .decision
                        .sign_offs
                        .iter()
                        .map(|s| format!("{} ({})", s.actor, s.role))
                        .collect();
                    out += &format!(
                        "  {} {} → {}: {} [signed: {}] (audit entry {})\n",
                        vigil_audit::format_timestamp(decision.decision.decided_at),
                        decision.decision.from,
                        decision.decision.to,
                        decision.decision.rationale,
                        signers.join(", "),
                        decision.audit_sequence
                    );
                }
                out
            });
        }
        RegistryCommand::Deployment(DeploymentCommand::Add {
            actor,
            version,
            site,
            team,
            thresholds,
            change_control,
        }) => {
            let context = actor_context(store, &actor).await?;
            let thresholds = thresholds
                .iter()
                .map(|entry| {
                    let (name, value) = entry
                        .split_once('=')
                        .ok_or_else(|| anyhow!("--threshold {entry:?}: expected NAME=VALUE"))?;
                    let value: f64 = value
                        .trim()
                        .parse()
                        .map_err(|_| anyhow!("--threshold {entry:?}: {value:?} is not a number"))?;
                    Ok((
                        text("--threshold name", name)?,
                        OperatingThreshold::parse(value)
                            .map_err(|error| anyhow!("--threshold {entry:?}: {error}"))?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            let kinds = change_control
                .iter()
                .map(|kind| {
                    ChangeKind::parse(kind).map_err(|error| anyhow!("--change-control: {error}"))
                })
                .collect::<Result<Vec<_>>>()?;
            let deployment = Deployment {
                site: code("--site", &site)?,
                owning_team: text("--team", &team)?,
                thresholds,
                change_control: ChangeControlPlan::new(kinds)
                    .map_err(|error| anyhow!("--change-control: {error}"))?,
            };
            require_role(&context, &REGISTRARS, "register deployments")?;
            require_within(
                &organisation_tree(store).await?,
                &context.actor.organisation,
                &deployment.site,
                context.actor.name.as_str(),
            )?;
            let id = store
                .add_deployment(
                    &context,
                    parse_id::<VersionId>("--version", &version)?,
                    &deployment,
                )
                .await?;
            print(
                json_output,
                json!({"id": id.0, "state": "proposed"}),
                || format!("added deployment {id} (proposed)\n"),
            );
        }
        RegistryCommand::Deployment(DeploymentCommand::Transition {
            id,
            actor,
            to,
            from,
            reason,
            sign_offs,
            evidence,
            revision,
        }) => {
            let context = actor_context(store, &actor).await?;
            let id = parse_id::<DeploymentId>("deployment id", &id)?;
            let to = LifecycleState::parse(&to).map_err(|error| anyhow!("--to: {error}"))?;
            let current = store.deployment(id).await?;
            let from = match from {
                Some(from) => {
                    LifecycleState::parse(&from).map_err(|error| anyhow!("--from: {error}"))?
                }
                None => current.state,
            };
            // The actor and every signer must be registered users holding the
            // role they sign in, within the part of the organisation tree
            // that includes the deployment's site.
            let tree = organisation_tree(store).await?;
            let site = &current.deployment.site;
            // Decisions about a deployment are the deploying Trust's: the
            // actor and every signer belong to that Trust or one of its sites.
            let trust = governance::deploying_trust(&tree, site)?;
            let within_trust = |organisation: &Code, who: &str| -> Result<()> {
                Ok(governance::check_within_trust(
                    &tree,
                    &trust,
                    who,
                    organisation,
                )?)
            };
            within_trust(&context.actor.organisation, context.actor.name.as_str())?;
            // The person recording the decision holds one of the roles the
            // policy requires for it.
            let product = store.product(current.product).await?;
            let required = store.sign_off_policy().await?.policy.required_roles(
                from,
                to,
                product.product.is_radiotherapy(),
            );
            governance::check_recorder(
                context.actor.name.as_str(),
                context.actor.role,
                from,
                to,
                &required,
            )?;
            let users = store.users().await?;
            let mut signatures = vec![SignOff {
                actor: context.actor.name.clone(),
                role: context.actor.role,
            }];
            for sign_off in &sign_offs {
                let parsed = parse_sign_off(sign_off)?;
                let signer = users
                    .iter()
                    .find(|user| user.user_name == parsed.actor)
                    .ok_or_else(|| {
                        anyhow!(
                            "--sign-off {sign_off:?}: {} is not a registered user",
                            parsed.actor
                        )
                    })?;
                if signer.role != parsed.role {
                    bail!(
                        "--sign-off {sign_off:?}: {} holds the role {}, not {}",
                        signer.user_name,
                        signer.role,
                        parsed.role
                    );
                }
                within_trust(&signer.organisation, signer.user_name.as_str())?;
                if !signatures.contains(&parsed) {
                    signatures.push(parsed);
                }
            }
            let request = TransitionRequest {
                from,
                to,
                sign_offs: signatures,
                rationale: text("--reason", &reason)?,
                evidence: evidence
                    .iter()
                    .map(|reference| {
                        EvidenceReference::parse(reference)
                            .map_err(|error| anyhow!("--evidence: {error}"))
                    })
                    .collect::<Result<Vec<_>>>()?,
                proposed_by_alert: false,
            };
            let decision = store.transition(&context, id, request, revision).await?;
            print(
                json_output,
                json!({"deployment": id.0, "from": decision.decision.from.as_str(), "to": decision.decision.to.as_str(), "decision": decision.id, "audit_sequence": decision.audit_sequence}),
                || {
                    format!(
                        "deployment {id}: {} → {} recorded (audit entry {})\n",
                        decision.decision.from, decision.decision.to, decision.audit_sequence
                    )
                },
            );
        }
        RegistryCommand::Deployment(DeploymentCommand::Upgrade { id, actor, version }) => {
            let context = actor_context(store, &actor).await?;
            let id = parse_id::<DeploymentId>("deployment id", &id)?;
            let record = store
                .upgrade_deployment(&context, id, {
                    require_role(&context, &REGISTRARS, "upgrade deployments")?;
                    let site = store.deployment(id).await?.deployment.site;
                    require_within(
                        &organisation_tree(store).await?,
                        &context.actor.organisation,
                        &site,
                        context.actor.name.as_str(),
                    )?;
                    parse_id::<VersionId>("--version", &version)?
                })
                .await?;
            print(json_output, deployment_json(&record), || {
                format!(
                    "deployment {id} now runs version {}; state {}\n",
                    record.version, record.state
                )
            });
        }
        RegistryCommand::Policy(PolicyCommand::Show) => {
            let stored = store.sign_off_policy().await?;
            let requirements: Vec<Value> = stored
                .policy
                .requirements()
                .iter()
                .map(|requirement| {
                    json!({
                        "from": requirement.from.as_str(),
                        "to": requirement.to.as_str(),
                        "roles": requirement.roles.iter().map(|role| role.as_str()).collect::<Vec<_>>(),
                        "radiotherapy_roles": requirement.radiotherapy_roles.iter().map(|role| role.as_str()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            print(
                json_output,
                json!({"version": stored.version, "requirements": requirements}),
                || {
                    let mut out = format!(
                        "sign-off policy version {}{}\n",
                        stored.version,
                        if stored.version == 0 {
                            " (built-in defaults)"
                        } else {
                            ""
                        }
                    );
                    for requirement in stored.policy.requirements() {
                        let roles: Vec<&str> =
                            requirement.roles.iter().map(|role| role.as_str()).collect();
                        let extra: Vec<&str> = requirement
                            .radiotherapy_roles
                            .iter()
                            .map(|role| role.as_str())
                            .collect();
                        out += &format!(
                            "  {} → {}: {}",
                            requirement.from,
                            requirement.to,
                            roles.join(", ")
                        );
                        if !extra.is_empty() {
                            out += &format!(" (+ {} for radiotherapy)", extra.join(", "));
                        }
                        out += "\n";
                    }
                    out
                },
            );
        }
        RegistryCommand::Policy(PolicyCommand::Set { actor, file }) => {
            let context = actor_context(store, &actor).await?;
            // One policy governs every organisation in the database, so only
            // a national administrator may change it.
            require_role(
                &context,
                &[Role::NationalAdmin],
                "change the sign-off policy",
            )?;
            let entries = read_policy_entries(&file)?;
            let version = store.set_sign_off_policy(&context, &entries).await?;
            print(json_output, json!({"version": version}), || {
                format!("sign-off policy version {version} is in force\n")
            });
        }
        RegistryCommand::Audit(AuditCommand::Verify {
            checkpoint,
            public_key,
        }) => {
            // One snapshot of everything: the chain, its head and the tables
            // it describes.
            let archive = store.export_archive().await?;
            let trusted_checkpoint = match &checkpoint {
                Some(path) => {
                    let trusted = public_key.clone().ok_or_else(|| {
                        anyhow!("--checkpoint needs --public-key: a checkpoint proves nothing unless it is signed with a key you trust")
                    })?;
                    let read = Checkpoint::from_json(
                        &std::fs::read_to_string(path)
                            .with_context(|| format!("cannot read {}", path.display()))?,
                    )?;
                    Some((path.clone(), read, trusted))
                }
                None => None,
            };
            let verification = archive.audit_verdict(|entries, head| match &trusted_checkpoint {
                Some((path, checkpoint, trusted)) => {
                    verify_against_trusted_checkpoint(entries, head, checkpoint, Some(trusted))
                        .map_err(|error| {
                            format!("the checkpoint {} does not hold: {error}", path.display())
                        })
                }
                None => Ok(verify(entries, head)),
            });
            let (intact, value, line) = match &verification {
                Ok(Verification::Intact { entries, head }) => (
                    true,
                    json!({"intact": true, "entries": entries, "head": head.to_hex(), "checkpoint": checkpoint.is_some()}),
                    verification_line(&verification),
                ),
                Ok(Verification::Broken { sequence, reason }) => (
                    false,
                    json!({"intact": false, "sequence": sequence, "reason": reason.code(), "message": reason.to_string()}),
                    verification_line(&verification),
                ),
                Err(message) => (
                    false,
                    json!({"intact": false, "reason": "not_proven", "message": message}),
                    message.clone(),
                ),
            };
            print(json_output, value, || format!("{line}\n"));
            if !intact {
                return Ok(std::process::ExitCode::from(1));
            }
        }
        RegistryCommand::Audit(AuditCommand::Checkpoint { key, out }) => {
            let key = CheckpointKey::from_file_text(
                &std::fs::read_to_string(&key)
                    .with_context(|| format!("cannot read {}", key.display()))?,
            )?;
            let trail = store.audit_trail().await?;
            let Verification::Intact {
                entries: count,
                head: hash,
            } = verify(trail.entries, trail.head.as_ref())
            else {
                bail!(
                    "the audit chain is broken; run `vigil audit verify` — a checkpoint is only signed over an intact chain"
                );
            };
            let checkpoint = Checkpoint::sign(&key, count, &hash, jiff::Timestamp::now());
            match out {
                Some(path) => {
                    create_file(&path, &checkpoint.to_json(), false)?;
                    print(
                        json_output,
                        json!({"sequence": count, "head": hash.to_hex(), "public_key": key.public_key_hex(), "file": path.display().to_string()}),
                        || {
                            format!(
                                "checkpoint of entry {count} signed by {} written to {}\n",
                                key.public_key_hex(),
                                path.display()
                            )
                        },
                    );
                }
                None => print!("{}", checkpoint.to_json()),
            }
        }
        RegistryCommand::Audit(AuditCommand::Keygen { out }) => {
            let key = CheckpointKey::generate()?;
            create_secret_file(&out, &key.to_file_text())?;
            print(
                json_output,
                json!({"public_key": key.public_key_hex()}),
                || {
                    format!(
                        "checkpoint key written to {}; public key {}\n",
                        out.display(),
                        key.public_key_hex()
                    )
                },
            );
        }
        RegistryCommand::Export { out } => {
            // Written beside the target and renamed once whole and on disk,
            // so that the named file is never a partial archive.
            let temporary = out.with_extension("partial");
            let file = std::fs::File::create(&temporary)
                .with_context(|| format!("cannot write {}", temporary.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let written = match store.export_archive_to(&mut writer).await {
                Ok(counts) => writer
                    .into_inner()
                    .map_err(std::io::IntoInnerError::into_error)
                    .and_then(|file| file.sync_all())
                    .map(|()| counts)
                    .with_context(|| format!("cannot write {}", temporary.display())),
                Err(error) => Err(error.into()),
            }
            .and_then(|counts| {
                std::fs::rename(&temporary, &out)
                    .with_context(|| format!("cannot write {}", out.display()))
                    .map(|()| counts)
            });
            // A failed export leaves no partial file behind.
            let counts = written.inspect_err(|_| {
                let _ = std::fs::remove_file(&temporary);
            })?;
            print(
                json_output,
                json!({
                    "file": out.display().to_string(),
                    "audit_entries": counts.audit_entries,
                    "table_rows": counts.table_rows,
                }),
                || {
                    format!(
                        "exported the registry, {} audit entries and {} rows of events, outcomes, alerts and the other tables to {}\n",
                        counts.audit_entries,
                        counts.table_rows,
                        out.display()
                    )
                },
            );
        }
        RegistryCommand::Ingest(arguments) => {
            crate::ingest::run(store, *arguments, json_output).await?;
        }
        RegistryCommand::Monitor(command) => {
            return crate::monitor::run(store, command, json_output).await;
        }
        RegistryCommand::Import { input } => {
            let file = std::fs::File::open(&input)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let mut reader = std::io::BufReader::new(file);
            let archive = Archive::read_head(&mut reader)?;
            let tables: Option<&mut (dyn std::io::BufRead + Send)> = if archive.carries_tables() {
                Some(&mut reader)
            } else {
                None
            };
            let counts = store.import_archive(&archive, tables).await?;
            print(
                json_output,
                json!({
                    "imported": true,
                    "audit_entries": counts.audit_entries,
                    "table_rows": counts.table_rows,
                }),
                || {
                    format!(
                        "imported {} audit entries and {} rows of the other tables; run `vigil audit verify` on the new database\n",
                        counts.audit_entries, counts.table_rows
                    )
                },
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `vigil keygen`: a new pseudonymisation key file.
pub fn keygen(arguments: &KeygenArgs, json_output: bool) -> Result<()> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| anyhow!("cannot read the operating system's randomness: {error}"))?;
    let key = PseudonymKey::from_hex(&hex::encode(bytes)).map_err(|error| anyhow!("{error}"))?;
    create_secret_file(&arguments.out, &format!("{}\n", key.to_hex()))?;
    print(
        json_output,
        json!({"file": arguments.out.display().to_string()}),
        || {
            format!(
                "pseudonymisation key written to {} (keep it outside the database and back it up)\n",
                arguments.out.display()
            )
        },
    );
    Ok(())
}
