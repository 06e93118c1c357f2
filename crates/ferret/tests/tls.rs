//! TLS on the debug port: certificates from `ferret certs`, a server
//! requiring client certificates, the real `dlv connect` through
//! `ferret tunnel`, refusals, and reloading certificates on SIGHUP.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ferret_testkit::fixture::{build_fixture, fixture_dir, BuildOptions};
use ferret_testkit::rpc::RpcClient;
use ferret_testkit::terminal;
use ferret_testkit::toolchain::GoToolchain;
use serde_json::json;

/// A ferret process (server or tunnel) and the address it printed.
struct Running {
    child: Child,
    addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ferret ARGS` and reads the address from its first stdout line.
fn start(args: &[&str]) -> Running {
    let mut child = Command::new(ferret_testkit::ferret_binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ferret");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("startup line");
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let addr = line.trim().rsplit(": ").next().expect("address").to_owned();
    Running { child, addr }
}

fn scratch(name: &str) -> PathBuf {
    let dir = ferret_testkit::target_dir()
        .join("scratch")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn certs(dir: &Path) {
    let out = Command::new(ferret_testkit::ferret_binary())
        .arg("certs")
        .arg("--out")
        .arg(dir)
        .output()
        .expect("ferret certs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn p(path: &Path, file: &str) -> String {
    path.join(file).to_string_lossy().into_owned()
}

fn mtls_server(binary: &Path, certs: &Path, extra: &[&str]) -> Running {
    let mut args = vec![
        "exec".to_owned(),
        binary.to_string_lossy().into_owned(),
        "--headless".into(),
        "--listen=127.0.0.1:0".into(),
        "--accept-multiclient".into(),
        format!("--tls-cert={}", p(certs, "server.pem")),
        format!("--tls-key={}", p(certs, "server.key")),
        format!("--tls-client-ca={}", p(certs, "ca.pem")),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    start(&args)
}

fn tunnel(server: &str, certs: &Path, client_cert: bool) -> Running {
    tunnel_with(server, certs, client_cert.then_some((certs, "client")))
}

/// A tunnel trusting `ca_dir/ca.pem`, presenting `DIR/NAME.pem` and
/// `DIR/NAME.key` when `cert` is `Some((DIR, NAME))`.
fn tunnel_with(server: &str, ca_dir: &Path, cert: Option<(&Path, &str)>) -> Running {
    let mut args = vec![
        "tunnel".to_owned(),
        format!("--connect={server}"),
        format!("--tls-ca={}", p(ca_dir, "ca.pem")),
    ];
    if let Some((dir, name)) = cert {
        args.push(format!("--tls-cert={}", p(dir, &format!("{name}.pem"))));
        args.push(format!("--tls-key={}", p(dir, &format!("{name}.key"))));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    start(&args)
}

/// Whether a JSON-RPC call through `addr` is answered.
fn answered(addr: &str) -> bool {
    let Ok(mut client) = RpcClient::connect(addr) else {
        return false;
    };
    client.call("IsMulticlient", json!({})).is_ok()
}

#[test]
fn dlv_connect_works_through_the_tunnel_with_client_certificates() {
    let dir = scratch("tls-session");
    certs(&dir);
    let binary = build_fixture("hello", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let server = mtls_server(&binary, &dir, &[]);
    let tunnel = tunnel(&server.addr, &dir, true);
    let session = terminal::basic_session(&fixture_dir("hello").join("main.go"));
    let commands: Vec<&str> = session.iter().map(String::as_str).collect();
    let transcript = terminal::run_dlv_connect(&tunnel.addr, &commands, Duration::from_secs(60));
    let text = transcript.render();
    assert!(!transcript.timed_out, "{text}");
    assert!(text.contains("[Breakpoint 1] main.main()"), "{text}");
    assert!(
        text.contains("main.(*Counter).Add()"),
        "step entered Add:\n{text}"
    );
    assert!(text.contains("has exited with status 0"), "{text}");
}

#[test]
fn clients_without_the_right_certificate_are_refused() {
    let dir = scratch("tls-refusals");
    certs(&dir);
    let other = dir.join("other");
    certs(&other);
    let binary = build_fixture("hello", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let server = mtls_server(&binary, &dir, &["--tls-allowed-subjects=CN=ferret client"]);

    // Plain JSON-RPC on the TLS port gets nothing back.
    let mut plain = std::net::TcpStream::connect(&server.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    plain
        .write_all(b"{\"method\":\"RPCServer.IsMulticlient\",\"params\":[{}],\"id\":1}")
        .unwrap();
    let mut reply = Vec::new();
    let _ = plain.read_to_end(&mut reply);
    assert!(
        !String::from_utf8_lossy(&reply).contains("IsMulticlient"),
        "plain client was answered"
    );

    // No client certificate, or one from another CA: refused.
    let no_cert = tunnel(&server.addr, &dir, false);
    assert!(
        !answered(&no_cert.addr),
        "client without a certificate was served"
    );
    let foreign = tunnel_with(&server.addr, &dir, Some((&other, "client")));
    assert!(
        !answered(&foreign.addr),
        "client certificate from another CA was served"
    );

    // The right certificate is served, and Ferret.Clients shows its subject.
    let good = tunnel(&server.addr, &dir, true);
    let mut client = RpcClient::connect(&good.addr).unwrap();
    let reply = client
        .request(&json!({"method": "Ferret.Clients", "params": [{}], "id": 1}))
        .unwrap();
    let clients = reply["result"]["Clients"]
        .as_array()
        .expect("client list")
        .clone();
    assert!(
        clients.iter().any(
            |c| c["Subject"] == json!("CN=ferret client") && c["Protocol"] == json!("json-rpc")
        ),
        "{reply}"
    );

    // A server that allows another subject refuses this one.
    let strict = mtls_server(&binary, &dir, &["--tls-allowed-subjects=CN=someone else"]);
    let strict_tunnel = tunnel(&strict.addr, &dir, true);
    assert!(
        !answered(&strict_tunnel.addr),
        "a subject outside the allowed list was served"
    );
}

/// Runs `openssl ARGS` in `dir`; panics with its stderr if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_expired_client_certificate_from_the_right_ca_is_refused() {
    let dir = scratch("tls-expired");
    certs(&dir);
    // The CA signs a client certificate valid only on 1 January 2020.
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n\
         default_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n",
    )
    .unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    std::fs::write(
        dir.join("expired.ext"),
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-subj",
            "/CN=ferret client",
            "-keyout",
            "expired.key",
            "-out",
            "expired.csr",
        ],
    );
    openssl(
        &dir,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-cert",
            "ca.pem",
            "-keyfile",
            "ca.key",
            "-in",
            "expired.csr",
            "-out",
            "expired.pem",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
            "-extfile",
            "expired.ext",
            "-notext",
        ],
    );
    // Only its dates are wrong.
    openssl(
        &dir,
        &[
            "verify",
            "-no_check_time",
            "-purpose",
            "sslclient",
            "-CAfile",
            "ca.pem",
            "expired.pem",
        ],
    );
    let binary = build_fixture("hello", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let server = mtls_server(&binary, &dir, &[]);

    // The handshake fails with a certificate_expired alert from the server.
    let out = Command::new("timeout")
        .args([
            "30",
            "openssl",
            "s_client",
            "-connect",
            &server.addr,
            "-CAfile",
            "ca.pem",
        ])
        .args(["-cert", "expired.pem", "-key", "expired.key", "-ign_eof"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl s_client");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success() && text.contains("alert certificate expired"),
        "{text}"
    );
    // Nor is it served through `ferret tunnel`.
    let expired = tunnel_with(&server.addr, &dir, Some((&dir, "expired")));
    assert!(
        !answered(&expired.addr),
        "an expired client certificate was served"
    );

    // The server is still up, and serves a valid certificate.
    let good = tunnel(&server.addr, &dir, true);
    assert!(
        answered(&good.addr),
        "a valid client was not served after the refusal"
    );
}

#[test]
fn sighup_reloads_certificates_without_dropping_clients() {
    let dir = scratch("tls-reload");
    let first = dir.join("first");
    let second = dir.join("second");
    certs(&first);
    certs(&second);
    let live = dir.join("live");
    std::fs::create_dir_all(&live).unwrap();
    for file in ["server.pem", "server.key", "ca.pem"] {
        std::fs::copy(first.join(file), live.join(file)).unwrap();
    }
    let binary = build_fixture("hello", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let server = mtls_server(&binary, &live, &[]);
    let old_tunnel = tunnel(&server.addr, &first, true);
    let mut connected = RpcClient::connect(&old_tunnel.addr).unwrap();
    connected.call("IsMulticlient", json!({})).unwrap();

    // Swap in the second set and reload.
    for file in ["server.pem", "server.key", "ca.pem"] {
        std::fs::copy(second.join(file), live.join(file)).unwrap();
    }
    let status = Command::new("kill")
        .arg("-HUP")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));

    let new_tunnel = tunnel(&server.addr, &second, true);
    assert!(
        answered(&new_tunnel.addr),
        "the reloaded certificates are not served"
    );
    let stale = tunnel(&server.addr, &first, true);
    assert!(
        !answered(&stale.addr),
        "the old CA still works after reload"
    );
    // The client connected before the reload is still served.
    assert_eq!(
        connected.call("IsMulticlient", json!({})).unwrap(),
        json!({"IsMulticlient": true})
    );
}

#[test]
fn rsa_and_ed25519_server_keys_work_too() {
    let binary = build_fixture("hello", &GoToolchain::find("1.26"), &BuildOptions::debug());
    for (name, key_args) in [
        ("rsa", vec!["-newkey", "rsa:2048"]),
        ("ed25519", vec!["-newkey", "ed25519"]),
    ] {
        let dir = scratch(&format!("tls-{name}"));
        let ext = dir.join("server.ext");
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        let openssl = |args: Vec<String>| {
            let out = Command::new("openssl")
                .args(&args)
                .current_dir(&dir)
                .output()
                .expect("run openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // A CA, and a server certificate it signs, both with this key type.
        let mut ca = own(&[
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ]);
        ca.extend(own(&key_args));
        openssl(ca);
        let mut csr = own(&[
            "req",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ]);
        csr.extend(own(&key_args));
        openssl(csr);
        openssl(own(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "server.ext",
        ]));
        let server = start(&[
            "exec",
            binary.to_str().unwrap(),
            "--headless",
            "--listen=127.0.0.1:0",
            "--accept-multiclient",
            &format!("--tls-cert={}", p(&dir, "server.pem")),
            &format!("--tls-key={}", p(&dir, "server.key")),
        ]);
        let tunnel = start(&[
            "tunnel",
            &format!("--connect={}", server.addr),
            &format!("--tls-ca={}", p(&dir, "ca.pem")),
        ]);
        assert!(answered(&tunnel.addr), "{name} server key not served");
    }
}

#[test]
fn dap_over_tls_gets_a_dap_answer() {
    let dir = scratch("tls-dap");
    certs(&dir);
    let binary = build_fixture("hello", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let server = mtls_server(&binary, &dir, &[]);
    let tunnel = tunnel(&server.addr, &dir, true);
    let mut dap = std::net::TcpStream::connect(&tunnel.addr).unwrap();
    let body = r#"{"seq":1,"type":"request","command":"initialize","arguments":{}}"#;
    dap.write_all(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
        .unwrap();
    dap.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let answer = ferret_testkit::dap::read_message(&mut dap).unwrap();
    assert_eq!(answer["command"], "initialize", "{answer}");
    assert_eq!(answer["success"], true, "{answer}");
}

#[test]
fn sixty_four_clients_at_once_and_the_sixty_fifth_refused() {
    let dir = scratch("tls-64");
    certs(&dir);
    let binary = build_fixture("hello", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let server = mtls_server(&binary, &dir, &[]);
    let tunnel = tunnel(&server.addr, &dir, true);
    let mut clients: Vec<RpcClient> = (0..64)
        .map(|_| RpcClient::connect(&tunnel.addr).unwrap())
        .collect();
    for client in &mut clients {
        client.call("IsMulticlient", json!({})).unwrap();
    }
    let mut extra = RpcClient::connect(&tunnel.addr).unwrap();
    let reply = extra
        .request(&json!({"method": "RPCServer.State", "params": [{}], "id": 1}))
        .expect("an error reply");
    assert_eq!(
        reply["error"],
        json!("too many clients: this server accepts at most 64 at once")
    );
    let workers: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            std::thread::spawn(move || {
                (0..200)
                    .filter(|_| client.call("State", json!({"NonBlocking": true})).is_err())
                    .count()
            })
        })
        .collect();
    let failures: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(failures, 0, "State calls failed");
}
