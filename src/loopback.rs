//! Whether a host named in a URL is this machine: what may be reached without TLS.

/// Whether `host` (`localhost`, `127.x.x.x`, `::1`, bracketed or not) is this machine.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
