//! Koji faults by name and the error type of the Koji client.

use super::xmlrpc::{DecodeError, Fault};

/// Koji's exception classes (`koji.GenericError` and subclasses) by fault code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// 1000 `GenericError`: most "no such X", invalid method, task not finished.
    Generic,
    /// 1001 `LockError`.
    Lock,
    /// 1002 `AuthError`: bad or closed session, unverified client certificate.
    Auth,
    /// 1003 `TagError`.
    Tag,
    /// 1004 `ActionNotAllowed`: missing permission or not logged in.
    ActionNotAllowed,
    /// 1005 `BuildError`.
    Build,
    /// 1006 `AuthLockError`.
    AuthLock,
    /// 1007 `AuthExpired`: the session must be renewed.
    AuthExpired,
    /// 1008 `SequenceError`: the call number went backwards.
    Sequence,
    /// 1009 `RetryError`: a retry of a call that already committed.
    Retry,
    /// 1010 `PreBuildError`.
    PreBuild,
    /// 1011 `PostBuildError`.
    PostBuild,
    /// 1012 `BuildrootError`.
    Buildroot,
    /// 1013 `FunctionDeprecated`.
    FunctionDeprecated,
    /// 1014 `ServerOffline`: hub in maintenance or database outage.
    ServerOffline,
    /// 1015 `LiveCDError`.
    LiveCd,
    /// 1016 `PluginError`.
    Plugin,
    /// 1017 `CallbackError`.
    Callback,
    /// 1018 `ApplianceError`.
    Appliance,
    /// 1019 `ParameterError`: wrong arguments.
    Parameter,
    /// 1020 `ImportError`.
    Import,
    /// 1021 `ConfigurationError`.
    Configuration,
    /// 1022 `LiveMediaError`.
    LiveMedia,
    /// 1023 `GSSAPIAuthError`.
    GssapiAuth,
    /// 1024 `NameValidationError`.
    NameValidation,
    /// Any other code (1 = an unexpected Python exception on the hub).
    Other(i64),
}

impl FaultKind {
    /// The kind for a fault code.
    pub fn from_code(code: i64) -> FaultKind {
        use FaultKind::*;
        match code {
            1000 => Generic,
            1001 => Lock,
            1002 => Auth,
            1003 => Tag,
            1004 => ActionNotAllowed,
            1005 => Build,
            1006 => AuthLock,
            1007 => AuthExpired,
            1008 => Sequence,
            1009 => Retry,
            1010 => PreBuild,
            1011 => PostBuild,
            1012 => Buildroot,
            1013 => FunctionDeprecated,
            1014 => ServerOffline,
            1015 => LiveCd,
            1016 => Plugin,
            1017 => Callback,
            1018 => Appliance,
            1019 => Parameter,
            1020 => Import,
            1021 => Configuration,
            1022 => LiveMedia,
            1023 => GssapiAuth,
            1024 => NameValidation,
            other => Other(other),
        }
    }

    /// The fault code.
    pub fn code(self) -> i64 {
        use FaultKind::*;
        match self {
            Generic => 1000,
            Lock => 1001,
            Auth => 1002,
            Tag => 1003,
            ActionNotAllowed => 1004,
            Build => 1005,
            AuthLock => 1006,
            AuthExpired => 1007,
            Sequence => 1008,
            Retry => 1009,
            PreBuild => 1010,
            PostBuild => 1011,
            Buildroot => 1012,
            FunctionDeprecated => 1013,
            ServerOffline => 1014,
            LiveCd => 1015,
            Plugin => 1016,
            Callback => 1017,
            Appliance => 1018,
            Parameter => 1019,
            Import => 1020,
            Configuration => 1021,
            LiveMedia => 1022,
            GssapiAuth => 1023,
            NameValidation => 1024,
            Other(c) => c,
        }
    }

    /// Koji's Python class name.
    pub fn name(self) -> &'static str {
        use FaultKind::*;
        match self {
            Generic => "GenericError",
            Lock => "LockError",
            Auth => "AuthError",
            Tag => "TagError",
            ActionNotAllowed => "ActionNotAllowed",
            Build => "BuildError",
            AuthLock => "AuthLockError",
            AuthExpired => "AuthExpired",
            Sequence => "SequenceError",
            Retry => "RetryError",
            PreBuild => "PreBuildError",
            PostBuild => "PostBuildError",
            Buildroot => "BuildrootError",
            FunctionDeprecated => "FunctionDeprecated",
            ServerOffline => "ServerOffline",
            LiveCd => "LiveCDError",
            Plugin => "PluginError",
            Callback => "CallbackError",
            Appliance => "ApplianceError",
            Parameter => "ParameterError",
            Import => "ImportError",
            Configuration => "ConfigurationError",
            LiveMedia => "LiveMediaError",
            GssapiAuth => "GSSAPIAuthError",
            NameValidation => "NameValidationError",
            Other(_) => "Fault",
        }
    }

    /// Whether this is a Koji `GenericError` (codes 1000-1024) rather than an unexpected hub exception.
    pub fn is_koji_error(self) -> bool {
        !matches!(self, FaultKind::Other(_))
    }

    /// Whether this is `AuthError` or one of its subclasses.
    pub fn is_auth_error(self) -> bool {
        use FaultKind::*;
        matches!(
            self,
            Auth | AuthLock | AuthExpired | Sequence | Retry | GssapiAuth
        )
    }
}

impl Fault {
    /// The Koji exception class of this fault.
    pub fn kind(&self) -> FaultKind {
        FaultKind::from_code(self.code)
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.kind().name(), self.code, self.string)
    }
}

/// Koschei's `is_koji_fault` decision on a task result fault: is a failed build the infrastructure's fault
/// rather than the package's?
///
/// `LockError` is Koji's fault; any other Koji error (1000-1024) is the package's; anything else (e.g. code 1,
/// an unexpected exception in the builder) is Koji's.
pub fn is_koji_fault(fault: &Fault) -> bool {
    match fault.kind() {
        FaultKind::Lock => true,
        k => !k.is_koji_error(),
    }
}

/// An error from the Koji client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The hub answered with a fault.
    #[error("koji method `{method}` failed: {fault}")]
    Fault {
        /// The method called.
        method: String,
        /// The fault.
        fault: Fault,
    },
    /// A `build` call hit `RetryError` on a retry: the task was probably created, but its id is lost.
    #[error(
        "koji method `{method}` may have been submitted already (retry refused by the hub: {fault})"
    )]
    MaybeSubmitted {
        /// The method called (`build`).
        method: String,
        /// The `RetryError` fault.
        fault: Fault,
    },
    /// The server answered with an HTTP error status (an HTML or text error page, not XML-RPC).
    #[error("koji method `{method}` at {url}: HTTP {status}: {first_line}")]
    Http {
        /// The method called.
        method: String,
        /// The URL (never contains session keys: they travel in headers).
        url: String,
        /// HTTP status code.
        status: u16,
        /// The first non-empty line of the response body.
        first_line: String,
    },
    /// The server answered 2xx with a body that is not XML (e.g. an HTML page from a proxy).
    #[error(
        "koji method `{method}` at {url}: expected text/xml, got `{content_type}`: {first_line}"
    )]
    ContentType {
        /// The method called.
        method: String,
        /// The URL.
        url: String,
        /// The `Content-Type` received.
        content_type: String,
        /// The first non-empty line of the body.
        first_line: String,
    },
    /// The HTTP exchange failed (connection refused, reset, timeout, TLS...).
    #[error("koji method `{method}` at {url}: transport error")]
    Transport {
        /// The method called.
        method: String,
        /// The URL.
        url: String,
        /// The underlying error.
        #[source]
        source: Box<ureq::Error>,
    },
    /// The response was not a valid XML-RPC response.
    #[error("koji method `{method}`: invalid response")]
    Decode {
        /// The method called.
        method: String,
        /// The decoding problem.
        #[source]
        source: DecodeError,
    },
    /// The response was valid XML-RPC but not of the shape the typed API expects.
    #[error("koji method `{method}`: unexpected result: {message}")]
    UnexpectedResult {
        /// The method called.
        method: String,
        /// What did not match.
        message: String,
    },
    /// A TLS file (client certificate, key, CA bundle) could not be read or parsed.
    #[error("cannot use TLS file `{path}`: {message}")]
    TlsFile {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The proxy for the hub could not be set up.
    #[error("cannot use proxy `{proxy}` (from `{variable}`): {message}")]
    Proxy {
        /// The proxy URL (password masked).
        proxy: String,
        /// The environment variable that named it.
        variable: String,
        /// What went wrong.
        message: String,
    },
    /// Kerberos credentials could not be had or used (no ticket, expired ticket, no key for the
    /// principal in the keytab, principal unknown to the KDC, no ticket for the hub's service).
    #[error("kerberos login to koji failed: {message}")]
    Kerberos {
        /// The client principal (or what the defaults stand for).
        principal: String,
        /// Whether the ticket had expired (and no keytab could renew it).
        expired: bool,
        /// The GSSAPI library's account, naming the principal.
        message: String,
    },
    /// The web server in front of the hub refused the Kerberos token (HTTP 401).
    #[error(
        "the hub at {url} refused the kerberos login of `{principal}` (HTTP 401): {first_line}"
    )]
    LoginRefused {
        /// The login URL.
        url: String,
        /// The client principal.
        principal: String,
        /// The first line of the answer.
        first_line: String,
    },
    /// A stop was requested ([`super::ClientOptions::stop`]) before the call was sent or while it
    /// waited for the hub (offline, or the pause before a retry): the call was given up.
    #[error("koji method `{method}`: {}", if last.is_some() { "stopped while waiting for the hub" } else { "not sent, a stop was requested" })]
    Interrupted {
        /// The method called.
        method: String,
        /// Whether an earlier attempt may have reached the hub and taken effect (it failed
        /// without an answer); `false` means the call certainly did not take effect.
        maybe_done: bool,
        /// The failure that was being waited out (`ServerOffline`, a transport error), if any.
        #[source]
        last: Option<Box<Error>>,
    },
    /// A call that needs a login was made on an anonymous client.
    #[error("koji method `{method}` needs a logged-in session, but no login is configured")]
    NotLoggedIn {
        /// The method called.
        method: String,
    },
}

impl Error {
    /// The fault, if the hub answered with one.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Error::Fault { fault, .. } | Error::MaybeSubmitted { fault, .. } => Some(fault),
            _ => None,
        }
    }

    /// The fault kind, if the hub answered with a fault.
    pub fn fault_kind(&self) -> Option<FaultKind> {
        self.fault().map(Fault::kind)
    }

    /// Whether the call was given up because a stop was requested ([`Error::Interrupted`]).
    pub fn is_interrupted(&self) -> bool {
        matches!(self, Error::Interrupted { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_roundtrip_and_have_names() {
        for code in 1000..=1024 {
            let k = FaultKind::from_code(code);
            assert!(k.is_koji_error(), "{code}");
            assert_eq!(k.code(), code);
            assert_ne!(k.name(), "Fault");
        }
        assert_eq!(FaultKind::from_code(1), FaultKind::Other(1));
        assert_eq!(FaultKind::from_code(1007).name(), "AuthExpired");
        assert!(FaultKind::Retry.is_auth_error());
        assert!(!FaultKind::Build.is_auth_error());
    }

    #[test]
    fn koji_fault_rule_matches_koschei() {
        let cases = [
            (1001, true),
            (1000, false),
            (1005, false),
            (1012, false),
            (1, true),
            (2000, true),
        ];
        for (code, want) in cases {
            assert_eq!(is_koji_fault(&Fault::new(code, "x")), want, "{code}");
        }
    }
}
