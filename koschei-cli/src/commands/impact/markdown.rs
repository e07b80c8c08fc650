//! The Markdown report of `koschei impact --format markdown`, for a CI to post on a pull
//! request: a headline, broken packages with their problems, fixed packages and the
//! changed-dependency priority list; rows past the first [`VISIBLE`] are folded into a
//! `<details>` block. Pure: the run's findings in, text out.

use std::fmt::Write as _;

use koschei_solver::{DependencyChange, ImpactStatus, SourcePackage};

use super::Findings;

/// Rows of a list shown before the rest is folded away.
pub(crate) const VISIBLE: usize = 10;

/// Dependency changes listed per package before "and N more".
const CHANGES_SHOWN: usize = 5;

/// The first line: lets a CI bot find (and update) its earlier comment.
pub(crate) const MARKER: &str = "<!-- koschei-impact -->";

/// What the report is about.
#[derive(Debug)]
pub(crate) struct Report<'a> {
    /// The old repository (its label).
    pub(crate) old: String,
    /// The new repository, or the repositories added to the old one.
    pub(crate) new: Vec<String>,
    /// Whether `new` was added to the old repository (`--add-repo`).
    pub(crate) added: bool,
    /// The `--sources` argument.
    pub(crate) sources_arg: &'a str,
    /// The source packages, indexed by the findings.
    pub(crate) sources: &'a [SourcePackage],
    /// What the run found (sorted).
    pub(crate) findings: &'a Findings,
}

/// Text for a table cell: HTML-escaped, `|` escaped, line breaks as `<br>`.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// A name or NEVRA in backticks (backticks inside cannot close it: they become quotes).
fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'").replace('|', "\\|"))
}

fn package(report: &Report<'_>, index: usize) -> String {
    let s = &report.sources[index];
    code(&format!("{}-{}", s.name, s.evr()))
}

fn change(c: &DependencyChange) -> String {
    let prev = c.prev_evr.as_deref().unwrap_or("(new)");
    let curr = c.curr_evr.as_deref().unwrap_or("(removed)");
    format!("{} {prev} → {curr}", c.dep_name)
}

/// A table of `rows` under `header`; rows past [`VISIBLE`] go into a `<details>` block.
fn table(out: &mut String, header: &str, align: &str, rows: &[String]) {
    let write_rows = |out: &mut String, rows: &[String]| {
        let _ = writeln!(out, "{header}\n{align}");
        for r in rows {
            let _ = writeln!(out, "{r}");
        }
    };
    let (shown, folded) = rows.split_at(rows.len().min(VISIBLE));
    write_rows(out, shown);
    if !folded.is_empty() {
        let _ = writeln!(out, "\n<details><summary>{} more</summary>\n", folded.len());
        write_rows(out, folded);
        out.push_str("\n</details>\n");
    }
}

/// Renders the report.
pub(crate) fn render(report: &Report<'_>) -> String {
    let f = report.findings;
    let count = |s| f.count(s);
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER}");
    let headline = if count(ImpactStatus::Broken) == 0 {
        "no package broken".to_owned()
    } else {
        format!("{} broken", count(ImpactStatus::Broken))
    };
    let _ = writeln!(
        out,
        "### koschei impact: {headline}, {} fixed, {} changed\n",
        count(ImpactStatus::Fixed),
        count(ImpactStatus::Changed)
    );
    let new = report
        .new
        .iter()
        .map(|n| code(n))
        .collect::<Vec<_>>()
        .join(" + ");
    let new = if report.added {
        format!("{} + {new}", code(&report.old))
    } else {
        new
    };
    let _ = writeln!(
        out,
        "Old repository {}, new {new}, sources {}: {} packages, {} broken, {} fixed, {} changed, {} unchanged, {} still broken.",
        code(&report.old),
        code(report.sources_arg),
        report.sources.len(),
        count(ImpactStatus::Broken),
        count(ImpactStatus::Fixed),
        count(ImpactStatus::Changed),
        count(ImpactStatus::Unchanged),
        count(ImpactStatus::StillBroken),
    );
    if !f.broken.is_empty() {
        let _ = writeln!(out, "\n#### Broken by the change ({})\n", f.broken.len());
        let rows: Vec<String> = f
            .broken
            .iter()
            .map(|(i, problems)| {
                let problems: Vec<String> = problems.iter().map(|p| cell(p)).collect();
                format!("| {} | {} |", package(report, *i), problems.join("<br>"))
            })
            .collect();
        table(&mut out, "| package | problems |", "| --- | --- |", &rows);
    }
    if !f.fixed.is_empty() {
        let _ = writeln!(out, "\n#### Fixed by the change ({})\n", f.fixed.len());
        let names: Vec<String> = f.fixed.iter().map(|i| package(report, *i)).collect();
        let (shown, folded) = names.split_at(names.len().min(VISIBLE));
        let _ = writeln!(out, "{}", shown.join(", "));
        if !folded.is_empty() {
            let _ = writeln!(
                out,
                "\n<details><summary>{} more</summary>\n\n{}\n\n</details>",
                folded.len(),
                folded.join(", ")
            );
        }
    }
    if !f.changed.is_empty() {
        let _ = writeln!(
            out,
            "\n#### Changed build dependencies, by priority ({})\n",
            f.changed.len()
        );
        let rows: Vec<String> = f
            .changed
            .iter()
            .map(|(prio, i, changes)| {
                let mut listed: Vec<String> = changes
                    .iter()
                    .take(CHANGES_SHOWN)
                    .map(|c| cell(&change(c)))
                    .collect();
                if changes.len() > CHANGES_SHOWN {
                    listed.push(format!("and {} more", changes.len() - CHANGES_SHOWN));
                }
                format!(
                    "| {prio} | {} | {} |",
                    package(report, *i),
                    listed.join(", ")
                )
            })
            .collect();
        table(
            &mut out,
            "| priority | package | changed dependencies |",
            "| ---: | --- | --- |",
            &rows,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str) -> SourcePackage {
        SourcePackage {
            name: name.to_owned(),
            epoch: 0,
            version: "1".to_owned(),
            release: "1".to_owned(),
            build_requires: Vec::new(),
        }
    }

    fn dep(name: &str, prev: Option<&str>, curr: Option<&str>) -> DependencyChange {
        DependencyChange {
            dep_name: name.to_owned(),
            prev_evr: prev.map(str::to_owned),
            curr_evr: curr.map(str::to_owned),
            distance: Some(1),
        }
    }

    #[test]
    fn report_lists_broken_fixed_and_changed_packages() {
        let sources = [
            source("uses-bar"),
            source("wants-newlib"),
            source("uses-foo"),
        ];
        let mut findings = Findings::default();
        findings.counts.insert(ImpactStatus::Broken, 1);
        findings.counts.insert(ImpactStatus::Fixed, 1);
        findings.counts.insert(ImpactStatus::Changed, 1);
        findings.broken.push((
            0,
            vec![
                "Problem: conflicting requests\n - nothing provides libbar < 2 | x needed by bar-devel-1.0-1.x86_64"
                    .to_owned(),
            ],
        ));
        findings.fixed.push(1);
        findings.changed.push((
            213,
            2,
            vec![
                dep("foo-devel", Some("0:1.0-1"), Some("0:2.0-1")),
                dep("libnew", None, Some("0:1-1")),
            ],
        ));
        let report = Report {
            old: "koji:f44-build (repo 7)".into(),
            new: vec!["koji:f44-build-side-12 (repo 9)".into()],
            added: false,
            sources_arg: "koji:f44",
            sources: &sources,
            findings: &findings,
        };
        let expected = "<!-- koschei-impact -->
### koschei impact: 1 broken, 1 fixed, 1 changed

Old repository `koji:f44-build (repo 7)`, new `koji:f44-build-side-12 (repo 9)`, sources `koji:f44`: 3 packages, 1 broken, 1 fixed, 1 changed, 0 unchanged, 0 still broken.

#### Broken by the change (1)

| package | problems |
| --- | --- |
| `uses-bar-0:1-1` | Problem: conflicting requests<br> - nothing provides libbar &lt; 2 \\| x needed by bar-devel-1.0-1.x86_64 |

#### Fixed by the change (1)

`wants-newlib-0:1-1`

#### Changed build dependencies, by priority (1)

| priority | package | changed dependencies |
| ---: | --- | --- |
| 213 | `uses-foo-0:1-1` | foo-devel 0:1.0-1 → 0:2.0-1, libnew (new) → 0:1-1 |
";
        assert_eq!(render(&report), expected);
    }

    #[test]
    fn long_lists_fold_into_details_and_no_breakage_says_so() {
        let sources: Vec<SourcePackage> = (0..25).map(|i| source(&format!("p{i:02}"))).collect();
        let mut findings = Findings::default();
        findings.counts.insert(ImpactStatus::Changed, 25);
        for i in 0..25 {
            let changes = (0..7)
                .map(|d| dep(&format!("d{d}"), Some("0:1-1"), Some("0:2-1")))
                .collect();
            findings.changed.push((100 - i as i64, i, changes));
        }
        let report = Report {
            old: "old".into(),
            new: vec!["https://copr.example/results/o/p/fedora-rawhide-x86_64/".into()],
            added: true,
            sources_arg: "src",
            sources: &sources,
            findings: &findings,
        };
        let text = render(&report);
        assert!(
            text.contains("### koschei impact: no package broken, 0 fixed, 25 changed"),
            "{text}"
        );
        assert!(
            text.contains("new `old` + `https://copr.example/results/o/p/fedora-rawhide-x86_64/`"),
            "{text}"
        );
        assert!(!text.contains("Broken by the change"), "{text}");
        let (visible, folded) = text
            .split_once("<details><summary>15 more</summary>")
            .unwrap();
        assert_eq!(visible.matches("| `p").count(), VISIBLE, "{text}");
        assert_eq!(folded.matches("| `p").count(), 15, "{text}");
        assert!(
            folded.contains("| priority | package |"),
            "folded rows have a header"
        );
        assert!(folded.trim_end().ends_with("</details>"), "{text}");
        assert!(text.contains("d4 0:1-1 → 0:2-1, and 2 more |"), "{text}");
    }
}
