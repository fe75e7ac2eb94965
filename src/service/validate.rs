//! Input rules shared by the operations: trimming, lengths, the characters text may hold, and
//! formats.

use icu_properties::{CodePointMapData, props::GeneralCategory};

use super::errors::{InputError, InputErrorCode};

pub const SEGMENT_NAME_MAX: usize = 80;
pub const DESCRIPTION_MAX: usize = 500;
pub const HANDLE_MAX: usize = 100;
pub const DISPLAY_NAME_MAX: usize = 200;
pub const EMAIL_MAX: usize = 254;
pub const NICHE_MAX: usize = 80;
pub const CAMPAIGN_NAME_MAX: usize = 120;
pub const EXTERNAL_ID_MAX: usize = 200;

/// A trimmed, required text of 1 to `max` characters, with no control characters but tab and
/// line breaks (NUL cannot even be stored on PostgreSQL).
pub fn required_text(
    raw: &str,
    max: usize,
    field: &[&str],
    what: &str,
) -> Result<String, InputError> {
    let value = raw.trim();
    refuse_characters(value, field, what, |c| {
        c.is_control() && !matches!(c, '\t' | '\n' | '\r')
    })?;
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

/// Whether `c` is a control character (C0, DEL, C1) or an invisible format character (Unicode
/// category Cf: zero-width spaces and joiners, the byte order mark, bidirectional controls, soft
/// hyphen, ...): characters that make two names look the same while their keys differ, or make
/// text display other than it reads.
fn invisible(c: char) -> bool {
    c.is_control() || CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::Format
}

/// An INVALID error naming the first character of `value` that `refused` refuses, if any.
fn refuse_characters(
    value: &str,
    field: &[&str],
    what: &str,
    refused: impl Fn(char) -> bool,
) -> Result<(), InputError> {
    match value.chars().find(|c| refused(*c)) {
        None => Ok(()),
        Some(c) => Err(InputError::new(
            InputErrorCode::Invalid,
            field,
            format!(
                "{what} must not contain control or invisible characters (found U+{:04X})",
                u32::from(c)
            ),
        )),
    }
}

/// A name that identifies something (a segment name; handles go through [`handle`]): a
/// [`required_text`] on one line with no invisible characters at all, see [`invisible`].
pub fn name(raw: &str, max: usize, field: &[&str], what: &str) -> Result<String, InputError> {
    let value = required_text(raw, max, field, what)?;
    refuse_characters(&value, field, what, invisible)?;
    Ok(value)
}

/// An optional name shown for a person ([`optional_text`]): on one line, with no invisible
/// characters but the zero-width joiner and non-joiner, which emoji sequences (👩‍💻) and
/// scripts such as Persian are written with.
pub fn display_name(
    raw: Option<&str>,
    max: usize,
    field: &[&str],
    what: &str,
) -> Result<Option<String>, InputError> {
    let value = optional_text(raw, max, field, what)?;
    if let Some(value) = &value {
        refuse_characters(value, field, what, |c| {
            invisible(c) && !matches!(c, '\u{200C}' | '\u{200D}')
        })?;
    }
    Ok(value)
}

/// The case-insensitive key of a name or handle (Unicode case folding and NFC, see
/// [`entity::text_key::text_key`]): what uniqueness is checked on and what a search matches.
pub fn name_key(name: &str) -> String {
    entity::text_key::text_key(name)
}

/// A handle as people paste it (`@name`, with spaces around) reduced to `name`.
pub fn handle(raw: &str, field: &[&str]) -> Result<String, InputError> {
    let trimmed = raw.trim();
    let value = trimmed.strip_prefix('@').unwrap_or(trimmed);
    let value = name(value, HANDLE_MAX, field, "handle")?;
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
        assert_eq!(name_key("STRASSE"), name_key("straße"));
    }

    #[test]
    fn names_refuse_invisible_and_control_characters() {
        for bad in [
            "a\u{200B}b",
            "a\u{200C}b",
            "a\u{200D}b",
            "a\u{200E}b",
            "a\u{202E}b",
            "a\u{2066}b",
            "a\u{2060}b",
            "\u{FEFF}ab",
            "a\u{AD}b",
            "a\u{0}b",
            "a\u{1F}b",
            "a\u{7F}b",
            "a\u{9B}b",
            "a\nb",
            "a\tb",
        ] {
            let err = name(bad, 80, F, "name").unwrap_err();
            assert_eq!(err.code, InputErrorCode::Invalid, "{bad:?}");
        }
        assert_eq!(
            name(" Été Ωmega 日本 ", 80, F, "name").unwrap(),
            "Été Ωmega 日本"
        );
    }

    #[test]
    fn display_names_keep_the_joiners_and_other_text_keeps_line_breaks() {
        let emoji = "Ana \u{1F469}\u{200D}\u{1F4BB}";
        assert_eq!(
            display_name(Some(emoji), 200, F, "displayName").unwrap(),
            Some(emoji.to_owned())
        );
        assert!(display_name(Some("a\u{202E}b"), 200, F, "displayName").is_err());
        assert!(required_text("a\nb\tc\r\nd", 500, F, "description").is_ok());
        assert!(required_text("a\u{0}b", 500, F, "description").is_err());
        assert!(required_text("a\u{1B}b", 500, F, "description").is_err());
    }

    #[test]
    fn dedup_keeps_first_seen_order() {
        assert_eq!(dedup(&[3, 1, 3, 2, 1]), vec![3, 1, 2]);
    }
}
