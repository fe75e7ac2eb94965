//! The request's variables checked against the input types before anything runs, for what
//! async-graphql's validation leaves to execution.
//!
//! async-graphql validates a variable's value with each scalar's `is_valid`, and its built-in
//! `Int` accepts any 64-bit integer there: the 32-bit range is only checked when a resolver
//! parses its argument. A variable whose input object held `followerCount: 2147483648` then ran,
//! and failed as a field error with no `extensions.code`, where the same value in a top-level
//! variable was refused as a request error. Checked here, both are refused before execution with
//! `GRAPHQL_VALIDATION_FAILED` (HTTP 400 under `application/graphql-response+json`), as GraphQL
//! over HTTP prescribes for variables that do not fit their types.
//! A workaround. Upstream: `impl ScalarType for i32` in
//! <https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/types/external/integers.rs>,
//! whose `is_valid` checks `is_i64()`; the test `upstream_int_validation_still_ignores_the_range`
//! fails when it starts checking the range, and this module can go.

use std::collections::HashMap;

use async_graphql::{
    Name, Positioned, ServerError, Value, Variables,
    parser::types::{BaseType, OperationDefinition, Type, TypeKind, TypeSystemDefinition},
};

use crate::errors::{Code, graphql::with_code};

/// The fields of the schema's input objects, read once from its SDL (async-graphql shows its
/// registry only to extensions).
pub struct InputTypes {
    /// Input object name -> field name -> declared type.
    objects: HashMap<Name, HashMap<Name, Type>>,
}

impl InputTypes {
    /// The input objects of the schema this SDL describes.
    pub fn from_sdl(sdl: &str) -> Result<Self, async_graphql::parser::Error> {
        let document = async_graphql::parser::parse_schema(sdl)?;
        let objects = document
            .definitions
            .into_iter()
            .filter_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) => match ty.node.kind {
                    TypeKind::InputObject(input) => Some((
                        ty.node.name.node,
                        input
                            .fields
                            .into_iter()
                            .map(|f| (f.node.name.node, f.node.ty.node))
                            .collect(),
                    )),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        Ok(Self { objects })
    }

    /// Refuses the first variable of `operation` holding an `Int` outside the 32-bit range, at
    /// any depth of input objects and lists.
    pub fn check(
        &self,
        operation: &OperationDefinition,
        variables: &Variables,
    ) -> Result<(), ServerError> {
        for definition in &operation.variable_definitions {
            let Positioned { node, pos } = definition;
            let Some(value) = variables.get(&node.name.node) else {
                continue;
            };
            let mut path = node.name.node.to_string();
            if let Some(reason) = self.find_out_of_range(&node.var_type.node, value, &mut path) {
                let message = format!(
                    "Invalid value for variable \"${}\" at \"{path}\": {reason}",
                    node.name.node
                );
                return Err(with_code(
                    ServerError::new(message, Some(*pos)),
                    Code::GraphqlValidationFailed,
                ));
            }
        }
        Ok(())
    }

    /// Why `value`, declared as `ty`, does not fit, with `path` extended to the offending part.
    fn find_out_of_range(&self, ty: &Type, value: &Value, path: &mut String) -> Option<String> {
        match (&ty.base, value) {
            (_, Value::Null) => None,
            (BaseType::List(item), Value::List(items)) => {
                items.iter().enumerate().find_map(|(index, value)| {
                    let len = path.len();
                    path.push_str(&format!("[{index}]"));
                    let found = self.find_out_of_range(item, value, path);
                    if found.is_none() {
                        path.truncate(len);
                    }
                    found
                })
            }
            // A single value where a list is declared is coerced to a list of one.
            (BaseType::List(item), value) => self.find_out_of_range(item, value, path),
            (BaseType::Named(name), Value::Number(number)) if name == "Int" => {
                let fits = number.as_i64().is_some_and(|n| i32::try_from(n).is_ok());
                (!fits && (number.is_i64() || number.is_u64())).then(|| {
                    format!(
                        "Only integers from {} to {} are accepted.",
                        i32::MIN,
                        i32::MAX
                    )
                })
            }
            (BaseType::Named(name), Value::Object(fields)) => {
                let declared = self.objects.get(name)?;
                fields.iter().find_map(|(field, value)| {
                    let ty = declared.get(field)?;
                    let len = path.len();
                    path.push('.');
                    path.push_str(field);
                    let found = self.find_out_of_range(ty, value, path);
                    if found.is_none() {
                        path.truncate(len);
                    }
                    found
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::{parse_query, types::DocumentOperations};
    use serde_json::json;

    use super::*;

    const SDL: &str = "
        input Outer { count: Int, inner: Inner, list: [Inner!] }
        input Inner { n: Int! }
        type Query { a(x: Outer): Int }
    ";

    fn check(query: &str, variables: serde_json::Value) -> Result<(), String> {
        let types = InputTypes::from_sdl(SDL).unwrap();
        let document = parse_query(query).unwrap();
        let DocumentOperations::Single(operation) = &document.operations else {
            panic!("one operation");
        };
        types
            .check(&operation.node, &Variables::from_json(variables))
            .map_err(|e| e.message)
    }

    #[test]
    fn ints_outside_32_bits_are_refused_at_any_depth() {
        let query = "query($o: Outer, $i: Int, $l: [Int]) { a(x: $o) }";
        assert_eq!(
            check(query, json!({ "o": { "inner": { "n": 2147483648i64 } } })),
            Err(
                "Invalid value for variable \"$o\" at \"o.inner.n\": Only integers from \
                 -2147483648 to 2147483647 are accepted."
                    .into()
            )
        );
        assert!(
            check(
                query,
                json!({ "o": { "list": [{ "n": 1 }, { "n": -2147483649i64 }] } })
            )
            .unwrap_err()
            .contains("\"o.list[1].n\"")
        );
        assert!(check(query, json!({ "i": 4294967296u64 })).is_err());
        assert!(check(query, json!({ "l": [1, 18446744073709551615u64] })).is_err());
    }

    #[test]
    fn upstream_int_validation_still_ignores_the_range() {
        use async_graphql::ScalarType;
        assert!(
            <i32 as ScalarType>::is_valid(&Value::from(2_147_483_648i64)),
            "async-graphql now checks the Int range during validation: this module can go"
        );
    }

    #[test]
    fn values_in_range_and_values_of_other_types_pass() {
        let query = "query($o: Outer, $i: Int) { a(x: $o) }";
        assert_eq!(
            check(
                query,
                json!({ "o": { "count": 2147483647, "inner": { "n": -2147483648i64 } }, "i": null })
            ),
            Ok(())
        );
        // Wrong types are async-graphql's validation's to report, with its own messages.
        assert_eq!(
            check(query, json!({ "o": { "count": "x", "other": 1 } })),
            Ok(())
        );
    }
}
