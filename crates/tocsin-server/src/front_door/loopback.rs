//! When a request without a token may send events as "loopback": only a program on this
//! machine talking to it directly. Not a browser (any page can make one POST to 127.0.0.1),
//! not a client behind a local reverse proxy (every proxied peer is 127.0.0.1), not a name
//! that could be rebound.

use super::host::is_loopback_host;
use axum::http::{header, HeaderMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Headers a proxy adds: their presence means the peer is not the client.
const FORWARDING: [&str; 5] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];

/// Why this token-less request may not act as loopback, or `None` when it may.
/// `public_url_set`: with `--public-url` people reach the server some other way, through a
/// proxy most likely, so the peer address says nothing about the client.
pub fn refusal(public_url_set: bool, headers: &HeaderMap, peer: SocketAddr) -> Option<String> {
    if public_url_set {
        return Some("it is off because --public-url is set".into());
    }
    if !is_loopback_peer(peer.ip()) {
        return Some(format!("{} is not 127.0.0.1 or ::1", peer.ip()));
    }
    if let Some(name) = FORWARDING.iter().find(|h| headers.contains_key(**h)) {
        return Some(format!("the request has a {name} header (a proxy)"));
    }
    if headers.contains_key(header::ORIGIN) || headers.contains_key("sec-fetch-site") {
        return Some("a browser page sent it (Origin or Sec-Fetch-Site header)".into());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !is_loopback_host(host) {
        return Some(format!(
            "the Host header {:?} is not 127.0.0.1, localhost or [::1]",
            host.unwrap_or("")
        ));
    }
    None
}

/// Exactly 127.0.0.1 and ::1 (also as `::ffff:127.0.0.1` on a dual-stack listener), not
/// the rest of 127.0.0.0/8: that is what the docs promise, and a container or VPN tool may
/// hand out other 127.x addresses.
fn is_loopback_peer(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4 == Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => {
            v6 == Ipv6Addr::LOCALHOST || v6.to_ipv4_mapped() == Some(Ipv4Addr::LOCALHOST)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40000)
    }

    #[test]
    fn only_a_direct_local_program_is_loopback() {
        let local = headers(&[("host", "127.0.0.1:7600")]);
        for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(refusal(false, &local, peer(ip)), None, "{ip}");
        }
        for ip in ["127.0.0.2", "10.0.0.1", "::ffff:10.0.0.1"] {
            assert!(refusal(false, &local, peer(ip)).is_some(), "{ip}");
        }
        assert!(refusal(true, &local, peer("127.0.0.1")).is_some());
    }

    #[test]
    fn proxies_browsers_and_foreign_hosts_are_not_loopback() {
        let p = peer("127.0.0.1");
        for h in FORWARDING {
            let why = refusal(false, &headers(&[("host", "localhost"), (h, "x")]), p);
            assert!(why.unwrap().contains(h));
        }
        for h in ["origin", "sec-fetch-site"] {
            assert!(refusal(false, &headers(&[("host", "localhost"), (h, "x")]), p).is_some());
        }
        assert!(refusal(false, &headers(&[("host", "attacker.example")]), p).is_some());
        assert!(refusal(false, &HeaderMap::new(), p).is_some());
    }
}
