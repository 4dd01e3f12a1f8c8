//! The text files under `rdp-pcap-cli/explain/`: their format and its parser.
//!
//! The explanations are data an administrator corrects without reading Rust, so they live as one
//! Markdown file per code (`explain/<code>.md`) and value tables (`explain/values/<name>.md`),
//! described in `explain/README.md`. The build script includes this file (`#[path]`), parses
//! every file with it and writes the static table `explain.rs` embeds: a file that does not
//! parse fails the build, with its name and line. The crate's tests include it too, to check the
//! format on small examples.
//!
//! Text is kept as written except for line breaks: the lines of a paragraph or of a list item are
//! joined with one space, so a file may be wrapped at any width. A line that is a whole HTML
//! comment (`<!-- ... -->`) is a note for the editor and is skipped.

/// One `explain/<code>.md` file, parsed; the code is the file's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// `verdict`, `finding` or `capture finding`.
    pub kind: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
    /// One line.
    pub title: String,
    /// Related codes, from the comma-separated `see also:` line.
    pub see_also: Vec<String>,
    /// The value table (`explain/values/<name>.md`) whose rows add one fix each, from the
    /// optional `fix table:` line.
    pub fix_table: Option<String>,
    /// The paragraph under "What the capture shows".
    pub on_the_wire: String,
    /// The items under "Usual causes".
    pub causes: Vec<String>,
    /// The items under "What Windows logs".
    pub windows_logs: Vec<String>,
    /// The items under "How to fix".
    pub fixes: Vec<String>,
}

/// The sections of a page, in the order they must come.
pub const SECTIONS: [&str; 4] = [
    "What the capture shows",
    "Usual causes",
    "What Windows logs",
    "How to fix",
];

/// The kinds a page may declare.
pub const KINDS: [&str; 3] = ["verdict", "finding", "capture finding"];

/// The severities a page may declare.
pub const SEVERITIES: [&str; 3] = ["info", "warning", "error"];

/// One `explain/values/<name>.md` file: a wire value's meanings, one line per value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueTable {
    /// What the values are, e.g. `RDP_NEG_FAILURE failureCode`.
    pub title: String,
    /// Where they are defined, e.g. `MS-RDPBCGR 2.2.1.2.2`.
    pub spec: String,
    /// The rows, in file order; each value once.
    pub rows: Vec<ValueRow>,
}

/// One line of a [`ValueTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRow {
    /// The value, written in decimal or `0x` hexadecimal.
    pub value: u32,
    /// Its name in the spec, e.g. `SSL_REQUIRED_BY_SERVER`.
    pub name: String,
    /// What it means, in one sentence.
    pub meaning: String,
    /// What to do about it (may use the placeholders of a fix).
    pub fix: String,
}

/// Why a file under `explain/` could not be read; `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The file does not start with a `---` line, or the front matter is not closed by one.
    #[error("line {line}: front matter must open and close with `---`")]
    FrontMatter { line: usize },
    /// A front-matter line without `:`, or with a key the format does not know.
    #[error("line {line}: unknown key {key:?}")]
    UnknownKey { line: usize, key: String },
    /// A front-matter key given twice.
    #[error("line {line}: key {key:?} given twice")]
    DuplicateKey { line: usize, key: String },
    /// A front-matter key the file must have and does not.
    #[error("key {key:?} missing")]
    MissingKey { key: &'static str },
    /// A `kind:` or `severity:` value outside its set.
    #[error("line {line}: {key} {value:?} is not one the format knows")]
    BadValue {
        line: usize,
        key: &'static str,
        value: String,
    },
    /// A `## ` heading other than the next expected section, or text before the first.
    #[error("line {line}: section {heading:?} out of place")]
    UnexpectedSection { line: usize, heading: String },
    /// A section the file lacks.
    #[error("section {heading:?} missing")]
    MissingSection { heading: &'static str },
    /// Text where the format expects a list item (`- `), an indented continuation or a blank.
    #[error("line {line}: expected a `- ` item or an indented continuation")]
    NotAListItem { line: usize },
    /// A title, paragraph, list item or table cell with no text.
    #[error("line {line}: no text")]
    Empty { line: usize },
    /// A value-table line that is not `| value | name | meaning | fix |`.
    #[error("line {line}: expected `| value | name | meaning | fix |`")]
    BadRow { line: usize },
    /// A value that is neither decimal nor `0x` hexadecimal, or does not fit 32 bits.
    #[error("line {line}: {value:?} is not a 32-bit number")]
    BadNumber { line: usize, value: String },
    /// The same value on two lines.
    #[error("line {line}: value {value} listed twice")]
    DuplicateValue { line: usize, value: u32 },
}

/// The key/value lines between the opening and closing `---`, with their line numbers, and the
/// lines after them (with the number of the first).
type Split<'a> = (Vec<(usize, &'a str, &'a str)>, usize, Vec<&'a str>);

fn front_matter(text: &str) -> Result<Split<'_>, SourceError> {
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Err(SourceError::FrontMatter { line: 1 });
    }
    let mut pairs = Vec::new();
    let mut number = 1usize;
    loop {
        number = number.saturating_add(1);
        let Some(line) = lines.next() else {
            return Err(SourceError::FrontMatter { line: number });
        };
        let line = line.trim_end();
        if line == "---" {
            break;
        }
        let (key, value) = match line.split_once(':') {
            Some((key, value)) => (key.trim(), value.trim()),
            None => {
                return Err(SourceError::UnknownKey {
                    line: number,
                    key: line.to_owned(),
                })
            }
        };
        pairs.push((number, key, value));
    }
    Ok((pairs, number.saturating_add(1), lines.collect()))
}

/// Takes the front-matter keys in `wanted` (each at most once) and rejects others; `None` for a
/// key not given.
fn keys<'a, const N: usize>(
    pairs: &[(usize, &'a str, &'a str)],
    wanted: [&'static str; N],
) -> Result<[Option<(usize, &'a str)>; N], SourceError> {
    let mut found: [Option<(usize, &'a str)>; N] = [None; N];
    for &(line, key, value) in pairs {
        let Some(slot) = wanted
            .iter()
            .position(|w| *w == key)
            .and_then(|at| found.get_mut(at))
        else {
            return Err(SourceError::UnknownKey {
                line,
                key: key.to_owned(),
            });
        };
        if slot.is_some() {
            return Err(SourceError::DuplicateKey {
                line,
                key: key.to_owned(),
            });
        }
        *slot = Some((line, value));
    }
    Ok(found)
}

/// `found`, or the error naming `key` as missing.
fn required<'a>(
    found: Option<(usize, &'a str)>,
    key: &'static str,
) -> Result<(usize, &'a str), SourceError> {
    found.ok_or(SourceError::MissingKey { key })
}

fn one_of(
    (line, value): (usize, &str),
    key: &'static str,
    set: &[&str],
) -> Result<String, SourceError> {
    if set.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(SourceError::BadValue {
            line,
            key,
            value: value.to_owned(),
        })
    }
}

/// Parses one `explain/<code>.md` file.
pub fn parse_page(text: &str) -> Result<Page, SourceError> {
    let (pairs, first_body_line, body) = front_matter(text)?;
    let [kind, severity, title, see_also, fix_table] = keys(
        &pairs,
        ["kind", "severity", "title", "see also", "fix table"],
    )?;
    let (kind, severity, title, see_also) = (
        required(kind, "kind")?,
        required(severity, "severity")?,
        required(title, "title")?,
        required(see_also, "see also")?,
    );
    if title.1.is_empty() {
        return Err(SourceError::Empty { line: title.0 });
    }
    let see_also = see_also
        .1
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();

    // The body: each section's lines, by the headings in order.
    let mut sections: Vec<(usize, Vec<(usize, &str)>)> = Vec::new();
    for (number, line) in (first_body_line..).zip(body) {
        let trimmed = line.trim();
        if trimmed.starts_with("<!--") && trimmed.ends_with("-->") {
            // A one-line comment for whoever edits the file; Markdown does not show it either.
            continue;
        }
        if let Some(heading) = line.strip_prefix("## ") {
            let heading = heading.trim();
            if SECTIONS.get(sections.len()) != Some(&heading) {
                return Err(SourceError::UnexpectedSection {
                    line: number,
                    heading: heading.to_owned(),
                });
            }
            sections.push((number, Vec::new()));
        } else if let Some((_, lines)) = sections.last_mut() {
            lines.push((number, line));
        } else if !line.trim().is_empty() {
            return Err(SourceError::UnexpectedSection {
                line: number,
                heading: String::new(),
            });
        }
    }
    if let Some(heading) = SECTIONS.get(sections.len()) {
        return Err(SourceError::MissingSection { heading });
    }
    let mut sections = sections.into_iter();
    let mut next = || sections.next().unwrap_or_default();
    let (heading_line, wire) = next();
    let on_the_wire = paragraph(&wire).ok_or(SourceError::Empty { line: heading_line })?;
    Ok(Page {
        kind: one_of(kind, "kind", &KINDS)?,
        severity: one_of(severity, "severity", &SEVERITIES)?,
        title: title.1.to_owned(),
        see_also,
        fix_table: fix_table
            .map(|(_, name)| name.to_owned())
            .filter(|name| !name.is_empty()),
        on_the_wire,
        causes: list(&next().1)?,
        windows_logs: list(&next().1)?,
        fixes: list(&next().1)?,
    })
}

/// The non-blank lines joined with one space; `None` when there are none.
fn paragraph(lines: &[(usize, &str)]) -> Option<String> {
    let words: Vec<&str> = lines
        .iter()
        .map(|(_, l)| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// `- ` items, each continued by indented lines; blank lines between them are ignored.
fn list(lines: &[(usize, &str)]) -> Result<Vec<String>, SourceError> {
    let mut items: Vec<(usize, String)> = Vec::new();
    for &(number, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(start) = line.strip_prefix("- ") {
            items.push((number, start.trim().to_owned()));
        } else if line.starts_with([' ', '\t']) {
            let Some((_, item)) = items.last_mut() else {
                return Err(SourceError::NotAListItem { line: number });
            };
            if !item.is_empty() {
                item.push(' ');
            }
            item.push_str(line.trim());
        } else {
            return Err(SourceError::NotAListItem { line: number });
        }
    }
    items
        .into_iter()
        .map(|(line, item)| {
            if item.is_empty() {
                Err(SourceError::Empty { line })
            } else {
                Ok(item)
            }
        })
        .collect()
}

/// Parses one `explain/values/<name>.md` file: front matter with `title:` and `spec:`, then a
/// Markdown table whose rows are `| value | name | meaning | fix |` (a `|` inside a cell is
/// written `\|`). The header row and the `|---|` row are skipped; so are blank lines.
pub fn parse_value_table(text: &str) -> Result<ValueTable, SourceError> {
    let (pairs, first_body_line, body) = front_matter(text)?;
    let [title, spec] = keys(&pairs, ["title", "spec"])?;
    let (title, spec) = (required(title, "title")?, required(spec, "spec")?);
    let mut rows: Vec<ValueRow> = Vec::new();
    let mut header_seen = false;
    for (number, line) in (first_body_line..).zip(body) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let cells = cells(line).ok_or(SourceError::BadRow { line: number })?;
        let [value, name, meaning, fix] =
            <[String; 4]>::try_from(cells).map_err(|_| SourceError::BadRow { line: number })?;
        if !header_seen {
            // The first row names the columns; the second underlines them.
            header_seen = true;
            continue;
        }
        if value.chars().all(|c| c == '-' || c == ':') {
            continue;
        }
        let number_value = parse_number(&value).ok_or(SourceError::BadNumber {
            line: number,
            value: value.clone(),
        })?;
        if rows.iter().any(|r| r.value == number_value) {
            return Err(SourceError::DuplicateValue {
                line: number,
                value: number_value,
            });
        }
        if name.is_empty() || meaning.is_empty() {
            return Err(SourceError::Empty { line: number });
        }
        rows.push(ValueRow {
            value: number_value,
            name,
            meaning,
            fix,
        });
    }
    Ok(ValueTable {
        title: title.1.to_owned(),
        spec: spec.1.to_owned(),
        rows,
    })
}

/// The cells of `| a | b \| c |`, trimmed and unescaped; `None` without the outer bars.
fn cells(line: &str) -> Option<Vec<String>> {
    let inner = line.strip_prefix('|')?.strip_suffix('|')?;
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('|') => cell.push('|'),
                Some(other) => {
                    cell.push('\\');
                    cell.push(other);
                }
                None => cell.push('\\'),
            },
            '|' => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            other => cell.push(other),
        }
    }
    cells.push(cell.trim().to_owned());
    Some(cells)
}

/// `42` or `0xC000006D`.
fn parse_number(text: &str) -> Option<u32> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}
