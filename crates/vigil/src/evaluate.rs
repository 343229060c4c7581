//! `vigil evaluate`: read the cases and protocol, compute, print or write
//! the result and report, and exit 0 (pass), 1 (a criterion failed) or 2
//! (usage or input error).

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use vigil_evaluation::evaluate::Verdict;
use vigil_evaluation::protocol::Protocol;
use vigil_evaluation::run::{NamedProtocol, RunError, RunOptions, check_usage};

/// Arguments of `vigil evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The labelled case table (CSV with a header row).
    #[arg(long, value_name = "FILE.csv")]
    cases: PathBuf,
    /// Column of the reference-standard label.
    #[arg(long, default_value = "label", value_name = "COL")]
    label: String,
    /// Column of the tool's score (higher means more likely positive).
    #[arg(long, default_value = "score", value_name = "COL")]
    score: String,
    /// The label value meaning "condition present" (needed unless labels
    /// are 0/1, true/false or yes/no).
    #[arg(long, value_name = "VALUE")]
    positive: Option<String>,
    /// A second score column on the same cases, compared by DeLong's
    /// paired test.
    #[arg(long, value_name = "COL")]
    compare: Option<String>,
    /// Operating threshold; a case is positive when score >= threshold.
    /// Not allowed with a protocol that fixes the operating point; without
    /// either, Youden's J picks it.
    #[arg(long, value_name = "X")]
    threshold: Option<f64>,
    /// Acceptance protocol (TOML).
    #[arg(long, value_name = "FILE.toml")]
    protocol: Option<PathBuf>,
    /// Categorical column to break the results down by (repeatable).
    #[arg(long = "subgroup", value_name = "COL")]
    subgroups: Vec<String>,
    /// Print the result as one JSON document on standard output.
    #[arg(long)]
    json: bool,
    /// Write result.json and a self-contained report.html into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Drop rows whose score or label is missing, and count them, instead of
    /// failing; a missing --compare score leaves the row out of the
    /// comparison only.
    #[arg(long)]
    drop_missing: bool,
}

/// Runs the command and maps the outcome to the documented exit codes.
pub fn run(arguments: EvaluateArgs) -> ExitCode {
    match run_inner(arguments) {
        Ok(Verdict::Fail) => ExitCode::from(1),
        Ok(Verdict::Pass | Verdict::NotAssessed) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn read_protocol(path: &Path) -> Result<Protocol> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the protocol {}", path.display()))?;
    Ok(Protocol::parse(&text, &path.display().to_string())?)
}

fn progress_bar(length: u64) -> ProgressBar {
    // Reading is about 100 MB/s or faster; a bar only helps on large files.
    const SHOW_FROM_BYTES: u64 = 64 << 20;
    if length < SHOW_FROM_BYTES {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "reading cases {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let temporary = path.with_extension("partial");
    let mut file = File::create(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Writes `result.json` and `report.html` into `directory` (created if
/// needed), each through a temporary file renamed into place, so that a
/// failure never leaves a half-written result (`vigil evaluate` and
/// `vigil contours` alike).
pub(crate) fn write_outputs(directory: &Path, json: &str, html: &str) -> Result<()> {
    std::fs::create_dir_all(directory)
        .with_context(|| format!("cannot create the output directory {}", directory.display()))?;
    write_atomically(&directory.join("result.json"), json.as_bytes())?;
    write_atomically(&directory.join("report.html"), html.as_bytes())?;
    Ok(())
}

fn run_inner(arguments: EvaluateArgs) -> Result<Verdict> {
    let protocol = arguments
        .protocol
        .as_deref()
        .map(read_protocol)
        .transpose()?;
    let protocol_name = arguments
        .protocol
        .as_deref()
        .map(|path| path.display().to_string())
        .unwrap_or_default();
    let options = RunOptions {
        label_column: arguments.label.clone(),
        score_column: arguments.score.clone(),
        positive_label: arguments.positive.clone(),
        compare_column: arguments.compare.clone(),
        threshold: arguments.threshold,
        subgroup_columns: arguments.subgroups.clone(),
        drop_missing: arguments.drop_missing,
    };
    let named = protocol.as_ref().map(|protocol| NamedProtocol {
        protocol,
        source_name: &protocol_name,
    });
    // The usage is checked before the case table is opened.
    check_usage(&options, named).map_err(command_line_usage)?;
    let path = &arguments.cases;
    let file = File::open(path)
        .with_context(|| format!("cannot open the case table {}", path.display()))?;
    let length = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
    let bar = progress_bar(length);
    let evaluation = vigil_evaluation::run::run(
        &options,
        named,
        BufReader::with_capacity(1 << 20, file),
        &path.display().to_string(),
        &mut |bytes| bar.set_position(bytes.min(length)),
    );
    bar.finish_and_clear();
    let evaluation = evaluation.map_err(command_line_usage)?;
    let json = serde_json::to_string_pretty(&evaluation)?;
    if let Some(directory) = &arguments.out {
        write_outputs(
            directory,
            &json,
            &vigil_reports::evaluation_report(&evaluation),
        )?;
    }
    if arguments.json {
        println!("{json}");
    } else {
        print!("{}", vigil_reports::evaluation_summary(&evaluation));
        if let Some(directory) = &arguments.out {
            println!("report: {}", directory.join("report.html").display());
        }
    }
    Ok(evaluation.verdict)
}

/// Says a usage error in terms of the command's flags.
fn command_line_usage(error: RunError) -> anyhow::Error {
    match error {
        RunError::ThresholdNotFinite => anyhow::anyhow!("--threshold must be a finite number"),
        RunError::ThresholdOverridesProtocol { source_name } => anyhow::anyhow!(
            "{source_name}: the protocol fixes the operating point; remove --threshold or edit the protocol"
        ),
        RunError::ComparisonColumnMissing {
            source_name,
            criterion,
        } => anyhow::anyhow!(
            "{source_name}: criterion {criterion:?} needs a comparison score; pass --compare COLUMN or remove the criterion"
        ),
        other => other.into(),
    }
}
