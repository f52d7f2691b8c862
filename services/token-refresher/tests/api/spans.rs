//! Every refresh, scheduled or asked for, runs in one `refresh` span that carries the account's
//! id and platform, so each line it (and the adapter it calls) logs can be found by account.

use std::{
    fmt,
    sync::{Arc, Mutex},
    time::Duration,
};

use tracing::{
    field::{Field, Visit},
    span::{Attributes, Id},
    Subscriber,
};
use tracing_subscriber::{
    layer::{Context, SubscriberExt},
    registry::LookupSpan,
    Layer,
};

use testkit::eventually;

use crate::support::world;

/// A span's fields, by name, as text.
type SpanFields = Vec<(String, String)>;

/// Records the fields of every span named `refresh` when it opens.
#[derive(Clone, Default)]
struct Refreshes(Arc<Mutex<Vec<SpanFields>>>);

#[derive(Default)]
struct Fields(SpanFields);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Refreshes {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() == "refresh" {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            self.0.lock().unwrap().push(fields.0);
        }
    }
}

fn field<'a>(span: &'a [(String, String)], name: &str) -> Option<&'a str> {
    span.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_and_requested_refreshes_run_in_spans_with_the_account_and_platform() {
    let refreshes = Refreshes::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(refreshes.clone()))
        .unwrap();
    let mut world = world().await;
    let seeded = world.seed(2);
    let (due, requested) = (seeded[0].0, seeded[1].0);
    // Not due for an hour: only the request refreshes it.
    {
        use db::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        db::diesel::update(db::schema::social_accounts::table.find(requested))
            .set(
                db::schema::social_accounts::next_refresh_at
                    .eq(chrono::Utc::now() + chrono::Duration::hours(1)),
            )
            .execute(&mut world.db.conn())
            .unwrap();
    }
    world.request_urgent_refresh(requested);
    world.start_refresher().await;

    eventually(Duration::from_secs(20), "both refreshed", || async {
        (world.account(due).last_refreshed_at.is_some()
            && world.account(requested).last_refreshed_at.is_some())
        .then_some(())
    })
    .await;

    let spans = refreshes.0.lock().unwrap().clone();
    for id in [due, requested] {
        let id = id.to_string();
        let of_account: Vec<_> = spans
            .iter()
            .filter(|span| field(span, "account.id") == Some(id.as_str()))
            .collect();
        assert!(!of_account.is_empty(), "a refresh span for {id}: {spans:?}");
        assert!(of_account
            .iter()
            .all(|span| field(span, "platform") == Some("sandbox")));
    }
    let requested_id = requested.to_string();
    assert!(
        spans.iter().any(
            |span| field(span, "account.id") == Some(requested_id.as_str())
                && field(span, "urgent") == Some("true")
        ),
        "the requested refresh's span says so: {spans:?}"
    );
    assert!(
        spans
            .iter()
            .any(|span| field(span, "scheduled") == Some("true")),
        "the scheduler's refreshes have spans too: {spans:?}"
    );
}
