//! Response fields in the order the query asked for them, as the spec's "Ordering" of results
//! requires (section 7.2.2 says clients may rely on it; snapshot tests and people reading
//! responses do).
//!
//! async-graphql 7 resolves a query's sibling fields concurrently and keeps each value in the
//! order its resolver finished, so two runs of one query can answer in different orders. This
//! walks the response beside the operation's selection sets (through fragments) and puts every
//! object's keys back in selection order.

use async_graphql::{
    Name, Value,
    indexmap::IndexMap,
    parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet},
};

/// Reorders `data` (the result of `operation`) to the operation's selection order.
pub fn restore(document: &ExecutableDocument, operation: &OperationDefinition, data: &mut Value) {
    reorder(document, &[&operation.selection_set.node], data);
}

fn reorder(document: &ExecutableDocument, sets: &[&SelectionSet], value: &mut Value) {
    match value {
        Value::List(items) => {
            for item in items {
                reorder(document, sets, item);
            }
        }
        Value::Object(map) => {
            let mut keys: Vec<(&str, Vec<&SelectionSet>)> = Vec::new();
            collect(document, sets, &mut keys, 0);
            let mut ordered = IndexMap::with_capacity(map.len());
            for (key, child_sets) in &keys {
                if let Some((name, mut child)) = map.shift_remove_entry(*key) {
                    if !child_sets.is_empty() {
                        reorder(document, child_sets, &mut child);
                    }
                    ordered.insert(name, child);
                }
            }
            // Nothing should be left; if anything is, keep it rather than lose it.
            ordered.extend(std::mem::take(map));
            *map = ordered;
        }
        _ => {}
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
