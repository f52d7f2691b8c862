//! `post.metrics_requested` (a user asked for a post's engagement now): the gateway already
//! made its targets due; this only wakes the fetcher so the read happens at once.

use std::sync::Arc;

use events::{Event, Handler, HandlerError, Incoming, PostMetricsRequested};
use tokio::sync::Notify;

/// Consumes `publisher.metrics`.
#[derive(Debug)]
pub struct WakeMetrics(pub Arc<Notify>);

impl Handler for WakeMetrics {
    async fn handle(&self, incoming: &Incoming) -> Result<(), HandlerError> {
        if incoming.envelope.event_type == PostMetricsRequested::TYPE {
            self.0.notify_one();
        }
        Ok(())
    }
}
