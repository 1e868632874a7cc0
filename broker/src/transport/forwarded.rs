//! The client address behind a reverse proxy: `X-Forwarded-For` is read
//! only when the TCP peer is a configured `--trusted-proxy`; anyone else
//! could write any address into it.
//!
//! The header lists hops left to right (client, proxy1, proxy2, ...), each
//! proxy appending the address it received from. Walking from the right and
//! skipping trusted proxies finds the first address that no trusted hop
//! vouches past: the client. A forged entry to the left of it is ignored.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The address to log and account the client under. A forwarded address
/// has port 0: the proxy does not tell the client's port.
pub fn client_addr(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> SocketAddr {
    let is_trusted = |ip: IpAddr| {
        trusted
            .iter()
            .any(|t| t.to_canonical() == ip.to_canonical())
    };
    if !is_trusted(peer.ip()) {
        return peer;
    }
    // Several X-Forwarded-For headers are one list, in order (RFC 9110 5.3).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // Garbage: stop at the last address a trusted hop gave us.
            break;
        };
        client = SocketAddr::new(ip, 0);
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// `192.0.2.1`, `2001:db8::1`, `192.0.2.1:4711` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn check(peer: &str, xff: &[&str], trusted: &[&str], expect: &str) {
        let mut headers = HeaderMap::new();
        for v in xff {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).expect("value"));
        }
        let trusted: Vec<IpAddr> = trusted.iter().map(|t| t.parse().expect("ip")).collect();
        let got = client_addr(peer.parse().expect("peer"), &headers, &trusted);
        assert_eq!(
            got,
            expect.parse::<SocketAddr>().expect("expect"),
            "{xff:?}"
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        check("10.0.0.1:5000", &["192.0.2.7"], &[], "10.0.0.1:5000");
        check(
            "10.0.0.1:5000",
            &["192.0.2.7"],
            &["10.0.0.2"],
            "10.0.0.1:5000",
        );
        check(
            "10.0.0.1:5000",
            &["192.0.2.7"],
            &["10.0.0.1"],
            "192.0.2.7:0",
        );
        check("10.0.0.1:5000", &[], &["10.0.0.1"], "10.0.0.1:5000");
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let proxies = ["10.0.0.1", "10.0.0.2"];
        check(
            "10.0.0.1:1",
            &["6.6.6.6, 192.0.2.7, 10.0.0.2"],
            &proxies,
            "192.0.2.7:0",
        );
        check(
            "10.0.0.1:1",
            &["6.6.6.6", "192.0.2.7:4711"],
            &proxies,
            "192.0.2.7:0",
        );
        check(
            "10.0.0.1:1",
            &["[2001:db8::9]:80"],
            &proxies,
            "[2001:db8::9]:0",
        );
        check("10.0.0.1:1", &["garbage, 10.0.0.2"], &proxies, "10.0.0.2:0");
        check(
            "[::ffff:10.0.0.1]:1",
            &["192.0.2.7"],
            &proxies,
            "192.0.2.7:0",
        );
    }
}
