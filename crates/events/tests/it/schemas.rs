//! The published contract (docs/schemas/events/*.json, docs/asyncapi.yaml) matches the types.

use std::path::PathBuf;

fn docs() -> PathBuf {
    testkit::workspace_root().join("docs")
}

#[test]
fn json_schemas_in_docs_match_the_rust_event_types() {
    let dir = docs().join("schemas/events");
    let regenerate = std::env::var_os("POSTBRIDGE_UPDATE_SCHEMAS").is_some();
    if regenerate {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (event_type, schema) in events::schemas::all() {
        let path = dir.join(format!("{event_type}.json"));
        let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if regenerate {
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let published = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing: run `make schemas`", path.display()));
        assert_eq!(
            published,
            generated,
            "{} is out of date with the Rust type: run `make schemas`",
            path.display()
        );
    }
}

#[test]
fn every_event_in_the_schemas_validates_a_real_envelope() {
    // A serialized envelope must at least carry every property the schema requires.
    let envelope = events::Envelope::new("tests", crate::support::connected(1));
    let json = serde_json::to_value(&envelope).unwrap();
    let (_, schema) = events::schemas::all()
        .into_iter()
        .find(|(t, _)| *t == "account.connected")
        .unwrap();
    for required in schema["required"].as_array().unwrap() {
        let key = required.as_str().unwrap();
        assert!(json.get(key).is_some(), "envelope lacks required `{key}`");
    }
    assert_eq!(schema["properties"]["type"]["const"], "account.connected");
}

#[test]
fn asyncapi_document_declares_every_event_and_references_its_schema() {
    let doc =
        std::fs::read_to_string(docs().join("asyncapi.yaml")).expect("docs/asyncapi.yaml exists");
    for event_type in events::ALL_TYPES {
        assert!(
            doc.contains(&format!("address: {event_type}")),
            "asyncapi.yaml has no channel for {event_type}"
        );
        assert!(
            doc.contains(&format!("schemas/events/{event_type}.json")),
            "asyncapi.yaml does not reference the schema of {event_type}"
        );
    }
}
