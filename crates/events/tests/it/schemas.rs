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

/// Real envelopes of every event type: each optional field once filled and once empty.
fn sample_envelopes() -> Vec<(&'static str, serde_json::Value)> {
    use chrono::Utc;
    use db::domain::{
        AccountId, AccountKind, AccountStatus, OwnerId, Platform, PostId, PostTargetId,
    };
    use events::*;

    fn envelope<T: Event>(data: T) -> (&'static str, serde_json::Value) {
        (
            T::TYPE,
            serde_json::to_value(Envelope::new("tests", data)).unwrap(),
        )
    }
    let account_id = AccountId::new();
    let owner_id = OwnerId("user-1".into());
    let platform = Platform::Sandbox;
    let now = Utc::now();
    let target = ScheduledTarget {
        target_id: PostTargetId::new(),
        account_id,
        platform: Platform::Mastodon,
        due_at: now,
    };
    let mut out = vec![
        envelope(crate::support::connected(1)),
        envelope(AccountConnected {
            account_kind: AccountKind::Page,
            reconnected: true,
            ..crate::support::connected(2)
        }),
    ];
    for full in [true, false] {
        let some = |n: i64| full.then_some(n);
        out.extend([
            envelope(AccountSynced {
                account_id,
                owner_id: owner_id.clone(),
                platform,
                status: AccountStatus::Active,
                health_score: 87,
                followers_count: some(10),
                following_count: some(2),
                posts_count: some(0),
                synced_at: now,
            }),
            envelope(TokenExpiring {
                account_id,
                platform,
                expires_at: full.then_some(now),
                urgent: full,
                reason: ExpiringReason::Unauthorized,
            }),
            envelope(TokenRefreshed {
                account_id,
                platform,
                expires_at: full.then_some(now),
                recovered: full,
            }),
            envelope(TokenRefreshFailed {
                account_id,
                platform,
                reason: RefreshFailureReason::NeedsReauth,
                message: "reconnect the account".into(),
                retry_at: full.then_some(now),
            }),
            envelope(PostScheduled {
                post_id: PostId::new(),
                owner_id: owner_id.clone(),
                scheduled_at: full.then_some(now),
                targets: if full { vec![target.clone()] } else { vec![] },
            }),
            envelope(PostPublished {
                post_id: PostId::new(),
                target_id: PostTargetId::new(),
                account_id,
                platform,
                platform_post_id: "p-1".into(),
                url: full.then(|| "https://example.test/p/1".to_owned()),
                published_at: now,
            }),
        ]);
    }
    out.extend([
        envelope(AccountDisconnectRequested {
            account_id,
            owner_id: owner_id.clone(),
            platform,
        }),
        envelope(AccountSyncRequested {
            account_id,
            owner_id: owner_id.clone(),
            platform,
        }),
        envelope(AccountDisconnected {
            account_id,
            owner_id: owner_id.clone(),
            platform,
            revoked: true,
        }),
        envelope(PostCanceled {
            post_id: PostId::new(),
            owner_id,
            target_ids: vec![PostTargetId::new(), PostTargetId::new()],
        }),
        envelope(PostFailed {
            post_id: PostId::new(),
            target_id: PostTargetId::new(),
            account_id,
            platform,
            error_code: "rejected".into(),
            error_message: "too long".into(),
            failed_at: now,
        }),
        envelope(PostMetricsUpdated {
            account_id,
            platform,
            fetched_at: now,
            targets: vec![TargetMetrics {
                post_id: PostId::new(),
                target_id: PostTargetId::new(),
                platform_post_id: "p-1".into(),
                likes: Some(3),
                replies: Some(0),
                reposts: None,
                quotes: None,
                saves: None,
                impressions: Some(120),
                views: None,
                reach: None,
            }],
        }),
        envelope(PostMetricsRequested {
            post_id: PostId::new(),
            owner_id: OwnerId("user-1".into()),
            target_ids: vec![PostTargetId::new()],
        }),
        envelope(PostDeleteRequested {
            post_id: PostId::new(),
            owner_id: OwnerId("user-1".into()),
            target_ids: vec![PostTargetId::new()],
        }),
        envelope(PostDeleted {
            post_id: PostId::new(),
            owner_id: OwnerId("user-1".into()),
            targets: vec![
                DeletedTarget {
                    target_id: PostTargetId::new(),
                    account_id: AccountId::new(),
                    platform: Platform::X,
                    outcome: db::domain::DeletionStatus::Deleted,
                    error_code: None,
                    message: None,
                    deleted_at: Some(Utc::now()),
                },
                DeletedTarget {
                    target_id: PostTargetId::new(),
                    account_id: AccountId::new(),
                    platform: Platform::Instagram,
                    outcome: db::domain::DeletionStatus::Unsupported,
                    error_code: Some("unsupported".into()),
                    message: Some("Instagram does not let apps delete posts".into()),
                    deleted_at: None,
                },
            ],
            settled_at: Utc::now(),
        }),
        envelope(AccountPaused {
            account_id: AccountId::new(),
            owner_id: OwnerId("user-1".into()),
            platform: Platform::Sandbox,
            paused_at: Utc::now(),
        }),
        envelope(AccountResumed {
            account_id: AccountId::new(),
            owner_id: OwnerId("user-1".into()),
            platform: Platform::Sandbox,
            resumed_at: Utc::now(),
        }),
    ]);
    out
}

/// The published schema of `event_type`, as other teams read it from docs/.
fn published_schema(event_type: &str) -> serde_json::Value {
    let path = docs()
        .join("schemas/events")
        .join(format!("{event_type}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn every_event_type_validates_against_its_published_json_schema() {
    let samples = sample_envelopes();
    let covered: std::collections::BTreeSet<&str> = samples.iter().map(|(t, _)| *t).collect();
    let all: std::collections::BTreeSet<&str> = events::ALL_TYPES.iter().copied().collect();
    assert_eq!(covered, all, "a sample envelope for every event type");

    for (event_type, envelope) in &samples {
        let schema = published_schema(event_type);
        let errors = validator::validate(&schema, envelope);
        assert!(
            errors.is_empty(),
            "{event_type} does not validate against docs/schemas/events/{event_type}.json: \
             {errors:#?}\n{envelope:#}"
        );
        // Every schema also rejects the other types' envelopes (its `type` is a const).
        for (other_type, other) in &samples {
            if other_type != event_type {
                assert!(
                    !validator::validate(&schema, other).is_empty(),
                    "the schema of {event_type} accepts a {other_type} envelope"
                );
            }
        }
    }
}

/// Changes an envelope so that it no longer matches its schema.
type Breaks = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn the_schema_check_rejects_envelopes_that_break_the_contract() {
    // The validator above must not pass everything: each of these breaks the schema once.
    let (_, envelope) = sample_envelopes()
        .into_iter()
        .find(|(t, _)| *t == "account.synced")
        .unwrap();
    let schema = published_schema("account.synced");
    assert!(validator::validate(&schema, &envelope).is_empty());
    let broken: Vec<(&str, Breaks)> = vec![
        (
            "missing envelope key",
            Box::new(|e| {
                e.as_object_mut().unwrap().remove("occurred_at");
            }),
        ),
        (
            "missing payload key",
            Box::new(|e| {
                e["data"].as_object_mut().unwrap().remove("account_id");
            }),
        ),
        ("unknown property", Box::new(|e| e["surprise"] = 1.into())),
        ("wrong version", Box::new(|e| e["version"] = 2.into())),
        (
            "string for an integer",
            Box::new(|e| e["data"]["health_score"] = "87".into()),
        ),
        (
            "unknown enum value",
            Box::new(|e| e["data"]["platform"] = "myspace".into()),
        ),
        (
            "malformed uuid",
            Box::new(|e| e["data"]["account_id"] = "not-a-uuid".into()),
        ),
        (
            "malformed date-time",
            Box::new(|e| e["data"]["synced_at"] = "yesterday".into()),
        ),
        (
            "null for a required string",
            Box::new(|e| e["producer"] = serde_json::Value::Null),
        ),
    ];
    for (what, breaks) in broken {
        let mut bad = envelope.clone();
        breaks(&mut bad);
        assert!(
            !validator::validate(&schema, &bad).is_empty(),
            "accepted an envelope with a {what}: {bad:#}"
        );
    }
}

/// A JSON Schema (draft-07) validator for the keywords our generated schemas use. It refuses
/// (panics on) any keyword or format it does not know, so a schema change cannot make the
/// check silently weaker. Written here rather than pulling in a validator crate and its
/// dependency tree for one test.
mod validator {
    use serde_json::Value;

    /// Annotations: they constrain nothing.
    const ANNOTATIONS: &[&str] = &["$id", "$schema", "title", "description", "definitions"];

    /// Every violation of `schema` by `instance`, with its JSON pointer; empty when valid.
    pub fn validate(schema: &Value, instance: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        check(schema, schema, instance, "", &mut errors);
        errors
    }

    fn check(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return errors.push(format!("{at}: nothing is allowed here")),
            Value::Object(schema) => schema,
            other => panic!("not a schema at {at}: {other}"),
        };
        for (keyword, rule) in schema {
            match keyword.as_str() {
                k if ANNOTATIONS.contains(&k) => {}
                "$ref" => {
                    let target = resolve(root, rule.as_str().unwrap());
                    check(root, target, value, at, errors);
                }
                "type" => {
                    let types: Vec<&str> = match rule {
                        Value::String(t) => vec![t.as_str()],
                        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
                        other => panic!("bad type {other}"),
                    };
                    if !types.iter().any(|t| has_type(value, t)) {
                        errors.push(format!("{at}: {value} is not of type {types:?}"));
                    }
                }
                "const" => {
                    if value != rule {
                        errors.push(format!("{at}: {value} is not {rule}"));
                    }
                }
                "enum" => {
                    if !rule.as_array().unwrap().contains(value) {
                        errors.push(format!("{at}: {value} is not one of {rule}"));
                    }
                }
                "format" => {
                    let ok = match (rule.as_str().unwrap(), value) {
                        ("uuid", Value::String(s)) => uuid::Uuid::parse_str(s).is_ok(),
                        ("date-time", Value::String(s)) => {
                            chrono::DateTime::parse_from_rfc3339(s).is_ok()
                        }
                        ("int16", Value::Number(n)) => {
                            n.as_i64().is_some_and(|n| i16::try_from(n).is_ok())
                        }
                        ("int32", Value::Number(n)) => {
                            n.as_i64().is_some_and(|n| i32::try_from(n).is_ok())
                        }
                        ("int64", Value::Number(n)) => n.as_i64().is_some(),
                        ("uint32", Value::Number(n)) => {
                            n.as_u64().is_some_and(|n| u32::try_from(n).is_ok())
                        }
                        ("uuid" | "date-time", _) => true,
                        ("int16" | "int32" | "int64" | "uint32", _) => true,
                        (other, _) => panic!("the validator does not know format {other:?}"),
                    };
                    if !ok {
                        errors.push(format!("{at}: {value} is not a {rule}"));
                    }
                }
                "required" => {
                    if let Value::Object(object) = value {
                        for key in rule.as_array().unwrap() {
                            let key = key.as_str().unwrap();
                            if !object.contains_key(key) {
                                errors.push(format!("{at}: required `{key}` is missing"));
                            }
                        }
                    }
                }
                "properties" => {
                    if let Value::Object(object) = value {
                        for (key, sub) in rule.as_object().unwrap() {
                            if let Some(v) = object.get(key) {
                                check(root, sub, v, &format!("{at}/{key}"), errors);
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Value::Object(object) = value {
                        let declared = schema.get("properties").and_then(Value::as_object);
                        for (key, v) in object {
                            if !declared.is_some_and(|d| d.contains_key(key)) {
                                check(root, rule, v, &format!("{at}/{key}"), errors);
                            }
                        }
                    }
                }
                "items" => {
                    if let Value::Array(items) = value {
                        for (i, item) in items.iter().enumerate() {
                            check(root, rule, item, &format!("{at}/{i}"), errors);
                        }
                    }
                }
                "allOf" => {
                    for sub in rule.as_array().unwrap() {
                        check(root, sub, value, at, errors);
                    }
                }
                "anyOf" | "oneOf" => {
                    let passing = rule
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|sub| validate_at(root, sub, value))
                        .count();
                    let ok = if keyword == "oneOf" {
                        passing == 1
                    } else {
                        passing >= 1
                    };
                    if !ok {
                        errors.push(format!(
                            "{at}: {passing} of the {keyword} schemas match {value}"
                        ));
                    }
                }
                other => panic!("the validator does not know the keyword {other:?} (at {at})"),
            }
        }
    }

    fn validate_at(root: &Value, schema: &Value, value: &Value) -> bool {
        let mut errors = Vec::new();
        check(root, schema, value, "", &mut errors);
        errors.is_empty()
    }

    fn resolve<'a>(root: &'a Value, reference: &str) -> &'a Value {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local $refs are supported: {reference}"));
        root.pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {reference}"))
    }

    fn has_type(value: &Value, ty: &str) -> bool {
        match ty {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "string" => value.is_string(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            other => panic!("unknown type {other:?}"),
        }
    }
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
