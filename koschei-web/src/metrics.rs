//! `/metrics`: Prometheus text format (version 0.0.4). Package states per collection, the
//! latest repo of each collection and its age (from the database, on every scrape), and
//! this process's request counts and latencies by route.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use koschei_core::db::web::CollectionMetrics;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// The route label of a request target: the first path segment when it is one of the
/// site's routes, `other` otherwise, so that clients cannot grow the label set.
pub(crate) fn route_label(target: &str) -> &'static str {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    match segs.next() {
        None => "index",
        Some("api") => match (segs.next(), segs.next()) {
            (Some("v1"), Some("packages")) => "api_packages",
            (Some("v1"), Some("collections")) => "api_collections",
            _ => "api_other",
        },
        Some(first) => [
            "package",
            "packages",
            "build",
            "collection",
            "collections",
            "groups",
            "search",
            "stats",
            "affected-by",
            "unified",
            "documentation",
            "badge",
            "bugreport",
            "healthz",
            "metrics",
            "static",
            "favicon.ico",
        ]
        .into_iter()
        .find(|r| *r == first)
        .unwrap_or("other"),
    }
}

#[derive(Debug, Default, Clone)]
struct Series {
    /// Requests per status code.
    statuses: BTreeMap<u16, u64>,
    /// Cumulative counts per bucket of [`BUCKETS`].
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request counts and latencies of this process, by route.
#[derive(Debug, Default)]
pub(crate) struct HttpMetrics {
    series: Mutex<BTreeMap<&'static str, Series>>,
}

impl HttpMetrics {
    /// Records one answered (or refused) request.
    pub(crate) fn observe(&self, route: &'static str, status: u16, took: Duration) {
        let secs = took.as_secs_f64();
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = series.entry(route).or_default();
        *s.statuses.entry(status).or_insert(0) += 1;
        for (b, upper) in s.buckets.iter_mut().zip(BUCKETS) {
            if secs <= upper {
                *b += 1;
            }
        }
        s.count += 1;
        s.sum += secs;
    }

    fn snapshot(&self) -> BTreeMap<&'static str, Series> {
        self.series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A label value escaped as the text format wants (backslash, quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The whole `/metrics` page; `collections` is `None` when the database could not be read
/// (then `koschei_database_up` is 0 and only the process's own figures follow).
pub(crate) fn render(collections: Option<&[CollectionMetrics]>, http: &HttpMetrics) -> String {
    let mut o = String::new();
    let head = |o: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    head(
        &mut o,
        "koschei_database_up",
        "gauge",
        "Whether the database answered this scrape with a current schema.",
    );
    let _ = writeln!(o, "koschei_database_up {}", u8::from(collections.is_some()));
    if let Some(cs) = collections {
        head(
            &mut o,
            "koschei_packages",
            "gauge",
            "Packages per collection and state.",
        );
        for c in cs {
            for (state, n) in &c.packages {
                let _ = writeln!(
                    o,
                    "koschei_packages{{collection=\"{}\",state=\"{state}\"}} {n}",
                    label(&c.name)
                );
            }
        }
        head(
            &mut o,
            "koschei_running_builds",
            "gauge",
            "Scratch builds submitted to Koji and not finished, per collection.",
        );
        for c in cs {
            let _ = writeln!(
                o,
                "koschei_running_builds{{collection=\"{}\"}} {}",
                label(&c.name),
                c.running_builds
            );
        }
        head(
            &mut o,
            "koschei_collection_latest_repo_id",
            "gauge",
            "Id of the latest Koji repo of the collection's build tag that was resolved.",
        );
        for c in cs {
            if let Some(id) = c.latest_repo_id {
                let _ = writeln!(
                    o,
                    "koschei_collection_latest_repo_id{{collection=\"{}\"}} {id}",
                    label(&c.name)
                );
            }
        }
        head(
            &mut o,
            "koschei_collection_latest_repo_age_seconds",
            "gauge",
            "Seconds since the latest repo was recorded (absent when unknown).",
        );
        for c in cs {
            if let Some(age) = c.latest_repo_age_seconds {
                let _ = writeln!(
                    o,
                    "koschei_collection_latest_repo_age_seconds{{collection=\"{}\"}} {:.3}",
                    label(&c.name),
                    age.max(0.0)
                );
            }
        }
        head(
            &mut o,
            "koschei_collection_buildroot_resolved",
            "gauge",
            "Whether the build group installs in the latest repo (1), or not (0).",
        );
        for c in cs {
            if let Some(r) = c.latest_repo_resolved {
                let _ = writeln!(
                    o,
                    "koschei_collection_buildroot_resolved{{collection=\"{}\"}} {}",
                    label(&c.name),
                    u8::from(r)
                );
            }
        }
    }
    let series = http.snapshot();
    head(
        &mut o,
        "koschei_web_requests_total",
        "counter",
        "Requests answered by this process, by route and status.",
    );
    for (route, s) in &series {
        for (status, n) in &s.statuses {
            let _ = writeln!(
                o,
                "koschei_web_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
    }
    head(
        &mut o,
        "koschei_web_request_duration_seconds",
        "histogram",
        "Time from a complete request head to the reply being ready, by route.",
    );
    for (route, s) in &series {
        for (n, upper) in s.buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                o,
                "koschei_web_request_duration_seconds_bucket{{route=\"{route}\",le=\"{upper}\"}} {n}"
            );
        }
        let _ = writeln!(
            o,
            "koschei_web_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
             koschei_web_request_duration_seconds_sum{{route=\"{route}\"}} {:.6}\n\
             koschei_web_request_duration_seconds_count{{route=\"{route}\"}} {}",
            s.count, s.sum, s.count
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_are_a_closed_set() {
        assert_eq!(route_label("/"), "index");
        assert_eq!(route_label("/package/foo?collection=f44"), "package");
        assert_eq!(route_label("/api/v1/packages?name=x"), "api_packages");
        assert_eq!(route_label("/api/v2/x"), "api_other");
        assert_eq!(route_label("/no-such-page/with/junk"), "other");
        assert_eq!(route_label("/%00weird"), "other");
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_counts_add_up() {
        let m = HttpMetrics::default();
        m.observe("package", 200, Duration::from_micros(500));
        m.observe("package", 200, Duration::from_millis(30));
        m.observe("package", 404, Duration::from_secs(9));
        let text = render(None, &m);
        assert!(text.contains("koschei_database_up 0"), "{text}");
        assert!(text.contains("koschei_web_requests_total{route=\"package\",status=\"200\"} 2"));
        assert!(text.contains("koschei_web_requests_total{route=\"package\",status=\"404\"} 1"));
        assert!(
            text.contains("_bucket{route=\"package\",le=\"0.001\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("_bucket{route=\"package\",le=\"0.05\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("_bucket{route=\"package\",le=\"5\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("_bucket{route=\"package\",le=\"+Inf\"} 3"),
            "{text}"
        );
        assert!(text.contains("koschei_web_request_duration_seconds_count{route=\"package\"} 3"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
