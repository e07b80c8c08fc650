//! What maintainers look for on the package page: the configured links, "File new FTBFS
//! bug" and its redirect, group maintainers, the favicon.

use crate::harness::App;

fn query_field(location: &str, name: &str) -> Option<String> {
    let (_, query) = location.split_once('?')?;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| decode(v))
    })
}

/// `application/x-www-form-urlencoded` decoding, independent of the server's code.
fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn package_page_shows_the_configured_links_and_the_bug_link() {
    let app = App::start();
    let html = app.get("/package/rnv?collection=f25").body;
    for link in [
        r#"<a href="https://packages.fedoraproject.org/pkgs/rnv">Packages</a>"#,
        r#"<a href="https://bugzilla.redhat.com/buglist.cgi?product=Fedora&amp;component=rnv">Bugzilla</a>"#,
        r#"<a href="https://bodhi.fedoraproject.org/updates/?packages=rnv">Bodhi</a>"#,
        r#"<a href="https://src.fedoraproject.org/rpms/rnv">Dist-git</a>"#,
        r#"<a href="https://koji.fedoraproject.org/koji/search?type=package&amp;match=exact&amp;terms=rnv">Koji</a>"#,
        r#"<a class="bugreport" href="/bugreport/rnv?collection=f25">File new FTBFS bug</a>"#,
    ] {
        assert!(html.contains(link), "{link} in\n{html}");
    }
    // Names are encoded into the URLs (and the markup escaped).
    let html = app.get("/package/%3Cscript%3Ealert(1)%3C%2Fscript%3E").body;
    assert!(
        html.contains("https://src.fedoraproject.org/rpms/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"),
        "{html}"
    );
    // EPEL 7 has no Bugzilla product or version: no Bugzilla link, no bug link.
    let html = app.get("/package/rnv?collection=epel7").body;
    assert!(html.contains(">Packages</a>"), "{html}");
    assert!(!html.contains(">Bugzilla</a>"), "{html}");
    assert!(!html.contains("File new FTBFS bug"), "{html}");
    // No complete build to report on.
    assert!(
        !app.get("/package/xpp3?collection=f25")
            .body
            .contains("File new FTBFS bug")
    );
}

#[test]
fn configured_links_replace_the_defaults() {
    let config = koschei_core::config::Config::from_texts(
        &[(
            std::path::Path::new("links.toml"),
            "[[links]]\nname = \"Source <git>\"\nurl = \"https://git.example/{package.collection.dest_tag}/{package.name}\"\n",
        )],
        None,
    )
    .unwrap();
    let app = App::start_with(koschei_web::Options {
        links: config.links,
        ..koschei_web::Options::default()
    });
    let html = app.get("/package/rnv?collection=f25").body;
    assert!(
        html.contains(r#"<a href="https://git.example/f25/rnv">Source &lt;git&gt;</a>"#),
        "{html}"
    );
    assert!(!html.contains(">Bodhi</a>"), "{html}");
}

#[test]
fn bugreport_redirects_to_a_prefilled_bugzilla_form() {
    let app = App::start_with(koschei_web::Options {
        external_url: Some("https://koschei.example".into()),
        ..koschei_web::Options::default()
    });
    let r = app.get("/bugreport/rnv?collection=f25");
    assert_eq!(r.status, 302, "{}", r.body);
    let location = r.header("location").unwrap();
    assert!(
        location.starts_with("https://bugzilla.redhat.com/enter_bug.cgi?"),
        "{location}"
    );
    let field = |n| query_field(location, n).unwrap_or_else(|| panic!("{n} in {location}"));
    assert_eq!(field("product"), "Fedora");
    assert_eq!(field("version"), "25");
    assert_eq!(field("component"), "rnv");
    assert_eq!(field("short_desc"), "rnv: FTBFS in Fedora Rawhide");
    assert_eq!(field("bug_file_loc"), "https://koschei.example/package/rnv");
    let comment = field("comment");
    assert!(
        comment.starts_with("Description of problem:\nPackage rnv fails"),
        "{comment}"
    );
    assert!(
        comment.contains("koji build --scratch f25 rnv-1.7.11-15.fc25.src.rpm"),
        "{comment}"
    );
    // Not blocked, existing, with a complete build; else 404.
    for path in [
        "/bugreport/xpp3",
        "/bugreport/blocked-pkg",
        "/bugreport/nope",
    ] {
        assert_eq!(
            app.get(&format!("{path}?collection=f25")).status,
            404,
            "{path}"
        );
    }
    // Without an external URL, the request's host.
    let app = App::start();
    let r = app.get("/bugreport/rnv?collection=f25");
    let location = r.header("location").unwrap();
    let host = app.server.url();
    assert_eq!(
        query_field(location, "bug_file_loc").as_deref(),
        Some(format!("{host}/package/rnv").as_str())
    );
}

#[test]
fn group_pages_name_the_maintainers() {
    let app = App::start();
    app.db
        .client()
        .batch_execute(
            "INSERT INTO users (id, name) VALUES (1, 'mizdebsk'), (2, 'msimacek'), (3, 'other');
             INSERT INTO group_acl VALUES (1, 2), (1, 1);",
        )
        .unwrap();
    let html = app.get("/groups/java?collection=f25").body;
    assert!(html.contains("Maintainers: mizdebsk, msimacek"), "{html}");
    assert!(!html.contains("other"), "{html}");
    let html = app.get("/groups/alice/tools").body;
    assert!(!html.contains("Maintainers:"), "{html}");
}

#[test]
fn favicon_is_served_and_linked() {
    let app = App::start();
    for path in ["/static/favicon.svg", "/favicon.ico"] {
        let r = app.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("image/svg+xml"));
        assert!(r.body.starts_with("<svg"), "{}", r.body);
    }
    let html = app.get("/").body;
    assert!(
        html.contains(r#"<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">"#),
        "{html}"
    );
}
