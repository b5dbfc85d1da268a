//! Who the client is: the peer's address, or, when the peer is a proxy we trust, the address
//! its `X-Forwarded-For` names. Behind a load balancer every user would otherwise share its
//! address (and its sign-in limit); from anyone else the header is ignored, since a client can
//! send any `X-Forwarded-For` it likes.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// The client's address as text (empty when actix knows no peer).
pub fn of(req: &HttpRequest, trusted: &[IpAddr]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("X-Forwarded-For")
        .filter_map(|v| v.to_str().ok())
        .collect();
    through_proxies(peer, &forwarded.join(","), trusted).to_string()
}

/// Walks `X-Forwarded-For` from the nearest hop back while each hop is a trusted proxy: the
/// first address not trusted is the client. An entry that is not an address ends the walk at
/// the hop that wrote it.
fn through_proxies(peer: IpAddr, forwarded: &str, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    for hop in forwarded.rsplit(',').map(str::trim) {
        if !trusted.contains(&client) {
            break;
        }
        match hop.parse::<IpAddr>() {
            Ok(address) => client = address,
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::through_proxies;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.5");
        let trusted = [proxy];
        // Straight from a client: its own claim is ignored.
        assert_eq!(
            through_proxies(ip("203.0.113.9"), "198.51.100.1", &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the address it saw.
        assert_eq!(
            through_proxies(proxy, "198.51.100.1", &trusted),
            ip("198.51.100.1")
        );
        // A client's forged entry before the proxy's own is not believed.
        assert_eq!(
            through_proxies(proxy, "6.6.6.6, 198.51.100.1", &trusted),
            ip("198.51.100.1")
        );
        // Two trusted proxies in a row.
        let inner = ip("10.0.0.6");
        assert_eq!(
            through_proxies(inner, "198.51.100.1, 10.0.0.5", &[proxy, inner]),
            ip("198.51.100.1")
        );
        // No header, or rubbish in it: the proxy itself.
        assert_eq!(through_proxies(proxy, "", &trusted), proxy);
        assert_eq!(through_proxies(proxy, "unknown", &trusted), proxy);
        // No proxy trusted: always the peer.
        assert_eq!(through_proxies(proxy, "198.51.100.1", &[]), proxy);
    }
}
