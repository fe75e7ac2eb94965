//! Response fields in the order the query asked for them, as the spec's "Ordering" of results
//! requires (section 7.2.2 says clients may rely on it; snapshot tests and people reading
//! responses do).
//!
//! A workaround: async-graphql 7 resolves a query's sibling fields concurrently and keeps each
//! value in the order its resolver finished (`do_resolve_container` in
//! <https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/resolver_utils/container.rs>
//! collects them from a `FuturesUnordered`), so two runs of one query can answer in different
//! orders. This walks the response beside the operation's selection sets (through fragments) and
//! puts every object's keys back in selection order. The test
//! `upstream_still_answers_fields_in_the_order_they_finish` fails once upstream keeps the
//! selection order, when this module may go.

use std::cell::OnceCell;

use async_graphql::{
    Name, Value,
    parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet},
};

/// Reorders `data` (the result of `operation`) to the operation's selection order.
pub fn restore(document: &ExecutableDocument, operation: &OperationDefinition, data: &mut Value) {
    Plan::new(document, &[&operation.selection_set.node]).apply(data);
}

/// The key order of the objects one set of selections produces, and (made when first needed)
/// the plans of their sub-selections. A list's items share one plan, so the selections are
/// walked once per field of the query, not once per object of the response.
struct Plan<'d> {
    document: &'d ExecutableDocument,
    keys: Vec<(&'d str, Vec<&'d SelectionSet>)>,
    children: Vec<OnceCell<Plan<'d>>>,
}

impl<'d> Plan<'d> {
    fn new(document: &'d ExecutableDocument, sets: &[&'d SelectionSet]) -> Self {
        let mut keys = Vec::new();
        collect(document, sets, &mut keys, 0);
        let children = keys.iter().map(|_| OnceCell::new()).collect();
        Self {
            document,
            keys,
            children,
        }
    }

    fn position(&self, key: &str) -> usize {
        // Keys the selections do not name (there should be none) go last, in their order.
        self.keys
            .iter()
            .position(|(k, _)| *k == key)
            .unwrap_or(usize::MAX)
    }

    fn apply(&self, value: &mut Value) {
        match value {
            Value::List(items) => items.iter_mut().for_each(|item| self.apply(item)),
            Value::Object(map) => {
                let in_order = map
                    .keys()
                    .map(|key| key.as_str())
                    .eq(self.keys.iter().map(|(key, _)| *key));
                if !in_order {
                    // A stable sort: O(n log n), where removing keys one by one is O(n^2).
                    map.sort_by(|a, _, b, _| self.position(a).cmp(&self.position(b)));
                }
                for (key, child) in map.iter_mut() {
                    let index = self.position(key);
                    if let Some((_, sets)) = self.keys.get(index).filter(|(_, s)| !s.is_empty()) {
                        self.children[index]
                            .get_or_init(|| Plan::new(self.document, sets))
                            .apply(child);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The response keys these selection sets produce, in order of first appearance, each with the
/// sub-selections of every field under that key (fields with one key merge).
fn collect<'d>(
    document: &'d ExecutableDocument,
    sets: &[&'d SelectionSet],
    keys: &mut Vec<(&'d str, Vec<&'d SelectionSet>)>,
    depth: usize,
) {
    // Fragment cycles are refused by validation; the bound only guards the walk itself.
    if depth > 64 {
        return;
    }
    for set in sets {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.as_str();
                    let sub = &field.node.selection_set.node;
                    match keys.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, subs)) => subs.push(sub),
                        None => keys.push((key, vec![sub])),
                    }
                }
                Selection::InlineFragment(fragment) => {
                    collect(
                        document,
                        &[&fragment.node.selection_set.node],
                        keys,
                        depth + 1,
                    );
                }
                Selection::FragmentSpread(spread) => {
                    let name: &Name = &spread.node.fragment_name.node;
                    if let Some(fragment) = document.fragments.get(name) {
                        collect(
                            document,
                            &[&fragment.node.selection_set.node],
                            keys,
                            depth + 1,
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{parser::parse_query, parser::types::DocumentOperations, value};

    use super::*;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
            _ => panic!("not an object: {value}"),
        }
    }

    fn get<'v>(value: &'v Value, key: &str) -> &'v Value {
        match value {
            Value::Object(map) => &map[key],
            _ => panic!("not an object: {value}"),
        }
    }

    #[tokio::test]
    async fn upstream_still_answers_fields_in_the_order_they_finish() {
        use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

        struct Query;

        #[Object]
        impl Query {
            async fn slow(&self) -> i32 {
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                1
            }
            async fn fast(&self) -> i32 {
                2
            }
        }

        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let query = "{ slow fast }";
        let mut response = schema.execute(query).await;
        assert_eq!(
            keys(&response.data),
            ["fast", "slow"],
            "async-graphql now answers fields in the order they were selected"
        );
        let document = parse_query(query).unwrap();
        let DocumentOperations::Single(operation) = &document.operations else {
            unreachable!()
        };
        restore(&document, &operation.node, &mut response.data);
        assert_eq!(keys(&response.data), ["slow", "fast"]);
    }

    #[test]
    fn objects_follow_the_selection_order_through_aliases_lists_and_fragments() {
        let document = parse_query(
            "query { b: viewer { z a } segments { nodes { ...F id } } a: viewer { z } }
             fragment F on Segment { name ... on Segment { memberCount } }",
        )
        .unwrap();
        let DocumentOperations::Single(operation) = &document.operations else {
            unreachable!()
        };
        let mut data = value!({
            "a": { "z": 1 },
            "segments": { "nodes": [
                { "id": "1", "memberCount": 2, "name": "x" },
                { "memberCount": 3, "id": "2", "name": "y" },
            ] },
            "b": { "a": 1, "z": 2 },
        });
        restore(&document, &operation.node, &mut data);
        assert_eq!(keys(&data), ["b", "segments", "a"]);
        assert_eq!(keys(get(&data, "b")), ["z", "a"]);
        let Value::List(nodes) = get(get(&data, "segments"), "nodes") else {
            unreachable!()
        };
        for node in nodes {
            assert_eq!(keys(node), ["name", "memberCount", "id"]);
        }
    }
}
