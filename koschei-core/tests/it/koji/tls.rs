//! `sslLogin` over real TLS with a client certificate: a small TLS front end (like Apache with
//! `SSLVerifyClient require`) checks the certificate and forwards each request to the fake hub.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use koschei_core::koji::{Call, Client, ClientOptions, Error, Login, SslLogin, Value};
use koschei_fakehub::FakeHub;
use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod, SslVerifyMode};

fn tls_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/koji-tls")
}

/// Starts the TLS front end; returns its port and the client certificate CNs it accepted.
fn tls_front(hub_port: u16) -> (u16, Arc<Mutex<Vec<String>>>) {
    let dir = tls_dir();
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).expect("acceptor");
    b.set_private_key_file(dir.join("hub.key"), SslFiletype::PEM)
        .expect("key");
    b.set_certificate_chain_file(dir.join("hub.crt"))
        .expect("cert");
    b.set_ca_file(dir.join("client.crt")).expect("client CA");
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    let acceptor = Arc::new(b.build());
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let acceptor = acceptor.clone();
            let seen = seen2.clone();
            std::thread::spawn(move || {
                let Ok(mut tls) = acceptor.accept(stream) else {
                    return;
                };
                let cn = tls
                    .ssl()
                    .peer_certificate()
                    .and_then(|c| {
                        c.subject_name()
                            .entries_by_nid(openssl::nid::Nid::COMMONNAME)
                            .next()
                            .map(|e| String::from_utf8_lossy(e.data().as_slice()).into_owned())
                    })
                    .unwrap_or_default();
                seen.lock().expect("lock").push(cn);
                // One request per connection, forwarded verbatim to the plain-HTTP fake hub.
                let mut reader = BufReader::new(&mut tls);
                let mut head = Vec::new();
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    let end = line == "\r\n";
                    head.extend_from_slice(line.as_bytes());
                    if end {
                        break;
                    }
                }
                let mut body = vec![0; len];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let mut up = TcpStream::connect(("127.0.0.1", hub_port)).expect("hub");
                up.write_all(&head).expect("forward");
                up.write_all(&body).expect("forward");
                let mut resp_reader = BufReader::new(up);
                let mut resp_head = String::new();
                let mut resp_len = 0usize;
                loop {
                    let mut line = String::new();
                    resp_reader.read_line(&mut line).expect("response");
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        resp_len = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        resp_head.push_str("Connection: close\r\n\r\n");
                        break;
                    }
                    resp_head.push_str(&line);
                }
                let mut resp_body = vec![0; resp_len];
                resp_reader
                    .read_exact(&mut resp_body)
                    .expect("response body");
                let _ = tls.write_all(resp_head.as_bytes());
                let _ = tls.write_all(&resp_body);
                let _ = tls.shutdown();
            });
        }
    });
    (port, seen)
}

fn options(port: u16, login: Login) -> ClientOptions {
    ClientOptions {
        server: format!("https://127.0.0.1:{port}/kojihub"),
        max_retries: 1,
        retry_interval: std::time::Duration::from_millis(5),
        login,
        ..ClientOptions::default()
    }
}

fn hub_port(hub: &FakeHub) -> u16 {
    hub.url()
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/kojihub")
        .parse()
        .expect("port")
}

#[test]
fn ssl_login_presents_the_client_certificate_over_native_tls() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let (port, seen) = tls_front(hub_port(&hub));
    let dir = tls_dir();
    for ssl in [
        SslLogin {
            cert: dir.join("client-combined.pem"),
            key: None,
            ca: Some(dir.join("hub-ca.crt")),
        },
        SslLogin {
            cert: dir.join("client.crt"),
            key: Some(dir.join("client.key")),
            ca: Some(dir.join("hub-ca.crt")),
        },
    ] {
        let c = Client::new(options(port, Login::Ssl(ssl))).expect("client");
        let user = c
            .call(&Call::new("getLoggedInUser"))
            .expect("logged in over TLS");
        assert_eq!(user.get("authtype"), Some(&Value::Int(2)));
    }
    let seen = seen.lock().expect("lock").clone();
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(seen.iter().all(|cn| cn == "koschei"), "{seen:?}");
}

#[test]
fn an_untrusted_hub_certificate_is_a_transport_error_and_not_retried() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let (port, seen) = tls_front(hub_port(&hub));
    let dir = tls_dir();
    let ssl = SslLogin {
        cert: dir.join("client-combined.pem"),
        key: None,
        ca: None,
    };
    let c = Client::new(ClientOptions {
        max_retries: 5,
        ..options(port, Login::Ssl(ssl))
    })
    .expect("client");
    let err = c
        .call(&Call::new("getLoggedInUser"))
        .expect_err("hub certificate not trusted");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(
        seen.lock().expect("lock").is_empty(),
        "no handshake completed"
    );
    assert!(hub.calls().is_empty());
}

#[test]
fn a_client_certificate_the_hub_does_not_trust_fails_the_handshake() {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    let (port, seen) = tls_front(hub_port(&hub));
    let dir = tls_dir();
    // The hub's own certificate is a valid certificate, but not one the front end accepts from clients.
    let ssl = SslLogin {
        cert: dir.join("hub.crt"),
        key: Some(dir.join("hub.key")),
        ca: Some(dir.join("hub-ca.crt")),
    };
    let c = Client::new(options(port, Login::Ssl(ssl))).expect("client");
    let err = c
        .call(&Call::new("getAPIVersion"))
        .expect_err("client certificate refused");
    assert!(
        seen.lock().expect("lock").is_empty(),
        "no handshake completed"
    );
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(hub.calls().is_empty());
}
