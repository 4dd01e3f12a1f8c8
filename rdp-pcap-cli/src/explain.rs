//! Long explanations of every verdict and finding code, for `rdp-pcap explain [CODE]`.
//!
//! Reports name a connection's outcome with one verdict code and its weaknesses with finding
//! codes; this module says, for each code, what the capture shows, why it usually happens, what
//! Windows logs for it and how to fix it. The text is data written for Windows and xrdp/FreeRDP
//! administrators (registry values with full paths, GPO paths, commands), kept as one Markdown
//! file per code under `rdp-pcap-cli/explain/` so that it can be corrected without reading Rust
//! (the format is in `explain/README.md`), and embedded at build time by `build.rs`. Rendering
//! only wraps and indents it.
//!
//! The order of [`all`] is the order of the listing: verdicts (from a working connection down the
//! connection sequence to the failures), then per-connection findings, then findings that need
//! several connections.

use rdp_wire::Bump as _;
use std::io::{self, Write};

use rdp_wire::analyzer::{FindingCode, VerdictCode};

#[cfg(test)]
mod source;

/// Which kind of code an [`Explanation`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// Exactly one per connection: what happened.
    Verdict,
    /// Zero or more per connection: a weakness or an oddity.
    Finding,
    /// Reported across the connections of a capture (a pattern, not one connection).
    CaptureFinding,
}

impl CodeKind {
    /// `"verdict"`, `"finding"` or `"capture finding"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Verdict => "verdict",
            CodeKind::Finding => "finding",
            CodeKind::CaptureFinding => "capture finding",
        }
    }

    /// The heading the list groups this kind under.
    pub fn heading(self) -> &'static str {
        match self {
            CodeKind::Verdict => "Verdicts",
            CodeKind::Finding => "Findings",
            CodeKind::CaptureFinding => "Capture findings",
        }
    }
}

/// Everything `rdp-pcap explain CODE` says about one code.
#[derive(Debug)]
pub struct Explanation {
    /// The code as reports print it, e.g. `tls-cipher-mismatch`.
    pub code: &'static str,
    /// Verdict, finding or capture finding.
    pub kind: CodeKind,
    /// `"info"`, `"warning"` or `"error"`, as in the reports.
    pub severity: &'static str,
    /// One line, under 80 characters, no trailing period.
    pub title: &'static str,
    /// What the capture shows, as an analyst would describe the packets.
    pub on_the_wire: &'static str,
    /// Usual causes, most likely first.
    pub causes: &'static [&'static str],
    /// What Windows logs for it (log, source, event ID and the gist); empty when nothing is.
    pub windows_logs: &'static [&'static str],
    /// Concrete fixes: registry values, GPO paths, commands, xrdp/FreeRDP settings. `{server}`
    /// and `{port}` stand for the connection's server address and port (see `fix.rs`). A page
    /// with a `fix table` gets one more fix per row of that value table, written `Code N: `
    /// and the row's fix (the negotiation-failure fixes, one per failure code).
    pub fixes: &'static [&'static str],
    /// Related codes.
    pub see_also: &'static [&'static str],
}

// The table itself: `build.rs` writes it from the files under `explain/` (one per code, plus the
// value tables), parsed by `explain/source.rs`.
include!(concat!(env!("OUT_DIR"), "/explanations.rs"));

/// Every code, verdicts first (from a working connection down the connection sequence), then
/// per-connection findings, then capture findings: the order of the analyzer's
/// [`VerdictCode::ALL`] and [`FindingCode::ALL`], so the listing follows the vocabulary.
pub fn all() -> impl Iterator<Item = &'static Explanation> {
    let verdicts = VerdictCode::ALL.iter().map(|c| c.as_str());
    let findings = FindingCode::ALL.iter().map(|c| c.as_str());
    verdicts.chain(findings).filter_map(get)
}

/// The explanation for `code` exactly as the reports spell it.
pub fn get(code: &str) -> Option<&'static Explanation> {
    ALL.binary_search_by(|e| e.code.cmp(code))
        .ok()
        .and_then(|at| ALL.get(at))
}

/// The explanation for `code`; surrounding blanks and letter case are ignored.
pub fn find(code: &str) -> Option<&'static Explanation> {
    let code = code.trim();
    ALL.iter().find(|e| e.code.eq_ignore_ascii_case(code))
}

/// The meanings of the values of one wire field (NTSTATUS, ERRINFO, KRB-ERROR codes, ...), one
/// row per value, from `explain/values/<name>.md`.
#[derive(Debug)]
pub struct ValueTable {
    /// The file's name without `.md`, e.g. `rdp-neg-failure`.
    pub name: &'static str,
    /// What the values are.
    pub title: &'static str,
    /// Where they are defined (spec and section).
    pub spec: &'static str,
    /// The rows, in file order.
    pub rows: &'static [Value],
}

/// One value of a [`ValueTable`].
#[derive(Debug)]
pub struct Value {
    /// The value on the wire.
    pub value: u32,
    /// Its name in the spec.
    pub name: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// What to do about it; may hold the placeholders of a fix (see `fix.rs`).
    pub fix: &'static str,
}

impl ValueTable {
    /// The row for `value`, if the table has one.
    pub fn get(&self, value: u32) -> Option<&'static Value> {
        self.rows.iter().find(|r| r.value == value)
    }
}

/// The value table `explain/values/<name>.md`.
pub fn value_table(name: &str) -> Option<&'static ValueTable> {
    VALUE_TABLES.iter().find(|t| t.name == name)
}

/// Column the long form is wrapped at.
const WIDTH: usize = 96;

/// Column the list is wrapped at: a little wider, so titles fit beside the code and severity.
const LIST_WIDTH: usize = 100;

/// Kinds in the order the list shows them.
const KINDS: [CodeKind; 3] = [
    CodeKind::Verdict,
    CodeKind::Finding,
    CodeKind::CaptureFinding,
];

/// One line per code (code, severity, title) in aligned columns, grouped under "Verdicts",
/// "Findings" and "Capture findings".
pub fn render_list(out: &mut dyn Write) -> io::Result<()> {
    let code_width = all().map(|e| e.code.len()).max().unwrap_or(0);
    let severity_width = all().map(|e| e.severity.len()).max().unwrap_or(0);
    let hanging = " ".repeat(code_width.saturating_add(severity_width).saturating_add(6));
    for (i, kind) in KINDS.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", kind.heading())?;
        for e in all().filter(|e| e.kind == *kind) {
            let first = format!(
                "  {:<code_width$}  {:<severity_width$}  ",
                e.code, e.severity
            );
            write_wrapped(out, e.title, &first, &hanging, LIST_WIDTH)?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "Run `rdp-pcap explain CODE` for what a code means and how to fix it."
    )
}

/// The long form of one explanation, wrapped at 96 columns, in the sections "What the capture
/// shows", "Usual causes", "What Windows logs", "How to fix" and "See also".
pub fn render(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} ({}, {})", e.code, e.kind.as_str(), e.severity)?;
    write_wrapped(out, e.title, "", "", WIDTH)?;
    section(out, "What the capture shows")?;
    write_wrapped(out, e.on_the_wire, "  ", "  ", WIDTH)?;
    section(out, "Usual causes")?;
    items(out, e.causes, "Not known.")?;
    section(out, "What Windows logs")?;
    items(out, e.windows_logs, "Nothing specific to this case.")?;
    section(out, "How to fix")?;
    let target = crate::fix::Target::generic(crate::fix::example_port(e.code));
    let fixes: Vec<String> = e
        .fixes
        .iter()
        .map(|f| crate::fix::Fix::new(f, target).to_string())
        .collect();
    let fixes: Vec<&str> = fixes.iter().map(String::as_str).collect();
    items(out, &fixes, "Nothing to fix.")?;
    section(out, "See also")?;
    if e.see_also.is_empty() {
        writeln!(out, "  -")
    } else {
        write_wrapped(out, &e.see_also.join(", "), "  ", "  ", WIDTH)
    }
}

fn section(out: &mut dyn Write, heading: &str) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{heading}")
}

fn items(out: &mut dyn Write, list: &[&str], when_empty: &str) -> io::Result<()> {
    if list.is_empty() {
        return writeln!(out, "  {when_empty}");
    }
    for item in list {
        write_wrapped(out, item, "  - ", "    ", WIDTH)?;
    }
    Ok(())
}

/// Writes `text` word-wrapped at `width` columns: the first line starts with `first`, the others with
/// `rest`. A word longer than a whole line is cut into line-sized pieces so no line overflows.
fn write_wrapped(
    out: &mut dyn Write,
    text: &str,
    first: &str,
    rest: &str,
    width: usize,
) -> io::Result<()> {
    let rest_len = rest.chars().count();
    // At least a few characters per piece even if a prefix leaves no room.
    let piece_max = width.saturating_sub(rest_len).max(8);
    let mut line = String::from(first);
    let mut line_len = first.chars().count();
    let mut has_word = false;
    for word in text.split_whitespace() {
        for piece in pieces(word, piece_max) {
            let piece_len = piece.chars().count();
            let needed = if has_word {
                piece_len.saturating_add(1)
            } else {
                piece_len
            };
            if has_word && line_len.saturating_add(needed) > width {
                writeln!(out, "{line}")?;
                line.clear();
                line.push_str(rest);
                line_len = rest_len;
                has_word = false;
            }
            if has_word {
                line.push(' ');
                line_len.bump();
            }
            line.push_str(piece);
            line_len.bump_by(piece_len);
            has_word = true;
        }
    }
    writeln!(out, "{line}")
}

/// `word` cut into pieces of at most `max` characters (on character boundaries).
fn pieces(word: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut remaining = word;
    std::iter::from_fn(move || {
        if remaining.is_empty() {
            return None;
        }
        let cut = remaining
            .char_indices()
            .nth(max)
            .map_or(remaining.len(), |(i, _)| i);
        let (piece, tail) = remaining.split_at(cut);
        remaining = tail;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The codes the reports emit, in listing order, with their kind and severity.
    const EXPECTED: &[(&str, CodeKind, &str)] = &[
        ("established", CodeKind::Verdict, "info"),
        ("tcp-refused", CodeKind::Verdict, "error"),
        ("tcp-unanswered", CodeKind::Verdict, "error"),
        ("not-rdp", CodeKind::Verdict, "warning"),
        ("no-negotiation-response", CodeKind::Verdict, "error"),
        ("negotiation-failure", CodeKind::Verdict, "error"),
        ("security-mismatch", CodeKind::Verdict, "error"),
        ("tls-not-started", CodeKind::Verdict, "error"),
        ("tls-cipher-mismatch", CodeKind::Verdict, "error"),
        ("tls-version-rejected", CodeKind::Verdict, "error"),
        ("tls-handshake-failed", CodeKind::Verdict, "error"),
        ("auth-failed", CodeKind::Verdict, "error"),
        ("protocol-error", CodeKind::Verdict, "error"),
        ("closed-early", CodeKind::Verdict, "warning"),
        ("incomplete", CodeKind::Verdict, "info"),
        ("standard-rdp-security", CodeKind::Finding, "warning"),
        ("nla-not-enforced", CodeKind::Finding, "warning"),
        ("tls-legacy-version", CodeKind::Finding, "warning"),
        ("tls-weak-cipher", CodeKind::Finding, "warning"),
        ("cert-expired", CodeKind::Finding, "error"),
        ("cert-not-yet-valid", CodeKind::Finding, "error"),
        ("cert-weak-key", CodeKind::Finding, "warning"),
        ("cert-weak-signature", CodeKind::Finding, "warning"),
        ("cert-self-signed", CodeKind::Finding, "info"),
        ("cert-name-mismatch", CodeKind::Finding, "info"),
        ("nonstandard-port", CodeKind::Finding, "info"),
        ("bluekeep-probe", CodeKind::Finding, "error"),
        ("capture-gap", CodeKind::Finding, "info"),
        ("decoder-limit", CodeKind::Finding, "info"),
        ("one-sided-capture", CodeKind::Finding, "info"),
        ("clock-implausible", CodeKind::Finding, "info"),
        ("scanner", CodeKind::Finding, "warning"),
        ("brute-force", CodeKind::CaptureFinding, "warning"),
        ("password-spray", CodeKind::CaptureFinding, "warning"),
        ("cert-reused", CodeKind::CaptureFinding, "warning"),
    ];

    fn rendered(e: &Explanation) -> String {
        let mut buf = Vec::new();
        assert!(render(e, &mut buf).is_ok());
        String::from_utf8(buf).unwrap_or_default()
    }

    fn listing() -> String {
        let mut buf = Vec::new();
        assert!(render_list(&mut buf).is_ok());
        String::from_utf8(buf).unwrap_or_default()
    }

    fn assert_narrow(text: &str, what: &str) {
        for line in text.lines() {
            let width = line.chars().count();
            assert!(width <= 100, "{what}: line of {width} columns: {line}");
        }
    }

    #[test]
    fn every_code_once_in_order_with_kind_and_severity() {
        let got: Vec<(&str, CodeKind, &str)> =
            all().map(|e| (e.code, e.kind, e.severity)).collect();
        assert_eq!(got, EXPECTED);
        let unique: HashSet<&str> = all().map(|e| e.code).collect();
        assert_eq!(unique.len(), all().count());
    }

    #[test]
    fn kinds_are_grouped_verdicts_then_findings_then_capture_findings() {
        let order: Vec<usize> = all()
            .filter_map(|e| KINDS.iter().position(|k| *k == e.kind))
            .collect();
        assert_eq!(order.len(), all().count());
        assert!(order.windows(2).all(|w| w.first() <= w.last()));
    }

    #[test]
    fn find_returns_each_code_and_nothing_else() {
        for (code, kind, severity) in EXPECTED {
            let e = find(code);
            assert!(e.is_some(), "{code} not found");
            if let Some(e) = e {
                assert_eq!(e.code, *code);
                assert_eq!(e.kind, *kind);
                assert_eq!(e.severity, *severity);
            }
        }
        assert_eq!(
            find(" TLS-Cipher-Mismatch ").map(|e| e.code),
            Some("tls-cipher-mismatch")
        );
        assert!(find("tls").is_none());
        assert!(find("").is_none());
        assert!(find("no-such-code").is_none());
    }

    #[test]
    fn every_analyzer_code_is_explained_with_its_severity() {
        use rdp_wire::analyzer::{FindingCode, VerdictCode};
        for code in VerdictCode::ALL {
            let e = find(code.as_str());
            assert_eq!(
                e.map(|e| e.kind),
                Some(CodeKind::Verdict),
                "{}",
                code.as_str()
            );
            assert_eq!(e.map(|e| e.severity), Some(code.severity().as_str()));
        }
        for code in FindingCode::ALL {
            let e = find(code.as_str()).unwrap_or_else(|| panic!("{} unexplained", code.as_str()));
            assert_ne!(e.kind, CodeKind::Verdict, "{}", code.as_str());
            assert_eq!(e.severity, code.severity().as_str(), "{}", code.as_str());
        }
        // A file under explain/ whose name is no code would be listed nowhere.
        let codes: HashSet<&str> = VerdictCode::ALL
            .iter()
            .map(|c| c.as_str())
            .chain(FindingCode::ALL.iter().map(|c| c.as_str()))
            .collect();
        for e in ALL {
            assert!(
                codes.contains(e.code),
                "explain/{}.md: no such code",
                e.code
            );
        }
        assert_eq!(ALL.len(), codes.len());
    }

    #[test]
    fn titles_are_single_short_lines() {
        for e in all() {
            let len = e.title.chars().count();
            assert!(len > 0 && len < 80, "{}: title of {len} characters", e.code);
            assert!(
                !e.title.ends_with('.'),
                "{}: title ends with a period",
                e.code
            );
            assert!(
                !e.title.contains('\n'),
                "{}: title has a line break",
                e.code
            );
        }
    }

    #[test]
    fn every_code_has_text_causes_and_fixes() {
        for e in all() {
            assert!(
                !e.on_the_wire.trim().is_empty(),
                "{}: no wire description",
                e.code
            );
            assert!(!e.causes.is_empty(), "{}: no cause", e.code);
            assert!(!e.fixes.is_empty(), "{}: no fix", e.code);
            let texts = std::iter::once(&e.on_the_wire)
                .chain(e.causes)
                .chain(e.windows_logs)
                .chain(e.fixes);
            for text in texts {
                assert!(!text.trim().is_empty(), "{}: empty entry", e.code);
                // Continuation lines in the source must not leak runs of spaces.
                assert!(!text.contains("  "), "{}: double space in {text}", e.code);
            }
        }
    }

    #[test]
    fn see_also_names_other_existing_codes() {
        for e in all() {
            let mut seen = HashSet::new();
            for other in e.see_also {
                assert!(
                    find(other).is_some(),
                    "{}: see_also {other} does not exist",
                    e.code
                );
                assert_ne!(*other, e.code, "{}: refers to itself", e.code);
                assert!(seen.insert(*other), "{}: {other} listed twice", e.code);
            }
        }
    }

    #[test]
    fn negotiation_failure_explains_every_failure_code() {
        let e = find("negotiation-failure");
        let text = e.map(rendered).unwrap_or_default();
        for name in [
            "SSL_REQUIRED_BY_SERVER",
            "SSL_NOT_ALLOWED_BY_SERVER",
            "SSL_CERT_NOT_ON_SERVER",
            "INCONSISTENT_FLAGS",
            "HYBRID_REQUIRED_BY_SERVER",
            "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
        ] {
            assert!(text.contains(name), "{name} missing");
        }
    }

    #[test]
    fn list_shows_every_code_grouped_and_narrow() {
        let text = listing();
        assert_narrow(&text, "list");
        let headings: Vec<usize> = KINDS
            .iter()
            .filter_map(|k| text.lines().position(|l| l == k.heading()))
            .collect();
        assert_eq!(headings.len(), KINDS.len());
        assert!(headings.windows(2).all(|w| w.first() < w.last()));
        for e in all() {
            let line = text
                .lines()
                .find(|l| l.split_whitespace().next() == Some(e.code));
            assert!(line.is_some(), "{} missing from the list", e.code);
            if let Some(line) = line {
                assert!(line.contains(e.severity), "{}: no severity", e.code);
            }
        }
    }

    #[test]
    fn list_columns_are_aligned() {
        let text = listing();
        let title_columns: HashSet<Option<usize>> = all()
            .filter_map(|e| {
                text.lines()
                    .find(|l| l.split_whitespace().next() == Some(e.code))
                    .map(|l| l.find(e.title.split_whitespace().next().unwrap_or("")))
            })
            .collect();
        assert_eq!(title_columns.len(), 1, "titles start in different columns");
    }

    #[test]
    fn every_explanation_renders_all_sections_narrowly() {
        for e in all() {
            let text = rendered(e);
            assert!(text.starts_with(e.code), "{}", e.code);
            assert_narrow(&text, e.code);
            for heading in [
                "What the capture shows",
                "Usual causes",
                "What Windows logs",
                "How to fix",
                "See also",
            ] {
                assert!(
                    text.lines().any(|l| l == heading),
                    "{}: section {heading} missing",
                    e.code
                );
            }
            for other in e.see_also {
                assert!(
                    text.contains(other),
                    "{}: see also {other} not shown",
                    e.code
                );
            }
        }
    }

    #[test]
    fn wrapping_keeps_every_word_and_splits_overlong_ones() {
        let long = "x".repeat(250);
        let text = format!("short words then {long} and more");
        let mut buf = Vec::new();
        assert!(write_wrapped(&mut buf, &text, "  - ", "    ", WIDTH).is_ok());
        let out = String::from_utf8(buf).unwrap_or_default();
        assert_narrow(&out, "wrapped");
        let joined: String = out.split_whitespace().filter(|w| *w != "-").collect();
        assert_eq!(joined, text.split_whitespace().collect::<String>());
        assert!(out.lines().count() >= 4);
    }

    #[test]
    fn wrapping_counts_characters_not_bytes() {
        let text = "\u{2014} ".repeat(60);
        let mut buf = Vec::new();
        assert!(write_wrapped(&mut buf, &text, "", "", WIDTH).is_ok());
        let out = String::from_utf8(buf).unwrap_or_default();
        // 60 one-character words need 119 columns: two lines, the first one full.
        assert_eq!(out.lines().count(), 2);
        assert_narrow(&out, "dashes");
    }

    fn explain_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("explain")
    }

    #[test]
    fn every_file_is_embedded_as_written() {
        let mut files = 0;
        for entry in std::fs::read_dir(explain_dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "md") || path.ends_with("README.md") {
                continue;
            }
            files += 1;
            let code = path.file_stem().and_then(|s| s.to_str()).unwrap();
            let page = source::parse_page(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let e = get(code).unwrap_or_else(|| panic!("{code}: file not embedded"));
            assert_eq!(e.kind.as_str(), page.kind, "{code}");
            assert_eq!(e.severity, page.severity, "{code}");
            assert_eq!(e.title, page.title, "{code}");
            assert_eq!(e.on_the_wire, page.on_the_wire, "{code}");
            assert_eq!(e.causes, page.causes, "{code}");
            assert_eq!(e.windows_logs, page.windows_logs, "{code}");
            let mut fixes = page.fixes.clone();
            if let Some(name) = &page.fix_table {
                let table = value_table(name).unwrap_or_else(|| panic!("{code}: no table {name}"));
                fixes.extend(
                    table
                        .rows
                        .iter()
                        .filter(|r| !r.fix.is_empty())
                        .map(|r| format!("Code {}: {}", r.value, r.fix)),
                );
            }
            assert_eq!(e.fixes, fixes, "{code}");
            assert_eq!(e.see_also, page.see_also, "{code}");
        }
        assert_eq!(files, ALL.len());
    }

    #[test]
    fn every_value_table_is_embedded_as_written() {
        let dir = explain_dir().join("values");
        let mut files = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "md") || path.ends_with("README.md") {
                continue;
            }
            files += 1;
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap();
            let table = source::parse_value_table(&std::fs::read_to_string(&path).unwrap());
            let table = table.unwrap();
            let embedded = value_table(name).unwrap_or_else(|| panic!("{name}: not embedded"));
            assert_eq!(embedded.title, table.title);
            assert_eq!(embedded.spec, table.spec);
            let rows: Vec<(u32, &str, &str, &str)> = embedded
                .rows
                .iter()
                .map(|r| (r.value, r.name, r.meaning, r.fix))
                .collect();
            let want: Vec<(u32, &str, &str, &str)> = table
                .rows
                .iter()
                .map(|r| (r.value, r.name.as_str(), r.meaning.as_str(), r.fix.as_str()))
                .collect();
            assert_eq!(rows, want, "{name}");
        }
        assert_eq!(files, VALUE_TABLES.len());
    }

    #[test]
    fn the_failure_code_table_names_every_code_ms_rdpbcgr_defines() {
        let table = value_table(crate::fix::FAILURE_CODES).unwrap();
        for code in rdp_wire::x224::FailureCode::KNOWN {
            let row = table
                .get(code.0)
                .unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(Some(row.name), code.name());
        }
        assert_eq!(table.rows.len(), rdp_wire::x224::FailureCode::KNOWN.len());
    }

    const PAGE: &str = "---\nkind: finding\nseverity: warning\ntitle: A title: with a colon\n\
        see also: a-code, other-code\n---\n\n## What the capture shows\n\nOne paragraph\n\
        over two lines.\n\n## Usual causes\n\n- First cause,\n  continued.\n- Second.\n\n\
        ## What Windows logs\n\n## How to fix\n\n- `Test-NetConnection {server} -Port {port}`\n";

    #[test]
    fn a_page_parses_into_its_sections() {
        let page = source::parse_page(PAGE).unwrap();
        assert_eq!(page.kind, "finding");
        assert_eq!(page.severity, "warning");
        assert_eq!(page.title, "A title: with a colon");
        assert_eq!(page.see_also, ["a-code", "other-code"]);
        assert_eq!(page.on_the_wire, "One paragraph over two lines.");
        assert_eq!(page.causes, ["First cause, continued.", "Second."]);
        assert!(page.windows_logs.is_empty());
        assert_eq!(page.fixes, ["`Test-NetConnection {server} -Port {port}`"]);
    }

    #[test]
    fn a_broken_page_names_what_and_where() {
        use source::SourceError as E;
        let cases: [(String, E); 7] = [
            (PAGE.replacen("---\n", "", 1), E::FrontMatter { line: 1 }),
            (
                PAGE.replace("severity: warning", "severity: fatal"),
                E::BadValue {
                    line: 3,
                    key: "severity",
                    value: "fatal".into(),
                },
            ),
            (
                PAGE.replace("kind: finding", "kind: finding\ncolour: red"),
                E::UnknownKey {
                    line: 3,
                    key: "colour".into(),
                },
            ),
            (
                PAGE.replace("title: A title: with a colon\n", ""),
                E::MissingKey { key: "title" },
            ),
            (
                PAGE.replace("## Usual causes", "## Causes"),
                E::UnexpectedSection {
                    line: 13,
                    heading: "Causes".into(),
                },
            ),
            (
                PAGE.replace("- Second.", "Second."),
                E::NotAListItem { line: 17 },
            ),
            (
                PAGE.replace(
                    "\n## How to fix\n\n- `Test-NetConnection {server} -Port {port}`\n",
                    "",
                ),
                E::MissingSection {
                    heading: "How to fix",
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(source::parse_page(&text), Err(want));
        }
    }

    /// A small table in the format later work fills (NTSTATUS, ERRINFO, KRB-ERROR codes).
    const TABLE: &str = "---\ntitle: RDP_NEG_FAILURE failureCode\nspec: MS-RDPBCGR 2.2.1.2.2\n\
        ---\n\n| value | name | meaning | fix |\n|---|---|---|---|\n\
        | 1 | SSL_REQUIRED_BY_SERVER | The server requires TLS. | Use a client that does TLS. |\n\
        | 0x5 | HYBRID_REQUIRED_BY_SERVER | The server requires NLA. | `Get-Item x \\| Select {port}` |\n\
        | 0xC000006D | STATUS_LOGON_FAILURE | Bad name or password. | |\n";

    #[test]
    fn a_value_table_parses_one_row_per_value() {
        let table = source::parse_value_table(TABLE).unwrap();
        assert_eq!(table.title, "RDP_NEG_FAILURE failureCode");
        assert_eq!(table.spec, "MS-RDPBCGR 2.2.1.2.2");
        let rows: Vec<(u32, &str, &str, &str)> = table
            .rows
            .iter()
            .map(|r| (r.value, r.name.as_str(), r.meaning.as_str(), r.fix.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                (
                    1,
                    "SSL_REQUIRED_BY_SERVER",
                    "The server requires TLS.",
                    "Use a client that does TLS."
                ),
                (
                    5,
                    "HYBRID_REQUIRED_BY_SERVER",
                    "The server requires NLA.",
                    "`Get-Item x | Select {port}`"
                ),
                (
                    0xC000_006D,
                    "STATUS_LOGON_FAILURE",
                    "Bad name or password.",
                    ""
                ),
            ]
        );
    }

    #[test]
    fn a_broken_value_table_names_the_line() {
        use source::SourceError as E;
        let cases: [(String, E); 4] = [
            (
                TABLE.replace("| 0x5 |", "| 0x1_0000_0000 |"),
                E::BadNumber {
                    line: 9,
                    value: "0x1_0000_0000".into(),
                },
            ),
            (
                TABLE.replace("| 0x5 |", "| 1 |"),
                E::DuplicateValue { line: 9, value: 1 },
            ),
            (
                TABLE.replace("| Bad name or password. | |", "| Bad name or password. |"),
                E::BadRow { line: 10 },
            ),
            (
                TABLE.replace("spec: MS-RDPBCGR 2.2.1.2.2\n", ""),
                E::MissingKey { key: "spec" },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(source::parse_value_table(&text), Err(want));
        }
    }

    #[test]
    fn every_placeholder_is_one_fix_fills() {
        // `{word}` of lower-case letters is a placeholder; other braces (PowerShell blocks) are text.
        let fixes = all().flat_map(|e| e.fixes.iter().copied()).chain(
            VALUE_TABLES
                .iter()
                .flat_map(|t| t.rows.iter().map(|r| r.fix)),
        );
        for fix in fixes {
            let mut rest = fix;
            while let Some(at) = rest.find('{') {
                rest = rest.get(at + 1..).unwrap_or_default();
                let name = rest.split('}').next().unwrap_or_default();
                if !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                    assert!(
                        crate::fix::PLACEHOLDERS.contains(&name),
                        "unknown placeholder {{{name}}} in {fix}"
                    );
                }
            }
        }
    }
}
