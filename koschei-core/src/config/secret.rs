//! Secrets: database URLs whose password never reaches a message, and masking for
//! `koschei config show`.

use std::fmt;
#[cfg(feature = "postgres")]
use std::str::FromStr;

use super::raw::RawConfig;

const MASK: &str = "********";

/// A PostgreSQL connection string (URL or `key=value` form) that was checked to parse.
/// `Display` and `Debug` show it with the password masked; [`DatabaseUrl::expose`] gives
/// the real string to the driver.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Checks that `s` is a connection string the driver accepts.
    pub fn parse(s: &str) -> Result<DatabaseUrl, String> {
        #[cfg(not(feature = "postgres"))]
        {
            // Without the database layer nothing connects; keep the string as given.
            Ok(DatabaseUrl(s.to_owned()))
        }
        #[cfg(feature = "postgres")]
        postgres::Config::from_str(s)
            .map(|_| DatabaseUrl(s.to_owned()))
            .map_err(|e| {
                format!(
                    "`{}` is not a PostgreSQL connection string: {e}",
                    mask_url_password(s)
                )
            })
    }

    /// The connection string with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The connection string with the password masked.
    pub fn masked(&self) -> String {
        mask_url_password(&self.0)
    }

    /// The driver's parsed form.
    #[cfg(feature = "postgres")]
    pub fn to_pg_config(&self) -> postgres::Config {
        // `parse` checked that this succeeds; fall back to an empty config rather than panic.
        postgres::Config::from_str(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.masked())
    }
}

/// Replaces the password of a connection string with `********`: the `user:password@`
/// part of a URL, a `password=` query parameter, and a `password=` key of the
/// `key=value` form.
pub fn mask_url_password(s: &str) -> String {
    if let Some(scheme_end) = s.find("://") {
        let (scheme, rest) = s.split_at(scheme_end + 3);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let authority = match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => format!("{user}:{MASK}{}", &authority[at..]),
                    None => authority.to_owned(),
                }
            }
            None => authority.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|kv| match kv.split_once('=') {
                        Some(("password", _)) => format!("password={MASK}"),
                        _ => kv.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => tail.to_owned(),
        };
        return format!("{scheme}{authority}{tail}");
    }
    mask_key_value(s)
}

fn mask_key_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = find_password_key(rest) {
        out.push_str(&rest[..pos]);
        out.push_str("password=");
        let after = rest[pos + "password".len()..].trim_start();
        let after = after.strip_prefix('=').unwrap_or(after).trim_start();
        out.push_str(MASK);
        rest = skip_value(after);
    }
    out.push_str(rest);
    out
}

fn find_password_key(s: &str) -> Option<usize> {
    let mut start = 0;
    while let Some(i) = s[start..].find("password") {
        let pos = start + i;
        let at_word_start = pos == 0 || s[..pos].ends_with(char::is_whitespace);
        let after = s[pos + "password".len()..].trim_start();
        if at_word_start && after.starts_with('=') {
            return Some(pos);
        }
        start = pos + "password".len();
    }
    None
}

/// Skips a `key=value` value (quoted with `'` and `\` escapes, or up to whitespace).
fn skip_value(s: &str) -> &str {
    if let Some(q) = s.strip_prefix('\'') {
        let mut escaped = false;
        for (i, c) in q.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '\'' if !escaped => return &q[i + 1..],
                _ => escaped = false,
            }
        }
        ""
    } else {
        s.find(char::is_whitespace).map_or("", |i| &s[i..])
    }
}

const SECRET_KEYS: &[&str] = &["secret_key", "password"];

/// The configuration as a TOML value with secrets masked.
pub(super) fn masked_value(raw: &RawConfig) -> toml::Value {
    let mut value = toml::Value::try_from(raw).unwrap_or(toml::Value::Table(toml::Table::new()));
    mask_in(&mut value);
    value
}

fn mask_in(value: &mut toml::Value) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                if SECRET_KEYS.contains(&k.as_str()) && v.is_str() {
                    *v = toml::Value::String(MASK.to_owned());
                } else {
                    mask_in(v);
                }
            }
        }
        toml::Value::Array(items) => items.iter_mut().for_each(mask_in),
        toml::Value::String(s) => *s = mask_url_password(s),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords_in_every_form() {
        let cases = [
            (
                "postgresql://u:secret@h:5432/db",
                "postgresql://u:********@h:5432/db",
            ),
            ("postgresql://u@h/db", "postgresql://u@h/db"),
            (
                "postgresql://u:p%40ss@h/db?sslmode=disable",
                "postgresql://u:********@h/db?sslmode=disable",
            ),
            (
                "postgresql://h/db?user=u&password=x",
                "postgresql://h/db?user=u&password=********",
            ),
            (
                "host=h password=secret user=u",
                "host=h password=******** user=u",
            ),
            (
                "host=h password = 'se cr\\'et' user=u",
                "host=h password=******** user=u",
            ),
            ("host=h user=u", "host=h user=u"),
            ("https://example.org/x", "https://example.org/x"),
        ];
        for (input, want) in cases {
            assert_eq!(mask_url_password(input), want, "input {input}");
        }
    }

    #[test]
    fn database_url_display_is_masked() {
        let u = DatabaseUrl::parse("postgresql://koschei:hunter2@db.example/koschei").unwrap();
        assert!(!u.to_string().contains("hunter2"));
        assert!(!format!("{u:?}").contains("hunter2"));
        assert_eq!(
            u.expose(),
            "postgresql://koschei:hunter2@db.example/koschei"
        );
    }

    #[test]
    fn unparsable_database_url_error_is_masked() {
        let e = DatabaseUrl::parse("postgresql://u:hunter2@h:notaport/db").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
