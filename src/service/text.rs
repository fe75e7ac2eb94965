//! Text inputs as validated types. Each kind of text a client sends (a segment or campaign name,
//! a handle, a display name, a description, an e-mail address, a niche, an external id, a search
//! term) has a type that only its rules ([`super::validate`]) can make, so service code cannot
//! store or query with text that skipped them: no NUL or other C0/C1 control character on either
//! backend, no invisible or bidirectional control in names and handles, lengths counted in
//! characters, and names compared by their case-folded NFC key.

use std::fmt;

use super::{
    errors::{InputError, InputErrorCode},
    validate::{
        self, CAMPAIGN_NAME_MAX, DESCRIPTION_MAX, DISPLAY_NAME_MAX, EXTERNAL_ID_MAX, NICHE_MAX,
        SEGMENT_NAME_MAX,
    },
};

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(text: $name) -> String {
                text.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A segment's name: 1 to 80 characters on one line, no invisible characters.
    SegmentName
);
text_type!(
    /// A campaign's name: 1 to 120 characters, no control characters but tab and line breaks.
    CampaignName
);
text_type!(
    /// An influencer's handle, without the `@`: up to 100 characters, no spaces, no invisible
    /// characters.
    Handle
);
text_type!(
    /// The name shown for an influencer: up to 200 characters, no invisible characters but the
    /// zero-width joiners emoji and some scripts need.
    DisplayName
);
text_type!(
    /// A segment's description: up to 500 characters.
    Description
);
text_type!(
    /// A plausible e-mail address.
    Email
);
text_type!(
    /// An influencer's niche: up to 80 characters.
    Niche
);
text_type!(
    /// The id a sender gives an engagement, so a redelivery is recognised: up to 200 characters.
    ExternalId
);
text_type!(
    /// What a search looks for, trimmed and never empty; matched by its case-folded key.
    SearchTerm
);

impl SegmentName {
    pub fn parse(raw: &str, field: &[&str]) -> Result<Self, InputError> {
        validate::name(raw, SEGMENT_NAME_MAX, field, "name").map(Self)
    }

    /// The key uniqueness is checked on (case-folded, NFC).
    pub fn key(&self) -> String {
        validate::name_key(&self.0)
    }
}

impl CampaignName {
    pub fn parse(raw: &str, field: &[&str]) -> Result<Self, InputError> {
        validate::required_text(raw, CAMPAIGN_NAME_MAX, field, "name").map(Self)
    }
}

impl Handle {
    pub fn parse(raw: &str, field: &[&str]) -> Result<Self, InputError> {
        validate::handle(raw, field).map(Self)
    }

    /// The key uniqueness (per platform) is checked on.
    pub fn key(&self) -> String {
        validate::name_key(&self.0)
    }
}

impl DisplayName {
    /// `None` for a missing or blank display name.
    pub fn parse(raw: Option<&str>, field: &[&str]) -> Result<Option<Self>, InputError> {
        Ok(validate::display_name(raw, DISPLAY_NAME_MAX, field, "displayName")?.map(Self))
    }

    /// The key a roster search matches.
    pub fn key(&self) -> String {
        validate::name_key(&self.0)
    }
}

impl Description {
    /// `None` for a missing or blank description.
    pub fn parse(raw: Option<&str>, field: &[&str]) -> Result<Option<Self>, InputError> {
        Ok(validate::optional_text(raw, DESCRIPTION_MAX, field, "description")?.map(Self))
    }
}

impl Email {
    /// `None` for a missing or blank address.
    pub fn parse(raw: Option<&str>, field: &[&str]) -> Result<Option<Self>, InputError> {
        Ok(validate::email(raw, field)?.map(Self))
    }
}

impl Niche {
    /// `None` for a missing or blank niche.
    pub fn parse(raw: Option<&str>, field: &[&str]) -> Result<Option<Self>, InputError> {
        Ok(validate::optional_text(raw, NICHE_MAX, field, "niche")?.map(Self))
    }

    /// The key the roster filter's `nicheIn` matches: case and encoding do not count.
    pub fn key(&self) -> String {
        validate::name_key(&self.0)
    }
}

impl ExternalId {
    /// `None` for a missing or blank id.
    pub fn parse(raw: Option<&str>, field: &[&str]) -> Result<Option<Self>, InputError> {
        Ok(validate::optional_text(raw, EXTERNAL_ID_MAX, field, "externalId")?.map(Self))
    }
}

impl SearchTerm {
    /// The term of a `search` argument; `None` when it is missing or blank (no filter). A term
    /// with a control character (NUL, which PostgreSQL cannot even take as a parameter, and the
    /// rest of C0 and C1), which no stored name holds, is refused rather than searched for.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, InputError> {
        let Some(term) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if let Some(c) = term.chars().find(|c| c.is_control()) {
            return Err(InputError::new(
                InputErrorCode::Invalid,
                &["search"],
                format!(
                    "search must not contain control characters (found U+{:04X})",
                    u32::from(c)
                ),
            ));
        }
        Ok(Some(Self(term.to_owned())))
    }

    /// The key stored keys are matched against (case-folded, NFC).
    pub fn key(&self) -> String {
        validate::name_key(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_term_is_trimmed_and_a_blank_one_is_no_search() {
        assert_eq!(SearchTerm::parse(None).unwrap(), None);
        assert_eq!(SearchTerm::parse(Some("  ")).unwrap(), None);
        assert_eq!(
            SearchTerm::parse(Some(" Ana ")).unwrap().unwrap().as_str(),
            "Ana"
        );
    }

    #[test]
    fn a_search_term_with_a_control_character_is_refused() {
        for term in ["a\0b", "a\u{7}b", "a\u{85}b", "a\nb"] {
            let error = SearchTerm::parse(Some(term)).unwrap_err();
            assert_eq!(error.code, InputErrorCode::Invalid, "{term:?}");
        }
    }

    #[test]
    fn names_compare_by_their_folded_key() {
        let composed = SegmentName::parse("Caf\u{e9}", &["name"]).unwrap();
        let decomposed = SegmentName::parse("CAFE\u{301}", &["name"]).unwrap();
        assert_eq!(composed.key(), decomposed.key());
    }

    #[test]
    fn bidi_controls_are_refused_in_names_and_handles() {
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            let text = format!("ab{c}cd");
            assert!(SegmentName::parse(&text, &["name"]).is_err(), "{c:?}");
            assert!(Handle::parse(&text, &["handle"]).is_err(), "{c:?}");
        }
    }
}
