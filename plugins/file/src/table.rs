//! CSV files: a header row naming the columns, then records, one column of
//! which holds the things. Records may be short or long (the file is read and
//! written as flexible CSV). Every record is kept as the exact text it was
//! read from; allsync writes only the records it adds.

use crate::entries::{Entries, LineEnding};

/// How many columns the header names, and which of them holds the things.
#[derive(Debug)]
pub struct Columns {
    count: usize,
    things_at: usize,
}

impl Columns {
    /// The record for a new `thing`: that column filled, the others empty,
    /// quoted where needed, ending with `ending`.
    pub fn record(&self, thing: &str, ending: LineEnding) -> String {
        let mut fields = vec![""; self.count];
        fields[self.things_at] = thing;
        let terminator = match ending {
            LineEnding::Lf => csv::Terminator::Any(b'\n'),
            LineEnding::CrLf => csv::Terminator::CRLF,
        };
        let mut writer = csv::WriterBuilder::new()
            .terminator(terminator)
            .from_writer(Vec::new());
        writer
            .write_record(&fields)
            .expect("writing CSV to memory cannot fail");
        let bytes = writer
            .into_inner()
            .expect("flushing CSV to memory cannot fail");
        String::from_utf8(bytes).expect("CSV made of strings is UTF-8")
    }
}

/// Reads CSV `text`: its entries (the header row first, then one per record,
/// holding the `column` field) and its columns. The error says what is wrong
/// and where.
pub fn read(text: &str, column: &str) -> Result<(Entries, Columns), String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|err| format!("unreadable CSV header: {err}"))?
        .clone();
    let things_at = header
        .iter()
        .position(|name| name.trim().eq_ignore_ascii_case(column))
        .ok_or_else(|| {
            let names: Vec<&str> = header.iter().collect();
            format!(
                "no column `{column}` in the CSV header (columns: {})",
                names.join(", ")
            )
        })?;
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| format!("malformed CSV: {err}"))?;
        let position = record
            .position()
            .expect("a record read by csv::Reader has a position")
            .byte();
        let position = usize::try_from(position).expect("a position in memory fits in usize");
        records.push((
            record_start(text, position),
            record.get(things_at).map(str::to_string),
        ));
    }
    let columns = Columns {
        count: header.len(),
        things_at,
    };
    Ok((Entries::read(text, pieces(text, &records)), columns))
}

/// Where the record that csv::Reader says starts at `position` really does.
/// The reader counts what it skipped to get there (the `\n` of the previous
/// record's `\r\n`, blank lines) as part of the record; that belongs to the
/// line before, and no record starts with a line break.
fn record_start(text: &str, position: usize) -> usize {
    let rest = &text[position..];
    position + rest.len() - rest.trim_start_matches(['\r', '\n']).len()
}

/// `text` cut at the start of each record: the header row (with anything
/// before the first record), then each record with what follows it up to the
/// next one, each with its `thing`.
fn pieces<'a>(
    text: &'a str,
    records: &'a [(usize, Option<String>)],
) -> impl Iterator<Item = (&'a str, Option<&'a str>)> {
    let starts = records.iter().map(|(start, _)| *start);
    let header_end = starts.clone().next().unwrap_or(text.len());
    let ends = starts.skip(1).chain([text.len()]);
    let rows = records
        .iter()
        .zip(ends)
        .map(|((start, thing), end)| (&text[*start..end], thing.as_deref()));
    std::iter::once((&text[..header_end], None)).chain(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_padded_to_the_header_and_quoted_where_needed() {
        let columns = Columns {
            count: 3,
            things_at: 1,
        };
        assert_eq!(
            columns.record("a,\"b\"", LineEnding::CrLf),
            ",\"a,\"\"b\"\"\",\r\n"
        );
    }

    #[test]
    fn each_record_keeps_its_own_line_break() {
        let (mut entries, _) = read("email\r\na@x.com\r\n\r\nb@x.com", "email").unwrap();
        entries.remove(&std::collections::HashSet::from(["b@x.com"]));
        assert_eq!(entries.render(), "email\r\na@x.com\r\n");
    }

    #[test]
    fn records_spanning_lines_are_cut_where_they_start() {
        let text = "email,note\na@x.com,\"two\nlines\"\n\nb@x.com\n";
        let (entries, _) = read(text, "email").unwrap();
        assert_eq!(entries.things(), ["a@x.com", "b@x.com"]);
        assert_eq!(entries.render(), text);
    }
}
