//! Field paths of a privacy policy: `email`, `emergency_contact`,
//! `patient_phone_numbers[].number` (every element of a list, then a field of each).

use std::fmt;

/// One step of a [`FieldPath`]: an object key, and whether the value there is a list
/// whose every element the rest of the path applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Segment {
    pub name: String,
    pub each: bool,
}

/// A parsed path: at least one segment; only the last may lack a following field
/// (`a[]` alone is refused: name the list `a` itself, or a field of its elements).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    /// Parses `text`; the error says why the path cannot match any field.
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        if text.trim() != text || text.is_empty() {
            return Err("is empty or has spaces around it".to_string());
        }
        let parts: Vec<&str> = text.split('.').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let (name, each) = match part.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (*part, false),
            };
            if name.is_empty() {
                return Err(
                    "has an empty field name (two dots, or a leading or trailing dot)".into(),
                );
            }
            if !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(format!(
                    "has `{name}`, which is not a field name (letters, digits, `_`; `[]` only \
                     after a list's name, as in `patient_phone_numbers[].number`)"
                ));
            }
            if each && i + 1 == parts.len() {
                return Err(format!(
                    "ends in `[]`; name the list itself (`{name}`) or a field of its elements \
                     (`{name}[].number`)"
                ));
            }
            segments.push(Segment {
                name: name.to_string(),
                each,
            });
        }
        Ok(FieldPath(segments))
    }

    /// The top-level field the path starts at.
    pub fn root(&self) -> &str {
        &self.0[0].name
    }

    /// Whether `self` is `other` or lies inside it (`a.b` is within `a`).
    pub fn within(&self, other: &FieldPath) -> bool {
        let n = other.0.len();
        if n > self.0.len() {
            return false;
        }
        self.0[..n - 1] == other.0[..n - 1] && self.0[n - 1].name == other.0[n - 1].name
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(&s.name)?;
            if s.each {
                f.write_str("[]")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_print_back() {
        for good in [
            "email",
            "patient_phone_numbers[].number",
            "a.b.c",
            "x[].y[].z",
        ] {
            assert_eq!(FieldPath::parse(good).unwrap().to_string(), good);
        }
        for bad in [
            "", " email", "a..b", ".a", "a.", "a[]", "a[0].b", "a b", "a[].b[]",
        ] {
            assert!(FieldPath::parse(bad).is_err(), "{bad:?}");
        }
        let p = |s| FieldPath::parse(s).unwrap();
        assert!(p("a[].b").within(&p("a")));
        assert!(p("a").within(&p("a")));
        assert!(!p("a").within(&p("a[].b")));
        assert!(!p("ab").within(&p("a")));
    }
}
