//! Opaque global ids: `base64url("Segment:42")`. Clients treat them as strings; the server checks
//! the type before it touches the database, so a Campaign id passed as a segment is refused, not
//! looked up.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::service::{InputError, InputErrorCode};

/// The kinds of object that have global ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Influencer,
    Segment,
    Campaign,
    Automation,
    EngagementEvent,
    Workspace,
    SegmentGroup,
    ExportJob,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Influencer,
        Kind::Segment,
        Kind::Campaign,
        Kind::Automation,
        Kind::EngagementEvent,
        Kind::Workspace,
        Kind::SegmentGroup,
        Kind::ExportJob,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Influencer => "Influencer",
            Kind::Segment => "Segment",
            Kind::Campaign => "Campaign",
            Kind::Automation => "Automation",
            Kind::EngagementEvent => "EngagementEvent",
            Kind::Workspace => "Workspace",
            Kind::SegmentGroup => "SegmentGroup",
            Kind::ExportJob => "ExportJob",
        }
    }
}

/// The global id of object `id` of this kind.
pub fn encode(kind: Kind, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name())))
}

/// The kind and database id inside a global id, or `None` when it is not one of ours.
pub fn parse(id: &str) -> Option<(Kind, i64)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.trim_end_matches('=')).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (name, raw) = text.split_once(':')?;
    let kind = Kind::ALL.into_iter().find(|k| k.name() == name)?;
    // Only canonical decimal forms, so each object has exactly one id.
    let id: i64 = raw
        .parse()
        .ok()
        .filter(|n: &i64| *n > 0 && n.to_string() == raw)?;
    Some((kind, id))
}

/// The database id of a global id that must be of `kind`, or the user error for `field`.
pub fn decode(id: &ID, kind: Kind, field: &[&str]) -> Result<i64, InputError> {
    match parse(id) {
        Some((found, value)) if found == kind => Ok(value),
        Some((found, _)) => Err(InputError::new(
            InputErrorCode::Invalid,
            field,
            format!("expected a {} id, got a {} id", kind.name(), found.name()),
        )),
        None => Err(InputError::new(
            InputErrorCode::Invalid,
            field,
            format!("\"{}\" is not a valid {} id", truncate(id), kind.name()),
        )),
    }
}

/// Decodes a list of ids, naming each bad one by its position.
pub fn decode_list(ids: &[ID], kind: Kind, field: &[&str]) -> Result<Vec<i64>, Vec<InputError>> {
    let mut values = Vec::with_capacity(ids.len());
    let mut errors = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        match decode(id, kind, field) {
            Ok(value) => values.push(value),
            Err(mut error) => {
                error.field.push(index.to_string());
                errors.push(error);
            }
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// Decodes a bulk list after checking its length against `max`, so an oversized list is refused
/// before any work is done on it.
pub fn decode_bulk(
    ids: &[ID],
    kind: Kind,
    field: &[&str],
    max: usize,
) -> Result<Vec<i64>, Vec<InputError>> {
    crate::service::validate::bulk_size(ids.len(), max, field).map_err(|e| vec![e])?;
    decode_list(ids, kind, field)
}

/// The database id when `id` is a well-formed id of `kind`; lookups of anything else find nothing.
pub fn lookup(id: &ID, kind: Kind) -> Option<i64> {
    parse(id).filter(|(k, _)| *k == kind).map(|(_, v)| v)
}

fn truncate(id: &str) -> String {
    id.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks_the_kind() {
        let id = encode(Kind::Segment, 42);
        assert_eq!(parse(&id), Some((Kind::Segment, 42)));
        assert_eq!(decode(&id, Kind::Segment, &["id"]), Ok(42));
        let err = decode(&id, Kind::Campaign, &["input", "campaignId"]).unwrap_err();
        assert_eq!(err.code, InputErrorCode::Invalid);
        assert_eq!(err.field, vec!["input", "campaignId"]);
    }

    #[test]
    fn refuses_anything_not_minted_here() {
        for bad in [
            "",
            "42",
            "U2VnbWVudDo",
            "not base64!",
            "U2VnbWVudDotMQ",
            "U2VnbWVudDowNDI",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let forged = URL_SAFE_NO_PAD.encode("Widget:1");
        assert_eq!(parse(&forged), None);
    }

    #[test]
    fn list_errors_name_the_position() {
        let ids = [encode(Kind::Influencer, 1), ID("junk".into())];
        let errors = decode_list(&ids, Kind::Influencer, &["input", "influencerIds"]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, vec!["input", "influencerIds", "1"]);
    }
}
