//! `--only-same-user`: on a loopback listener, refuse clients whose socket
//! belongs to another user, as Delve does. The owner of the peer's socket
//! comes from the kernel's socket diagnostics (`NETLINK_SOCK_DIAG`), which
//! look the socket up by its addresses. Where that is not available, the
//! socket is found in `/proc/net/tcp` (or `tcp6`) as Delve does; reading
//! those tables walks the kernel's whole connection hash table, which takes
//! milliseconds even when the machine has few connections.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Whether the client at `peer`, connected to this server's `local`
/// address, runs as the same user as this process. Unknown peers count as
/// different (the connection is refused).
pub fn same_user(peer: SocketAddr, local: SocketAddr) -> bool {
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    owner_by_sock_diag(peer, local).or_else(|| owner_in_proc(peer)) == Some(me)
}

/// `SOCK_DIAG_BY_FAMILY` (linux/sock_diag.h), the request and reply type.
const SOCK_DIAG_BY_FAMILY: u16 = 20;

/// The uid owning the TCP socket whose local address is `peer` and remote
/// address `local`, asked of the kernel with one `inet_diag_req_v2`.
fn owner_by_sock_diag(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let (family, src, dst) = match (peer.ip(), local.ip()) {
        (IpAddr::V4(p), IpAddr::V4(l)) => (libc::AF_INET, padded(&p.octets()), padded(&l.octets())),
        (IpAddr::V6(p), IpAddr::V6(l)) => (libc::AF_INET6, p.octets(), l.octets()),
        _ => return None,
    };
    // nlmsghdr: length, type, flags, sequence number, port id.
    let mut request = Vec::with_capacity(72);
    request.extend(72u32.to_ne_bytes());
    request.extend(SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    request.extend((libc::NLM_F_REQUEST as u16).to_ne_bytes());
    request.extend([0; 8]);
    // inet_diag_req_v2: family, protocol, extensions, padding, states (all),
    // then inet_diag_sockid: ports and addresses in network order, any
    // interface, no cookie.
    request.extend([family as u8, libc::IPPROTO_TCP as u8, 0, 0]);
    request.extend(u32::MAX.to_ne_bytes());
    request.extend(peer.port().to_be_bytes());
    request.extend(local.port().to_be_bytes());
    request.extend(src);
    request.extend(dst);
    request.extend([0; 4]);
    request.extend([0xff; 8]);
    // SAFETY: plain system calls on a descriptor owned here, with buffers
    // of the lengths given. The kernel answers while handling the send, so
    // the receive does not need to wait.
    let mut reply = [0u8; 256];
    let received = unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        );
        if fd < 0 {
            return None;
        }
        let fd = OwnedFd::from_raw_fd(fd);
        if libc::send(fd.as_raw_fd(), request.as_ptr().cast(), request.len(), 0)
            != request.len() as isize
        {
            return None;
        }
        libc::recv(
            fd.as_raw_fd(),
            reply.as_mut_ptr().cast(),
            reply.len(),
            libc::MSG_DONTWAIT,
        )
    };
    // An inet_diag_msg after the 16-byte header has the uid at offset 64;
    // an error reply (no such socket, no diagnostics) is shorter or typed
    // NLMSG_ERROR.
    if received < 84 || u16::from_ne_bytes([reply[4], reply[5]]) != SOCK_DIAG_BY_FAMILY {
        return None;
    }
    Some(u32::from_ne_bytes([
        reply[80], reply[81], reply[82], reply[83],
    ]))
}

/// An IPv4 address in the 16 bytes of an `inet_diag_sockid` address.
fn padded(v4: &[u8; 4]) -> [u8; 16] {
    let mut address = [0; 16];
    address[..4].copy_from_slice(v4);
    address
}

/// The uid owning the TCP socket whose local address is `peer`, from the
/// first matching line of `/proc/net/tcp` (or `tcp6`).
fn owner_in_proc(peer: SocketAddr) -> Option<u32> {
    let tables: &[&str] = match peer.ip() {
        IpAddr::V4(_) => &["/proc/net/tcp", "/proc/net/tcp6"],
        IpAddr::V6(_) => &["/proc/net/tcp6"],
    };
    for table in tables {
        let Ok(file) = std::fs::File::open(table) else {
            continue;
        };
        let reader = std::io::BufReader::with_capacity(64 * 1024, file);
        for line in std::io::BufRead::lines(reader)
            .skip(1)
            .map_while(Result::ok)
        {
            if let Some(uid) = owner_of(&line, peer) {
                return Some(uid);
            }
        }
    }
    None
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
    let words: Option<Vec<u32>> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok())
        .collect();
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

    #[test]
    fn the_kernel_names_the_owner_of_a_loopback_client() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        let local = server.local_addr().unwrap();
        // SAFETY: geteuid cannot fail.
        let me = unsafe { libc::geteuid() };
        assert_eq!(owner_by_sock_diag(peer, local), Some(me));
        assert_eq!(owner_in_proc(peer), Some(me));
        assert!(same_user(peer, local));
        let nobody: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(owner_by_sock_diag(nobody, local), None);
    }
}
