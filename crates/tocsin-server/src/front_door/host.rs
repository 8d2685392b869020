//! Which `Host` a request may name, from the listen address and `--public-url`: the defence
//! against DNS rebinding, where a page at `attacker.example` (resolving to 127.0.0.1) makes a
//! browser talk to tocsin with `Host: attacker.example` and read the answers.

use std::net::{IpAddr, SocketAddr};

/// The hosts this server answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPolicy {
    listen: IpAddr,
    /// The host of `--public-url`, lower case, without port; `None` when it is not set.
    public_host: Option<String>,
    /// More names from `--allow-host` (an internal name Prometheus uses beside the public
    /// one), lower case, without port.
    also: Vec<String>,
}

impl HostPolicy {
    pub fn new(listen: SocketAddr, public_host: Option<String>, also: &[String]) -> HostPolicy {
        HostPolicy {
            listen: listen.ip(),
            public_host: public_host.map(|h| h.to_ascii_lowercase()),
            also: also.iter().map(|h| host_name(h)).collect(),
        }
    }

    /// Whether a request naming `host` (the `Host` header, port included or not) is for
    /// this server. A request without `Host` (HTTP/1.0) is: a browser always sends one.
    pub fn allows(&self, host: Option<&str>) -> bool {
        let Some(host) = host.map(host_name) else {
            return true;
        };
        if self.public_host.as_deref() == Some(host.as_str())
            || is_loopback_name(&host)
            || self.also.contains(&host)
        {
            return true;
        }
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok();
        if self.listen.is_unspecified() {
            // Every address of the machine answers; without a public URL any name may be
            // how people reach it. With one, names are pinned to it, but an IP address is
            // still fine: a browser sends the address itself, so no name can be rebound.
            return self.public_host.is_none() || literal.is_some();
        }
        literal == Some(self.listen)
    }
}

/// Whether the `Host` header names this machine's loopback (`localhost`, `127.0.0.1`,
/// `[::1]`, any port): token-less loopback intake needs it.
pub fn is_loopback_host(host: Option<&str>) -> bool {
    host.map(host_name).is_some_and(|h| is_loopback_name(&h))
}

fn is_loopback_name(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// The host of a `Host` header, lower case, without its port (`[::1]:7600` -> `[::1]`).
fn host_name(header: &str) -> String {
    let header = header.trim().to_ascii_lowercase();
    let name = match header.rfind([':', ']']) {
        // `name:port` or `[v6]:port`; a bare `[v6]` ends in `]`.
        Some(i) if header.as_bytes()[i] == b':' => &header[..i],
        _ => header.as_str(),
    };
    name.trim_end_matches('.').to_string()
}

/// The host of an `http(s)://` URL, lower case, without port or user info, with brackets
/// around an IPv6 address as a `Host` header has them; `None` when it is not such a URL.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let host = host_name(authority);
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(listen: &str, public: Option<&str>) -> HostPolicy {
        HostPolicy::new(
            listen.parse().unwrap(),
            public.map(|p| url_host(p).unwrap()),
            &["Alerts.Internal:7600".to_string()],
        )
    }

    #[test]
    fn loopback_listen_answers_loopback_names_and_the_public_host_only() {
        let p = policy("127.0.0.1:7600", None);
        for ok in [
            "127.0.0.1:7600",
            "localhost",
            "LOCALHOST:1",
            "[::1]:7600",
            "[::1]",
        ] {
            assert!(p.allows(Some(ok)), "{ok}");
        }
        for bad in [
            "attacker.example",
            "attacker.example:7600",
            "10.0.0.1",
            "127.0.0.2",
        ] {
            assert!(!p.allows(Some(bad)), "{bad}");
        }
        assert!(p.allows(None));
        let p = policy("127.0.0.1:7600", Some("https://Tocsin.example.com/"));
        assert!(p.allows(Some("tocsin.example.com")));
        assert!(p.allows(Some("tocsin.example.com:443")));
        assert!(!p.allows(Some("attacker.example")));
    }

    #[test]
    fn wildcard_listen_answers_any_name_until_a_public_url_pins_it() {
        let p = policy("0.0.0.0:7600", None);
        assert!(p.allows(Some("attacker.example")));
        let p = policy("[::]:7600", Some("http://alerts.corp:7600"));
        assert!(p.allows(Some("alerts.corp:7600")));
        assert!(p.allows(Some("alerts.internal")), "an --allow-host name");
        assert!(p.allows(Some("10.1.2.3:7600")));
        assert!(p.allows(Some("[fd00::1]:7600")));
        assert!(!p.allows(Some("attacker.example")));
    }

    #[test]
    fn a_specific_address_answers_itself() {
        let p = policy("10.1.2.3:7600", None);
        assert!(p.allows(Some("10.1.2.3:7600")));
        assert!(!p.allows(Some("10.1.2.4:7600")));
        assert!(!p.allows(Some("alerts.corp")));
    }

    #[test]
    fn loopback_hosts_and_url_hosts_parse() {
        assert!(is_loopback_host(Some("127.0.0.1:7600")));
        assert!(is_loopback_host(Some("localhost.")));
        assert!(!is_loopback_host(Some("127.0.0.1.nip.io")));
        assert!(!is_loopback_host(None));
        assert_eq!(
            url_host("https://u:p@a.example:8443/x").as_deref(),
            Some("a.example")
        );
        assert_eq!(url_host("http://[::1]:7600").as_deref(), Some("[::1]"));
        assert_eq!(url_host("ftp://a.example"), None);
        assert_eq!(url_host("https:///x"), None);
    }
}
