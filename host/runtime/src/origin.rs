//! HTTP origins (`scheme://host[:port]`) and the patterns that grant them.

use std::fmt;

/// Where a request goes: scheme, host and port (the port defaulted from the scheme).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// The host name or IP literal, lower case, without brackets.
    pub host: String,
    /// The port, explicit or the scheme's default.
    pub port: u16,
}

/// A granted origin: an exact origin, or `scheme://*.domain[:port]` for every
/// subdomain of `domain` (not `domain` itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: String,
    host: HostPattern,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    SubdomainsOf(String),
}

impl Origin {
    /// Parses `scheme://host[:port]`, ignoring any path.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (scheme, host, port) = split(text)?;
        if host.contains('*') {
            return Err(format!("`{text}` has a wildcard; an origin names one host"));
        }
        Ok(Origin { scheme, host, port })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match self.host.contains(':') {
            true => format!("[{}]", self.host),
            false => self.host.clone(),
        };
        write!(f, "{}://{host}:{}", self.scheme, self.port)
    }
}

impl OriginPattern {
    /// Parses an `allowed_hosts` entry such as `https://slack.com` or `https://*.slack.com:8443`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (scheme, host, port) = split(text)?;
        let host = match host.strip_prefix("*.") {
            Some(domain) if !domain.is_empty() && !domain.contains('*') => {
                HostPattern::SubdomainsOf(domain.to_string())
            }
            _ if host.contains('*') => {
                return Err(format!(
                    "`{text}`: a wildcard may only lead the host, as in https://*.example.com"
                ));
            }
            _ => HostPattern::Exact(host),
        };
        Ok(OriginPattern { scheme, host, port })
    }

    /// Whether this pattern grants `origin`.
    pub fn matches(&self, origin: &Origin) -> bool {
        self.scheme == origin.scheme
            && self.port == origin.port
            && match &self.host {
                HostPattern::Exact(host) => *host == origin.host,
                HostPattern::SubdomainsOf(domain) => origin
                    .host
                    .strip_suffix(domain.as_str())
                    .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
            }
    }

    /// Whether the pattern has a `*.` wildcard.
    pub fn is_wildcard(&self) -> bool {
        matches!(self.host, HostPattern::SubdomainsOf(_))
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            HostPattern::Exact(host) if host.contains(':') => {
                write!(f, "{}://[{host}]:{}", self.scheme, self.port)
            }
            HostPattern::Exact(host) => write!(f, "{}://{host}:{}", self.scheme, self.port),
            HostPattern::SubdomainsOf(domain) => {
                write!(f, "{}://*.{domain}:{}", self.scheme, self.port)
            }
        }
    }
}

/// Splits `scheme://host[:port][/...]` into lower-case scheme and host and a port.
fn split(text: &str) -> Result<(String, String, u16), String> {
    let invalid = |why: &str| format!("`{text}` is not an origin like https://example.com: {why}");
    let (scheme, rest) = text
        .trim()
        .split_once("://")
        .ok_or_else(|| invalid("no scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return Err(invalid("the scheme must be http or https")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(invalid("user names are not part of an origin"));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| invalid("unclosed ["))?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Err(invalid("no host"));
    }
    let port = match port {
        Some(port) => port
            .parse()
            .map_err(|_| invalid("the port must be a number from 1 to 65535"))?,
        None => default_port,
    };
    if port == 0 {
        return Err(invalid("the port must be a number from 1 to 65535"));
    }
    Ok((scheme, host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(pattern: &str, origin: &str) -> bool {
        OriginPattern::parse(pattern)
            .unwrap()
            .matches(&Origin::parse(origin).unwrap())
    }

    #[test]
    fn scheme_host_and_port_must_all_match() {
        assert!(grants(
            "https://slack.com",
            "https://slack.com/api/users.list"
        ));
        assert!(grants("https://slack.com", "https://SLACK.com:443"));
        assert!(!grants("https://slack.com", "http://slack.com"));
        assert!(!grants("https://slack.com", "https://slack.com:8443"));
        assert!(!grants("https://slack.com", "https://slack.com.evil.test"));
        assert!(grants("http://127.0.0.1:8080", "http://127.0.0.1:8080/x"));
        assert!(grants("http://[::1]:8080", "http://[::1]:8080"));
    }

    #[test]
    fn a_wildcard_grants_subdomains_only() {
        assert!(grants("https://*.slack.com", "https://files.slack.com"));
        assert!(grants("https://*.slack.com", "https://a.b.slack.com"));
        assert!(!grants("https://*.slack.com", "https://slack.com"));
        assert!(!grants("https://*.slack.com", "https://evilslack.com"));
        assert!(!grants(
            "https://*.slack.com",
            "https://files.slack.com:8443"
        ));
    }

    #[test]
    fn malformed_grants_say_what_is_wrong() {
        for (bad, why) in [
            ("slack.com", "no scheme"),
            ("ftp://x", "http or https"),
            ("https://", "no host"),
            ("https://x:99999", "port"),
            ("https://a.*.com", "wildcard may only lead"),
            ("https://u@x", "user names"),
        ] {
            let err = OriginPattern::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
