//! Kerberos (SPNEGO) tokens for `sslLogin` (shell module): credentials from the configured keytab or
//! credential cache, acquired again at every login so that an expired ticket is replaced from the
//! keytab. The GSSAPI calls live in `koschei-gss`, behind the `gssapi` cargo feature.

use super::client::GssapiLogin;
use super::error::Error;

/// Credentials for one login and the hub's host (`HTTP@host` is the service).
#[derive(Debug)]
pub(crate) struct Negotiator {
    #[cfg(feature = "gssapi")]
    initiator: koschei_gss::Initiator,
    principal: String,
    host: String,
}

/// The host of a hub URL, without port, user info or IPv6 brackets.
pub(crate) fn service_host(server: &str) -> String {
    let rest = server.split_once("://").map_or(server, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6).to_owned();
    }
    host_port.split(':').next().unwrap_or(host_port).to_owned()
}

#[cfg(feature = "gssapi")]
impl Negotiator {
    /// Acquires the client credentials (from the keytab when one is configured).
    pub(crate) fn acquire(login: &GssapiLogin, server: &str) -> Result<Negotiator, Error> {
        let source = koschei_gss::InitiatorSource {
            principal: login.principal.clone(),
            keytab: login.keytab.clone(),
            ccache: login.ccache.clone(),
        };
        let initiator = koschei_gss::Initiator::acquire(&source).map_err(|e| Error::Kerberos {
            principal: source.describe(),
            expired: e.kind() == koschei_gss::ErrorKind::Expired,
            message: e.to_string(),
        })?;
        Ok(Negotiator {
            principal: initiator.principal().to_owned(),
            initiator,
            host: service_host(server),
        })
    }

    /// A fresh `Negotiate <base64 token>` header value.
    pub(crate) fn header(&self) -> Result<String, Error> {
        use base64::Engine as _;
        let token = self
            .initiator
            .token_for(&self.host)
            .map_err(|e| Error::Kerberos {
                principal: self.principal.clone(),
                expired: e.kind() == koschei_gss::ErrorKind::Expired,
                message: e.to_string(),
            })?;
        Ok(format!(
            "Negotiate {}",
            base64::engine::general_purpose::STANDARD.encode(token)
        ))
    }
}

#[cfg(not(feature = "gssapi"))]
impl Negotiator {
    /// Always an error: this build has no GSSAPI.
    pub(crate) fn acquire(login: &GssapiLogin, server: &str) -> Result<Negotiator, Error> {
        let _ = service_host(server);
        Err(Error::Kerberos {
            principal: login.principal.clone().unwrap_or_default(),
            expired: false,
            message: "this build of Koschei has no GSSAPI support (cargo feature `gssapi`)".into(),
        })
    }

    /// Never called: no `Negotiator` exists without the feature.
    pub(crate) fn header(&self) -> Result<String, Error> {
        Err(Error::Kerberos {
            principal: self.principal.clone(),
            expired: false,
            message: format!("no GSSAPI support to reach {}", self.host),
        })
    }
}

impl Negotiator {
    /// The client principal.
    pub(crate) fn principal(&self) -> &str {
        &self.principal
    }
}

#[cfg(test)]
mod tests {
    use super::service_host;

    #[test]
    fn service_host_is_the_url_host() {
        for (url, host) in [
            (
                "https://koji.fedoraproject.org/kojihub",
                "koji.fedoraproject.org",
            ),
            ("http://localhost:8080/kojihub", "localhost"),
            (
                "https://user@hub.example.org:443/kojihub?x=1",
                "hub.example.org",
            ),
            ("https://[::1]:8443/kojihub", "::1"),
            ("hub.example.org", "hub.example.org"),
        ] {
            assert_eq!(service_host(url), host, "{url}");
        }
    }
}
