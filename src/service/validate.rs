//! Input rules shared by the operations: trimming, lengths and formats.

use super::errors::{InputError, InputErrorCode};

pub const SEGMENT_NAME_MAX: usize = 80;
pub const DESCRIPTION_MAX: usize = 500;
pub const HANDLE_MAX: usize = 100;
pub const DISPLAY_NAME_MAX: usize = 200;
pub const EMAIL_MAX: usize = 254;
pub const NICHE_MAX: usize = 80;
pub const CAMPAIGN_NAME_MAX: usize = 120;
pub const EXTERNAL_ID_MAX: usize = 200;

/// A trimmed, required text of 1 to `max` characters.
pub fn required_text(
    raw: &str,
    max: usize,
    field: &[&str],
    what: &str,
) -> Result<String, InputError> {
    let value = raw.trim();
    let len = value.chars().count();
    if len == 0 {
        return Err(InputError::new(
            InputErrorCode::Invalid,
            field,
            format!("{what} must not be empty"),
        ));
    }
    if len > max {
        return Err(InputError::new(
            InputErrorCode::Invalid,
            field,
            format!("{what} must be at most {max} characters (got {len})"),
        ));
    }
    Ok(value.to_owned())
}

/// A trimmed optional text of at most `max` characters; blank becomes `None`.
pub fn optional_text(
    raw: Option<&str>,
    max: usize,
    field: &[&str],
    what: &str,
) -> Result<Option<String>, InputError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => required_text(value, max, field, what).map(Some),
    }
}

/// The case-insensitive key of a name: what uniqueness is checked on.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// A handle as people paste it (`@name`, with spaces around) reduced to `name`.
pub fn handle(raw: &str, field: &[&str]) -> Result<String, InputError> {
    let trimmed = raw.trim();
    let value = trimmed.strip_prefix('@').unwrap_or(trimmed);
    let value = required_text(value, HANDLE_MAX, field, "handle")?;
    if value.chars().any(char::is_whitespace) {
        return Err(InputError::new(
            InputErrorCode::Invalid,
            field,
            "handle must not contain spaces",
        ));
    }
    Ok(value)
}

/// A plausible e-mail address: one `@` with text on both sides, a dot in the domain, no spaces.
pub fn email(raw: Option<&str>, field: &[&str]) -> Result<Option<String>, InputError> {
    let Some(value) = optional_text(raw, EMAIL_MAX, field, "email")? else {
        return Ok(None);
    };
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(Some(value))
    } else {
        Err(InputError::new(
            InputErrorCode::Invalid,
            field,
            format!("\"{value}\" is not an e-mail address"),
        ))
    }
}

/// A follower count: not negative.
pub fn follower_count(raw: Option<i32>, field: &[&str]) -> Result<Option<i32>, InputError> {
    match raw {
        Some(n) if n < 0 => Err(InputError::new(
            InputErrorCode::Invalid,
            field,
            "followerCount must not be negative",
        )),
        other => Ok(other),
    }
}

/// At most `max` ids in one list.
pub fn bulk_size(len: usize, max: usize, field: &[&str]) -> Result<(), InputError> {
    if len > max {
        return Err(InputError::new(
            InputErrorCode::TooMany,
            field,
            format!("at most {max} ids per call (got {len})"),
        ));
    }
    Ok(())
}

/// Unique values in first-seen order.
pub fn dedup(ids: &[i64]) -> Vec<i64> {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &[&str] = &["input", "x"];

    #[test]
    fn required_text_trims_and_counts_characters_not_bytes() {
        assert_eq!(
            required_text("  Fitness  ", 80, F, "name").unwrap(),
            "Fitness"
        );
        assert!(required_text(&"é".repeat(80), 80, F, "name").is_ok());
        let err = required_text(&"é".repeat(81), 80, F, "name").unwrap_err();
        assert_eq!(err.code, InputErrorCode::Invalid);
        assert_eq!(err.field, vec!["input", "x"]);
        assert!(required_text("   ", 80, F, "name").is_err());
    }

    #[test]
    fn handles_lose_one_leading_at_and_reject_spaces() {
        assert_eq!(handle(" @ana.fit ", F).unwrap(), "ana.fit");
        assert!(handle("@", F).is_err());
        assert!(handle("ana fit", F).is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(
            email(Some(" a@b.co "), F).unwrap().as_deref(),
            Some("a@b.co")
        );
        assert_eq!(email(Some(""), F).unwrap(), None);
        for bad in ["a", "@b.co", "a@b", "a@@b.co", "a b@c.co", "a@.co"] {
            assert!(email(Some(bad), F).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn name_keys_fold_unicode_case() {
        assert_eq!(name_key("ÉTÉ Creators"), name_key("été creators"));
    }

    #[test]
    fn dedup_keeps_first_seen_order() {
        assert_eq!(dedup(&[3, 1, 3, 2, 1]), vec![3, 1, 2]);
    }
}
