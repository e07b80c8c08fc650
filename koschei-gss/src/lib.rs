//! Kerberos (GSSAPI) for Koschei's Koji login: SPNEGO tokens for `Authorization: Negotiate`, made
//! with credentials from a client keytab or a credential cache, and the acceptor side that verifies
//! such a token with a service keytab (used by the test hub).
//!
//! Everything goes through the system's MIT `libgssapi_krb5` via the [`libgssapi`] crate.
//! That crate has no safe call for `gss_acquire_cred_from` (credentials from a given keytab or
//! credential cache rather than the process defaults), which is what a service with its own keytab
//! needs; the one `unsafe` function of this crate, [`acquire_from`], makes that call.
//! It is isolated here so that every other crate keeps `unsafe_code` denied.
//!
//! Re-acquiring: with a client keytab, MIT gets a fresh ticket from the keytab whenever the
//! credential cache holds none or an expired one, so acquiring again after the hub closed a session
//! is all a caller has to do.
//!
//! ```no_run
//! use koschei_gss::{Initiator, InitiatorSource};
//!
//! let source = InitiatorSource {
//!     principal: Some("koschei/host.example.org@EXAMPLE.ORG".into()),
//!     keytab: Some("/etc/koschei/koschei.keytab".into()),
//!     ccache: None,
//! };
//! let initiator = Initiator::acquire(&source)?;
//! let token = initiator.token_for("koji.example.org")?;
//! println!("{} sends {} bytes", initiator.principal(), token.len());
//! # Ok::<(), koschei_gss::Error>(())
//! ```
#![deny(missing_docs)]
// The one FFI call `libgssapi` does not wrap (see the crate docs); every unsafe block says why it
// is sound.
#![allow(unsafe_code)]

use std::ffi::{CString, c_void};
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

use libgssapi::context::{ClientCtx, CtxFlags, SecurityContext, ServerCtx};
use libgssapi::credential::{Cred, CredUsage};
use libgssapi::error::MajorFlags;
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_SPNEGO, GSS_NT_HOSTBASED_SERVICE, GSS_NT_KRB5_PRINCIPAL};

/// What went wrong, for callers that act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The credentials (ticket) have expired and cannot be renewed from a keytab.
    Expired,
    /// No usable credentials: no ticket in the cache, no key for the principal in the keytab,
    /// a principal the KDC does not know.
    NoCredentials,
    /// The peer's token was refused (acceptor side) or the service ticket could not be had.
    Refused,
    /// Anything else (bad name, library failure).
    Other,
}

/// A GSSAPI failure with what was being done and the library's own words (major and minor status).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{doing}: {message}")]
pub struct Error {
    kind: ErrorKind,
    doing: String,
    message: String,
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    fn gss(doing: impl Into<String>, e: libgssapi::error::Error) -> Error {
        let kind = if e.major.contains(MajorFlags::GSS_S_CREDENTIALS_EXPIRED)
            || e.major.contains(MajorFlags::GSS_S_CONTEXT_EXPIRED)
        {
            ErrorKind::Expired
        } else if e.major.contains(MajorFlags::GSS_S_NO_CRED) {
            ErrorKind::NoCredentials
        } else if e.major.contains(MajorFlags::GSS_S_DEFECTIVE_TOKEN)
            || e.major.contains(MajorFlags::GSS_S_BAD_MIC)
            || e.major.contains(MajorFlags::GSS_S_DEFECTIVE_CREDENTIAL)
            || e.major.contains(MajorFlags::GSS_S_FAILURE)
        {
            ErrorKind::Refused
        } else {
            ErrorKind::Other
        };
        // libgssapi renders "major (minor)"; the minor text carries MIT's extended message, e.g.
        // "No key table entry found for x@REALM in keytab FILE:/path" or "Ticket expired".
        // A minor code of 0 renders as "(Success)", which says nothing.
        let message = e.to_string().replace(" (Success)", "").trim().to_owned();
        let kind = match kind {
            // MIT reports an expired ticket in the cache as a generic failure with this minor text.
            ErrorKind::Refused | ErrorKind::Other if message.contains("expired") => {
                ErrorKind::Expired
            }
            k => k,
        };
        Error {
            kind,
            doing: doing.into(),
            message,
        }
    }

    fn other(doing: impl Into<String>, message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Other,
            doing: doing.into(),
            message: message.into(),
        }
    }
}

/// Where client credentials come from; all `None` = the default credential cache (`KRB5CCNAME`)
/// and its default principal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitiatorSource {
    /// The client principal (`koschei/host@REALM`); `None` = the cache's default principal, or the
    /// first principal of the keytab.
    pub principal: Option<String>,
    /// A client keytab to get tickets from (and to renew them from when they expire).
    pub keytab: Option<PathBuf>,
    /// A credential cache name (`FILE:/path`, `KEYRING:...`, `MEMORY:...`); `None` = the default
    /// one, or a private in-memory cache when a keytab is given.
    pub ccache: Option<String>,
}

/// Client credentials ready to make tokens.
#[derive(Debug, Clone)]
pub struct Initiator {
    cred: Cred,
    principal: String,
}

static MEMORY_CACHES: AtomicU64 = AtomicU64::new(0);

impl InitiatorSource {
    /// The principal to name in messages: the configured one, or what the defaults stand for.
    pub fn describe(&self) -> String {
        match (&self.principal, &self.keytab, &self.ccache) {
            (Some(p), _, _) => p.clone(),
            (None, Some(k), _) => format!("the first principal of keytab {}", k.display()),
            (None, None, Some(c)) => format!("the default principal of credential cache {c}"),
            (None, None, None) => "the default principal of the default credential cache".into(),
        }
    }
}

impl Initiator {
    /// Acquires client credentials. With a keytab, tickets come from the keytab (into `ccache`, or a
    /// private in-memory cache); without one, from the credential cache.
    /// An expired ticket in a cache without a keytab is an [`ErrorKind::Expired`] error.
    pub fn acquire(source: &InitiatorSource) -> Result<Initiator, Error> {
        let doing = format!("cannot get kerberos credentials for {}", source.describe());
        let mut store: Vec<(&str, String)> = Vec::new();
        if let Some(k) = &source.keytab {
            store.push(("client_keytab", k.to_string_lossy().into_owned()));
            let cache = source.ccache.clone().unwrap_or_else(|| {
                let n = MEMORY_CACHES.fetch_add(1, Ordering::Relaxed);
                format!("MEMORY:koschei-{}-{n}", std::process::id())
            });
            store.push(("ccache", cache));
        } else if let Some(c) = &source.ccache {
            store.push(("ccache", c.clone()));
        }
        let cred = acquire_from(
            source.principal.as_deref(),
            CredUsage::Initiate,
            &store
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .map_err(|e| {
            // An expired ticket fails here without telling whose it was; a file cache says.
            let who = match (&source.principal, e.kind()) {
                (None, ErrorKind::Expired) => cache_file_principal(source.ccache.as_deref()),
                _ => None,
            };
            let e = match who {
                Some(p) => e.with_doing(&format!("cannot use the kerberos ticket of {p}")),
                None => e.with_doing(&doing),
            };
            match (&source.keytab, e.kind) {
                (Some(k), ErrorKind::NoCredentials)
                    if e.message.contains("No credentials cache found")
                        || e.message.contains("key table") =>
                {
                    e.with_hint(&format!(
                        "is the principal in the keytab? `klist -k {}` lists them",
                        k.display()
                    ))
                }
                _ => e,
            }
        })?;
        let principal = cred
            .name()
            .map(|n| n.to_string())
            .ok()
            .or_else(|| match &source.principal {
                Some(p) => Some(p.clone()),
                None if source.keytab.is_none() => cache_file_principal(source.ccache.as_deref()),
                None => None,
            })
            .unwrap_or_else(|| source.describe());
        // A cache whose ticket has run out still yields a credential handle; its lifetime says so.
        // With a keytab MIT gets a new ticket when the token is made, so only a cache is checked.
        if source.keytab.is_none() {
            match cred.lifetime() {
                Ok(l) if l.is_zero() => {
                    return Err(Error {
                        kind: ErrorKind::Expired,
                        doing: format!("cannot use the kerberos ticket of {principal}"),
                        message: "the ticket has expired (run kinit again, or configure a keytab)"
                            .into(),
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(Error::gss(
                        format!("cannot use the kerberos ticket of {principal}"),
                        e,
                    ));
                }
            }
        }
        Ok(Initiator { cred, principal })
    }

    /// The client principal (`name@REALM`).
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// A SPNEGO token for the HTTP service of `host` (`HTTP@host`), for `Authorization: Negotiate`.
    pub fn token_for(&self, host: &str) -> Result<Vec<u8>, Error> {
        let doing = format!(
            "cannot get a kerberos ticket for HTTP/{host} as {}",
            self.principal
        );
        let target = Name::new(
            format!("HTTP@{host}").as_bytes(),
            Some(GSS_NT_HOSTBASED_SERVICE),
        )
        .map_err(|e| Error::gss(&doing, e))?;
        let mut ctx = ClientCtx::new(
            Some(self.cred.clone()),
            target,
            CtxFlags::empty(),
            Some(GSS_MECH_SPNEGO),
        );
        match ctx.step(None, None) {
            Ok(Some(token)) => Ok(token.to_vec()),
            Ok(None) => Err(Error::other(&doing, "the mechanism produced no token")),
            Err(e) => Err(Error::gss(&doing, e)),
        }
    }
}

/// Service credentials from a keytab, verifying clients' tokens.
#[derive(Debug, Clone)]
pub struct Acceptor {
    cred: Cred,
}

/// A verified client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The client principal (`name@REALM`).
    pub principal: String,
    /// The token to send back (`WWW-Authenticate: Negotiate ...`), if any.
    pub reply: Option<Vec<u8>>,
}

impl Acceptor {
    /// Service credentials from `keytab` (any service principal in it).
    pub fn from_keytab(keytab: &std::path::Path) -> Result<Acceptor, Error> {
        let doing = format!("cannot use service keytab {}", keytab.display());
        let cred = acquire_from(
            None,
            CredUsage::Accept,
            &[("keytab", keytab.to_string_lossy().as_ref())],
        )
        .map_err(|e| e.with_doing(&doing))?;
        Ok(Acceptor { cred })
    }

    /// Verifies a client's first token; the client's principal on success.
    pub fn accept(&self, token: &[u8]) -> Result<Accepted, Error> {
        let doing = "kerberos token refused";
        let mut ctx = ServerCtx::new(Some(self.cred.clone()));
        let reply = ctx
            .step(token, None)
            .map_err(|e| Error::gss(doing, e))?
            .map(|b| b.to_vec());
        if !ctx.is_complete() {
            return Err(Error::other(
                doing,
                "the token needs more round trips than one",
            ));
        }
        let principal = ctx
            .source_name()
            .map_err(|e| Error::gss(doing, e))?
            .to_string();
        Ok(Accepted { principal, reply })
    }
}

/// The default principal of a `FILE:` credential cache (`ccache`, else `KRB5CCNAME`), if it can be
/// read; only for messages.
fn cache_file_principal(ccache: Option<&str>) -> Option<String> {
    #[allow(
        clippy::disallowed_methods,
        reason = "libkrb5 itself reads KRB5CCNAME; we read it only to name the principal in an error"
    )]
    let name = ccache
        .map(str::to_owned)
        .or_else(|| std::env::var("KRB5CCNAME").ok())?;
    let path = match name.split_once(':') {
        Some(("FILE", path)) => path,
        Some(_) => return None,
        None => name.as_str(),
    };
    ccache_principal(&std::fs::read(path).ok()?)
}

/// The default principal stored in MIT's file credential cache format, versions 3 and 4
/// (big-endian): version, (v4) header, then name type, component count, realm and components.
fn ccache_principal(bytes: &[u8]) -> Option<String> {
    fn u16_at(b: &[u8], at: usize) -> Option<usize> {
        Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
    }
    fn u32_at(b: &[u8], at: usize) -> Option<usize> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
    }
    let mut at = match u16_at(bytes, 0)? {
        0x0504 => 4 + u16_at(bytes, 2)?,
        0x0503 => 2,
        _ => return None,
    };
    at += 4; // name type
    let components = u32_at(bytes, at)?;
    at += 4;
    let mut strings = Vec::new();
    for _ in 0..=components.min(16) {
        let len = u32_at(bytes, at)?;
        at += 4;
        strings.push(String::from_utf8_lossy(bytes.get(at..at + len)?).into_owned());
        at += len;
    }
    let realm = strings.remove(0);
    Some(format!("{}@{realm}", strings.join("/")))
}

impl Error {
    fn with_hint(mut self, hint: &str) -> Error {
        self.message = format!("{}; {hint}", self.message);
        self
    }

    fn with_doing(mut self, doing: &str) -> Error {
        self.doing = doing.to_owned();
        self
    }
}

/// `gss_acquire_cred_from`: credentials for `principal` (or the default one) from the given
/// credential store (`ccache`, `client_keytab`, `keytab`, ... as MIT documents in gssapi(3)'s
/// "Credential store extensions").
pub fn acquire_from(
    principal: Option<&str>,
    usage: CredUsage,
    store: &[(&str, &str)],
) -> Result<Cred, Error> {
    use libgssapi_sys::{
        _GSS_C_INDEFINITE, GSS_C_ACCEPT, GSS_C_BOTH, GSS_C_INITIATE, GSS_S_COMPLETE, OM_uint32,
        gss_OID_desc, gss_acquire_cred_from, gss_buffer_desc, gss_cred_id_t, gss_cred_usage_t,
        gss_import_name, gss_key_value_element_desc, gss_key_value_set_desc, gss_name_t,
        gss_release_name,
    };
    let doing = "cannot acquire kerberos credentials";
    let to_c = |s: &str| {
        CString::new(s).map_err(|_| Error::other(doing, format!("`{s}` contains a NUL byte")))
    };
    let keys: Vec<(CString, CString)> = store
        .iter()
        .map(|(k, v)| Ok((to_c(k)?, to_c(v)?)))
        .collect::<Result<_, Error>>()?;
    let mut elements: Vec<gss_key_value_element_desc> = keys
        .iter()
        .map(|(k, v)| gss_key_value_element_desc {
            key: k.as_ptr(),
            value: v.as_ptr(),
        })
        .collect();
    let set = gss_key_value_set_desc {
        count: elements.len() as OM_uint32,
        elements: elements.as_mut_ptr(),
    };
    let usage: gss_cred_usage_t = match usage {
        CredUsage::Initiate => GSS_C_INITIATE,
        CredUsage::Accept => GSS_C_ACCEPT,
        CredUsage::Both => GSS_C_BOTH,
    } as gss_cred_usage_t;
    let fail = |major: OM_uint32, minor: OM_uint32| {
        Error::gss(
            doing,
            libgssapi::error::Error {
                major: MajorFlags::from_bits_retain(major),
                minor,
            },
        )
    };

    let mut name: gss_name_t = ptr::null_mut();
    if let Some(p) = principal {
        let mut bytes = p.as_bytes().to_vec();
        let mut buf = gss_buffer_desc {
            length: bytes.len(),
            value: bytes.as_mut_ptr().cast::<c_void>(),
        };
        let mut oid_bytes = GSS_NT_KRB5_PRINCIPAL.to_vec();
        let mut oid = gss_OID_desc {
            length: oid_bytes.len() as OM_uint32,
            elements: oid_bytes.as_mut_ptr().cast::<c_void>(),
        };
        let mut minor: OM_uint32 = 0;
        // SAFETY: `buf` and `oid` point into `bytes` and `oid_bytes`, which outlive the call; the
        // library copies the name into `name`, which we release below.
        let major = unsafe { gss_import_name(&mut minor, &mut buf, &mut oid, &mut name) };
        if major != GSS_S_COMPLETE {
            return Err(fail(major, minor));
        }
    }
    let mut cred: gss_cred_id_t = ptr::null_mut();
    let mut minor: OM_uint32 = 0;
    // SAFETY: `set` points into `elements`, whose strings live in `keys`; all three outlive the
    // call, which only reads them. `name` is null or a valid imported name. On success `cred` is a
    // new handle that we own.
    let major = unsafe {
        gss_acquire_cred_from(
            &mut minor,
            name,
            _GSS_C_INDEFINITE,
            ptr::null_mut(),
            usage,
            &set,
            &mut cred,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if !name.is_null() {
        let mut m: OM_uint32 = 0;
        // SAFETY: `name` was imported above and is released once.
        unsafe { gss_release_name(&mut m, &mut name) };
    }
    if major != GSS_S_COMPLETE {
        return Err(fail(major, minor));
    }
    // SAFETY: `cred` is a fresh handle owned by nobody else; `Cred` releases it when dropped.
    Ok(unsafe { Cred::from_c(cred) })
}

#[cfg(test)]
mod tests {
    use super::ccache_principal;

    fn counted(s: &str) -> Vec<u8> {
        let mut v = (s.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(s.as_bytes());
        v
    }

    #[test]
    fn the_default_principal_of_a_file_cache() {
        let mut v4 = vec![0x05, 0x04, 0x00, 0x0c];
        v4.extend_from_slice(&[0; 12]);
        v4.extend_from_slice(&1u32.to_be_bytes());
        v4.extend_from_slice(&2u32.to_be_bytes());
        for s in ["EXAMPLE.ORG", "koschei", "host.example.org"] {
            v4.extend(counted(s));
        }
        v4.extend_from_slice(b"credentials follow");
        assert_eq!(
            ccache_principal(&v4).as_deref(),
            Some("koschei/host.example.org@EXAMPLE.ORG")
        );
        let mut v3 = vec![0x05, 0x03];
        v3.extend_from_slice(&1u32.to_be_bytes());
        v3.extend_from_slice(&1u32.to_be_bytes());
        v3.extend(counted("R"));
        v3.extend(counted("user"));
        assert_eq!(ccache_principal(&v3).as_deref(), Some("user@R"));
        assert_eq!(ccache_principal(&v4[..20]), None);
        assert_eq!(ccache_principal(b"\x05\x01junk"), None);
        assert_eq!(ccache_principal(b""), None);
    }
}
