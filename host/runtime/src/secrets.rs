//! Secret config values, and their removal from whatever an adapter says.
//!
//! Matching ignores ASCII case, so a token the host lower-cased (in a host
//! name, say) is found too. Values shorter than [`Secrets::SHORTEST`] are
//! refused when the config is checked: redacting them would mangle
//! unrelated text and, by the gaps it leaves, reveal them.

use aho_corasick::{AhoCorasick, MatchKind};
use std::sync::Arc;

/// What replaces a secret in output.
pub const REDACTED: &str = "[REDACTED]";

/// The secret values of one adapter instance.
#[derive(Debug, Clone, Default)]
pub struct Secrets(Option<Arc<Matcher>>);

#[derive(Debug)]
struct Matcher {
    values: AhoCorasick,
    longest: usize,
}

impl Secrets {
    /// The shortest secret value allsync accepts.
    pub const SHORTEST: usize = 8;

    /// Why `value`, the value of secret key `name`, cannot be kept secret, if it cannot.
    pub fn refuse(name: &str, value: &str) -> Option<String> {
        let length = value.chars().count();
        (length > 0 && length < Self::SHORTEST).then(|| {
            format!(
                "config key `{name}` is secret, but its value is only {length} characters long: \
                 allsync redacts secrets from all it prints, which cannot be done safely for a value \
                 shorter than {} characters; use the real credential",
                Self::SHORTEST
            )
        })
    }

    /// The non-empty `values`; where one contains another, the longer is redacted whole.
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let values: Vec<String> = values
            .into_iter()
            .filter(|value| !value.is_empty())
            .collect();
        let Some(longest) = values.iter().map(String::len).max() else {
            return Secrets(None);
        };
        let values = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&values)
            .expect("a few secret values always make a matcher");
        Secrets(Some(Arc::new(Matcher { values, longest })))
    }

    /// `text` with every secret value replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        match &self.0 {
            None => text.to_string(),
            Some(matcher) => {
                let mut redacted = String::with_capacity(text.len());
                matcher
                    .values
                    .replace_all_with(text, &mut redacted, |_, _, out| {
                        out.push_str(REDACTED);
                        true
                    });
                redacted
            }
        }
    }

    /// Where to cut `bytes`, at or before `wanted`, so that no secret is cut
    /// in two and the part kept back (from the cut on) could still be the
    /// start of one: a streamed text can then be redacted piece by piece.
    pub fn safe_cut(&self, bytes: &[u8], wanted: usize) -> usize {
        let Some(matcher) = &self.0 else {
            return wanted;
        };
        let mut cut = wanted.min(bytes.len().saturating_sub(matcher.longest - 1));
        if let Some(straddling) = matcher
            .values
            .find_iter(bytes)
            .find(|found| found.start() < cut && cut < found.end())
        {
            // Before the secret, or after it if it starts the text.
            cut = match straddling.start() {
                0 => straddling.end(),
                start => start,
            };
        }
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(values: &[&str]) -> Secrets {
        Secrets::new(values.iter().map(|value| value.to_string()))
    }

    #[test]
    fn every_occurrence_of_every_secret_is_replaced() {
        let secrets = secrets(&["xoxb-1111", "xoxb-11112222", ""]);
        assert_eq!(
            secrets.redact("token xoxb-11112222 and xoxb-1111, again xoxb-11112222"),
            "token [REDACTED] and [REDACTED], again [REDACTED]"
        );
        assert_eq!(Secrets::default().redact("nothing"), "nothing");
    }

    #[test]
    fn a_secret_is_found_whatever_its_ascii_case() {
        let secrets = secrets(&["AbCdEf-Token"]);
        assert_eq!(
            secrets.redact("GET http://abcdef-token.evil.test/"),
            "GET http://[REDACTED].evil.test/"
        );
    }

    #[test]
    fn short_secret_values_are_refused_and_empty_ones_are_none() {
        let why = Secrets::refuse("token", "t").unwrap();
        assert!(why.contains("config key `token` is secret"), "{why}");
        assert!(why.contains("only 1 characters long"), "{why}");
        assert_eq!(Secrets::refuse("token", "12345678"), None);
        assert_eq!(Secrets::refuse("token", ""), None);
    }

    #[test]
    fn a_cut_never_splits_a_secret_and_keeps_back_what_could_start_one() {
        let secrets = secrets(&["SECRET-VALUE"]);
        let text = b"0123456789SECRET-VALUE0123";
        // Wanted at 12, inside the secret: cut before it.
        assert_eq!(secrets.safe_cut(text, 12), 10);
        assert_eq!(secrets.safe_cut(text, text.len()), 10);
        // Wanted at the end: keep back 11 bytes, which could start a secret.
        let text = b"SECRET-VALUE then a long tail of other text";
        assert_eq!(secrets.safe_cut(text, text.len()), text.len() - 11);
        assert_eq!(secrets.safe_cut(text, 5), 12, "after a secret at the start");
        assert_eq!(secrets.safe_cut(b"short", 5), 0);
        assert_eq!(Secrets::default().safe_cut(text, 7), 7);
    }
}
