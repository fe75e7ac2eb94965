//! Limits on what one request may ask, so that no single request can take the server down:
//! query size (tokens), aliases, depth, complexity and directives, checked before anything runs.
//! Depth and complexity use async-graphql's own checks (their errors get codes in
//! [`super::error_codes`]); tokens, aliases, directives and the size of a query with its
//! fragments written out are counted here. Every refusal is a GraphQL error with an
//! `extensions.code`.
//!
//! Mostly our own feature; two parts are workarounds:
//! - The shape is measured before async-graphql sees the query, because its own checks after
//!   parsing (`check_recursive_depth` and `check_max_directives` in
//!   <https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/schema.rs>) walk every
//!   fragment spread written out: exponential for a "fragment bomb".
//! - A request that leaves out a required variable is refused here ([`Limits::admit`]):
//!   async-graphql's validation does not look for them, and only the resolver that reads one
//!   fails, as a field error after the rest has run. The test
//!   `upstream_still_runs_a_request_missing_a_required_variable` fails once upstream refuses it
//!   itself, when that check may go.

use async_graphql::{
    Request, ServerError, ServerResult, Variables,
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
        SelectionSet,
    },
};

use super::cost::CostBudget;
use crate::errors::{Code, graphql::with_code};

/// Marks a request that may only read (it came by GET, which must not change anything): one
/// whose selected operation is a mutation or subscription is refused with METHOD_NOT_ALLOWED.
pub struct ReadOnly;

/// The limits; each is configurable (see `config::ServeArgs`). Their defaults are written with
/// the server's other defaults, in `config` (`impl Default for Limits` there).
#[derive(Clone, Debug, PartialEq)]
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
    /// Largest `first` / `last`.
    pub max_page_size: u64,
    /// Most ids in one bulk input (`influencerIds`, `audienceSegmentIds`).
    pub max_bulk_ids: usize,
    /// Most ids in one `nodes` lookup.
    pub max_nodes: usize,
    /// Each API key's budget of query cost (see [`super::cost`]); none meters nothing.
    pub cost_budget: Option<CostBudget>,
}

/// The request's limits, from the schema's data (the defaults when a schema was built without).
pub fn of(ctx: &async_graphql::Context<'_>) -> Limits {
    ctx.data_opt::<Limits>().cloned().unwrap_or_default()
}

fn refuse(code: Code, message: String) -> ServerError {
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

/// What the limits look at in a parsed query.
#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    aliases: usize,
    directives: usize,
    /// Field selections with every fragment spread written out: what validation and execution
    /// walk. Computed per fragment once, so a "fragment bomb" (each fragment spreading the next
    /// twice) is measured in linear time instead of expanded.
    expanded_fields: usize,
    introspection: bool,
}

fn shape(document: &ExecutableDocument) -> Shape {
    use std::collections::HashMap;

    use async_graphql::Name;

    /// Expanded size of a selection set; fragments are memoised, and a cycle counts as nothing
    /// here (validation refuses it).
    fn expanded<'d>(
        set: &'d SelectionSet,
        document: &'d ExecutableDocument,
        memo: &mut HashMap<&'d Name, usize>,
        visiting: &mut Vec<&'d Name>,
    ) -> usize {
        set.items.iter().fold(0usize, |total, item| {
            let size = match &item.node {
                Selection::Field(f) => 1usize.saturating_add(expanded(
                    &f.node.selection_set.node,
                    document,
                    memo,
                    visiting,
                )),
                Selection::InlineFragment(f) => {
                    expanded(&f.node.selection_set.node, document, memo, visiting)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if let Some(size) = memo.get(name) {
                        *size
                    } else if visiting.contains(&name) {
                        0
                    } else if let Some(fragment) = document.fragments.get(name) {
                        visiting.push(name);
                        let size =
                            expanded(&fragment.node.selection_set.node, document, memo, visiting);
                        visiting.pop();
                        memo.insert(name, size);
                        size
                    } else {
                        0
                    }
                }
            };
            total.saturating_add(size)
        })
    }

    fn count(set: &SelectionSet, shape: &mut Shape) {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    shape.aliases += usize::from(f.node.alias.is_some());
                    shape.directives += f.node.directives.len();
                    count(&f.node.selection_set.node, shape);
                }
                Selection::InlineFragment(f) => {
                    shape.directives += f.node.directives.len();
                    count(&f.node.selection_set.node, shape);
                }
                Selection::FragmentSpread(s) => shape.directives += s.node.directives.len(),
            }
        }
    }

    /// Whether a root selection set asks for `__schema` or `__type` (through fragments too).
    fn introspects(set: &SelectionSet, document: &ExecutableDocument, depth: usize) -> bool {
        depth < 16
            && set.items.iter().any(|item| match &item.node {
                Selection::Field(f) => matches!(f.node.name.node.as_str(), "__schema" | "__type"),
                Selection::InlineFragment(f) => {
                    introspects(&f.node.selection_set.node, document, depth + 1)
                }
                Selection::FragmentSpread(s) => document
                    .fragments
                    .get(&s.node.fragment_name.node)
                    .is_some_and(|f| introspects(&f.node.selection_set.node, document, depth + 1)),
            })
    }

    let mut result = Shape::default();
    let mut memo = HashMap::new();
    for (_, operation) in document.operations.iter() {
        let set = &operation.node.selection_set.node;
        result.directives += operation.node.directives.len();
        count(set, &mut result);
        result.expanded_fields = result.expanded_fields.saturating_add(expanded(
            set,
            document,
            &mut memo,
            &mut Vec::new(),
        ));
        result.introspection |= introspects(set, document, 0);
    }
    for fragment in document.fragments.values() {
        result.directives += fragment.node.directives.len();
        count(&fragment.node.selection_set.node, &mut result);
    }
    result
}

impl Limits {
    /// Refuses limits that contradict each other: a cost budget smaller than the most complex
    /// query allowed would throttle that query for ever.
    pub fn consistent(&self) -> Result<(), String> {
        match self.cost_budget {
            Some(budget) if (budget.maximum_available.get() as usize) < self.max_complexity => {
                Err(format!(
                    "COST_MAXIMUM_AVAILABLE ({}) is below MAX_QUERY_COMPLEXITY ({}): a query \
                     the complexity limit allows could never run; raise the budget or lower \
                     the limit",
                    budget.maximum_available, self.max_complexity
                ))
            }
            _ => Ok(()),
        }
    }

    /// Counts a query's tokens before anything parses it, then parses it and checks its
    /// shape. This comes before async-graphql's own checks after parsing (recursion depth),
    /// which walk every fragment spread written out: exponential for a "fragment bomb".
    pub fn parse(&self, query: &str) -> ServerResult<ExecutableDocument> {
        let max = self.max_tokens;
        if count_tokens(query, max) > max {
            return Err(refuse(
                Code::QueryTooLarge,
                format!("the query has more than {max} tokens; send lists as variables"),
            ));
        }
        let document = async_graphql::parser::parse_query(query)
            .map_err(|e| with_code(e.into(), Code::GraphqlParseFailed))?;
        self.check(&document)?;
        Ok(document)
    }

    /// Checks what a request asks of its parsed query: the method it came by allows the
    /// operation, and its variables hold every required one.
    pub fn admit(&self, document: &ExecutableDocument, request: &Request) -> ServerResult<()> {
        let read_only = request
            .data
            .contains_key(&std::any::TypeId::of::<ReadOnly>());
        let operation = selected_operation(document, request.operation_name.as_deref());
        if read_only && operation.is_some_and(|op| op.ty != OperationType::Query) {
            return Err(refuse(
                Code::MethodNotAllowed,
                "only queries can be sent with GET; send mutations with POST".to_owned(),
            ));
        }
        match operation.and_then(|op| missing_variable(op, &request.variables)) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Refuses a parsed query that breaks a limit measured on its shape.
    fn check(&self, document: &ExecutableDocument) -> ServerResult<()> {
        let shape = shape(document);
        if shape.aliases > self.max_aliases {
            return Err(refuse(
                Code::TooManyAliases,
                format!(
                    "the query uses {} aliases; at most {} are allowed",
                    shape.aliases, self.max_aliases
                ),
            ));
        }
        if shape.directives > self.max_directives {
            return Err(refuse(
                Code::TooManyDirectives,
                format!(
                    "the query uses {} directives; at most {} are allowed",
                    shape.directives, self.max_directives
                ),
            ));
        }
        if shape.expanded_fields > self.max_tokens {
            return Err(refuse(
                Code::QueryTooComplex,
                format!(
                    "with its fragments written out the query selects more than {} fields",
                    self.max_tokens
                ),
            ));
        }
        if shape.introspection && !self.introspection {
            return Err(refuse(
                Code::IntrospectionDisabled,
                "introspection is disabled on this server".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The operation a request runs, when the document and name select one.
pub(crate) fn selected_operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        _ => None,
    }
}

/// A request error for the first non-null variable without a default that the request leaves out
/// or sets to null. async-graphql would only notice on reaching a field that uses it, and report a
/// field error after running the rest; GraphQL over HTTP makes it a request error.
fn missing_variable(operation: &OperationDefinition, variables: &Variables) -> Option<ServerError> {
    operation
        .variable_definitions
        .iter()
        .find(|definition| {
            let definition = &definition.node;
            !definition.var_type.node.nullable
                && definition.default_value.is_none()
                && variables
                    .get(&definition.name.node)
                    .is_none_or(|value| *value == async_graphql::Value::Null)
        })
        .map(|definition| {
            let message = format!(
                "variable \"${}\" of non-null type \"{}\" must not be null or missing",
                definition.node.name.node, definition.node.var_type.node
            );
            with_code(
                ServerError::new(message, Some(definition.pos)),
                Code::BadUserInput,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn upstream_still_runs_a_request_missing_a_required_variable() {
        use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

        struct Query;

        #[Object]
        impl Query {
            async fn a(&self) -> i32 {
                1
            }
            async fn b(&self, x: i32) -> Option<i32> {
                Some(x)
            }
        }

        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let query = "query($x: Int!) { a b(x: $x) }";
        let response = schema.execute(query).await;
        assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
        assert!(
            !response.errors[0].path.is_empty() && response.data != async_graphql::Value::Null,
            "async-graphql now refuses a request missing a required variable before running it"
        );
        // Here it is a request error.
        let document = parse(query);
        let error = Limits::default()
            .admit(&document, &Request::new(query))
            .unwrap_err();
        assert_eq!(
            crate::errors::graphql::code_of(&error),
            Some("BAD_USER_INPUT")
        );
    }

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

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap()
    }

    #[test]
    fn a_fragment_bomb_is_measured_without_expanding_it() {
        let mut query = String::from("{ segments { nodes { ...F0 } } }\n");
        for i in 0..70 {
            query.push_str(&format!(
                "fragment F{i} on Segment {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        query.push_str("fragment F70 on Segment { name }\n");
        let started = std::time::Instant::now();
        let shape = shape(&parse(&query));
        assert_eq!(
            shape.expanded_fields,
            usize::MAX,
            "saturates instead of overflowing"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn shapes_count_aliases_directives_and_introspection() {
        let shape = shape(&parse(
            "query Q @a { x: viewer @include(if: true) { workspace { ...W } } __type(name: \"S\") { name } } fragment W on Workspace @b { y: name }",
        ));
        assert_eq!(
            (
                shape.aliases,
                shape.directives,
                shape.expanded_fields,
                shape.introspection
            ),
            (2, 3, 5, true)
        );
    }
}
