//! Limits on what one request may ask, so that no single request can take the server down:
//! query size (tokens), aliases, depth, complexity and directives, checked before anything runs.
//! Depth, complexity and directives use async-graphql's own checks; tokens and aliases are
//! counted here. Every refusal is a GraphQL error with an `extensions.code`.

use std::sync::Arc;

use async_graphql::{
    ServerError, ServerResult, ValidationResult, Variables,
    async_trait::async_trait,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

/// The limits; each is configurable (see `config::ServeArgs`).
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_depth: usize,
    /// Complexity counts each field once, and a connection field `first`/`last` (default 20)
    /// times its selection.
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_directives: usize,
    pub max_tokens: usize,
    pub introspection: bool,
    pub suggestions: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 100_000,
            max_aliases: 30,
            max_directives: 10,
            max_tokens: 10_000,
            introspection: true,
            suggestions: true,
        }
    }
}

/// The cost of a connection field: the page size times the cost of what is selected per item.
pub fn connection_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let size = first
        .or(last)
        .map_or(super::connection::DEFAULT_PAGE_SIZE as usize, |n| {
            usize::try_from(n).unwrap_or(0)
        });
    1 + size.max(1).saturating_mul(child)
}

/// The cost of a list without paging (an influencer's segments, a campaign's audience): an
/// estimate of its usual length times its selection.
pub fn list_cost(child: usize) -> usize {
    1 + 10usize.saturating_mul(child)
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

fn refuse(code: &'static str, message: String) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

/// Counts lexical tokens the way GraphQL does (names, numbers, strings and punctuators; commas,
/// white space and comments are not tokens), stopping once past `limit`.
pub fn count_tokens(query: &str, limit: usize) -> usize {
    let bytes = query.as_bytes();
    let (mut i, mut count) = (0, 0);
    while i < bytes.len() && count <= limit {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' | 0xEF | 0xBB | 0xBF => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                count += 1;
                if bytes[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                count += 1;
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' => {
                count += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
            }
            _ => {
                count += 1;
                i += 1;
            }
        }
    }
    count
}

fn count_aliases(document: &ExecutableDocument) -> usize {
    fn in_set(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + in_set(&f.node.selection_set.node)
                }
                Selection::InlineFragment(f) => in_set(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| in_set(&op.node.selection_set.node))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|f| in_set(&f.node.selection_set.node))
        .sum();
    operations + fragments
}

/// The extension that checks tokens and aliases, and gives async-graphql's own limit errors
/// their codes.
pub struct RequestLimits(pub Limits);

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestLimitsExtension(self.0.clone()))
    }
}

struct RequestLimitsExtension(Limits);

#[async_trait]
impl Extension for RequestLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let max = self.0.max_tokens;
        if count_tokens(query, max) > max {
            return Err(refuse(
                "QUERY_TOO_LARGE",
                format!("the query has more than {max} tokens; send lists as variables"),
            ));
        }
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, "GRAPHQL_PARSE_FAILED"))?;
        let aliases = count_aliases(&document);
        if aliases > self.0.max_aliases {
            return Err(refuse(
                "TOO_MANY_ALIASES",
                format!(
                    "the query uses {aliases} aliases; at most {} are allowed",
                    self.0.max_aliases
                ),
            ));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = if e.message.contains("too complex") {
                        "QUERY_TOO_COMPLEX"
                    } else if e.message.contains("nested too deep") {
                        "QUERY_TOO_DEEP"
                    } else if e.message.contains("directives") {
                        "TOO_MANY_DIRECTIVES"
                    } else {
                        "GRAPHQL_VALIDATION_FAILED"
                    };
                    with_code(e, code)
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_counted_as_graphql_lexes_them() {
        assert_eq!(count_tokens("{ a }", 100), 3);
        assert_eq!(
            count_tokens("query Q($x: Int = 10) { f(x: $x) # c\n }", 100),
            19
        );
        assert_eq!(count_tokens(r#"{ f(s: "a \" b, c") }"#, 100), 8);
        assert_eq!(count_tokens("{ ...F }", 100), 4);
        assert!(count_tokens(&"{ a }".repeat(1000), 50) > 50);
    }

    #[test]
    fn connection_cost_uses_the_page_size() {
        assert_eq!(connection_cost(Some(10), None, 3), 31);
        assert_eq!(connection_cost(None, Some(5), 2), 11);
        assert_eq!(connection_cost(None, None, 1), 21);
        assert_eq!(connection_cost(Some(-5), None, 1), 2);
    }
}
