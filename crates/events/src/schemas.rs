//! JSON Schemas of the event envelopes, generated from the Rust types.
//!
//! The published copies live in `docs/schemas/events/<type>.json` and are referenced by
//! `docs/asyncapi.yaml`. The crate's tests fail when a type changes without its schema;
//! `make schemas` rewrites the files.

use schemars::{gen::SchemaSettings, JsonSchema};

use crate::{catalog::*, Envelope, Event};

/// `(event type, JSON Schema of its whole envelope)` for every event.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        of::<AccountConnected>(),
        of::<AccountSynced>(),
        of::<AccountSyncRequested>(),
        of::<AccountDisconnectRequested>(),
        of::<AccountDisconnected>(),
        of::<TokenExpiring>(),
        of::<TokenRefreshed>(),
        of::<TokenRefreshFailed>(),
        of::<PostScheduled>(),
        of::<PostCanceled>(),
        of::<PostPublished>(),
        of::<PostFailed>(),
        of::<PostDeleteRequested>(),
        of::<PostDeleted>(),
        of::<AccountPaused>(),
        of::<AccountResumed>(),
        of::<PostMetricsUpdated>(),
        of::<PostMetricsRequested>(),
    ]
}

fn of<T: Event + JsonSchema>() -> (&'static str, serde_json::Value) {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema =
        serde_json::to_value(generator.into_root_schema_for::<Envelope<T>>()).unwrap_or_default();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            format!("https://postbridge.dev/schemas/events/{}.json", T::TYPE).into(),
        );
        obj.insert(
            "title".into(),
            format!("{} v{}", T::TYPE, T::VERSION).into(),
        );
        // Pin the discriminating fields, so a consumer validating against this schema rejects
        // an envelope of another type or version.
        if let Some(props) = obj.get_mut("properties").and_then(|p| p.as_object_mut()) {
            props.insert("type".into(), serde_json::json!({ "const": T::TYPE }));
            props.insert("version".into(), serde_json::json!({ "const": T::VERSION }));
        }
    }
    (T::TYPE, schema)
}
