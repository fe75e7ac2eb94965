//! The response as the spec shapes it: null propagation, and fields in the order asked for
//! (`field_order`).
//!
//! Null propagation for failed non-null fields, as the GraphQL spec requires ("Handling Execution
//! Errors"): when a field of a non-null type fails, the nearest nullable ancestor becomes null (or
//! `data` itself when there is none).
//!
//! A workaround: async-graphql 7 records the error but only leaves the failed field out of its
//! parent object (`do_resolve_container` in
//! <https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/resolver_utils/container.rs>),
//! so a response could lack a field the schema promises, or hold a null inside `[Influencer!]!`.
//! Clients with normalized caches (Apollo, Relay, urql) rely on the promise. [`FieldTypes::shape`]
//! walks each error's path through the operation and the schema and applies the rule to the
//! response. [`super::Api`] runs it on every response. The test
//! `upstream_still_leaves_a_failed_non_null_field_out_of_its_parent` fails once upstream
//! propagates nulls itself, when the propagation here may go (the field order may stay: see
//! [`field_order`]).

use std::collections::HashMap;

use async_graphql::{
    Name, PathSegment, Response, Value,
    parser::types::{
        ExecutableDocument, OperationType, Selection, SelectionSet, TypeKind, TypeSystemDefinition,
    },
};

use super::{field_order, limits::selected_operation};

/// The declared type of every field of the schema's objects and interfaces, and its root types:
/// what null propagation needs to know of the schema. Read once from the schema's SDL, because
/// async-graphql shows its registry only to extensions, and an extension would put every field
/// of every request on async-graphql's slower resolving path.
pub struct FieldTypes {
    roots: [Option<String>; 3],
    /// Type name -> field name -> declared type, as SDL writes it (`[Influencer!]!`).
    fields: HashMap<String, HashMap<String, String>>,
}

impl FieldTypes {
    /// The field types of the schema this SDL describes.
    pub fn from_sdl(sdl: &str) -> Result<Self, async_graphql::parser::Error> {
        let document = async_graphql::parser::parse_schema(sdl)?;
        let mut roots = [
            Some("Query".to_owned()),
            Some("Mutation".to_owned()),
            Some("Subscription".to_owned()),
        ];
        let mut fields = HashMap::new();
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let name =
                        |n: Option<async_graphql::Positioned<Name>>| n.map(|n| n.node.to_string());
                    roots = [
                        name(schema.node.query),
                        name(schema.node.mutation),
                        name(schema.node.subscription),
                    ];
                }
                TypeSystemDefinition::Type(ty) => {
                    let declared = match ty.node.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => interface.fields,
                        _ => continue,
                    };
                    let by_name = declared
                        .into_iter()
                        .map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string()))
                        .collect();
                    fields.insert(ty.node.name.node.to_string(), by_name);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        Ok(Self { roots, fields })
    }

    fn root(&self, operation: OperationType) -> Option<&str> {
        let index = match operation {
            OperationType::Query => 0,
            OperationType::Mutation => 1,
            OperationType::Subscription => 2,
        };
        self.roots[index].as_deref()
    }

    fn field(&self, owner: &str, field: &str) -> Option<&str> {
        self.fields.get(owner)?.get(field).map(String::as_str)
    }

    /// Shapes a response of the operation `operation_name` of `document` as the spec says: each
    /// failed non-null field nulls its nearest nullable ancestor, and fields come in the order
    /// the operation asked for them.
    pub fn shape(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        response: &mut Response,
    ) {
        for error in &response.errors {
            if !error.path.is_empty() {
                propagate(
                    self,
                    document,
                    operation_name,
                    &error.path,
                    &mut response.data,
                );
            }
        }
        if let Some(operation) = selected_operation(document, operation_name) {
            field_order::restore(document, operation, &mut response.data);
        }
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
    types: &FieldTypes,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    path: &[PathSegment],
) -> Option<Vec<bool>> {
    let operation = selected_operation(document, operation_name)?;
    let mut current = TypeRef::Named(types.root(operation.ty)?.to_owned(), true);
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
                current = TypeRef::parse(types.field(owner, &field.name.node)?)?;
                sets = found.iter().map(|(f, _)| &f.selection_set.node).collect();
            }
        }
        nullable.push(!current.non_null());
    }
    Some(nullable)
}

fn propagate(
    types: &FieldTypes,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    path: &[PathSegment],
    data: &mut Value,
) {
    let Some(nullable) = nullability(types, document, operation_name, path) else {
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
    use super::{FieldTypes, OperationType, TypeRef};

    #[test]
    fn field_types_are_read_from_the_schema_sdl() {
        let types = FieldTypes::from_sdl(
            "interface Node { id: ID! }
             type Segment implements Node { id: ID! }
             type Influencer implements Node { id: ID! segments: [Segment!]! }
             type Query { influencer: Influencer }
             type Subscription { changed: Int! }",
        )
        .unwrap();
        assert_eq!(types.root(OperationType::Query), Some("Query"));
        assert_eq!(
            types.root(OperationType::Subscription),
            Some("Subscription")
        );
        assert_eq!(types.field("Query", "influencer"), Some("Influencer"));
        assert_eq!(types.field("Influencer", "segments"), Some("[Segment!]!"));
        assert_eq!(types.field("Node", "id"), Some("ID!"));
        assert_eq!(types.field("Influencer", "nothing"), None);
    }

    #[tokio::test]
    async fn upstream_still_leaves_a_failed_non_null_field_out_of_its_parent() {
        use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, value};

        struct Item;

        #[Object]
        impl Item {
            async fn broken(&self) -> async_graphql::Result<i32> {
                Err("broken".into())
            }
            async fn fine(&self) -> i32 {
                1
            }
        }

        struct Query;

        #[Object]
        impl Query {
            async fn item(&self) -> Option<Item> {
                Some(Item)
            }
        }

        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let query = "{ item { broken fine } }";
        let mut response = schema.execute(query).await;
        assert_eq!(response.errors.len(), 1);
        assert_eq!(
            response.data,
            value!({ "item": { "fine": 1 } }),
            "async-graphql now propagates the null of a failed non-null field itself"
        );
        // As the spec says: `broken` is non-null, so its nullable parent becomes null.
        let types = FieldTypes::from_sdl(&schema.sdl()).unwrap();
        let document = async_graphql::parser::parse_query(query).unwrap();
        types.shape(&document, None, &mut response);
        assert_eq!(response.data, value!({ "item": null }));
    }

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
