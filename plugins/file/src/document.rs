//! A list file in memory, in one of the supported formats, able to render
//! itself back with everything allsync did not change kept as it was: a
//! leading byte-order mark, line endings, whether the file ends with a line
//! break, comments and blank lines, other CSV columns, and the exact text of
//! every line or CSV record that was neither added nor removed.

use crate::entries::{Entries, Shape, drop_wanted};
use crate::table::{self, Columns};
use allsync_sdk::{Error, Rejected};
use std::collections::HashSet;
use std::path::Path;

/// The byte-order mark some editors put at the start of UTF-8 files.
const BOM: char = '\u{feff}';

/// How a file holds its things.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// One per line; blank lines and lines starting with `#` are not things.
    Text,
    /// A CSV file with a header row; the things are in the named column.
    Csv { column: String },
    /// A JSON array of strings.
    Json,
}

impl Format {
    /// The format named in the config, else the one the extension suggests.
    pub fn from_config(
        format: Option<&str>,
        column: Option<&str>,
        path: &Path,
    ) -> Result<Self, Error> {
        let extension = path
            .extension()
            .and_then(|ext| ext.to_str())
            .unwrap_or_default();
        let name = format.unwrap_or(match extension.to_ascii_lowercase().as_str() {
            "csv" => "csv",
            "json" => "json",
            _ => "text",
        });
        let format = match name {
            "text" | "txt" => Format::Text,
            "csv" => Format::Csv {
                column: column.unwrap_or("email").to_string(),
            },
            "json" => Format::Json,
            other => {
                return Err(Error::InvalidConfig(format!(
                    "unknown format `{other}`: use text, csv or json"
                )));
            }
        };
        if column.is_some() && !matches!(format, Format::Csv { .. }) {
            return Err(Error::InvalidConfig(
                "`column` applies only to CSV files".to_string(),
            ));
        }
        Ok(format)
    }
}

/// A parsed list file.
pub struct Document {
    /// Whether the file starts with a byte-order mark, kept when it is written.
    bom: bool,
    body: Body,
}

/// What follows the byte-order mark, by format.
enum Body {
    /// Every line is an entry; those that are not comments or blank hold a thing.
    Text(Entries),
    /// The header row is the first entry, then each record is one.
    Csv { entries: Entries, columns: Columns },
    /// The array's strings, and the shape of the lines to write them in.
    Json { things: Vec<String>, shape: Shape },
}

impl Document {
    /// Parses `text` as `format`; the error says what is wrong and where.
    pub fn parse(format: &Format, text: &str) -> Result<Self, String> {
        let (bom, text) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let body = match format {
            Format::Text => Body::Text(Entries::read(
                text,
                text.split_inclusive('\n')
                    .map(|line| (line, text_thing(line))),
            )),
            Format::Csv { column } => {
                let (entries, columns) = table::read(text, column)?;
                Body::Csv { entries, columns }
            }
            Format::Json => serde_json::from_str(text)
                .map(|things| Body::Json {
                    things,
                    shape: Shape::of(text),
                })
                .map_err(|err| format!("expected a JSON array of strings: {err}"))?,
        };
        Ok(Document { bom, body })
    }

    /// The things in the file, trimmed, in file order.
    pub fn things(&self) -> Vec<String> {
        match &self.body {
            Body::Text(entries) | Body::Csv { entries, .. } => entries.things(),
            Body::Json { things, .. } => things
                .iter()
                .map(|thing| thing.trim())
                .filter(|thing| !thing.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    /// Appends `things` at the end of the file, in the file's line ending;
    /// returns those the format cannot hold, which are left out.
    pub fn add(&mut self, things: &[String]) -> Vec<Rejected> {
        let mut rejected = Vec::new();
        for thing in things {
            match &mut self.body {
                Body::Text(entries) => match unfit_for_a_line(thing) {
                    Some(reason) => rejected.push(Rejected::new(thing.as_str(), reason)),
                    None => {
                        let line = format!("{thing}{}", entries.ending().as_str());
                        entries.append(thing, line);
                    }
                },
                Body::Csv { entries, columns } => {
                    let record = columns.record(thing, entries.ending());
                    entries.append(thing, record);
                }
                Body::Json { things, .. } => things.push(thing.clone()),
            }
        }
        rejected
    }

    /// Removes every entry whose (trimmed) thing is in `wanted`; returns the
    /// things that were found and removed.
    pub fn remove<'a>(&mut self, wanted: &HashSet<&'a str>) -> HashSet<&'a str> {
        match &mut self.body {
            Body::Text(entries) | Body::Csv { entries, .. } => entries.remove(wanted),
            Body::Json { things, .. } => drop_wanted(things, |thing| Some(thing.trim()), wanted),
        }
    }

    /// The file's new contents.
    pub fn render(&self) -> Vec<u8> {
        let mut text = String::new();
        if self.bom {
            text.push(BOM);
        }
        match &self.body {
            Body::Text(entries) | Body::Csv { entries, .. } => text.push_str(&entries.render()),
            Body::Json { things, shape } => text.push_str(&render_json(things, *shape)),
        }
        text.into_bytes()
    }
}

/// The thing on a text line, if the line holds one: not blank, not a comment.
fn text_thing(line: &str) -> Option<&str> {
    let thing = line.trim();
    (!thing.is_empty() && !thing.starts_with('#')).then_some(thing)
}

/// Why `thing` cannot be a line of a text file of its own, if it cannot.
fn unfit_for_a_line(thing: &str) -> Option<&'static str> {
    if thing.contains(['\n', '\r']) {
        Some("a text file holds one thing per line, and this one has a line break")
    } else if text_thing(thing).is_none() {
        Some("in a text file a blank line or one starting with `#` holds no thing")
    } else {
        None
    }
}

/// `things` as a pretty-printed JSON array, with lines of `shape`.
fn render_json(things: &[String], shape: Shape) -> String {
    let mut text = serde_json::to_string_pretty(things).expect("a list of strings is JSON");
    if shape.final_newline {
        text.push('\n');
    }
    // JSON escapes line breaks inside strings, so every one here ends a line.
    text.replace('\n', shape.ending.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set<'a>(things: &[&'a str]) -> HashSet<&'a str> {
        things.iter().copied().collect()
    }

    #[test]
    fn text_files_keep_comments_and_blank_lines_through_a_change() {
        let mut doc =
            Document::parse(&Format::Text, "# team\nann@x.com\n\n  bob@x.com  \n").unwrap();
        assert_eq!(doc.things(), ["ann@x.com", "bob@x.com"]);
        assert_eq!(doc.remove(&set(&["bob@x.com"])), set(&["bob@x.com"]));
        doc.add(&["cy@x.com".to_string()]);
        assert_eq!(
            String::from_utf8(doc.render()).unwrap(),
            "# team\nann@x.com\n\ncy@x.com\n"
        );
    }

    #[test]
    fn csv_files_read_one_column_and_keep_the_others() {
        let format = Format::Csv {
            column: "Email".into(),
        };
        let mut doc =
            Document::parse(&format, "name,email\nAnn,ann@x.com\nBob,bob@x.com\n").unwrap();
        assert_eq!(doc.things(), ["ann@x.com", "bob@x.com"]);
        doc.remove(&set(&["ann@x.com"]));
        doc.add(&["cy@x.com".to_string()]);
        assert_eq!(
            String::from_utf8(doc.render()).unwrap(),
            "name,email\nBob,bob@x.com\n,cy@x.com\n"
        );
    }

    /// `text` parsed as `format`, changed by `change`, rendered.
    fn changed(format: &Format, text: &str, change: impl FnOnce(&mut Document)) -> String {
        let mut doc = Document::parse(format, text).unwrap();
        change(&mut doc);
        String::from_utf8(doc.render()).unwrap()
    }

    fn add(thing: &str) -> impl FnOnce(&mut Document) {
        move |doc| assert!(doc.add(&[thing.to_string()]).is_empty())
    }

    fn csv() -> Format {
        Format::Csv {
            column: "email".into(),
        }
    }

    #[test]
    fn a_leading_byte_order_mark_is_not_part_of_the_first_thing_in_any_format() {
        for (format, text) in [
            (Format::Text, "\u{feff}ann@x.com\n"),
            (csv(), "\u{feff}email\nann@x.com\n"),
            (Format::Json, "\u{feff}[\"ann@x.com\"]"),
        ] {
            let doc = Document::parse(&format, text).unwrap();
            assert_eq!(doc.things(), ["ann@x.com"], "{format:?}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_written_back_in_every_format() {
        for (format, text) in [
            (Format::Text, "\u{feff}ann@x.com\n"),
            (csv(), "\u{feff}email\nann@x.com\n"),
            (Format::Json, "\u{feff}[\"ann@x.com\"]"),
        ] {
            let written = changed(&format, text, add("bob@x.com"));
            assert!(written.starts_with("\u{feff}"), "{format:?}: {written:?}");
            let doc = Document::parse(&format, &written).unwrap();
            assert_eq!(doc.things(), ["ann@x.com", "bob@x.com"], "{format:?}");
        }
    }

    #[test]
    fn a_csv_row_short_of_fields_is_read_and_written_back_as_it_was() {
        let text = "email,name\nann@x.com,Ann\nbob@x.com\n";
        assert_eq!(
            Document::parse(&csv(), text).unwrap().things(),
            ["ann@x.com", "bob@x.com"]
        );
        assert_eq!(
            changed(&csv(), text, add("cy@x.com")),
            "email,name\nann@x.com,Ann\nbob@x.com\ncy@x.com,\n"
        );
    }

    #[test]
    fn csv_rows_allsync_does_not_touch_keep_their_exact_text() {
        let text = "email,name\n\"ann@x.com\",  Ann  \nbob@x.com,\"Bob, \"\"B\"\"\"\ncy@x.com,Cy\n";
        let written = changed(&csv(), text, |doc| {
            doc.remove(&HashSet::from(["bob@x.com"]));
            add("dee@x.com")(doc);
        });
        assert_eq!(
            written,
            "email,name\n\"ann@x.com\",  Ann  \ncy@x.com,Cy\ndee@x.com,\n"
        );
    }

    #[test]
    fn added_csv_fields_are_quoted_when_they_must_be() {
        let written = changed(&csv(), "email\n", add("odd,\"name\"@x.com"));
        assert_eq!(written, "email\n\"odd,\"\"name\"\"@x.com\"\n");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        assert_eq!(
            changed(&Format::Text, "# team\r\nann@x.com\r\n", add("bob@x.com")),
            "# team\r\nann@x.com\r\nbob@x.com\r\n"
        );
        assert_eq!(
            changed(&csv(), "email,name\r\nann@x.com,Ann\r\n", add("bob@x.com")),
            "email,name\r\nann@x.com,Ann\r\nbob@x.com,\r\n"
        );
        assert_eq!(
            changed(
                &Format::Json,
                "[\r\n  \"ann@x.com\"\r\n]\r\n",
                add("bob@x.com")
            ),
            "[\r\n  \"ann@x.com\",\r\n  \"bob@x.com\"\r\n]\r\n"
        );
    }

    #[test]
    fn a_file_without_a_final_line_break_keeps_it_that_way() {
        assert_eq!(
            changed(&Format::Text, "ann@x.com", add("bob@x.com")),
            "ann@x.com\nbob@x.com"
        );
        assert_eq!(
            changed(&csv(), "email\r\nann@x.com", add("bob@x.com")),
            "email\r\nann@x.com\r\nbob@x.com"
        );
        assert_eq!(
            changed(&Format::Json, "[\"ann@x.com\"]", add("bob@x.com")),
            "[\n  \"ann@x.com\",\n  \"bob@x.com\"\n]"
        );
    }

    #[test]
    fn a_text_file_refuses_things_it_could_not_read_back() {
        let mut doc = Document::parse(&Format::Text, "ann@x.com\n").unwrap();
        let things = ["two\nlines@x.com", "# not a comment", "  ", "bob@x.com"].map(String::from);
        let rejected: Vec<String> = doc.add(&things).into_iter().map(|r| r.thing).collect();
        assert_eq!(rejected, ["two\nlines@x.com", "# not a comment", "  "]);
        assert_eq!(doc.things(), ["ann@x.com", "bob@x.com"]);
    }

    #[test]
    fn csv_without_the_column_names_the_columns_it_has() {
        let format = Format::Csv {
            column: "mail".into(),
        };
        let err = Document::parse(&format, "name,email\n").err().unwrap();
        assert_eq!(
            err,
            "no column `mail` in the CSV header (columns: name, email)"
        );
    }

    #[test]
    fn json_must_be_an_array_of_strings() {
        assert!(Document::parse(&Format::Json, "[1, 2]").is_err());
        let doc = Document::parse(&Format::Json, r#"["a@x.com"]"#).unwrap();
        assert_eq!(doc.things(), ["a@x.com"]);
    }

    #[test]
    fn format_comes_from_the_extension_unless_named() {
        let csv = Format::from_config(None, None, Path::new("people.CSV")).unwrap();
        assert_eq!(
            csv,
            Format::Csv {
                column: "email".into()
            }
        );
        assert_eq!(
            Format::from_config(None, None, Path::new("a.txt")).unwrap(),
            Format::Text
        );
        assert_eq!(
            Format::from_config(Some("json"), None, Path::new("a.txt")).unwrap(),
            Format::Json
        );
        assert!(Format::from_config(Some("xml"), None, Path::new("a")).is_err());
        assert!(Format::from_config(None, Some("email"), Path::new("a.txt")).is_err());
    }
}
