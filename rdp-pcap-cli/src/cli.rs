//! Command-line parsing and the top-level run: the part of `main` worth testing.

use rdp_wire::Saturate as _;
use std::cell::Cell;
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use crate::input::{self, Input};
use crate::pipeline::{self, Options, RunState};
use crate::record::{CaptureReport, InputProblem};
use crate::report::{self, Format, Reporter};

/// Exit status: every input was read completely (and nothing reached `--fail-on`).
pub const EXIT_OK: i32 = 0;
/// Exit status: a verdict or finding at or above the `--fail-on` severity was reported.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit status: some input could not be read, or only in part.
pub const EXIT_INPUT: i32 = 2;

/// Inputs larger than this get a progress bar (when standard error is a terminal).
pub const PROGRESS_MIN_BYTES: u64 = 64 * 1024 * 1024;

/// What the process is attached to; tests pass [`Terminal::default`] (no terminal).
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal {
    /// Standard output is a terminal.
    pub stdout: bool,
    /// Standard error is a terminal.
    pub stderr: bool,
    /// The terminal on standard output interprets ANSI escape sequences (colours): terminals
    /// elsewhere do; a Windows console does once virtual terminal processing is on.
    pub ansi: bool,
}

impl Terminal {
    /// What the standard streams of this process are attached to.
    ///
    /// On Windows this turns on virtual terminal processing for the console (Windows 10 and
    /// later have it; "Console Virtual Terminal Sequences" in Microsoft's console docs), so
    /// that colours and the progress bar work there as elsewhere; an older console keeps it
    /// off, and then gets no colour (the progress bar is drawn with console calls instead).
    pub fn detect() -> Terminal {
        use std::io::IsTerminal;
        let stdout = io::stdout().is_terminal();
        Terminal {
            stdout,
            stderr: io::stderr().is_terminal(),
            ansi: stdout && escapes_work(anstyle_query::windows::enable_ansi_colors()),
        }
    }
}

/// Whether a terminal interprets escape sequences, from what turning on virtual terminal
/// processing gave: `None` off Windows, where there is nothing to turn on.
fn escapes_work(virtual_terminal: Option<bool>) -> bool {
    virtual_terminal.unwrap_or(true)
}

/// Whether the text report is coloured: `--color auto` colours only a terminal that
/// interprets escape sequences, and not when `NO_COLOR` is set (no-color.org).
fn colored(choice: Color, terminal: Terminal, no_color: bool) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => terminal.stdout && terminal.ansi && !no_color,
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "rdp-pcap",
    version,
    // `rdp-pcap FILE...` means `rdp-pcap analyze FILE...` (see `with_default_subcommand`).
    override_usage = "rdp-pcap [OPTIONS] FILE...\n       rdp-pcap <COMMAND>",
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
    /// Explain a verdict or finding code: what it means, its causes, what Windows logs, and
    /// how to fix it. Without a code, list every code.
    Explain {
        /// The code, as the reports print it (e.g. `tls-cipher-mismatch`).
        code: Option<String>,
    },
    /// Print a shell completion script.
    ///
    /// For example `rdp-pcap completions bash >
    /// ~/.local/share/bash-completion/completions/rdp-pcap`; the README says where the other
    /// shells look.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    ///
    /// For example `rdp-pcap man > ~/.local/share/man/man1/rdp-pcap.1`, or `rdp-pcap man --dir
    /// ~/.local/share/man/man1` for it and a page for each subcommand.
    Man {
        /// Write the page and one for each subcommand (`rdp-pcap-analyze.1`, ...) into this
        /// folder instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// When to colour the text report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Color {
    /// When standard output is a terminal that shows colours and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The severity from which the exit status becomes 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    /// An error verdict or finding.
    Error,
    /// A warning or an error.
    Warning,
    /// Never (the default).
    Never,
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
    /// Add each connection's timeline (X.224, TLS, MCS and TCP events) to the report.
    #[arg(long)]
    timeline: bool,
    /// Colour the text report.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Exit with status 1 when a verdict or finding of this severity or worse was reported
    /// (2 still means an input problem).
    #[arg(long, value_enum, default_value_t = FailOn::Never)]
    fail_on: FailOn,
    /// Threads: 1 reads, decodes and analyses a capture on one thread; 2 reads and decodes it
    /// on a second thread while the first analyses, and writes JSON lines there too (the
    /// default on two cores or more).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=2))]
    threads: Option<u8>,
    /// Read the captures in the subdirectories of a directory too (symbolic links to
    /// directories are not followed).
    #[arg(short = 'r', long)]
    recursive: bool,
    /// Read all the files (and directory members) given as one capture, their packets in
    /// timestamp order, as mergecap does: a connection split across the files of a ring
    /// buffer is one connection.
    #[arg(long)]
    merge: bool,
    /// Capture files (pcap or pcapng, maybe compressed with gzip, zstd or xz), directories of
    /// captures, or `-` for standard input.
    #[arg(required = true, value_name = "FILE")]
    inputs: Vec<PathBuf>,
}

const SUBCOMMANDS: &[&str] = &["analyze", "explain", "completions", "man", "help"];

/// Inserts `analyze` when the first argument is neither a subcommand nor a top-level flag, so
/// that `rdp-pcap FILE...` works; a mistyped subcommand is left for clap to refuse.
fn with_default_subcommand(mut args: Vec<OsString>) -> Vec<OsString> {
    let explicit = match args.get(1).map(|a| a.to_str()) {
        None => true,
        Some(Some(a)) => {
            SUBCOMMANDS.contains(&a)
                || matches!(a, "-h" | "--help" | "-V" | "--version")
                || mistyped_subcommand(a)
        }
        // Not UTF-8: no subcommand, a file name.
        Some(None) => false,
    };
    if !explicit {
        args.insert(1, OsString::from("analyze"));
    }
    args
}

/// Whether the first argument `arg` is a mistyped subcommand rather than a file: it names
/// nothing that exists, reads as a word (three letters or more, no path separator, no
/// extension, no leading dash), and clap finds a subcommand close to it. Then clap's own error
/// says so and suggests the subcommand (`rdp-pcap explian`), instead of "no such file or
/// directory". (Clap finds `explain` close to `x`: too short a word to be read as a typo.)
fn mistyped_subcommand(arg: &str) -> bool {
    let word = arg.chars().nth(2).is_some()
        && !arg.starts_with('-')
        && !arg.contains('.')
        && !arg.chars().any(std::path::is_separator);
    word && std::fs::symlink_metadata(arg).is_err()
        && match Cli::try_parse_from(["rdp-pcap", arg]) {
            Err(e) => {
                e.kind() == clap::error::ErrorKind::InvalidSubcommand
                    && e.get(clap::error::ContextKind::SuggestedSubcommand)
                        .is_some()
            }
            Ok(_) => false,
        }
}

/// Runs the command line `args` (program name first), writing the report to `stdout` and
/// problems to `stderr`, as if neither were a terminal. Returns the exit status.
pub fn run(args: Vec<OsString>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    run_on(args, stdout, stderr, Terminal::default())
}

/// [`run`], knowing which streams are terminals (for colour and the progress bar).
pub fn run_on(
    args: Vec<OsString>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    terminal: Terminal,
) -> i32 {
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
        Command::Analyze(args) => analyze(&args, stdout, stderr, terminal),
        Command::Explain { code } => explain(code.as_deref(), stdout, stderr),
        Command::Completions { shell } => {
            // Generated whole first: the generator cannot report a write error.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut documented_command(), "rdp-pcap", &mut script);
            written(stdout.write_all(&script), stderr)
        }
        Command::Man { dir: None } => {
            // The pages the subcommands section names are those `--dir` writes.
            let command = documented_command().disable_help_subcommand(true);
            let mut page = Vec::new();
            let rendered = clap_mangen::Man::new(command).render(&mut page);
            written(rendered.and_then(|()| stdout.write_all(&page)), stderr)
        }
        Command::Man { dir: Some(dir) } => {
            match clap_mangen::generate_to(documented_command(), &dir) {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    let _ = writeln!(
                        stderr,
                        "rdp-pcap: {}: {}",
                        input::display_name(&dir),
                        input::io_message(&e)
                    );
                    EXIT_INPUT
                }
            }
        }
    }
}

/// The command line as completions and the manual page describe it: `rdp-pcap FILE...` means
/// `rdp-pcap analyze FILE...`, so analyze's options and files are also the top level's.
fn documented_command() -> clap::Command {
    let command = Cli::command();
    let analyze = command
        .find_subcommand("analyze")
        .map(|analyze| analyze.get_arguments().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    command
        .args(analyze)
        .args_conflicts_with_subcommands(true)
        .subcommand_negates_reqs(true)
}

/// The exit status once output was written (or not).
fn written(result: io::Result<()>, stderr: &mut dyn Write) -> i32 {
    match result {
        Ok(()) => EXIT_OK,
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            let _ = writeln!(stderr, "rdp-pcap: cannot write: {}", input::io_message(&e));
            EXIT_INPUT
        }
    }
}

fn explain(code: Option<&str>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    let result = match code {
        None => crate::explain::render_list(stdout),
        Some(code) => match crate::explain::find(code) {
            Some(e) => crate::explain::render(e, stdout),
            None => {
                let _ = writeln!(
                    stderr,
                    "rdp-pcap: unknown code {}; `rdp-pcap explain` lists them",
                    rdp_wire::printable::Quoted(code)
                );
                return EXIT_INPUT;
            }
        },
    };
    written(result, stderr)
}

/// Counts the bytes read for the progress display.
///
/// It runs on the decoding thread when there is one, so the display is drawn from there: the
/// main thread must never hold the standard error lock for long (`main.rs` passes unlocked
/// handles), and whatever it writes goes through [`BesideBar`].
struct Progress<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: io::Read> io::Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n.saturate());
        Ok(n)
    }
}

/// `reader`, counted on `bar` when there is one.
fn counted<'r, R: io::Read + Send + 'r>(
    reader: R,
    bar: Option<&indicatif::ProgressBar>,
) -> Box<dyn io::Read + Send + 'r> {
    match bar {
        Some(bar) => Box::new(Progress {
            inner: reader,
            bar: bar.clone(),
        }),
        None => Box::new(reader),
    }
}

/// The bar of a file whose size is known. Plain characters only: a Windows console without
/// virtual terminal processing draws it with console calls, and has no colours to lose.
fn progress_bar(len: u64, name: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(name.to_string());
    bar
}

/// The display for standard input, whose size is unknown: bytes read so far and the rate.
fn progress_spinner() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::no_length();
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "reading standard input {spinner} {bytes} {bytes_per_sec}",
    ) {
        bar.set_style(style.tick_chars("-\\|/ "));
    }
    bar
}

/// The progress display of the input being read, if one is shown.
///
/// The report and the problem lines are written on the main thread while the decoding thread
/// draws the bar on standard error; writing through [`BesideBar`] takes the bar off the screen
/// for the time of each write, under the bar's own lock, so the two never mix on a terminal.
#[derive(Default)]
struct Shown(Cell<Option<indicatif::ProgressBar>>);

impl Shown {
    fn show(&self, bar: Option<indicatif::ProgressBar>) {
        self.0.set(bar);
    }

    /// Takes the bar off the screen for good.
    fn clear(&self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }

    /// Runs `f` with the bar, if any, off the screen.
    fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        let bar = self.0.take();
        let result = match &bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        };
        self.0.set(bar);
        result
    }
}

/// A writer that takes the progress bar off the screen while it writes (see [`Shown`]).
struct BesideBar<'s, W> {
    inner: W,
    shown: &'s Shown,
}

impl<W: Write> Write for BesideBar<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let inner = &mut self.inner;
        self.shown.suspend(|| inner.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let inner = &mut self.inner;
        self.shown.suspend(|| inner.write_all(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        let inner = &mut self.inner;
        self.shown.suspend(|| inner.flush())
    }
}

/// `rdp-pcap analyze`: every input analysed and reported, then the exit status.
fn analyze(
    args: &AnalyzeArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    terminal: Terminal,
) -> i32 {
    // Everything written while a progress bar may be on the screen goes beside it; problem
    // lines whole, so that the bar is never drawn in the middle of one.
    let shown = Shown::default();
    let mut stderr = io::LineWriter::new(BesideBar {
        inner: stderr,
        shown: &shown,
    });
    let reporter = report_writer(args, stdout, terminal, &shown);
    let mut a = Analysis {
        reporter: report::Tally::new(reporter),
        stderr: &mut stderr,
        status: EXIT_OK,
        write_error: None,
        run: RunState::default(),
        options: analysis_options(args),
    };
    a.inputs(args, terminal, &shown);
    let summary = a.reporter.summary();
    if a.write_error.is_none() {
        a.write_error = a.reporter.finish(&summary).err();
    }
    a.exit_status(args.fail_on, &summary)
}

/// The user's choices for the analysis: ports, timeline, threads (by default two when the
/// machine has two cores or more).
fn analysis_options(args: &AnalyzeArgs) -> Options {
    let decode_thread = match args.threads {
        Some(n) => n >= 2,
        None => std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2),
    };
    Options {
        timeline: args.timeline,
        threads: if decode_thread { 2 } else { 1 },
        ..Options::new(&args.ports)
    }
}

/// The reporter of `--format`, writing to `stdout` beside the progress bar, in large writes
/// (a report of many connections is tens of megabytes of JSON).
fn report_writer<'w>(
    args: &AnalyzeArgs,
    stdout: &'w mut dyn Write,
    terminal: Terminal,
    shown: &'w Shown,
) -> Box<dyn report::Reporter + 'w> {
    let color = colored(args.color, terminal, std::env::var_os("NO_COLOR").is_some());
    let out = io::BufWriter::with_capacity(
        256 * 1024,
        BesideBar {
            inner: stdout,
            shown,
        },
    );
    let reporter = report::reporter(args.format, Box::new(out), color);
    if args.fail_on == FailOn::Never {
        return reporter;
    }
    // The status must cover every connection, even after the reader went away.
    Box::new(report::UntilPipeCloses::new(reporter))
}

/// One run of `analyze` over its inputs: where the report and problem lines go, the status so
/// far, and the first error writing the report (the run stops there).
struct Analysis<'w, 'e> {
    reporter: report::Tally<'w>,
    stderr: &'e mut dyn Write,
    status: i32,
    write_error: Option<io::Error>,
    run: RunState,
    options: Options,
}

impl Analysis<'_, '_> {
    /// The inputs given (files, directory members, standard input), one by one or, with
    /// `--merge`, as one capture; until writing the report fails.
    fn inputs(&mut self, args: &AnalyzeArgs, terminal: Terminal, shown: &Shown) {
        let expanded = input::expand(&args.inputs, args.recursive);
        self.reporter.skipped_files(expanded.skipped_files);
        let mut items = expanded.items;
        if args.merge && items.iter().filter(|item| item.is_ok()).count() > 1 {
            self.merged(std::mem::take(&mut items));
        }
        for item in items {
            if self.write_error.is_some() {
                break;
            }
            match item {
                Ok(input) => self.one(&input, terminal, shown),
                Err((name, message)) => self.problem(name, message),
            }
        }
    }

    /// The status once the report is written: a write error's (none when the reader went
    /// away), an input problem's, or whether a finding reached `fail_on`.
    fn exit_status(&mut self, fail_on: FailOn, summary: &report::Summary) -> i32 {
        match self.write_error.take() {
            // The reader went away (`| head`): not worth a message. Without `--fail-on` the run
            // stopped there; with it, `UntilPipeCloses` kept it going and the status below holds.
            Some(e) if e.kind() == io::ErrorKind::BrokenPipe => return self.status,
            Some(e) => {
                let _ = writeln!(
                    self.stderr,
                    "rdp-pcap: cannot write: {}",
                    input::io_message(&e)
                );
                return EXIT_INPUT;
            }
            None => {}
        }
        let threshold = match fail_on {
            FailOn::Error => Some(rdp_wire::analyzer::Severity::Error),
            FailOn::Warning => Some(rdp_wire::analyzer::Severity::Warning),
            FailOn::Never => None,
        };
        if self.status == EXIT_OK
            && threshold.is_some_and(|t| summary.worst.is_some_and(|w| w >= t))
        {
            return EXIT_FINDINGS;
        }
        self.status
    }

    /// An input that could not be read at all: one line on stderr, and an entry in the report.
    fn problem(&mut self, input: String, message: String) {
        self.status = EXIT_INPUT;
        let _ = writeln!(self.stderr, "rdp-pcap: {input}: {message}");
        if let Err(e) = self
            .reporter
            .input_problem(&InputProblem { input, message })
        {
            self.write_error.get_or_insert(e);
        }
    }

    /// The end of one capture: its problems on stderr (`prefix` names the input, unless each
    /// problem names its file), then its report.
    fn done(&mut self, result: io::Result<CaptureReport>, prefix: Option<&str>) {
        let report = match result {
            Ok(report) => report,
            Err(e) => {
                self.write_error.get_or_insert(e);
                return;
            }
        };
        for p in &report.problems {
            self.status = EXIT_INPUT;
            let _ = match prefix {
                Some(name) => writeln!(self.stderr, "rdp-pcap: {name}: {p}"),
                None => writeln!(self.stderr, "rdp-pcap: {p}"),
            };
        }
        if let Err(e) = self.reporter.capture(&report) {
            self.write_error.get_or_insert(e);
        }
    }

    /// `--merge`: the inputs read as one capture (the problems found opening them first).
    fn merged(&mut self, items: Vec<Result<Input, (String, String)>>) {
        let mut inputs = Vec::new();
        for item in items {
            match item {
                Ok(input) => inputs.push(input),
                Err((name, message)) => self.problem(name, message),
            }
        }
        let (files, unreadable) = crate::merge::prepare(inputs);
        for (name, message) in unreadable {
            self.problem(name, message);
        }
        if files.is_empty() || self.write_error.is_some() {
            return;
        }
        let result = crate::merge::analyze(files, &self.options, &mut self.run, &mut self.reporter);
        // Each problem already names its file.
        self.done(result, None);
    }

    /// One input: opened, decompressed when it is compressed, decoded on a second thread when
    /// the options say so, with a progress display on a terminal.
    fn one(&mut self, input: &Input, terminal: Terminal, shown: &Shown) {
        let name = input.name();
        let (raw, bar): (Box<dyn io::Read + Send>, _) = match input {
            // Its size is unknown: the display says how much was read, and how fast.
            Input::Stdin => (
                Box::new(io::stdin()),
                terminal.stderr.then(progress_spinner),
            ),
            Input::File(path) => match std::fs::File::open(path) {
                Ok(file) => {
                    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
                    let bar = (terminal.stderr && len >= PROGRESS_MIN_BYTES)
                        .then(|| progress_bar(len, &name));
                    (Box::new(file), bar)
                }
                Err(e) => return self.problem(name, input::io_message(&e)),
            },
        };
        shown.show(bar.clone());
        // The display counts the bytes read: compressed ones, for a compressed capture.
        let (compression, source) = match input::decompress(counted(raw, bar.as_ref())) {
            Ok(opened) => opened,
            Err(e) => {
                shown.clear();
                return self.problem(name, input::io_message(&e));
            }
        };
        // On a second thread when the options say so (`pipeline::analyze`).
        let (options, run) = (&self.options, &mut self.run);
        let result = pipeline::analyze(&name, source, options, run, &mut self.reporter);
        shown.clear();
        let result = result.map(|mut report| {
            report.compression = compression;
            report
        });
        self.done(result, Some(&name));
    }
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
        for subcommand in ["explain", "completions", "man", "help"] {
            assert_eq!(
                with_default_subcommand(os(&["rdp-pcap", subcommand])).len(),
                2
            );
        }
        // Mistyped subcommands are left for clap to refuse; other words are files.
        for typo in ["explian", "analyse", "mann", "hepl"] {
            assert_eq!(
                with_default_subcommand(os(&["rdp-pcap", typo]))[1],
                typo,
                "{typo}"
            );
        }
        for file in ["capture", "explian.pcap", "./explian", "-", "", "x", "ex"] {
            assert_eq!(
                with_default_subcommand(os(&["rdp-pcap", file]))[1],
                "analyze",
                "{file}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_file_name_that_is_not_utf8_is_analysed() {
        use std::os::unix::ffi::OsStringExt;
        let name = OsString::from_vec(b"/nonexistent/\xff.pcap".to_vec());
        let args = vec![OsString::from("rdp-pcap"), name];
        assert_eq!(with_default_subcommand(args.clone())[1], "analyze");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run(args, &mut out, &mut err), EXIT_INPUT);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "rdp-pcap: /nonexistent/\u{fffd}.pcap: no such file or directory\n"
        );
    }

    #[test]
    fn color_auto_only_on_a_terminal_that_interprets_escapes() {
        let console = |stdout, ansi| Terminal {
            stdout,
            stderr: stdout,
            ansi,
        };
        assert!(colored(Color::Auto, console(true, true), false));
        // A Windows console without virtual terminal processing.
        assert!(!colored(Color::Auto, console(true, false), false));
        assert!(!colored(Color::Auto, console(true, true), true));
        assert!(!colored(Color::Auto, console(false, false), false));
        assert!(!colored(Color::Never, console(true, true), false));
        assert!(colored(Color::Always, console(false, false), true));
        // Off Windows there is nothing to turn on; on Windows it worked or not.
        assert!(escapes_work(None));
        assert!(escapes_work(Some(true)));
        assert!(!escapes_work(Some(false)));
    }

    #[test]
    fn the_command_definitions_are_consistent() {
        Cli::command().debug_assert();
        documented_command().debug_assert();
        // Every subcommand is known to `with_default_subcommand` (`help` is clap's own).
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .chain(["help".to_string()])
            .collect();
        assert_eq!(names, SUBCOMMANDS);
    }

    /// What was done to a terminal, in order: the bar's drawing and the lines written.
    #[derive(Debug, Clone, Default)]
    struct Screen(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl Screen {
        fn push(&self, event: String) {
            self.0.lock().unwrap().push(event);
        }
    }

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, n: usize) -> io::Result<()> {
            self.push(format!("up {n}"));
            Ok(())
        }
        fn move_cursor_down(&self, n: usize) -> io::Result<()> {
            self.push(format!("down {n}"));
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.push(format!("bar {}", s.trim_end()));
            Ok(())
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.push(format!("bar {}", s.trim_end()));
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            self.push("clear".to_string());
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Write for Screen {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.push(format!("text {}", String::from_utf8_lossy(buf)));
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_whole_with_the_bar_off_the_screen() {
        let screen = Screen::default();
        let target = indicatif::ProgressDrawTarget::term_like(Box::new(screen.clone()));
        let bar = indicatif::ProgressBar::with_draw_target(Some(100), target);
        bar.set_style(indicatif::ProgressStyle::with_template("{pos}/{len}").unwrap());
        bar.set_position(7);
        bar.tick();
        let shown = Shown::default();
        shown.show(Some(bar));
        let mut text = screen.clone();
        {
            let mut stderr = io::LineWriter::new(BesideBar {
                inner: &mut text,
                shown: &shown,
            });
            // `writeln!` writes its pieces one by one.
            let (name, problem) = ("x.pcap", "cut short");
            writeln!(stderr, "rdp-pcap: {name}: {problem}").unwrap();
        }
        shown.clear();
        let mut events = screen.0.lock().unwrap().clone();
        events.retain(|e| e != "up 0" && e != "bar ");
        let line = events.iter().position(|e| e.starts_with("text")).unwrap();
        // The bar was drawn, taken off, the line written in one piece, the bar drawn again.
        assert_eq!(events[line], "text rdp-pcap: x.pcap: cut short\n");
        assert_eq!(events.iter().filter(|e| e.starts_with("text")).count(), 1);
        assert_eq!(events[line - 1], "clear", "{events:?}");
        assert!(
            events[..line].contains(&"bar 7/100".to_string()),
            "{events:?}"
        );
        assert_eq!(
            events[line + 1..].first().map(String::as_str),
            Some("bar 7/100")
        );
        // And off the screen at the end.
        assert_eq!(
            events.last().map(String::as_str),
            Some("clear"),
            "{events:?}"
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
