//! Secret config values, and their removal from whatever an adapter says.

use std::sync::Arc;

/// What replaces a secret in output.
pub const REDACTED: &str = "[REDACTED]";

/// The secret values of one adapter instance.
#[derive(Debug, Clone, Default)]
pub struct Secrets(Arc<[String]>);

impl Secrets {
    /// Keeps the non-empty values, longest first (so a secret containing
    /// another is redacted whole).
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = values
            .into_iter()
            .filter(|value| !value.is_empty())
            .collect();
        values.sort_by_key(|value| std::cmp::Reverse(value.len()));
        values.dedup();
        Secrets(values.into())
    }

    /// `text` with every secret value replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        self.0.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), REDACTED)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_occurrence_of_every_secret_is_replaced() {
        let secrets = Secrets::new(["xoxb-1".to_string(), "xoxb-12".to_string(), String::new()]);
        assert_eq!(
            secrets.redact("token xoxb-12 and xoxb-1, again xoxb-12"),
            "token [REDACTED] and [REDACTED], again [REDACTED]"
        );
        assert_eq!(Secrets::default().redact("nothing"), "nothing");
    }
}
