//! Admin notices (`admin_notice`).

use postgres::GenericClient;

use super::{Error, QueryContext, column};

/// The key of the notice shown on every page.
pub const GLOBAL: &str = "global_notice";

/// Sets notice `key`.
pub fn set(client: &mut impl GenericClient, key: &str, content: &str) -> Result<(), Error> {
    client
        .execute(
            "INSERT INTO admin_notice (key, content) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET content = EXCLUDED.content",
            &[&key, &content],
        )
        .ctx("set an admin notice")?;
    Ok(())
}

/// Removes notice `key`; returns whether there was one.
pub fn clear(client: &mut impl GenericClient, key: &str) -> Result<bool, Error> {
    let n = client
        .execute("DELETE FROM admin_notice WHERE key = $1", &[&key])
        .ctx("clear an admin notice")?;
    Ok(n > 0)
}

/// The content of notice `key`.
pub fn get(client: &mut impl GenericClient, key: &str) -> Result<Option<String>, Error> {
    let row = client
        .query_opt("SELECT content FROM admin_notice WHERE key = $1", &[&key])
        .ctx("read an admin notice")?;
    row.map(|r| column(&r, "read an admin notice", "content"))
        .transpose()
}
