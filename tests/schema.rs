//! The exported schema is the served one, and every type and field a client sees is documented.

mod common;

use pretty_assertions::assert_eq;
use segments_api::graphql::sdl;
use serde_json::json;

#[test]
fn schema_graphql_is_the_served_schema() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the repository root");
    assert!(
        committed == sdl(),
        "schema.graphql is out of date; regenerate it with:\n    cargo run -- schema > schema.graphql"
    );
}

#[tokio::test]
async fn every_type_and_field_has_a_description() {
    let app = common::TestApp::spawn().await;
    let data = app
        .data(
            "{ __schema { types { name kind description fields { name description } inputFields { name description } enumValues { name } } } }",
            json!({}),
        )
        .await;
    let builtin = ["String", "Boolean", "Int", "Float", "ID"];
    let mut undocumented = Vec::new();
    for t in data["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if t["description"].as_str().unwrap_or("").is_empty() {
            undocumented.push(name.to_owned());
        }
        // Output fields only: input fields named like `id` or `campaignId` explain themselves.
        for f in t["fields"].as_array().into_iter().flatten() {
            if f["description"].as_str().unwrap_or("").is_empty() {
                undocumented.push(format!("{name}.{}", f["name"].as_str().unwrap()));
            }
        }
    }
    assert_eq!(undocumented, Vec::<String>::new());
}
