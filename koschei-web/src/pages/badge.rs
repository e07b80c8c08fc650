//! SVG state badges, one fixed image per package state.

use koschei_core::model::PackageState;

/// The badge for a state: a flat two-part label `koschei | <state>`.
pub(crate) fn svg(state: PackageState) -> String {
    let (text, color) = match state {
        PackageState::Ok => ("ok", "#4c1"),
        PackageState::Failing => ("failing", "#e05d44"),
        PackageState::Unresolved => ("unresolved", "#fe7d37"),
        PackageState::Blocked => ("blocked", "#555"),
        PackageState::Untracked => ("untracked", "#9f9f9f"),
        _ => ("unknown", "#9f9f9f"),
    };
    // Widths from a 6.5 px average glyph width at 11 px Verdana, plus padding.
    let left = 56;
    let right = 12 + text.len() * 7;
    let total = left + right;
    format!(
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="koschei: {text}">"##,
            r##"<title>koschei: {text}</title>"##,
            r##"<rect width="{left}" height="20" fill="#555"/>"##,
            r##"<rect x="{left}" width="{right}" height="20" fill="{color}"/>"##,
            r##"<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">"##,
            r##"<text x="{lx}" y="14">koschei</text><text x="{rx}" y="14">{text}</text></g></svg>"##
        ),
        total = total,
        left = left,
        right = right,
        color = color,
        text = text,
        lx = left / 2,
        rx = left + right / 2,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_has_its_own_badge() {
        let ok = svg(PackageState::Ok);
        assert!(ok.starts_with("<svg"));
        assert!(ok.contains(">ok</text>"));
        assert!(ok.contains("#4c1"));
        assert!(svg(PackageState::Failing).contains(">failing</text>"));
        assert_ne!(svg(PackageState::Unknown), svg(PackageState::Untracked));
    }
}
