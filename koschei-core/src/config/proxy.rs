//! HTTP(S) proxies named by the environment, read the way curl reads them (pure: the
//! variables themselves are read by [`super::ConfigSources::from_env`]).
//!
//! * `http://` URLs go through `http_proxy` (lower case only, as curl: `HTTP_PROXY` may be
//!   set by a web server from a request header), else `ALL_PROXY`/`all_proxy`;
//! * `https://` URLs go through `HTTPS_PROXY`/`https_proxy`, else `ALL_PROXY`/`all_proxy`;
//! * hosts listed in `NO_PROXY`/`no_proxy` (comma-separated) are reached directly: an entry
//!   matches the host itself and its subdomains (a leading `.` or `*.` is ignored, a `:port` too),
//!   and `*` matches every host.
//!
//! Lower-case variables win over upper-case ones, empty values count as unset.

use std::fmt;

use super::Error;
use super::secret::mask_url_password;

/// The names of the variables [`Proxies::from_vars`] looks at, in the order they are tried.
pub const PROXY_VARIABLES: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// A proxy URL checked to be usable (`http://`, `https://`, `socks5://`...; credentials
/// allowed). `Display` and `Debug` mask the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    url: String,
    variable: String,
}

impl ProxyUrl {
    /// The URL with its credentials, for the HTTP client only.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The environment variable that named it.
    pub fn variable(&self) -> &str {
        &self.variable
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_url_password(&self.url))
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ProxyUrl({:?} from {})",
            mask_url_password(&self.url),
            self.variable
        )
    }
}

/// Which proxy each outgoing request uses (see the module docs); the default is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    http: Option<ProxyUrl>,
    https: Option<ProxyUrl>,
    no_proxy: Vec<String>,
}

impl Proxies {
    /// No proxy: every request goes directly.
    pub fn none() -> Proxies {
        Proxies::default()
    }

    /// The proxies the variables `vars` (name, value) name; other names are ignored.
    pub fn from_vars<'a>(
        vars: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Proxies, Error> {
        let vars: Vec<(&str, &str)> = vars
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| vars.iter().find(|(k, _)| k == n).copied())
        };
        let parse = |found: Option<(&str, &str)>| -> Result<Option<ProxyUrl>, Error> {
            let Some((name, value)) = found else {
                return Ok(None);
            };
            let url = value.trim().to_owned();
            ureq::Proxy::new(&url).map_err(|e| Error::Value {
                key: name.to_owned(),
                origin: format!("environment variable `{name}`"),
                message: format!("`{}` is not a proxy URL: {e}", mask_url_password(&url)),
            })?;
            Ok(Some(ProxyUrl {
                url,
                variable: name.to_owned(),
            }))
        };
        let all = ["all_proxy", "ALL_PROXY"];
        let http = parse(get(&["http_proxy"]).or_else(|| get(&all)))?;
        let https = parse(get(&["https_proxy", "HTTPS_PROXY"]).or_else(|| get(&all)))?;
        let no_proxy = get(&["no_proxy", "NO_PROXY"])
            .map(|(_, v)| {
                v.split([',', ' ', '\t'])
                    .filter_map(normalize_entry)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Proxies {
            http,
            https,
            no_proxy,
        })
    }

    /// The proxy for `http://` URLs.
    pub fn http(&self) -> Option<&ProxyUrl> {
        self.http.as_ref()
    }

    /// The proxy for `https://` URLs.
    pub fn https(&self) -> Option<&ProxyUrl> {
        self.https.as_ref()
    }

    /// Whether `host` is reached directly because `NO_PROXY` lists it.
    pub fn bypasses(&self, host: &str) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        self.no_proxy.iter().any(|e| {
            e == "*"
                || host == *e
                || (host.len() > e.len()
                    && host.ends_with(e.as_str())
                    && host.as_bytes()[host.len() - e.len() - 1] == b'.')
        })
    }

    /// The proxy a request to `url` goes through; `None` means directly.
    pub fn for_url(&self, url: &str) -> Option<&ProxyUrl> {
        let (scheme, rest) = url.split_once("://")?;
        let proxy = match scheme.to_ascii_lowercase().as_str() {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => None,
        }?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or(authority);
        let host = if let Some(v6) = host_port.strip_prefix('[') {
            v6.split(']').next().unwrap_or(v6)
        } else {
            host_port.split(':').next().unwrap_or(host_port)
        };
        (!self.bypasses(host)).then_some(proxy)
    }
}

/// A `NO_PROXY` entry as matched: lower case, without `*.`/`.` prefix and `:port`.
fn normalize_entry(e: &str) -> Option<String> {
    let e = e.trim();
    if e.is_empty() {
        return None;
    }
    if e == "*" {
        return Some("*".to_owned());
    }
    let e = e.strip_prefix("*.").unwrap_or(e).trim_start_matches('.');
    let e = if let Some(v6) = e.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else if e.matches(':').count() == 1 {
        e.split(':').next().unwrap_or(e)
    } else {
        e
    };
    let e = e.trim_end_matches('.').to_ascii_lowercase();
    (!e.is_empty()).then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(vars: &[(&str, &str)]) -> Proxies {
        Proxies::from_vars(vars.iter().copied()).unwrap()
    }

    #[test]
    fn each_scheme_has_its_variable_and_all_proxy_is_the_fallback() {
        let p = proxies(&[
            ("http_proxy", "http://plain:3128"),
            ("HTTPS_PROXY", "http://secure:3128"),
            ("ALL_PROXY", "http://all:3128"),
        ]);
        assert_eq!(
            p.for_url("http://a.example/x").map(ProxyUrl::expose),
            Some("http://plain:3128")
        );
        assert_eq!(
            p.for_url("https://a.example/x").map(ProxyUrl::expose),
            Some("http://secure:3128")
        );
        let p = proxies(&[("all_proxy", "http://all:3128")]);
        assert_eq!(
            p.for_url("http://a.example").map(ProxyUrl::variable),
            Some("all_proxy")
        );
        assert_eq!(
            p.for_url("https://a.example").map(ProxyUrl::variable),
            Some("all_proxy")
        );
        assert_eq!(p.for_url("ftp://a.example"), None);
    }

    #[test]
    fn upper_case_http_proxy_is_ignored_and_lower_case_wins() {
        let p = proxies(&[("HTTP_PROXY", "http://from-a-header:1")]);
        assert_eq!(p.for_url("http://a.example"), None);
        let p = proxies(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:1"),
        ]);
        assert_eq!(
            p.for_url("https://a.example").map(ProxyUrl::expose),
            Some("http://lower:1")
        );
        let p = proxies(&[("https_proxy", " "), ("HTTPS_PROXY", "http://upper:1")]);
        assert_eq!(
            p.for_url("https://a.example").map(ProxyUrl::expose),
            Some("http://upper:1")
        );
    }

    #[test]
    fn no_proxy_matches_hosts_and_their_subdomains() {
        let p = proxies(&[
            ("ALL_PROXY", "http://proxy:3128"),
            (
                "NO_PROXY",
                "example.com, .internal,*.corp:8080,127.0.0.1,[::1]",
            ),
        ]);
        for direct in [
            "http://example.com/x",
            "https://www.example.com/",
            "http://a.internal",
            "http://b.corp/",
            "http://corp",
            "http://127.0.0.1:8080/repo",
            "http://[::1]:80/",
            "https://user:pw@Example.COM./",
        ] {
            assert_eq!(p.for_url(direct), None, "{direct}");
        }
        for proxied in [
            "http://notexample.com/",
            "http://example.com.evil/",
            "http://127.0.0.2/",
        ] {
            assert!(p.for_url(proxied).is_some(), "{proxied}");
        }
        let all = proxies(&[("ALL_PROXY", "http://proxy:3128"), ("no_proxy", "*")]);
        assert_eq!(all.for_url("https://anything"), None);
    }

    #[test]
    fn a_bad_proxy_url_names_the_variable_and_masks_the_password() {
        let err = Proxies::from_vars([("HTTPS_PROXY", "gopher://user:secret@proxy:70")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("HTTPS_PROXY"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        let p = proxies(&[("https_proxy", "http://user:secret@proxy:3128")]);
        let shown = format!("{p:?} {}", p.https().unwrap());
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(p.https().unwrap().expose(), "http://user:secret@proxy:3128");
    }
}
