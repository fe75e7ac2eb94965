//! Codes for the errors async-graphql reports without one.
//!
//! A workaround: async-graphql gives the errors of a request it refuses (it does not validate,
//! breaks the depth or complexity limit, nests deeper than the parser's recursion limit, or
//! names no operation its document holds) no `extensions.code`, nor the errors of arguments
//! that fail to parse when a resolver reads them, and tells them apart only by their English
//! messages: see `check_rules` in
//! <https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/validation/mod.rs>,
//! `check_recursive_depth` and `prepare_request` in
//! <https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/schema.rs>, and
//! `InputValueError::custom` in
//! <https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/error.rs>. Clients need a
//! code to tell a query over a limit from a malformed one, so these are told apart here by
//! those messages. An upgrade may change a message silently; the tests below run plain
//! async-graphql and pin each message, and that upstream still gives these errors no code,
//! so an upgrade that changes either fails them (and, if upstream gives codes of its own,
//! this module may go).

use async_graphql::{Response, Value};

use crate::errors::{
    Code,
    graphql::{code_of, set_code},
};

/// async-graphql's message for a query over its complexity limit.
const TOO_COMPLEX: &str = "Query is too complex.";
/// async-graphql's message for a query over its depth limit.
const TOO_DEEP: &str = "Query is nested too deep.";
/// How async-graphql's message for a query nested deeper than the parser's recursion limit
/// begins (the limit follows).
const TOO_RECURSIVE: &str = "The recursion depth of the query";
/// How async-graphql's message for an operation name the document lacks begins (the name
/// follows).
const UNKNOWN_OPERATION: &str = "Unknown operation named";
/// How async-graphql's message for a document of several operations sent without a name
/// begins.
const NAME_REQUIRED: &str = "Operation name required";
/// How async-graphql's message for an argument that failed to parse begins (the type's name
/// follows in quotes).
const ARGUMENT_PARSE_FAILED: &str = "Failed to parse \"";

/// Gives the errors of a request that async-graphql refused before running it (it did not
/// validate, break a depth or complexity limit, or name no operation it holds) their
/// `extensions.code`. Errors of a request that ran have a path, or come with data.
pub fn code_request_errors(response: &mut Response) {
    if response.data != Value::Null {
        return;
    }
    for error in response.errors.iter_mut() {
        if code_of(error).is_some() || !error.path.is_empty() {
            continue;
        }
        let message = &error.message;
        let code = if message == TOO_COMPLEX {
            Code::QueryTooComplex
        } else if message == TOO_DEEP {
            Code::QueryTooDeep
        } else if message.starts_with(TOO_RECURSIVE) {
            // Checked by async-graphql as part of parsing.
            Code::GraphqlParseFailed
        } else if message.starts_with(UNKNOWN_OPERATION) || message.starts_with(NAME_REQUIRED) {
            Code::OperationResolutionFailure
        } else {
            Code::GraphqlValidationFailed
        };
        set_code(error, code);
    }
}

/// Gives `BAD_USER_INPUT` to the errors of arguments that failed to parse when a resolver read
/// them: literals in the query text that async-graphql's validation lets through, such as an `Int`
/// past 32 bits inside an input object (variables are checked before execution, see
/// [`super::variables`]).
pub fn code_argument_errors(response: &mut Response) {
    for error in response.errors.iter_mut() {
        if code_of(error).is_none()
            && !error.path.is_empty()
            && error.message.starts_with(ARGUMENT_PARSE_FAILED)
        {
            set_code(error, Code::BadUserInput);
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{
        EmptyMutation, EmptySubscription, InputObject, Object, Request, Schema, ServerError,
    };

    use super::*;

    #[derive(InputObject)]
    struct Input {
        n: i32,
    }

    struct Query;

    #[Object]
    impl Query {
        async fn a(&self) -> i32 {
            1
        }
        async fn child(&self) -> Query {
            Query
        }
        async fn take(&self, input: Input) -> i32 {
            input.n
        }
    }

    /// The one error plain async-graphql answers `query` with, given these limits.
    async fn upstream_error(
        query: &str,
        operation: Option<&str>,
        limits: impl FnOnce(
            async_graphql::SchemaBuilder<Query, EmptyMutation, EmptySubscription>,
        )
            -> async_graphql::SchemaBuilder<Query, EmptyMutation, EmptySubscription>,
    ) -> (ServerError, Value) {
        let schema = limits(Schema::build(Query, EmptyMutation, EmptySubscription)).finish();
        let mut request = Request::new(query);
        if let Some(name) = operation {
            request = request.operation_name(name);
        }
        let mut response = schema.execute(request).await;
        assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
        let error = response.errors.remove(0);
        assert!(
            error.extensions.is_none(),
            "async-graphql now gives this error extensions of its own: {error:?}"
        );
        (error, response.data)
    }

    #[tokio::test]
    async fn upstream_still_reports_refusals_only_by_these_messages() {
        let same = |b| b;
        let (complex, _) =
            upstream_error("{ a child { a } }", None, |b| b.limit_complexity(2)).await;
        assert_eq!(complex.message, TOO_COMPLEX);
        let (deep, _) =
            upstream_error("{ child { child { a } } }", None, |b| b.limit_depth(2)).await;
        assert_eq!(deep.message, TOO_DEEP);
        let (recursive, _) = upstream_error("{ child { child { a } } }", None, |b| {
            b.limit_recursive_depth(1)
        })
        .await;
        assert_eq!(
            recursive.message,
            format!("{TOO_RECURSIVE} cannot be greater than `1`")
        );
        let (unknown, _) = upstream_error("query A { a }", Some("B"), same).await;
        assert_eq!(unknown.message, format!("{UNKNOWN_OPERATION} \"B\""));
        let (unnamed, _) = upstream_error("query A { a } query B { a }", None, same).await;
        assert_eq!(unnamed.message, format!("{NAME_REQUIRED} in request."));
        // Anything else it refuses is a validation error, also without a code.
        let (invalid, data) = upstream_error("{ nothing }", None, same).await;
        assert!(invalid.path.is_empty());
        assert_eq!(data, Value::Null);
    }

    #[tokio::test]
    async fn upstream_still_reports_a_failed_argument_only_by_its_message() {
        let (error, _) = upstream_error("{ take(input: { n: 2147483648 }) }", None, |b| b).await;
        assert!(
            error
                .message
                .starts_with(&format!("{ARGUMENT_PARSE_FAILED}Int\": ")),
            "{}",
            error.message
        );
        assert!(!error.path.is_empty(), "a field error, after validation");
    }

    #[test]
    fn refusals_get_their_codes_and_field_errors_keep_theirs() {
        let refused = |message: &str| {
            let mut response = Response::from_errors(vec![ServerError::new(message, None)]);
            code_request_errors(&mut response);
            code_of(&response.errors[0]).map(str::to_owned)
        };
        assert_eq!(refused(TOO_COMPLEX).as_deref(), Some("QUERY_TOO_COMPLEX"));
        assert_eq!(refused(TOO_DEEP).as_deref(), Some("QUERY_TOO_DEEP"));
        assert_eq!(
            refused("Unknown operation named \"B\"").as_deref(),
            Some("OPERATION_RESOLUTION_FAILURE")
        );
        assert_eq!(
            refused("Unknown field \"x\"").as_deref(),
            Some("GRAPHQL_VALIDATION_FAILED")
        );
        let mut ran = Response::new(Value::Null);
        let mut error = ServerError::new("Failed to parse \"Int\": too big", None);
        error.path = vec![async_graphql::PathSegment::Field("take".into())];
        ran.errors.push(error);
        code_request_errors(&mut ran);
        assert_eq!(code_of(&ran.errors[0]), None, "an error with a path ran");
        code_argument_errors(&mut ran);
        assert_eq!(code_of(&ran.errors[0]), Some("BAD_USER_INPUT"));
    }
}
