//! The server under hostile or careless clients: descriptor exhaustion, clients that never
//! read, partial and oversized request heads, dead pooled connections, an unmigrated
//! database. Bounded, on 127.0.0.1 only.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::{App, TestDb, seed, try_request};
use crate::process::WebProcess;

/// GET `path` until it answers `status` or `within` passes; the last outcome on failure.
fn eventually(url: &str, path: &str, status: u16, within: Duration) -> Result<(), String> {
    let until = Instant::now() + within;
    loop {
        let outcome = try_request(url, "GET", path, Duration::from_secs(2));
        match &outcome {
            Ok(r) if r.status == status => return Ok(()),
            _ if Instant::now() >= until => {
                return Err(format!("{path}: {:?}", outcome.map(|r| (r.status, r.body))));
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The status of the first response line on `s`, or the I/O error kind that ended it.
fn status_of(s: &mut TcpStream) -> Result<u16, ErrorKind> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&chunk[..n]);
                if raw.windows(2).any(|w| w == b"\r\n") {
                    break;
                }
            }
            Err(e) => return Err(e.kind()),
        }
    }
    String::from_utf8_lossy(&raw)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(ErrorKind::UnexpectedEof)
}

#[test]
fn accept_survives_descriptor_exhaustion() {
    let db = TestDb::new();
    seed(&mut db.client());
    // About 30 descriptors are left for clients under this limit.
    let mut web = WebProcess::start(
        &db.url(),
        &["--workers", "2", "--db-connections", "2"],
        Some(40),
    );
    let url = web.url();
    eventually(&url, "/healthz", 200, Duration::from_secs(5)).unwrap();
    // Hold many more connections than there are descriptors.
    let held: Vec<TcpStream> = (0..120)
        .filter_map(|_| TcpStream::connect(web.addr()).ok())
        .collect();
    assert!(held.len() > 60, "only {} connections made", held.len());
    std::thread::sleep(Duration::from_millis(500));
    // While descriptors are exhausted, a new client is answered (503) or refused at once,
    // never left waiting.
    let started = Instant::now();
    let during = try_request(&url, "GET", "/healthz", Duration::from_secs(5));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "client left waiting during exhaustion: {:?}",
        during.map(|r| r.status)
    );
    if let Ok(r) = &during {
        assert_eq!(r.status, 503, "{}", r.body);
    }
    drop(held);
    // Descriptors are free again: the same listener serves again.
    eventually(&url, "/healthz", 200, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{e}\nlog:\n{}", web.log()));
    assert!(web.alive());
    assert!(
        web.log().contains("accepting a connection failed"),
        "{}",
        web.log()
    );
}

/// A client that asks for a large response and never reads it: a small receive buffer so
/// that the server's writes block.
fn slow_reader(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&addr.into()).unwrap();
    let mut s: TcpStream = socket.into();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    s
}

#[test]
fn clients_that_do_not_read_are_cut_off_without_starving_others() {
    let db = TestDb::new();
    // The body must exceed what the kernel buffers for a client that does not read: the
    // largest send buffer (`tcp_wmem`) and a small receive buffer. Each package is about
    // 1,080 bytes of JSON.
    let wmem_max: i64 = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20);
    let packages = wmem_max * 5 / 4 / 1000;
    let mut client = db.client();
    client
        .batch_execute(
            "INSERT INTO collection (id, \"order\", name, display_name, target, dest_tag, build_tag)
             VALUES (1, 100, 'f25', 'Fedora Rawhide', 'f25', 'f25', 'f25-build')",
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO base_package (id, name)
             SELECT i, repeat('long-name-', 100) || i FROM generate_series(1, $1::int8) i",
            &[&packages],
        )
        .unwrap();
    client
        .batch_execute(
            "INSERT INTO package (base_id, name, collection_id, tracked)
             SELECT id, name, 1, true FROM base_package",
        )
        .unwrap();
    let web = WebProcess::start(
        &db.url(),
        &[
            "--workers",
            "4",
            "--write-timeout",
            "3",
            "--cache-ttl-ms",
            "0",
        ],
        None,
    );
    let url = web.url();
    // Eight clients ask for the package list (5 MB) and do not read it.
    let mut slow: Vec<TcpStream> = (0..8)
        .map(|_| slow_reader(web.addr(), "/api/v1/packages"))
        .collect();
    // Wait until every response is computed and being written.
    let until = Instant::now() + Duration::from_secs(20);
    for s in &slow {
        s.set_nonblocking(true).unwrap();
        while s.peek(&mut [0u8; 1]).is_err() {
            assert!(
                Instant::now() < until,
                "a client got no response within 20 s while the others do not read"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        s.set_nonblocking(false).unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let health = try_request(&url, "GET", "/healthz", Duration::from_secs(3));
    assert_eq!(
        health.as_ref().map(|r| r.status).map_err(|e| e.kind()),
        Ok(200),
        "healthz while 8 clients do not read"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // After the write timeout the server gives up on them: what was sent arrives, then the
    // connection ends, short of the whole body.
    std::thread::sleep(Duration::from_secs(3));
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut raw = Vec::new();
        let ended = loop {
            let mut chunk = [0u8; 65536];
            match s.read(&mut chunk) {
                Ok(0) => break Ok(()),
                Ok(n) => raw.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                    break Err("still open");
                }
                Err(_) => break Ok(()),
            }
        };
        assert_eq!(
            ended,
            Ok(()),
            "slow client not cut off after {} bytes",
            raw.len()
        );
        let text = String::from_utf8_lossy(&raw);
        let length: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|v| v.trim().parse().ok())
            .expect("a Content-Length header");
        let body = raw.len() - text.find("\r\n\r\n").map_or(0, |i| i + 4);
        assert!(length as i64 > wmem_max, "{length}");
        assert!(body < length, "the whole body was delivered ({body} bytes)");
    }
    assert_eq!(
        try_request(&url, "GET", "/healthz", Duration::from_secs(3))
            .map(|r| r.status)
            .ok(),
        Some(200)
    );
}

#[test]
fn partial_requests_time_out_and_connections_stay_bounded() {
    let db = TestDb::new();
    seed(&mut db.client());
    let web = WebProcess::start(
        &db.url(),
        &[
            "--workers",
            "2",
            "--max-connections",
            "50",
            "--read-timeout",
            "1",
        ],
        None,
    );
    let baseline = web.threads();
    let mut partial: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut s = TcpStream::connect(web.addr()).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let threads = web.threads();
    assert!(
        threads <= baseline + 50,
        "{threads} threads for 300 partial requests (baseline {baseline})"
    );
    // Connections over the limit are refused at once; the others time out with 408.
    let started = Instant::now();
    let (mut timed_out, mut refused) = (0, 0);
    for s in &mut partial {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        match status_of(s) {
            Ok(408) => timed_out += 1,
            Ok(503) | Err(ErrorKind::ConnectionReset) => refused += 1,
            other => panic!("partial request answered {other:?}"),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(timed_out > 0 && timed_out <= 50, "{timed_out} timed out");
    assert_eq!(timed_out + refused, 300);
    eventually(&web.url(), "/healthz", 200, Duration::from_secs(5)).unwrap();
    assert!(
        web.threads() <= baseline + 2,
        "{} threads left",
        web.threads()
    );
}

/// Sends `head` (in a thread, since the server stops reading) and returns the status.
fn send_head(addr: std::net::SocketAddr, head: Vec<u8>) -> Result<u16, ErrorKind> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut writer = s.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&head);
    });
    let status = status_of(&mut s);
    drop(s);
    let _ = sender.join();
    status
}

#[test]
fn oversized_request_lines_and_headers_are_refused() {
    let db = TestDb::new();
    seed(&mut db.client());
    let web = WebProcess::start(&db.url(), &["--workers", "2"], None);
    let addr = web.addr();
    let mut line = b"GET /".to_vec();
    line.extend(std::iter::repeat_n(b'a', 10 << 20));
    line.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    assert_eq!(send_head(addr, line), Ok(414));
    let mut big = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'b', 10 << 20));
    big.extend_from_slice(b"\r\n\r\n");
    assert_eq!(send_head(addr, big), Ok(431));
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..100_000 {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    assert_eq!(send_head(addr, many), Ok(431));
    // Four huge headers at once do not make the server hold them.
    let senders: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut h = b"GET / HTTP/1.1\r\nX-Huge: ".to_vec();
                h.extend(std::iter::repeat_n(b'c', 50 << 20));
                h.extend_from_slice(b"\r\n\r\n");
                send_head(addr, h)
            })
        })
        .collect();
    for s in senders {
        assert_eq!(s.join().unwrap(), Ok(431));
    }
    let peak_mib = web.status_kib("VmHWM") / 1024;
    assert!(peak_mib < 100, "peak RSS {peak_mib} MiB");
    let r = try_request(&web.url(), "GET", "/healthz", Duration::from_secs(3)).unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn access_log_cuts_long_urls() {
    let db = TestDb::new();
    seed(&mut db.client());
    let web = WebProcess::start(&db.url(), &["--workers", "1"], None);
    let path = format!("/package/{}", "x".repeat(8000));
    let r = try_request(&web.url(), "GET", &path, Duration::from_secs(5)).unwrap();
    assert_eq!(r.status, 404);
    let until = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let log = web.log();
        if let Some(l) = log
            .lines()
            .find(|l| l.contains("koschei_web::access") && l.contains("xxxx"))
        {
            break l.to_owned();
        }
        assert!(Instant::now() < until, "no access log line:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(line.len() < 600, "{} bytes: {line}", line.len());
    assert!(line.contains("(8009 bytes)"), "{line}");
}

#[test]
fn connections_terminated_while_requests_run_are_replaced_without_errors() {
    let app = App::start_lazy(koschei_web::Options {
        workers: 4,
        cache_ttl: Duration::ZERO,
        ..koschei_web::Options::default()
    });
    let url = app.server.url();
    let mut admin = app.db.client();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Requests run while backends are terminated under them, at any point of a request.
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = try_request(&url, "GET", "/package/rnv", Duration::from_secs(10));
                    statuses.push(match r {
                        Ok(r) if r.status == 200 => "200".to_owned(),
                        Ok(r) => format!("{} {}", r.status, r.body.trim()),
                        Err(e) => format!("no answer: {e:?}"),
                    });
                }
                statuses
            })
        })
        .collect();
    // Each request may meet a termination; a request is retried on a fresh connection at
    // most `max_size + 1` times, so the terminations are spaced wider than a request lasts
    // even on a loaded machine.
    let mut terminated = 0;
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(250));
        terminated += admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&app.db.name()],
            )
            .unwrap()
            .len();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let statuses: Vec<String> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(terminated >= 5, "only {terminated} backends terminated");
    assert!(statuses.len() >= 10, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| s == "200"),
        "{} of {} requests failed after {terminated} terminations: {statuses:?}",
        statuses.iter().filter(|s| *s != "200").count(),
        statuses.len()
    );
}

#[test]
fn dead_pooled_connections_are_replaced_without_errors() {
    let app = App::start_lazy(koschei_web::Options {
        workers: 4,
        cache_ttl: Duration::ZERO,
        ..koschei_web::Options::default()
    });
    let url = app.server.url();
    // Several requests at once, so that the pool holds several connections.
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                try_request(&url, "GET", "/package/rnv", Duration::from_secs(10))
                    .map(|r| r.status)
                    .ok()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Some(200));
    }
    let mut admin = app.db.client();
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&app.db.name()],
        )
        .unwrap()
        .len();
    assert!(killed >= 1, "no pooled connection to terminate");
    // pg_terminate_backend only signals: wait until the backends are gone, so that no
    // request races a backend that is still dying mid-query.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&app.db.name()],
            )
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{left} backends still alive"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for i in 0..10 {
        let r = try_request(&url, "GET", "/package/rnv", Duration::from_secs(10)).unwrap();
        assert_eq!(
            r.status, 200,
            "request {i} after terminating {killed}: {}",
            r.body
        );
    }
}

#[test]
fn healthz_fails_on_an_unmigrated_database() {
    let db = TestDb::empty();
    let server =
        koschei_web::serve("127.0.0.1:0", db.pool(), koschei_web::Options::default()).unwrap();
    let r = try_request(&server.url(), "GET", "/healthz", Duration::from_secs(5)).unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("schema is not current"), "{}", r.body);
    assert!(r.body.contains("koschei db migrate"), "{}", r.body);
    // Pages say the same instead of a bare 500.
    let r = try_request(&server.url(), "GET", "/", Duration::from_secs(5)).unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("koschei db migrate"), "{}", r.body);
    koschei_core::db::migrate::migrate(&mut db.client()).unwrap();
    let r = try_request(&server.url(), "GET", "/healthz", Duration::from_secs(5)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn unknown_query_parameters_share_one_cache_entry() {
    let app = App::start_with(koschei_web::Options {
        cache_ttl: Duration::from_secs(600),
        ..koschei_web::Options::default()
    });
    let manual = |path: &str| {
        let body = app.get(path).body;
        body.split("<th>Manual priority</th><td>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .map(str::to_owned)
    };
    assert_eq!(manual("/package/rnv?junk=1").as_deref(), Some("5"));
    app.db
        .client()
        .execute("UPDATE package SET manual_priority = 77 WHERE id = 1", &[])
        .unwrap();
    // Junk parameters reach the same entry; a parameter the page reads does not.
    assert_eq!(manual("/package/rnv?other=2&more=3").as_deref(), Some("5"));
    assert_eq!(manual("/package/rnv").as_deref(), Some("5"));
    assert_eq!(manual("/package/rnv?collection=f25").as_deref(), Some("77"));
}
