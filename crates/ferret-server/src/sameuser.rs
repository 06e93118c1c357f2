//! `--only-same-user`: on a loopback listener, refuse clients whose socket
//! belongs to another user, as Delve does. The peer's socket is found in
//! `/proc/net/tcp` (or `tcp6`) by its address; its owner is that line's uid.

use std::net::{IpAddr, SocketAddr};

/// Whether the client at `peer` runs as the same user as this process.
/// Unknown peers count as different (the connection is refused).
pub fn same_user(peer: SocketAddr) -> bool {
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    // Stop at the first matching line: with many connections in TIME_WAIT
    // these tables grow long, and this runs on every accept.
    let tables: &[&str] = match peer.ip() {
        IpAddr::V4(_) => &["/proc/net/tcp", "/proc/net/tcp6"],
        IpAddr::V6(_) => &["/proc/net/tcp6"],
    };
    for table in tables {
        let Ok(file) = std::fs::File::open(table) else { continue };
        let reader = std::io::BufReader::with_capacity(64 * 1024, file);
        for line in std::io::BufRead::lines(reader).skip(1).map_while(Result::ok) {
            if let Some(uid) = owner_of(&line, peer) {
                return uid == me;
            }
        }
    }
    false
}

/// The uid column of a `/proc/net/tcp*` line whose local address is `peer`.
fn owner_of(line: &str, peer: SocketAddr) -> Option<u32> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (address, port) = fields.get(1)?.split_once(':')?;
    if u16::from_str_radix(port, 16).ok()? != peer.port() || !address_matches(address, peer.ip()) {
        return None;
    }
    fields.get(7)?.parse().ok()
}

/// Compares the kernel's hex address (native-endian 32-bit words) with `ip`;
/// an IPv4 peer also matches its IPv4-mapped IPv6 form.
fn address_matches(hex: &str, ip: IpAddr) -> bool {
    let words: Option<Vec<u32>> = (0..hex.len() / 8).map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok()).collect();
    let Some(words) = words else { return false };
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    match (ip, bytes.len()) {
        (IpAddr::V4(v4), 4) => bytes == v4.octets(),
        (IpAddr::V4(v4), 16) => bytes == v4.to_ipv6_mapped().octets(),
        (IpAddr::V6(v6), 16) => bytes == v6.octets(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_tcp_lines() {
        let line = "   3: 0100007F:A2F4 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 123 1";
        let peer: SocketAddr = "127.0.0.1:41716".parse().unwrap();
        assert_eq!(owner_of(line, peer), Some(1000));
        assert_eq!(owner_of(line, "127.0.0.1:1".parse().unwrap()), None);
    }
}
