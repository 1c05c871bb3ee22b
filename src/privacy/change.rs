//! What a change of policy needs beyond the local rewrite. A stored row keeps only what
//! the older policy let through: a value it dropped, cut to the year or replaced by a
//! pseudonym cannot be brought back, nor a pseudonym re-keyed under a new secret, from
//! the row itself. Such resources must be fetched again from Cliniko (a full walk).

use super::{FieldPath, OrgPolicy, ResourcePolicy};
use crate::resource::Resource;

/// The resources whose stored rows, written under the policy recorded as
/// `old_fingerprint` with the rules `old_rules` ([`OrgPolicy::rules_text`]), cannot be
/// brought under `new` locally. Every resource when the old rules are unknown (recorded
/// by a release that did not keep them); none when no policy was applied.
pub fn refetch_needed(
    new: &OrgPolicy,
    old_fingerprint: Option<&str>,
    old_rules: Option<&str>,
) -> Vec<Resource> {
    let Some(old_fingerprint) = old_fingerprint else {
        return Vec::new();
    };
    let Some(rules) = old_rules.and_then(parse_rules) else {
        return Resource::ALL.to_vec();
    };
    let old = OrgPolicy::new(&new.org_id, rules, new.secret.clone());
    // The old rules under the new secret give the old fingerprint only if the secret is
    // the same (or nothing was hashed, when the secret is not part of it).
    let same_secret = old.fingerprint().as_deref() == Some(old_fingerprint);
    let none = ResourcePolicy::default();
    old.rules
        .iter()
        .filter(|(resource, old)| {
            let new = new.for_resource(*resource).unwrap_or(&none);
            !new.covers(old, same_secret)
        })
        .map(|(resource, _)| *resource)
        .collect()
}

impl ResourcePolicy {
    /// Whether `path` is not stored at all under this policy.
    fn removes(&self, path: &FieldPath) -> bool {
        self.drop.iter().any(|d| path.within(d))
            || self
                .keep
                .as_ref()
                .is_some_and(|keep| !keep.iter().any(|k| path.within(k) || k.within(path)))
    }

    /// Whether every value `old` replaced or removed is also replaced the same way, or
    /// removed, by `self`: then the local rewrite brings the rows under `self` (pseudonyms
    /// only when the secret is the same).
    fn covers(&self, old: &ResourcePolicy, same_secret: bool) -> bool {
        let keep = match (&old.keep, &self.keep) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(old), Some(new)) => new.iter().all(|n| old.iter().any(|o| n.within(o))),
        };
        keep && old.drop.iter().all(|d| self.removes(d))
            && old
                .hash
                .iter()
                .all(|h| self.removes(h) || (same_secret && self.hash.contains(h)))
            && old
                .year
                .iter()
                .all(|y| self.removes(y) || self.year.contains(y))
    }
}

/// The rules of [`OrgPolicy::rules_text`], read back; `None` when the text is not such.
fn parse_rules(text: &str) -> Option<Vec<(Resource, ResourcePolicy)>> {
    let mut rules: Vec<(Resource, ResourcePolicy)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            rules.push((name.parse().ok()?, ResourcePolicy::default()));
            continue;
        }
        let (rule, list) = line.split_once('=')?;
        let paths = list
            .split(',')
            .filter(|p| !p.is_empty())
            .map(FieldPath::parse)
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        let (_, policy) = rules.last_mut()?;
        match rule {
            "keep" => policy.keep = Some(paths),
            "drop" => policy.drop = paths,
            "hash" => policy.hash = paths,
            "year" => policy.year = paths,
            _ => return None,
        }
    }
    Some(rules)
}

#[cfg(test)]
mod tests {
    use super::super::HashSecret;
    use super::*;

    fn policy(secret: &str, rules: &[(Resource, &str, &[&str])]) -> OrgPolicy {
        let mut out: Vec<(Resource, ResourcePolicy)> = Vec::new();
        for (resource, rule, paths) in rules {
            let paths: Vec<FieldPath> =
                paths.iter().map(|p| FieldPath::parse(p).unwrap()).collect();
            if !out.iter().any(|(r, _)| r == resource) {
                out.push((*resource, ResourcePolicy::default()));
            }
            let (_, p) = out.iter_mut().find(|(r, _)| r == resource).unwrap();
            match *rule {
                "keep" => p.keep = Some(paths),
                "drop" => p.drop = paths,
                "hash" => p.hash = paths,
                _ => p.year = paths,
            }
        }
        OrgPolicy::new("manly", out, Some(HashSecret::new(secret)))
    }

    /// What moving from `old` to `new` needs fetched again.
    fn needed(old: &OrgPolicy, new: &OrgPolicy) -> Vec<Resource> {
        refetch_needed(
            new,
            old.fingerprint().as_deref(),
            old.rules_text().as_deref(),
        )
    }

    const P: Resource = Resource::Patients;
    const A: Resource = Resource::Appointments;

    #[test]
    fn rules_read_back_as_written() {
        let p = policy(
            "a secret long enough",
            &[
                (P, "keep", &["email", "patient_phone_numbers[].number"]),
                (P, "hash", &["email"]),
                (A, "drop", &["notes"]),
            ],
        );
        let text = p.rules_text().unwrap();
        assert_eq!(parse_rules(&text).unwrap(), p.rules);
        assert_eq!(parse_rules("[visits]\ndrop=\n"), None);
        assert_eq!(parse_rules("drop=notes\n"), None);
    }

    #[test]
    fn a_new_secret_or_a_looser_policy_needs_a_refetch_and_a_stricter_one_does_not() {
        let s1 = "secret one, long enough";
        let s2 = "secret two, long enough";
        let base = policy(
            s1,
            &[
                (P, "drop", &["notes"]),
                (P, "hash", &["email"]),
                (P, "year", &["date_of_birth"]),
                (A, "drop", &["notes"]),
            ],
        );
        // The same rules: nothing; a new secret: the resource that hashes.
        assert_eq!(needed(&base, &base), []);
        let rekeyed = OrgPolicy {
            secret: Some(HashSecret::new(s2)),
            ..base.clone()
        };
        assert_eq!(needed(&base, &rekeyed), [P]);
        // Stricter: more dropped, a hashed value dropped: done locally.
        let stricter = policy(
            s1,
            &[
                (P, "drop", &["notes", "email", "medicare"]),
                (P, "year", &["date_of_birth"]),
                (A, "drop", &["notes", "patient_name"]),
            ],
        );
        assert_eq!(needed(&base, &stricter), []);
        // Looser: a cut date kept whole, a dropped field kept, the policy removed.
        let looser = policy(
            s1,
            &[
                (P, "drop", &["notes"]),
                (P, "hash", &["email"]),
                (A, "drop", &["telehealth_url"]),
            ],
        );
        assert_eq!(needed(&base, &looser), [P, A]);
        let none = OrgPolicy::new("manly", vec![], None);
        assert_eq!(needed(&base, &none), [P, A]);
        // An allow-list widened, or given up for a drop list.
        let keep = policy(s1, &[(P, "keep", &["first_name"])]);
        let wider = policy(s1, &[(P, "keep", &["first_name", "email"])]);
        assert_eq!(needed(&keep, &wider), [P]);
        assert_eq!(needed(&wider, &keep), []);
        assert_eq!(needed(&keep, &policy(s1, &[(P, "drop", &["notes"])])), [P]);
        // Nothing applied before: nothing to fetch again; rules unknown: everything.
        assert_eq!(refetch_needed(&base, None, None), []);
        assert_eq!(
            refetch_needed(&base, base.fingerprint().as_deref(), None),
            Resource::ALL
        );
    }
}
