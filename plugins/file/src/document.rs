//! A list file in memory, in one of the supported formats, able to render
//! itself back with what it did not read (comments, other CSV columns) kept.

use allsync_sdk::Error;
use std::collections::HashSet;
use std::path::Path;

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
pub enum Document {
    Text {
        lines: Vec<String>,
    },
    Csv {
        header: csv::StringRecord,
        column: usize,
        rows: Vec<csv::StringRecord>,
    },
    Json {
        things: Vec<String>,
    },
}

impl Document {
    /// Parses `text` as `format`; the error says what is wrong and where.
    pub fn parse(format: &Format, text: &str) -> Result<Self, String> {
        match format {
            Format::Text => Ok(Document::Text {
                lines: text.lines().map(str::to_string).collect(),
            }),
            Format::Csv { column } => parse_csv(text, column),
            Format::Json => serde_json::from_str(text)
                .map(|things| Document::Json { things })
                .map_err(|err| format!("expected a JSON array of strings: {err}")),
        }
    }

    /// The things in the file, in file order.
    pub fn things(&self) -> Vec<String> {
        match self {
            Document::Text { lines } => lines
                .iter()
                .filter_map(|line| text_thing(line))
                .map(str::to_string)
                .collect(),
            Document::Csv { column, rows, .. } => rows
                .iter()
                .filter_map(|row| row.get(*column).map(str::trim))
                .filter(|thing| !thing.is_empty())
                .map(str::to_string)
                .collect(),
            Document::Json { things } => things
                .iter()
                .map(|thing| thing.trim().to_string())
                .collect(),
        }
    }

    /// Appends `things` at the end of the file.
    pub fn add(&mut self, things: &[String]) {
        match self {
            Document::Text { lines } => lines.extend(things.iter().cloned()),
            Document::Csv {
                header,
                column,
                rows,
            } => rows.extend(things.iter().map(|thing| {
                let mut row = vec![""; header.len()];
                row[*column] = thing;
                csv::StringRecord::from(row)
            })),
            Document::Json { things: list } => list.extend(things.iter().cloned()),
        }
    }

    /// Removes every entry whose thing is in `wanted`; returns the things removed.
    pub fn remove<'a>(&mut self, wanted: &HashSet<&'a str>) -> HashSet<&'a str> {
        let mut removed = HashSet::new();
        let mut keep = |thing: Option<&str>| match thing.and_then(|thing| wanted.get(thing)) {
            Some(found) => {
                removed.insert(*found);
                false
            }
            None => true,
        };
        match self {
            Document::Text { lines } => lines.retain(|line| keep(text_thing(line))),
            Document::Csv { column, rows, .. } => {
                rows.retain(|row| keep(row.get(*column).map(str::trim)))
            }
            Document::Json { things } => things.retain(|thing| keep(Some(thing.trim()))),
        }
        removed
    }

    /// The file's new contents.
    pub fn render(&self) -> Vec<u8> {
        match self {
            Document::Text { lines } => {
                let mut text = lines.join("\n");
                text.push('\n');
                text.into_bytes()
            }
            Document::Csv { header, rows, .. } => {
                let mut writer = csv::Writer::from_writer(Vec::new());
                for record in std::iter::once(header).chain(rows) {
                    writer
                        .write_record(record)
                        .expect("writing CSV to memory cannot fail");
                }
                writer
                    .into_inner()
                    .expect("flushing CSV to memory cannot fail")
            }
            Document::Json { things } => {
                let mut text =
                    serde_json::to_string_pretty(things).expect("a list of strings is JSON");
                text.push('\n');
                text.into_bytes()
            }
        }
    }
}

/// The thing on a text line, if the line holds one.
fn text_thing(line: &str) -> Option<&str> {
    let thing = line.trim();
    (!thing.is_empty() && !thing.starts_with('#')).then_some(thing)
}

fn parse_csv(text: &str, column: &str) -> Result<Document, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|err| format!("unreadable CSV header: {err}"))?
        .clone();
    let index = header
        .iter()
        .position(|name| name.trim().eq_ignore_ascii_case(column))
        .ok_or_else(|| {
            let names: Vec<&str> = header.iter().collect();
            format!(
                "no column `{column}` in the CSV header (columns: {})",
                names.join(", ")
            )
        })?;
    let rows = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("malformed CSV: {err}"))?;
    Ok(Document::Csv {
        header,
        column: index,
        rows,
    })
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
