//! A file as a run of entries, each the exact text of one line (or of one CSV
//! record) with its line break, so that every entry allsync does not touch is
//! written back byte for byte.

use std::collections::HashSet;

/// A line break, as a file spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    CrLf,
}

impl LineEnding {
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// How a file's lines end: the break that new lines get, and whether the
/// last line has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub ending: LineEnding,
    pub final_newline: bool,
}

impl Shape {
    /// The shape of `text`: the line break of its first line (LF when it has
    /// none), and whether it ends with a line break (an empty file counts as
    /// one that does, so lines added to it end with one).
    pub fn of(text: &str) -> Self {
        let ending = match text.find('\n') {
            Some(at) if text[..at].ends_with('\r') => LineEnding::CrLf,
            _ => LineEnding::Lf,
        };
        Shape {
            ending,
            final_newline: text.is_empty() || text.ends_with('\n'),
        }
    }
}

/// One line or record exactly as in the file, and the thing it holds, if any.
struct Entry {
    raw: String,
    thing: Option<String>,
}

impl Entry {
    /// An entry holding `thing`, trimmed, unless that leaves nothing.
    fn new(raw: String, thing: Option<&str>) -> Self {
        let thing = thing
            .map(str::trim)
            .filter(|thing| !thing.is_empty())
            .map(str::to_string);
        Entry { raw, thing }
    }
}

/// The entries of a file, in file order, and the shape of its lines.
pub struct Entries {
    entries: Vec<Entry>,
    shape: Shape,
}

impl Entries {
    /// The entries of `text`, given as `(raw text, thing)` pieces that
    /// together make up all of `text`, in order.
    pub fn read<'a>(
        text: &str,
        pieces: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Self {
        Entries {
            entries: pieces
                .into_iter()
                .map(|(raw, thing)| Entry::new(raw.to_string(), thing))
                .collect(),
            shape: Shape::of(text),
        }
    }

    /// The line break that added lines must end with.
    pub fn ending(&self) -> LineEnding {
        self.shape.ending
    }

    /// The things, trimmed, in file order.
    pub fn things(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|entry| entry.thing.clone())
            .collect()
    }

    /// Appends `line`, which holds `thing` and ends with [`Entries::ending`].
    pub fn append(&mut self, thing: &str, line: String) {
        self.end_last_line();
        self.entries.push(Entry::new(line, Some(thing)));
        self.keep_final_newline();
    }

    /// Drops every entry whose thing is in `wanted`; returns the things dropped.
    pub fn remove<'a>(&mut self, wanted: &HashSet<&'a str>) -> HashSet<&'a str> {
        let removed = drop_wanted(&mut self.entries, |entry| entry.thing.as_deref(), wanted);
        self.keep_final_newline();
        removed
    }

    /// The text of the file: every entry as it was read or added.
    pub fn render(&self) -> String {
        self.entries
            .iter()
            .map(|entry| entry.raw.as_str())
            .collect()
    }

    /// Gives the last entry a line break, so that another can follow it.
    fn end_last_line(&mut self) {
        if let Some(last) = self.entries.last_mut()
            && !last.raw.ends_with('\n')
        {
            last.raw.push_str(self.shape.ending.as_str());
        }
    }

    /// Makes the file end with a line break exactly if it did when read.
    fn keep_final_newline(&mut self) {
        if self.shape.final_newline {
            return self.end_last_line();
        }
        if let Some(last) = self.entries.last_mut() {
            let kept = last
                .raw
                .strip_suffix('\n')
                .map(|rest| rest.strip_suffix('\r').unwrap_or(rest))
                .map_or(last.raw.len(), str::len);
            last.raw.truncate(kept);
        }
    }
}

/// Drops every one of `items` whose thing is in `wanted`; returns the things
/// dropped.
pub fn drop_wanted<'a, T>(
    items: &mut Vec<T>,
    thing_of: impl Fn(&T) -> Option<&str>,
    wanted: &HashSet<&'a str>,
) -> HashSet<&'a str> {
    let mut dropped = HashSet::new();
    items.retain(
        |item| match thing_of(item).and_then(|thing| wanted.get(thing)) {
            Some(found) => {
                dropped.insert(*found);
                false
            }
            None => true,
        },
    );
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Entries {
        Entries::read(text, text.split_inclusive('\n').map(|raw| (raw, Some(raw))))
    }

    #[test]
    fn the_shape_is_the_first_line_break_and_whether_the_file_ends_with_one() {
        let crlf = Shape::of("a\r\nb");
        assert_eq!((crlf.ending, crlf.final_newline), (LineEnding::CrLf, false));
        let lf = Shape::of("a\nb\r\n");
        assert_eq!((lf.ending, lf.final_newline), (LineEnding::Lf, true));
        assert!(
            Shape::of("").final_newline,
            "an empty file gets whole lines"
        );
    }

    #[test]
    fn appended_lines_follow_a_last_line_without_a_break_and_keep_it_so() {
        let mut entries = lines("a\r\nb");
        entries.append("c", "c\r\n".to_string());
        assert_eq!(entries.render(), "a\r\nb\r\nc");
    }

    #[test]
    fn removing_the_last_line_keeps_a_file_without_a_final_break_so() {
        let mut entries = lines("a\nb");
        entries.remove(&HashSet::from(["b"]));
        assert_eq!(entries.render(), "a");
    }

    #[test]
    fn every_entry_equal_to_a_wanted_thing_goes_and_each_is_reported_once() {
        let mut entries = lines("ann\n  ann  \nANN\nbob\n");
        let removed = entries.remove(&HashSet::from(["ann", "ANN", "cy"]));
        assert_eq!(removed, HashSet::from(["ann", "ANN"]));
        assert_eq!(entries.render(), "bob\n");
    }
}
