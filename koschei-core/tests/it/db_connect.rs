//! Connection errors: cause chain kept, password masked.

use koschei_core::config::DatabaseUrl;
use koschei_core::db::{self, Error};

#[test]
fn connect_error_masks_the_password_and_keeps_the_cause() {
    let url = DatabaseUrl::parse("postgresql://koschei:hunter2@127.0.0.1:1/koschei").unwrap();
    let Err(e) = db::connect(&url) else {
        panic!("connected to a closed port")
    };
    assert!(matches!(e, Error::Connect { .. }));
    let chain = db::report(&e);
    assert!(
        chain.starts_with(
            "cannot connect to the database at `postgresql://koschei:********@127.0.0.1:1/koschei`"
        ),
        "{chain}"
    );
    assert!(chain.contains("Connection refused"), "{chain}");
    assert!(!chain.contains("hunter2"), "{chain}");
    assert!(!format!("{e:?}").contains("hunter2"), "{e:?}");
}

#[test]
fn pool_error_masks_the_password() {
    let url = DatabaseUrl::parse("host=127.0.0.1 port=1 user=u password=hunter2 dbname=x").unwrap();
    let Err(e) = db::pool(&url, 2) else {
        panic!("connected to a closed port")
    };
    let chain = db::report(&e);
    assert!(chain.contains("password=********"), "{chain}");
    assert!(!chain.contains("hunter2"), "{chain}");
}

#[test]
fn query_errors_name_what_failed_and_the_server_message() {
    let tdb = db::testing::TestDb::empty().unwrap();
    let mut c = tdb.connect().unwrap();
    let e = db::collection::list(&mut c).unwrap_err();
    let chain = db::report(&e);
    assert!(
        chain.starts_with("database query `list collections` failed"),
        "{chain}"
    );
    assert!(
        chain.contains("relation \"collection\" does not exist"),
        "{chain}"
    );
}
