//! The `vigil` command line: thin glue from arguments and files to the
//! library crates.

mod evaluate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Vigil: evaluation, governance and lifecycle monitoring of clinical AI
/// tools in medical imaging and radiotherapy.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Local validation (acceptance testing) of a classification or triage
    /// tool on a labelled case table, judged against a protocol.
    Evaluate(evaluate::EvaluateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Evaluate(arguments) => evaluate::run(arguments),
    }
}
