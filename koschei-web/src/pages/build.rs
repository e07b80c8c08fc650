//! The build page.

use maud::{Markup, html};

use koschei_core::db::web::{BuildDetail, CollectionRow};

use super::package::build_block;
use super::{Context, layout, package_path};
use crate::format::KojiLinks;

/// Renders the build page.
pub(crate) fn page(
    ctx: &Context<'_>,
    b: &BuildDetail,
    collection: &CollectionRow,
    koji: &KojiLinks,
    secondary_koji: Option<&KojiLinks>,
) -> Markup {
    let koji = KojiLinks::for_build(
        koji,
        secondary_koji,
        collection.secondary_mode,
        b.entry.real,
    );
    let title = format!("Build {} of {}", b.entry.build.id, b.package_name);
    let content = html! {
        h1 { "Build " (b.entry.build.id) " of "
            a href=(super::with_query(&package_path(&b.package_name), &[("collection", &collection.name)])) { (b.package_name) } }
        p.subtitle { "in " (collection.display_name)
            @if b.is_last_build { " – the package's last build" } }
        (build_block(ctx, &collection.name, &b.entry, koji))
    };
    layout(ctx, &title, content)
}
