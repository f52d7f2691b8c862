//! Every publish runs in one `publish` span that carries its ids, so each line it (and the
//! adapter it calls) logs can be found by post, target, account or platform.

use std::{
    fmt,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use db::domain::TargetStatus;
use tracing::{
    field::{Field, Visit},
    span::{Attributes, Id},
    Event, Subscriber,
};
use tracing_subscriber::{
    layer::{Context, SubscriberExt},
    registry::LookupSpan,
    Layer,
};

use crate::support::{eventually, world};

/// A span as it was opened: its name and fields.
#[derive(Debug, Clone)]
struct Opened {
    name: &'static str,
    fields: Vec<(String, String)>,
}

impl Opened {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

/// Records every span opened, and the names of the spans every event was logged in.
#[derive(Clone, Default)]
struct Recorder {
    opened: Arc<Mutex<Vec<Opened>>>,
    event_scopes: Arc<Mutex<Vec<Vec<&'static str>>>>,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        self.opened.lock().unwrap().push(Opened {
            name: attrs.metadata().name(),
            fields: fields.0,
        });
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let scope = ctx
            .event_scope(event)
            .map(|scope| scope.map(|span| span.name()).collect())
            .unwrap_or_default();
        self.event_scopes.lock().unwrap().push(scope);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_publish_runs_in_a_span_with_its_post_target_account_and_platform() {
    let recorder = Recorder::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(recorder.clone()))
        .unwrap();
    let mut world = world().await;
    let accounts = world.seed_accounts(2);
    let post = world.schedule(&accounts, "Hello from a span", Utc::now());
    world.start_publisher().await;

    eventually(
        Duration::from_secs(15),
        "both targets published",
        || async {
            world
                .targets(post)
                .iter()
                .all(|t| t.status == TargetStatus::Published)
        },
    )
    .await;

    let publishes: Vec<Opened> = recorder
        .opened
        .lock()
        .unwrap()
        .iter()
        .filter(|span| span.name == "publish")
        .cloned()
        .collect();
    assert_eq!(publishes.len(), 2, "one span per publish: {publishes:?}");
    for target in world.targets(post) {
        let target_id = target.id.to_string();
        let span = publishes
            .iter()
            .find(|span| span.field("target.id") == Some(target_id.as_str()))
            .unwrap_or_else(|| panic!("a span for target {target_id}: {publishes:?}"));
        assert_eq!(span.field("post.id"), Some(post.to_string().as_str()));
        assert_eq!(
            span.field("account.id"),
            Some(target.account_id.to_string().as_str())
        );
        assert_eq!(
            span.field("platform"),
            Some(target.platform.to_string().as_str())
        );
        assert_eq!(span.field("previous"), Some("scheduled"));
    }
    let in_publish = recorder
        .event_scopes
        .lock()
        .unwrap()
        .iter()
        .filter(|scope| scope.contains(&"publish"))
        .count();
    assert!(
        in_publish > 0,
        "what a publish logs is logged inside its span"
    );
}
