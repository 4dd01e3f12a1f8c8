//! Command-line parsing and the top-level run: the part of `main` worth testing.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::input::{self, Input};
use crate::pipeline::{self, Options, RunState};
use crate::record::InputProblem;
use crate::report::{self, Format};

/// Exit status: every input was read completely.
pub const EXIT_OK: i32 = 0;
/// Exit status: some input could not be read, or only in part.
pub const EXIT_INPUT: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "rdp-pcap",
    version,
    about = "Explains why Remote Desktop connections fail, from packet captures",
    long_about = "Reads pcap and pcapng captures, finds RDP connections by content on any port, \
                  and says for each one what happened during the connection sequence and why."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse captures (the default: `rdp-pcap FILE...` means `rdp-pcap analyze FILE...`).
    Analyze(AnalyzeArgs),
}

#[derive(Debug, clap::Args)]
struct AnalyzeArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also report connections to this server port when they carry no RDP (3389 always is).
    /// Repeatable.
    #[arg(long = "port", value_name = "N")]
    ports: Vec<u16>,
    /// Capture files (pcap or pcapng), directories of captures, or `-` for standard input.
    #[arg(required = true, value_name = "FILE")]
    inputs: Vec<PathBuf>,
}

const SUBCOMMANDS: &[&str] = &["analyze", "help"];

/// Inserts `analyze` when the first argument is neither a subcommand nor a top-level flag, so
/// that `rdp-pcap FILE...` works.
fn with_default_subcommand(mut args: Vec<OsString>) -> Vec<OsString> {
    let first = args.get(1).and_then(|a| a.to_str()).map(str::to_owned);
    let explicit = match first.as_deref() {
        None => true,
        Some(a) => SUBCOMMANDS.contains(&a) || matches!(a, "-h" | "--help" | "-V" | "--version"),
    };
    if !explicit {
        args.insert(1, OsString::from("analyze"));
    }
    args
}

/// Runs the command line `args` (program name first), writing the report to `stdout` and
/// problems to `stderr`. Returns the exit status.
pub fn run(args: Vec<OsString>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    let cli = match Cli::try_parse_from(with_default_subcommand(args)) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INPUT } else { EXIT_OK };
            let rendered = e.render().to_string();
            let _ = if e.use_stderr() {
                stderr.write_all(rendered.as_bytes())
            } else {
                stdout.write_all(rendered.as_bytes())
            };
            return code;
        }
    };
    match cli.command {
        Command::Analyze(args) => analyze(&args, stdout, stderr),
    }
}

fn analyze(args: &AnalyzeArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    let options = Options::new(&args.ports);
    let mut reporter = report::reporter(args.format, Box::new(io::BufWriter::new(stdout)));
    let mut run = RunState::default();
    let mut status = EXIT_OK;
    for item in input::expand(&args.inputs) {
        let input = match item {
            Ok(input) => input,
            Err((name, message)) => {
                status = EXIT_INPUT;
                problem(stderr, reporter.as_mut(), name, message);
                continue;
            }
        };
        let name = input.name();
        let result = match &input {
            Input::Stdin => pipeline::analyze(
                &name,
                io::stdin().lock(),
                &options,
                &mut run,
                reporter.as_mut(),
            ),
            Input::File(path) => match std::fs::File::open(path) {
                Ok(file) => pipeline::analyze(&name, file, &options, &mut run, reporter.as_mut()),
                Err(e) => {
                    status = EXIT_INPUT;
                    problem(stderr, reporter.as_mut(), name, input::io_message(&e));
                    continue;
                }
            },
        };
        let report = match result {
            Ok(report) => report,
            // The report could not be written (a closed pipe): nothing more to do.
            Err(_) => return status,
        };
        for p in &report.problems {
            status = EXIT_INPUT;
            let _ = writeln!(stderr, "rdp-pcap: {name}: {p}");
        }
        if reporter.capture(&report).is_err() {
            return status;
        }
    }
    let _ = reporter.finish();
    status
}

/// An input that could not be read at all: one line on stderr, and an entry in the report.
fn problem(
    stderr: &mut dyn Write,
    reporter: &mut dyn report::Reporter,
    input: String,
    message: String,
) {
    let _ = writeln!(stderr, "rdp-pcap: {input}: {message}");
    let _ = reporter.input_problem(&InputProblem { input, message });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn shorthand_inserts_analyze() {
        assert_eq!(
            with_default_subcommand(os(&["rdp-pcap", "x.pcap"]))[1],
            "analyze"
        );
        assert_eq!(
            with_default_subcommand(os(&["rdp-pcap", "--format", "jsonl", "x"]))[1],
            "analyze"
        );
        assert_eq!(
            with_default_subcommand(os(&["rdp-pcap", "analyze", "x"])).len(),
            3
        );
        assert_eq!(
            with_default_subcommand(os(&["rdp-pcap", "--help"])).len(),
            2
        );
    }

    #[test]
    fn missing_file_is_one_line_and_status_2() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = run(os(&["rdp-pcap", "/nonexistent/x.pcap"]), &mut out, &mut err);
        assert_eq!(status, EXIT_INPUT);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "rdp-pcap: /nonexistent/x.pcap: no such file or directory\n"
        );
    }
}
