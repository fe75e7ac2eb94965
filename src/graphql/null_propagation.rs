//! The response as the spec shapes it: null propagation, and fields in the order asked for
//! (`field_order`).
//!
//! Null propagation for failed non-null fields, as the GraphQL spec requires ("Handling Execution
//! Errors"): when a field of a non-null type fails, the nearest nullable ancestor becomes null (or
//! `data` itself when there is none).
//!
//! async-graphql 7 records the error but only leaves the failed field out of its parent object,
//! so a response could lack a field the schema promises, or hold a null inside `[Influencer!]!`.
//! Clients with normalized caches (Apollo, Relay, urql) rely on the promise. This extension walks
//! each error's path through the operation and the schema and applies the rule to the response.

use std::sync::{Arc, Mutex};

use async_graphql::{
    Name, PathSegment, Request, Response, ServerResult, Value,
    async_trait::async_trait,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest},
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
    registry::Registry,
};

use super::{field_order, limits::selected_operation};

/// Registers null propagation on a schema.
pub struct NullPropagation;

impl ExtensionFactory for NullPropagation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest::default())
    }
}

/// Keeps the request's parsed document, to read the operation again once it has run. A copy of
/// the parse the limits already made (parsing the text a second time would lex and parse every
/// request twice).
#[derive(Default)]
struct PerRequest {
    document: Mutex<Option<ExecutableDocument>>,
}

#[async_trait]
impl Extension for PerRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let mut request = next.run(ctx, request).await?;
        // A document that does not parse never executes; its error is reported later.
        let document = request.parsed_query().ok().cloned();
        if let Ok(mut slot) = self.document.lock() {
            *slot = document;
        }
        Ok(request)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let Some(document) = self.document.lock().ok().and_then(|mut d| d.take()) else {
            return response;
        };
        let paths: Vec<Vec<PathSegment>> = response.errors.iter().map(|e| e.path.clone()).collect();
        for path in paths.iter().filter(|p| !p.is_empty()) {
            propagate(
                &ctx.schema_env.registry,
                &document,
                operation_name,
                path,
                &mut response.data,
            );
        }
        if let Some(operation) = selected_operation(&document, operation_name) {
            field_order::restore(&document, operation, &mut response.data);
        }
        response
    }
}

/// A GraphQL type reference: `Name`, `[T]`, either possibly non-null.
#[derive(Debug, PartialEq)]
enum TypeRef {
    Named(String, bool),
    List(Box<TypeRef>, bool),
}

impl TypeRef {
    fn parse(text: &str) -> Option<TypeRef> {
        let (body, non_null) = match text.strip_suffix('!') {
            Some(body) => (body, true),
            None => (text, false),
        };
        match body.strip_prefix('[').and_then(|b| b.strip_suffix(']')) {
            Some(inner) => Some(TypeRef::List(Box::new(TypeRef::parse(inner)?), non_null)),
            None if !body.is_empty() => Some(TypeRef::Named(body.to_owned(), non_null)),
            None => None,
        }
    }

    fn non_null(&self) -> bool {
        match self {
            TypeRef::Named(_, n) | TypeRef::List(_, n) => *n,
        }
    }
}

/// Fields selected under the response key `key` in these selection sets (through fragments),
/// each with the type condition it sits under, if any.
fn find_fields<'d>(
    document: &'d ExecutableDocument,
    sets: &[&'d SelectionSet],
    key: &str,
    condition: Option<&'d str>,
    found: &mut Vec<(&'d async_graphql::parser::types::Field, Option<&'d str>)>,
) {
    for set in sets {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) if field.node.response_key().node.as_str() == key => {
                    found.push((&field.node, condition));
                }
                Selection::Field(_) => {}
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(condition);
                    find_fields(
                        document,
                        &[&fragment.node.selection_set.node],
                        key,
                        on,
                        found,
                    );
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                    {
                        let on = Some(fragment.node.type_condition.node.on.node.as_str());
                        find_fields(
                            document,
                            &[&fragment.node.selection_set.node],
                            key,
                            on,
                            found,
                        );
                    }
                }
            }
        }
    }
}

/// For each segment of `path`, whether the value there may be null; `None` when the path does
/// not fit the operation (then nothing is changed).
fn nullability(
    registry: &Registry,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    path: &[PathSegment],
) -> Option<Vec<bool>> {
    let operation = selected_operation(document, operation_name)?;
    let root = match operation.ty {
        OperationType::Query => registry.query_type.clone(),
        OperationType::Mutation => registry.mutation_type.clone()?,
        OperationType::Subscription => registry.subscription_type.clone()?,
    };
    let mut current = TypeRef::Named(root, true);
    let mut sets: Vec<&SelectionSet> = vec![&operation.selection_set.node];
    let mut nullable = Vec::with_capacity(path.len());
    for segment in path {
        match segment {
            PathSegment::Index(_) => {
                let TypeRef::List(element, _) = current else {
                    return None;
                };
                current = *element;
            }
            PathSegment::Field(key) => {
                let TypeRef::Named(parent, _) = &current else {
                    return None;
                };
                let mut found = Vec::new();
                find_fields(document, &sets, key, None, &mut found);
                let (field, condition) = *found.first()?;
                let owner = condition.unwrap_or(parent);
                let definition = registry.types.get(owner)?.field_by_name(&field.name.node)?;
                current = TypeRef::parse(&definition.ty)?;
                sets = found.iter().map(|(f, _)| &f.selection_set.node).collect();
            }
        }
        nullable.push(!current.non_null());
    }
    Some(nullable)
}

fn propagate(
    registry: &Registry,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    path: &[PathSegment],
    data: &mut Value,
) {
    let Some(nullable) = nullability(registry, document, operation_name, path) else {
        return;
    };
    if nullable.last().copied().unwrap_or(true) {
        // A nullable field that failed is already null.
        return;
    }
    match nullable.iter().rposition(|n| *n) {
        Some(at) => set_null(data, &path[..=at]),
        None => *data = Value::Null,
    }
}

/// Sets the value at `path` to null, unless an ancestor is null already.
fn set_null(data: &mut Value, path: &[PathSegment]) {
    let Some((last, parents)) = path.split_last() else {
        *data = Value::Null;
        return;
    };
    let mut node = data;
    for segment in parents {
        node = match (segment, node) {
            (PathSegment::Field(key), Value::Object(map)) => match map.get_mut(key.as_str()) {
                Some(child) => child,
                None => return,
            },
            (PathSegment::Index(i), Value::List(items)) => match items.get_mut(*i) {
                Some(child) => child,
                None => return,
            },
            _ => return,
        };
    }
    match (last, node) {
        (PathSegment::Field(key), Value::Object(map)) => {
            map.insert(Name::new(key), Value::Null);
        }
        (PathSegment::Index(i), Value::List(items)) => {
            if let Some(item) = items.get_mut(*i) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::TypeRef;

    #[test]
    fn type_references_parse() {
        assert_eq!(
            TypeRef::parse("[Influencer!]!"),
            Some(TypeRef::List(
                Box::new(TypeRef::Named("Influencer".into(), true)),
                true
            ))
        );
        assert_eq!(
            TypeRef::parse("Segment"),
            Some(TypeRef::Named("Segment".into(), false))
        );
        assert_eq!(TypeRef::parse("[]"), None);
    }
}
