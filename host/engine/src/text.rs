//! Text that comes from adapters, and the characters in it that cannot be
//! shown or compared safely: control characters, invisible format
//! characters (a byte-order mark, zero-width spaces and joiners, bidi
//! controls) and line or paragraph separators.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Whether `c` is invisible or moves the cursor, so that a thing holding it
/// could pass for another, or text holding it could forge lines of output.
pub fn is_hidden(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// The first hidden character in `text`, and its position (1 for the first character).
pub fn first_hidden(text: &str) -> Option<(usize, char)> {
    // Most things are ASCII: a byte scan, with no table to look up.
    if text.is_ascii() {
        return text
            .bytes()
            .position(|byte| byte.is_ascii_control())
            .map(|index| (index + 1, char::from(text.as_bytes()[index])));
    }
    text.chars()
        .enumerate()
        .find(|(_, c)| is_hidden(*c))
        .map(|(index, c)| (index + 1, c))
}

/// `text` trimmed and on one line: every hidden character becomes a space,
/// so whatever an adapter says cannot forge lines of allsync's output.
pub fn one_line(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| if is_hidden(c) { ' ' } else { c })
        .collect()
}

/// How a hidden character is named in messages, e.g. `U+FEFF`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_format_and_separator_characters_are_hidden() {
        for c in [
            '\n', '\r', '\t', '\u{1b}', '\u{7f}', '\u{feff}', '\u{200b}', '\u{200c}', '\u{200d}',
            '\u{2060}', '\u{200e}', '\u{202e}', '\u{2066}', '\u{ad}', '\u{2028}', '\u{2029}',
        ] {
            assert!(is_hidden(c), "{}", code_point(c));
        }
        for c in ['a', 'é', '@', ' ', 'Σ', '\u{212a}', '日'] {
            assert!(!is_hidden(c), "{}", code_point(c));
        }
    }

    #[test]
    fn text_is_put_on_one_line_with_hidden_characters_as_spaces() {
        assert_eq!(
            one_line(" done\n\u{1b}[31mFAKE\u{202e} line \n"),
            "done  [31mFAKE  line"
        );
        assert_eq!(first_hidden("ann@x.com"), None);
        assert_eq!(first_hidden("\u{feff}ann"), Some((1, '\u{feff}')));
        assert_eq!(first_hidden("an\u{200b}n"), Some((3, '\u{200b}')));
    }
}
