//! Round-trip properties of the three formats, over generated files: with a
//! byte-order mark or not, LF or CRLF, with or without a final line break;
//! text with comments, blank lines and padded things; CSV with quoted fields
//! holding commas, quotes and line breaks, and short rows; JSON arrays,
//! compact or pretty.

use crate::document::{Document, Format};
use crate::entries::Shape;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;
use std::collections::HashSet;

const BOM: &str = "\u{feff}";

/// A generated file: its text, and the things a reader must find in it.
#[derive(Debug, Clone)]
struct Generated {
    format: Format,
    text: String,
    things: Vec<String>,
}

fn email() -> impl Strategy<Value = String> {
    "[a-z]{1,6}(\\.[a-z]{1,3})?@[a-z]{1,5}\\.(com|org)"
}

/// Things no generated file holds (no generated file has a `.net` address).
fn new_things() -> impl Strategy<Value = Vec<String>> {
    vec("new-[a-z]{1,5}@x\\.net", 0..4)
}

/// An email with spaces around it, and the email.
fn padded_email() -> impl Strategy<Value = (String, String)> {
    ("[ ]{0,2}", email(), "[ ]{0,2}")
        .prop_map(|(left, thing, right)| (format!("{left}{thing}{right}"), thing))
}

fn ending() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just("\r\n")]
}

/// `lines` joined by `ending`, after a BOM if `bom`, with a final line break
/// if `final_newline`.
fn assemble(bom: bool, lines: &[String], ending: &str, final_newline: bool) -> String {
    let mut text = if bom { BOM.to_string() } else { String::new() };
    text.push_str(&lines.join(ending));
    if final_newline && !lines.is_empty() {
        text.push_str(ending);
    }
    text
}

fn text_file() -> impl Strategy<Value = Generated> {
    let line = prop_oneof![
        padded_email().prop_map(|(raw, thing)| (raw, Some(thing))),
        "#[ a-z@.]{0,10}".prop_map(|comment| (comment, None)),
        "[ \t]{0,2}".prop_map(|blank| (blank, None)),
    ];
    (any::<bool>(), ending(), any::<bool>(), vec(line, 0..10)).prop_map(
        |(bom, ending, final_newline, lines)| {
            let (raw, things): (Vec<String>, Vec<Option<String>>) = lines.into_iter().unzip();
            Generated {
                format: Format::Text,
                text: assemble(bom, &raw, ending, final_newline),
                things: things.into_iter().flatten().collect(),
            }
        },
    )
}

/// `field` as CSV, quoted when it must be or when `quote` says so.
fn csv_field(field: &str, quote: bool) -> String {
    if quote || field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// A CSV record of 1 to `columns` fields (short rows included), and its thing.
fn csv_record(columns: usize, email_at: usize) -> impl Strategy<Value = (String, Option<String>)> {
    let email_cell = prop_oneof![
        padded_email().prop_map(|(raw, thing)| (raw, Some(thing))),
        Just((String::new(), None)),
    ];
    let other = ("[a-z ,\"\n]{0,5}|\r\n", any::<bool>());
    (1..=columns, email_cell, vec(other, columns), any::<bool>()).prop_map(
        move |(count, (email, thing), others, quote_email)| {
            let fields: Vec<String> = (0..count)
                .map(|at| match at == email_at {
                    true => csv_field(&email, quote_email),
                    false => csv_field(&others[at].0, others[at].1),
                })
                .collect();
            let record = match fields.join(",") {
                // A blank line is no record: one empty field must be quoted.
                empty if empty.is_empty() => "\"\"".to_string(),
                record => record,
            };
            (record, thing.filter(|_| count > email_at))
        },
    )
}

fn csv_file() -> impl Strategy<Value = Generated> {
    (1..=3usize)
        .prop_flat_map(|columns| (Just(columns), 0..columns))
        .prop_flat_map(|(columns, email_at)| {
            let records = vec(csv_record(columns, email_at), 0..8);
            (any::<bool>(), ending(), any::<bool>(), records).prop_map(
                move |(bom, ending, final_newline, records)| {
                    let header = (0..columns)
                        .map(|at| match at == email_at {
                            true => "email".to_string(),
                            false => format!("column{at}"),
                        })
                        .collect::<Vec<_>>()
                        .join(",");
                    let (rows, things): (Vec<String>, Vec<Option<String>>) =
                        records.into_iter().unzip();
                    let lines: Vec<String> = std::iter::once(header).chain(rows).collect();
                    Generated {
                        format: Format::Csv {
                            column: "email".into(),
                        },
                        text: assemble(bom, &lines, ending, final_newline),
                        things: things.into_iter().flatten().collect(),
                    }
                },
            )
        })
}

fn json_file() -> impl Strategy<Value = Generated> {
    let shape = (any::<bool>(), any::<bool>(), ending(), any::<bool>());
    (shape, vec(padded_email(), 0..8)).prop_map(|((bom, pretty, ending, final_newline), things)| {
        let (raw, things): (Vec<String>, Vec<String>) = things.into_iter().unzip();
        let mut body = match pretty {
            true => serde_json::to_string_pretty(&raw).unwrap(),
            false => serde_json::to_string(&raw).unwrap(),
        };
        if final_newline {
            body.push('\n');
        }
        Generated {
            format: Format::Json,
            text: format!(
                "{}{}",
                if bom { BOM } else { "" },
                body.replace('\n', ending)
            ),
            things,
        }
    })
}

fn any_file() -> impl Strategy<Value = Generated> {
    prop_oneof![text_file(), csv_file(), json_file()]
}

/// A file, and some of its things (duplicates and all) to remove.
fn file_and_some_of_its_things() -> impl Strategy<Value = (Generated, Vec<String>)> {
    any_file().prop_flat_map(|file| {
        let things = file.things.clone();
        let count = things.len();
        (Just(file), subsequence(things, 0..=count))
    })
}

fn parse(format: &Format, text: &str) -> Document {
    Document::parse(format, text).unwrap_or_else(|err| panic!("{err}: {text:?}"))
}

fn render(document: &Document) -> String {
    String::from_utf8(document.render()).unwrap()
}

proptest! {
    #[test]
    fn an_untouched_text_or_csv_file_is_written_back_byte_for_byte(
        file in prop_oneof![text_file(), csv_file()],
    ) {
        let document = parse(&file.format, &file.text);
        prop_assert_eq!(document.things(), file.things);
        prop_assert_eq!(render(&document), file.text);
    }

    #[test]
    fn a_changed_file_reads_back_as_exactly_the_expected_list(
        (file, removed) in file_and_some_of_its_things(),
        added in new_things(),
    ) {
        let mut document = parse(&file.format, &file.text);
        prop_assert_eq!(document.things(), file.things.clone());
        let wanted: HashSet<&str> = removed.iter().map(String::as_str).collect();
        prop_assert_eq!(document.remove(&wanted), wanted.clone());
        prop_assert!(document.add(&added).is_empty());
        let written = render(&document);

        let expected: Vec<String> = file
            .things
            .iter()
            .filter(|thing| !wanted.contains(thing.as_str()))
            .cloned()
            .chain(added)
            .collect();
        prop_assert_eq!(parse(&file.format, &written).things(), expected);
        prop_assert_eq!(written.starts_with(BOM), file.text.starts_with(BOM));
        let (before, after) = (file.text.trim_start_matches(BOM), written.trim_start_matches(BOM));
        if after.contains('\n') {
            prop_assert_eq!(Shape::of(after).ending, Shape::of(before).ending);
        }
    }

    #[test]
    fn adding_then_removing_the_same_things_gives_back_the_original(
        file in any_file(),
        added in new_things(),
    ) {
        let mut document = parse(&file.format, &file.text);
        prop_assert!(document.add(&added).is_empty());
        let mut document = parse(&file.format, &render(&document));
        document.remove(&added.iter().map(String::as_str).collect());
        prop_assert_eq!(document.things(), file.things);
        if file.format != Format::Json {
            prop_assert_eq!(render(&document), file.text);
        }
    }
}
