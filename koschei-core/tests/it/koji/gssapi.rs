//! Kerberos login against a real MIT KDC: each test runs in a child process with its own realm
//! (`koschei_fakehub::kdc`), and the fake hub verifies the SPNEGO token with the service keytab.

use std::time::Duration;

use koschei_core::koji::{Call, Client, ClientOptions, Error, GssapiLogin, Login, Value};
use koschei_fakehub::FakeHub;
use koschei_fakehub::kdc::{self, Realm};

/// A hub that requires GSSAPI on `/ssllogin`, reached as `localhost` (the service is `HTTP/localhost`).
fn gssapi_hub(realm: &Realm) -> (FakeHub, String) {
    let hub = FakeHub::start_with_fixture_data().expect("hub");
    hub.require_gssapi(&realm.keytab(kdc::HTTP_SERVICE))
        .expect("service keytab");
    let url = hub.url().replace("127.0.0.1", "localhost");
    (hub, url)
}

fn client(url: &str, login: GssapiLogin) -> Client {
    Client::new(ClientOptions {
        server: url.to_owned(),
        max_retries: 2,
        retry_interval: Duration::from_millis(5),
        offline_retry_interval: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
        auth_timeout: Duration::from_secs(10),
        login: Login::Gssapi(login),
        ..ClientOptions::default()
    })
    .expect("client")
}

fn logged_in_user(c: &Client) -> Result<Value, Error> {
    c.call(&Call::new("getLoggedInUser"))
}

#[test]
fn a_good_keytab_logs_in_and_the_hub_sees_the_principal() {
    kdc::in_realm(
        concat!(
            module_path!(),
            "::a_good_keytab_logs_in_and_the_hub_sees_the_principal"
        ),
        |realm| {
            let (hub, url) = gssapi_hub(realm);
            let principal = realm.full(kdc::CLIENT);
            let c = client(
                &url,
                GssapiLogin {
                    principal: Some(principal.clone()),
                    keytab: Some(realm.keytab(kdc::CLIENT)),
                    ccache: None,
                },
            );
            let user = logged_in_user(&c).expect("logged in with the keytab");
            assert_eq!(user.get("authtype"), Some(&Value::Int(3)), "{user:?}");
            assert_eq!(user.get("name"), Some(&Value::from("koschei")));
            assert_eq!(
                user.get("krb_principal"),
                Some(&Value::from(principal.as_str()))
            );
            assert_eq!(hub.gssapi_principals(), std::slice::from_ref(&principal));
            let login = hub
                .calls()
                .into_iter()
                .find(|c| c.method == "sslLogin")
                .expect("an sslLogin call");
            assert_eq!(login.session_id, None);

            // The keytab alone: its first principal.
            let c = client(
                &url,
                GssapiLogin {
                    principal: None,
                    keytab: Some(realm.keytab(kdc::CLIENT)),
                    ccache: None,
                },
            );
            logged_in_user(&c).expect("logged in with the keytab's principal");
            // The default credential cache (`KRB5CCNAME`, set by the realm), filled by kinit.
            realm.kinit(kdc::CLIENT, None, &realm.dir().join("default.ccache"));
            let c = client(&url, GssapiLogin::default());
            let user = logged_in_user(&c).expect("logged in from the default ccache");
            assert_eq!(user.get("authtype"), Some(&Value::Int(3)));
            assert_eq!(hub.gssapi_principals().len(), 3);
        },
    );
}

#[test]
fn a_wrong_principal_is_a_clear_error_naming_it() {
    kdc::in_realm(
        concat!(
            module_path!(),
            "::a_wrong_principal_is_a_clear_error_naming_it"
        ),
        |realm| {
            let (hub, url) = gssapi_hub(realm);
            // Not in the keytab.
            let wrong = realm.full("nosuch/localhost");
            let c = client(
                &url,
                GssapiLogin {
                    principal: Some(wrong.clone()),
                    keytab: Some(realm.keytab(kdc::CLIENT)),
                    ccache: None,
                },
            );
            let err = logged_in_user(&c).expect_err("no key for that principal");
            let msg = err.to_string();
            eprintln!("error: {msg}");
            assert!(matches!(err, Error::Kerberos { .. }), "{err:?}");
            assert!(msg.contains(&wrong), "{msg}");
            // In a keytab, but no longer known to the KDC.
            let gone = "gone/localhost";
            let keytab = realm.add_principal(gone);
            realm.delete_principal(gone);
            let c = client(
                &url,
                GssapiLogin {
                    principal: Some(realm.full(gone)),
                    keytab: Some(keytab),
                    ccache: None,
                },
            );
            let err = logged_in_user(&c).expect_err("unknown to the KDC");
            let msg = err.to_string();
            eprintln!("error: {msg}");
            assert!(matches!(err, Error::Kerberos { .. }), "{err:?}");
            assert!(msg.contains(&realm.full(gone)), "{msg}");
            assert!(hub.gssapi_principals().is_empty());
            assert!(hub.calls().is_empty(), "nothing reached the hub");
        },
    );
}

#[test]
fn an_expired_ticket_is_a_clear_error_naming_the_principal() {
    kdc::in_realm(
        concat!(
            module_path!(),
            "::an_expired_ticket_is_a_clear_error_naming_the_principal"
        ),
        |realm| {
            let (hub, url) = gssapi_hub(realm);
            let ccache = realm.dir().join("short.ccache");
            realm.kinit(kdc::CLIENT, Some("2s"), &ccache);
            std::thread::sleep(Duration::from_millis(2500));
            let c = client(
                &url,
                GssapiLogin {
                    principal: None,
                    keytab: None,
                    ccache: Some(format!("FILE:{}", ccache.display())),
                },
            );
            let err = logged_in_user(&c).expect_err("the ticket has expired");
            let msg = err.to_string();
            eprintln!("error: {msg}");
            assert!(
                matches!(err, Error::Kerberos { expired: true, .. }),
                "{err:?}"
            );
            assert!(msg.contains(&realm.full(kdc::CLIENT)), "{msg}");
            assert!(msg.contains("expired"), "{msg}");
            assert!(hub.gssapi_principals().is_empty());
        },
    );
}

#[test]
fn tickets_from_the_keytab_are_got_again_when_the_session_expires_or_is_gone() {
    kdc::in_realm(
        concat!(
            module_path!(),
            "::tickets_from_the_keytab_are_got_again_when_the_session_expires_or_is_gone"
        ),
        |realm| {
            let (hub, url) = gssapi_hub(realm);
            realm.set_max_life(kdc::CLIENT, "2 seconds");
            let c = client(
                &url,
                GssapiLogin {
                    principal: Some(realm.full(kdc::CLIENT)),
                    keytab: Some(realm.keytab(kdc::CLIENT)),
                    ccache: None,
                },
            );
            logged_in_user(&c).expect("first login");
            // The ticket runs out, then the hub expires the session: the renewal needs a new ticket.
            std::thread::sleep(Duration::from_millis(2500));
            hub.expire_sessions();
            let user = logged_in_user(&c).expect("renewed with a new ticket from the keytab");
            assert_eq!(user.get("authtype"), Some(&Value::Int(3)));
            assert_eq!(hub.gssapi_principals().len(), 2);
            let logins: Vec<_> = hub
                .calls()
                .into_iter()
                .filter(|c| c.method == "sslLogin")
                .collect();
            assert_eq!(logins.len(), 2);
            assert_eq!(
                logins[1].call.kwarg_value("renew"),
                Some(&Value::Bool(true)),
                "the second login renews the session"
            );
            // The ticket runs out again and the hub forgets the session (1002): a fresh login.
            std::thread::sleep(Duration::from_millis(2500));
            hub.close_sessions();
            logged_in_user(&c).expect("logged in anew with a new ticket from the keytab");
            assert_eq!(hub.gssapi_principals().len(), 3);
        },
    );
}

#[test]
fn a_token_the_hub_cannot_verify_is_refused_once_naming_the_principal() {
    kdc::in_realm(
        concat!(
            module_path!(),
            "::a_token_the_hub_cannot_verify_is_refused_once_naming_the_principal"
        ),
        |realm| {
            let hub = FakeHub::start_with_fixture_data().expect("hub");
            // The hub holds the key of another service only.
            let other = realm.add_principal("HTTP/otherhost");
            hub.require_gssapi(&other).expect("keytab");
            let url = hub.url().replace("127.0.0.1", "localhost");
            let principal = realm.full(kdc::CLIENT);
            let c = client(
                &url,
                GssapiLogin {
                    principal: Some(principal.clone()),
                    keytab: Some(realm.keytab(kdc::CLIENT)),
                    ccache: None,
                },
            );
            let err = logged_in_user(&c).expect_err("refused");
            let msg = err.to_string();
            eprintln!("error: {msg}");
            assert!(matches!(err, Error::LoginRefused { .. }), "{err:?}");
            assert!(msg.contains(&principal) && msg.contains("401"), "{msg}");
            assert!(hub.calls().is_empty(), "refused in front of the hub");
        },
    );
}

#[test]
fn a_kerberos_login_over_https_verifies_the_hub_with_the_configured_ca() {
    kdc::in_realm(
        concat!(
            module_path!(),
            "::a_kerberos_login_over_https_verifies_the_hub_with_the_configured_ca"
        ),
        |realm| {
            let ca = koschei_fakehub::tls::TestCa::new().expect("CA");
            let ca_path = ca.write_ca(realm.dir()).expect("CA file");
            let hub = FakeHub::start_https_with_fixture_data(&ca).expect("https hub");
            hub.require_gssapi(&realm.keytab(kdc::HTTP_SERVICE))
                .expect("service keytab");
            let login = GssapiLogin {
                principal: Some(realm.full(kdc::CLIENT)),
                keytab: Some(realm.keytab(kdc::CLIENT)),
                ccache: None,
            };
            let c = Client::new(ClientOptions {
                ca: Some(ca_path),
                ..client(&hub.url(), login.clone()).options().clone()
            })
            .expect("client");
            let user = logged_in_user(&c).expect("kerberos login over https");
            assert_eq!(user.get("authtype"), Some(&Value::Int(3)));
            // Without the CA the TLS handshake fails before any token is sent.
            let c = client(&hub.url(), login);
            let err = logged_in_user(&c).expect_err("hub not trusted");
            assert!(matches!(err, Error::Transport { .. }), "{err:?}");
            assert_eq!(hub.gssapi_principals().len(), 1);
        },
    );
}
