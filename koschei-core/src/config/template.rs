//! The templates of `[[links]]` and `[bugreport]`: the subset of Python's `str.format` the
//! original's configuration used (`{package.name}`, `{collection.bugzilla_product}`, `{{` and
//! `}}` for braces). Parsed and checked once when the configuration is loaded; rendering takes
//! the value of each variable from the caller. Pure.

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// A variable as its dotted path, `["package", "collection", "name"]`.
    Var(Vec<String>),
}

/// The attributes of a collection a template may use (`{collection.…}`,
/// `{package.collection.…}`).
pub const COLLECTION_ATTRIBUTES: &[&str] = &[
    "id",
    "name",
    "display_name",
    "target",
    "dest_tag",
    "build_tag",
    "build_group",
    "bugzilla_product",
    "bugzilla_version",
];

/// The attributes of a package a template may use (`{package.…}`), besides `collection`.
pub const PACKAGE_ATTRIBUTES: &[&str] = &["id", "name"];

/// The variables a bug report template may use besides `package` and `collection`.
pub const BUGREPORT_VARIABLES: &[&str] = &["name", "version", "release", "arch", "url"];

/// Whether `path` names a package or one of its attributes (`package`, `package.name`,
/// `package.collection.bugzilla_product`).
fn package_path(path: &[&str]) -> bool {
    match path {
        [] => true,
        [attr] => PACKAGE_ATTRIBUTES.contains(attr),
        ["collection", rest @ ..] => collection_path(rest),
        _ => false,
    }
}

fn collection_path(path: &[&str]) -> bool {
    match path {
        [] => true,
        [attr] => COLLECTION_ATTRIBUTES.contains(attr),
        _ => false,
    }
}

/// The check of a link URL's variables: only `package` and its attributes (as in the
/// original, which refused any other variable).
pub fn link_variable(path: &[&str]) -> Result<(), String> {
    match path {
        ["package", rest @ ..] if package_path(rest) => Ok(()),
        ["package", ..] => Err(format!(
            "`{}` is not an attribute of a package (use `package.{}` or `package.collection.{}`)",
            path.join("."),
            PACKAGE_ATTRIBUTES.join("`, `package."),
            COLLECTION_ATTRIBUTES.join("`, `package.collection.")
        )),
        _ => Err(format!(
            "only `package` can be interpolated into a link URL, not `{}`",
            path.join(".")
        )),
    }
}

/// The check of a bug report field's variables: `name`, `version`, `release`, `arch`,
/// `url`, `package[.…]`, `collection[.…]`.
pub fn bugreport_variable(path: &[&str]) -> Result<(), String> {
    let ok = match path {
        [v] if BUGREPORT_VARIABLES.contains(v) => true,
        ["package", rest @ ..] => package_path(rest),
        ["collection", rest @ ..] => collection_path(rest),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a bug report variable (use {}, `package[.…]` or `collection[.…]`)",
            path.join("."),
            BUGREPORT_VARIABLES
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

impl Template {
    /// Parses `source`, checking every variable with `allowed`; the error says what is wrong.
    pub fn parse(source: &str, allowed: fn(&[&str]) -> Result<(), String>) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => return Err(format!("single `}}` at byte {i} (write `}}}}`)")),
                '{' => {
                    let rest = &source[i + 1..];
                    let end = rest
                        .find('}')
                        .ok_or_else(|| format!("`{{` at byte {i} is not closed"))?;
                    let field = &rest[..end];
                    if field.contains(['!', ':', '[', '{']) {
                        return Err(format!(
                            "`{{{field}}}`: conversions, format specifications and indexing are not supported"
                        ));
                    }
                    let path: Vec<&str> = field.split('.').collect();
                    if path.iter().any(|p| {
                        p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    }) {
                        return Err(format!("`{{{field}}}` is not a variable name"));
                    }
                    allowed(&path)?;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Var(path.iter().map(|s| (*s).to_owned()).collect()));
                    for _ in 0..field.chars().count() + 1 {
                        chars.next();
                    }
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variables used, as dotted paths, in order.
    pub fn variables(&self) -> impl Iterator<Item = &[String]> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(path) => Some(path.as_slice()),
            Part::Text(_) => None,
        })
    }

    /// The text with each variable replaced by `value(path)`; `None` when a value is `None`
    /// (the original left out a link whose value was `None`).
    pub fn render(&self, mut value: impl FnMut(&[String]) -> Option<String>) -> Option<String> {
        let mut out = String::with_capacity(self.source.len());
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(path) => out.push_str(&value(path)?),
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_render() {
        let t = Template::parse(
            "https://b.example/buglist.cgi?product={package.collection.bugzilla_product}&component={package.name}&x={{y}}",
            link_variable,
        )
        .unwrap();
        assert_eq!(
            t.variables().map(|p| p.join(".")).collect::<Vec<_>>(),
            ["package.collection.bugzilla_product", "package.name"]
        );
        let out = t.render(|p| Some(format!("<{}>", p.join("."))));
        assert_eq!(
            out.as_deref(),
            Some(
                "https://b.example/buglist.cgi?product=<package.collection.bugzilla_product>&component=<package.name>&x={y}"
            )
        );
        assert_eq!(t.render(|p| (p[1] == "name").then(String::new)), None);
        let b = Template::parse("{name}: FTBFS in {collection}", bugreport_variable).unwrap();
        assert_eq!(
            b.render(|p| Some(p.join("."))).as_deref(),
            Some("name: FTBFS in collection")
        );
    }

    type Check = fn(&[&str]) -> Result<(), String>;

    #[test]
    fn bad_templates_say_why() {
        let cases: [(&str, Check, &str); 8] = [
            ("x{name}", link_variable, "only `package`"),
            (
                "x{package.owner}",
                link_variable,
                "not an attribute of a package",
            ),
            (
                "x{package.collection.owner}",
                link_variable,
                "not an attribute",
            ),
            ("{package.name!r}", link_variable, "not supported"),
            ("{package.name:>10}", link_variable, "not supported"),
            ("{package.name", link_variable, "not closed"),
            ("a}b", link_variable, "single `}`"),
            ("{koji}", bugreport_variable, "not a bug report variable"),
        ];
        for (source, check, why) in cases {
            let e = Template::parse(source, check).unwrap_err();
            assert!(e.contains(why), "{source}: {e}");
        }
        assert!(Template::parse("{}", link_variable).is_err());
        assert!(Template::parse("{a b}", bugreport_variable).is_err());
    }
}
