//! The `user_agent` setting: required, and in the form Cliniko asks for,
//! `App name (contact@email)`.

use super::problems::Problems;

/// Cliniko's User-Agent rule, for messages.
const UA_RULE: &str = "Cliniko requires a User-Agent of the form `App name (contact@email)` \
                       (an app name, then a valid contact email in parentheses) and may \
                       block requests without one";

/// The User-Agent to send, trimmed; a missing or malformed one is a problem.
pub(super) fn validate(raw: Option<&str>, problems: &mut Problems) -> String {
    match raw {
        None => {
            problems.top(
                "user_agent",
                format!("missing; {UA_RULE}, e.g. user_agent = \"Routiq Sync (ops@example.com)\""),
            );
            String::new()
        }
        Some(ua) => {
            if let Err(why) = check_user_agent(ua) {
                problems.top("user_agent", format!("`{ua}` {why}; {UA_RULE}"));
            }
            ua.trim().to_string()
        }
    }
}

/// Checks `Name (email@domain)`: a name, then one email address in parentheses at the end.
fn check_user_agent(ua: &str) -> Result<(), &'static str> {
    if ua.chars().any(char::is_control) {
        return Err("contains control characters (such as a newline)");
    }
    let Some((name, email)) = ua
        .trim()
        .strip_suffix(')')
        .and_then(|rest| rest.rsplit_once('('))
    else {
        return Err("does not end with a contact email in parentheses");
    };
    if name.trim().is_empty() {
        return Err("has no app name before the email");
    }
    if !looks_like_email(email.trim()) {
        return Err("does not have a valid email inside the parentheses");
    }
    Ok(())
}

/// `local@domain.tld` with no spaces: enough to catch typos, not an RFC 5322 parser.
fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents() {
        for good in [
            "Routiq Sync (ops@example.com)",
            "Really helpful app (devs@helpfulapp.com)",
            "x (a@b.co)",
            "App/1.0 (Team) (ops@example.com.au)",
        ] {
            assert_eq!(check_user_agent(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Routiq Sync",
            "(ops@example.com)",
            "Routiq Sync ops@example.com",
            "Routiq (ops)",
            "Routiq (ops@localhost)",
            "Routiq (@example.com)",
            "Routiq (a b@example.com)",
            "Routiq (ops@example.com) trailing",
            "Routiq\n(ops@example.com)",
        ] {
            assert!(check_user_agent(bad).is_err(), "{bad:?}");
        }
    }
}
