//! Decode throughput of the XML-RPC response decoder, side by side with the `xmlrpc` crate's parser.
//!
//! Inputs: the biggest recorded hub response in `../shared/koji-wire` and a generated ~37 MB
//! `listTagged`-shaped response (16 000 build structs of 28 members).
//!
//! Run with `cargo bench -p koschei-core --bench xmlrpc_decode`.
#![allow(clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use koschei_core::koji::xmlrpc::{self, Struct, Value};

/// An `xmlrpc` transport that answers with fixed bytes.
struct Canned<'a>(&'a [u8]);

impl<'a> ::xmlrpc::Transport for Canned<'a> {
    type Stream = &'a [u8];
    fn transmit(
        self,
        _: &::xmlrpc::Request<'_>,
    ) -> Result<&'a [u8], Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.0)
    }
}

fn tagged_build(i: i64) -> Value {
    let mut s = Struct::new();
    let name = format!("package-number-{i}");
    let ins = |s: &mut Struct, k: &str, v: Value| {
        s.insert(k.to_owned(), v);
    };
    ins(&mut s, "build_id", Value::Int(i));
    ins(&mut s, "id", Value::Int(i));
    ins(&mut s, "name", Value::from(name.as_str()));
    ins(&mut s, "package_name", Value::from(name.as_str()));
    ins(&mut s, "package_id", Value::Int(i / 3));
    ins(
        &mut s,
        "version",
        Value::from(format!("{}.{}.{}", i % 7, i % 13, i % 100)),
    );
    ins(&mut s, "release", Value::from(format!("{}.fc40", i % 20)));
    ins(
        &mut s,
        "epoch",
        if i % 5 == 0 {
            Value::Int(1)
        } else {
            Value::Nil
        },
    );
    ins(&mut s, "nvr", Value::from(format!("{name}-1.0-1.fc40")));
    ins(&mut s, "state", Value::Int(1));
    ins(&mut s, "task_id", Value::Int(100_000_000 + i));
    ins(&mut s, "owner_id", Value::Int(4242));
    ins(&mut s, "owner_name", Value::from("releng &amp; co <bot>"));
    ins(&mut s, "tag_id", Value::Int(612));
    ins(&mut s, "tag_name", Value::from("f40-updates-candidate"));
    ins(&mut s, "create_event", Value::Int(90_000_000 + i));
    ins(&mut s, "creation_event_id", Value::Int(89_000_000 + i));
    ins(
        &mut s,
        "creation_time",
        Value::from("2026-11-24 13:45:28.880461+00:00"),
    );
    ins(
        &mut s,
        "start_time",
        Value::from("2026-11-24 13:45:28.880461+00:00"),
    );
    ins(
        &mut s,
        "completion_time",
        Value::from("2026-11-24 13:46:54.920708+00:00"),
    );
    ins(&mut s, "volume_id", Value::Int(0));
    ins(&mut s, "volume_name", Value::from("DEFAULT"));
    ins(&mut s, "draft", Value::Bool(false));
    ins(&mut s, "promoter_id", Value::Nil);
    ins(&mut s, "promoter_name", Value::Nil);
    ins(&mut s, "promotion_time", Value::Nil);
    ins(&mut s, "size", Value::Int(5_000_000_000 + i));
    ins(&mut s, "weight", Value::Double(1.5 + i as f64));
    Value::Struct(s)
}

/// Runs `f` repeatedly for at least `min` and returns the best time of one run. The value `f` returns is
/// dropped outside the timed section, so freeing the decoded tree is not counted.
fn best_of<T>(min: Duration, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut runs = 0;
    while runs < 3 || start.elapsed() < min {
        let t = Instant::now();
        let out = f();
        best = best.min(t.elapsed());
        drop(black_box(out));
        runs += 1;
    }
    best
}

/// CPU time (user + system) of this thread so far, from `/proc/thread-self/stat` (clock ticks of 10 ms).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Average CPU time of one run of `f`, over at least `min` of CPU time (robust on a loaded machine, where
/// wall-clock times include waiting for a core). `f` runs `batch` times between readings of the CPU clock,
/// and freeing the results is not counted. `None` where `/proc` is not available.
fn cpu_per_run<T>(min: Duration, batch: u32, mut f: impl FnMut() -> T) -> Option<Duration> {
    let start = thread_cpu()?;
    let mut runs = 0u32;
    let mut used = Duration::ZERO;
    let mut dropping = Duration::ZERO;
    let mut outs = Vec::with_capacity(batch as usize);
    while runs < 3 || used < min {
        for _ in 0..batch {
            outs.push(f());
        }
        let before_drop = thread_cpu()?;
        outs.clear();
        dropping += thread_cpu()? - before_drop;
        runs += batch;
        used = thread_cpu()? - start;
    }
    Some((used - dropping.min(used)) / runs)
}

fn report(label: &str, bytes: &[u8], min: Duration) {
    let mb = bytes.len() as f64 / 1e6;
    let ours = best_of(min, || {
        xmlrpc::decode_response(black_box(bytes)).expect("decodes")
    });
    let theirs = best_of(min, || {
        ::xmlrpc::Request::new("bench")
            .call(Canned(black_box(bytes)))
            .expect("decodes")
    });
    let (o, t) = (mb / ours.as_secs_f64(), mb / theirs.as_secs_f64());
    let batch = u32::try_from((4_000_000 / bytes.len().max(1)).clamp(1, 1000)).unwrap_or(1);
    if let (Some(oc), Some(tc)) = (
        cpu_per_run(min, batch, || {
            xmlrpc::decode_response(black_box(bytes)).expect("decodes")
        }),
        cpu_per_run(min, batch, || {
            ::xmlrpc::Request::new("bench")
                .call(Canned(black_box(bytes)))
                .expect("decodes")
        }),
    ) {
        let (oc, tc) = (mb / oc.as_secs_f64(), mb / tc.as_secs_f64());
        println!(
            "{label}: CPU time per run: koschei decoder {oc:.0} MB/s | xmlrpc crate {tc:.0} MB/s | ratio {:.1}x",
            oc / tc
        );
    }
    println!(
        "{label}: {mb:.3} MB | koschei decoder {:.3} ms = {o:.0} MB/s | xmlrpc crate {:.3} ms = {t:.0} MB/s | ratio {:.1}x",
        ours.as_secs_f64() * 1e3,
        theirs.as_secs_f64() * 1e3,
        o / t
    );
}

fn main() {
    let wire = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/koji-wire");
    let mut biggest: Option<(u64, PathBuf)> = None;
    for dir in ["http", "https-sslLogin", "official-python-client"] {
        for e in
            std::fs::read_dir(wire.join(dir)).expect("koji-wire fixtures next to the repository")
        {
            let p = e.expect("entry").path();
            if !p.to_string_lossy().ends_with(".response.xml") {
                continue;
            }
            let len = p.metadata().expect("metadata").len();
            if biggest.as_ref().is_none_or(|(l, _)| len > *l) {
                biggest = Some((len, p));
            }
        }
    }
    let (_, path) = biggest.expect("fixtures");
    let fixture = std::fs::read(&path).expect("readable");
    let name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    report(&format!("fixture {name}"), &fixture, Duration::from_secs(2));

    let items: Vec<Value> = (0..16_000).map(tagged_build).collect();
    let big = xmlrpc::encode_response(&Value::Array(items));
    report(
        "generated listTagged-shaped, 16000 builds",
        &big,
        Duration::from_secs(5),
    );
}
