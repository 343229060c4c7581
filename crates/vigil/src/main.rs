//! The `vigil` command line: thin glue from arguments and files to the
//! library crates.

mod contours;
mod demo;
mod evaluate;
mod ingest;
mod monitor;
mod registry;
mod reports;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: ingestion, seeding and the
/// pages allocate many short-lived strings, and glibc's allocator spends a
/// tenth of their time in `malloc` and `free` (measured with `perf` while
/// seeding the demonstration).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Vigil: evaluation, governance and lifecycle monitoring of clinical AI
/// tools in medical imaging and radiotherapy.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    store: registry::StoreArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Local validation (acceptance testing) of a classification or triage
    /// tool on a labelled case table, judged against a protocol.
    Evaluate(evaluate::EvaluateArgs),
    /// Radiotherapy auto-contouring: structure-by-structure agreement with
    /// reference contours (Dice, HD95, surface Dice, added path length) for
    /// one patient or a cohort judged against an acceptance protocol.
    #[command(subcommand)]
    Contours(contours::ContoursCommand),
    /// Serves the dashboard and the HTTP API on 127.0.0.1:8080 by default.
    Serve(serve::ServeArgs),
    /// Seeds a fresh SQLite database with a synthetic national dataset (a
    /// year of monitoring at eleven Trusts) and serves the dashboard on it.
    Demo(demo::DemoArgs),
    /// Documents made from the stored record: `vigil report pack`.
    #[command(subcommand)]
    Report(reports::ReportCommand),
    /// Makes a new pseudonymisation key (HMAC-SHA256) for patient and
    /// accession identifiers.
    Keygen(registry::KeygenArgs),
    /// Replaces patient or accession identifiers (one per line on standard
    /// input) by keyed pseudonyms (HMAC-SHA256), one per line on standard
    /// output.
    Pseudonymise(registry::PseudonymiseArgs),
    #[command(flatten)]
    Registry(registry::RegistryCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Evaluate(arguments) => evaluate::run(arguments),
        Command::Contours(command) => contours::run(&cli.store, command),
        Command::Keygen(arguments) => {
            report(registry::keygen(&arguments, cli.store.json).map(|()| ExitCode::SUCCESS))
        }
        Command::Pseudonymise(arguments) => {
            report(registry::pseudonymise(&arguments, cli.store.json).map(|()| ExitCode::SUCCESS))
        }
        Command::Serve(arguments) => report(serve::run(&cli.store, arguments)),
        Command::Report(command) => report(reports::run(&cli.store, command)),
        Command::Demo(arguments) => report(demo::run(&cli.store, arguments)),
        Command::Registry(registry::RegistryCommand::Ingest(arguments)) if arguments.over_api() => {
            report(ingest::run_over_api(*arguments, cli.store.json))
        }
        Command::Registry(command) => report(registry::run(&cli.store, command)),
    }
}

/// Prints an error as one line and turns it into exit code 2 (exit code 1
/// is kept for a negative answer, such as a broken audit chain).
fn report(outcome: anyhow::Result<ExitCode>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
