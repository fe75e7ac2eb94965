//! Every code a client can see, and its text. Plain Rust: the service layer and the HTTP layer
//! use these without async-graphql.

/// The `extensions.code` of a top-level error: why a request was refused, or failed, as a
/// program reads it. The HTTP layer's own error bodies (`{"errors": [...]}`) use the same codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    // Faults: nothing the client can fix.
    /// A fault on the server's side; the detail is in its log.
    InternalServerError,
    /// The database (or what checks API keys) cannot be reached: retrying later helps.
    ServiceUnavailable,
    /// Live updates may have been missed (the subscriber fell far behind, or the server lost
    /// its database connection for a moment): refetch, then subscribe again.
    LiveUpdatesInterrupted,

    // Malformed requests.
    /// Not a GraphQL request at all, or a malformed persisted-query extension.
    BadRequest,
    /// A malformed argument or variable value: a bad cursor, a page size out of range, a
    /// required variable left out, an argument that failed to parse.
    BadUserInput,
    /// The query text does not parse (or nests deeper than the parser allows).
    GraphqlParseFailed,
    /// The query does not validate against the schema.
    GraphqlValidationFailed,
    /// The request names no operation its document holds, or holds several and names none.
    OperationResolutionFailure,
    /// A mutation or subscription sent by GET.
    MethodNotAllowed,
    /// The hash of a persisted query the server does not know (yet, or any more): send the
    /// text with it.
    PersistedQueryNotFound,
    /// A persisted query's text does not hash to the hash sent with it.
    PersistedQueryHashMismatch,

    // Limits.
    /// More tokens than a query may have.
    QueryTooLarge,
    /// More complex than a query may be (or, with its fragments written out, too many fields).
    QueryTooComplex,
    /// Nested deeper than a query may be.
    QueryTooDeep,
    /// More aliases than a query may use.
    TooManyAliases,
    /// More directives than a query may use.
    TooManyDirectives,
    /// Introspection is disabled on this server.
    IntrospectionDisabled,
    /// A WebSocket connection already runs as many subscriptions as it may.
    TooManySubscriptions,
    /// The request took longer than the server allows and was cancelled.
    RequestTimeout,
    /// The API key's cost budget holds fewer points than the operation costs: it ran nothing;
    /// retry after `extensions.retryAfterSeconds` (HTTP also sends `Retry-After`).
    Throttled,

    // HTTP.
    /// No API key, or one that is unknown or revoked.
    Unauthenticated,
    /// A POST body that is not declared as JSON.
    UnsupportedMediaType,
    /// A body larger than the server accepts.
    PayloadTooLarge,
    /// The client accepts none of the media types a GraphQL response comes in.
    NotAcceptable,
    /// No export of the key's workspace has this download path.
    DownloadNotFound,
    /// The export's download was served until the job expired; make a new export.
    DownloadExpired,
}

impl Code {
    /// Every code, for checks over all of them.
    pub const ALL: [Code; 26] = [
        Code::InternalServerError,
        Code::ServiceUnavailable,
        Code::LiveUpdatesInterrupted,
        Code::BadRequest,
        Code::BadUserInput,
        Code::GraphqlParseFailed,
        Code::GraphqlValidationFailed,
        Code::OperationResolutionFailure,
        Code::MethodNotAllowed,
        Code::PersistedQueryNotFound,
        Code::PersistedQueryHashMismatch,
        Code::QueryTooLarge,
        Code::QueryTooComplex,
        Code::QueryTooDeep,
        Code::TooManyAliases,
        Code::TooManyDirectives,
        Code::IntrospectionDisabled,
        Code::TooManySubscriptions,
        Code::RequestTimeout,
        Code::Throttled,
        Code::Unauthenticated,
        Code::UnsupportedMediaType,
        Code::PayloadTooLarge,
        Code::NotAcceptable,
        Code::DownloadNotFound,
        Code::DownloadExpired,
    ];

    /// The code as clients read it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::InternalServerError => "INTERNAL_SERVER_ERROR",
            Code::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Code::LiveUpdatesInterrupted => "LIVE_UPDATES_INTERRUPTED",
            Code::BadRequest => "BAD_REQUEST",
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Code::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Code::OperationResolutionFailure => "OPERATION_RESOLUTION_FAILURE",
            Code::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Code::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Code::PersistedQueryHashMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
            Code::QueryTooLarge => "QUERY_TOO_LARGE",
            Code::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Code::QueryTooDeep => "QUERY_TOO_DEEP",
            Code::TooManyAliases => "TOO_MANY_ALIASES",
            Code::TooManyDirectives => "TOO_MANY_DIRECTIVES",
            Code::IntrospectionDisabled => "INTROSPECTION_DISABLED",
            Code::TooManySubscriptions => "TOO_MANY_SUBSCRIPTIONS",
            Code::RequestTimeout => "REQUEST_TIMEOUT",
            Code::Throttled => "THROTTLED",
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Code::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Code::NotAcceptable => "NOT_ACCEPTABLE",
            Code::DownloadNotFound => "DOWNLOAD_NOT_FOUND",
            Code::DownloadExpired => "DOWNLOAD_EXPIRED",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The metrics label (`graphql_errors_total{code=...}`) of an error that has no code. Never sent
/// to clients as a code.
pub const UNCODED: &str = "GRAPHQL_ERROR";

/// Why a piece of input was refused: the `code` of a payload's `userErrors` (the GraphQL enum
/// `UserErrorCode`, which mirrors this one). When an operation reports any, it has written
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputErrorCode {
    /// The id names nothing in this workspace.
    NotFound,
    /// The name is already used in this workspace.
    NameTaken,
    /// The value breaks a rule (length, format, wrong kind of id).
    Invalid,
    /// A list is longer than allowed.
    TooMany,
}

impl InputErrorCode {
    /// Every code, for checks over all of them.
    pub const ALL: [InputErrorCode; 4] = [
        InputErrorCode::NotFound,
        InputErrorCode::NameTaken,
        InputErrorCode::Invalid,
        InputErrorCode::TooMany,
    ];

    /// The code as clients read it (the GraphQL enum value).
    pub const fn as_str(self) -> &'static str {
        match self {
            InputErrorCode::NotFound => "NOT_FOUND",
            InputErrorCode::NameTaken => "NAME_TAKEN",
            InputErrorCode::Invalid => "INVALID",
            InputErrorCode::TooMany => "TOO_MANY",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_distinct_and_written_as_constants() {
        let texts: Vec<&str> = Code::ALL
            .iter()
            .map(|code| code.as_str())
            .chain([UNCODED])
            .chain(InputErrorCode::ALL.iter().map(|code| code.as_str()))
            .collect();
        assert_eq!(texts.iter().collect::<HashSet<_>>().len(), texts.len());
        for text in texts {
            assert!(
                text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{text}"
            );
        }
    }
}
