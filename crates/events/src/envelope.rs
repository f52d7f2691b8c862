//! The envelope every event travels in.

use chrono::{DateTime, Utc};
use domain::EventId;
use schemars::JsonSchema;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// An event payload type: its routing key and schema version.
pub trait Event: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static {
    /// The event type, also the routing key, e.g. `account.connected`.
    const TYPE: &'static str;
    /// Bumped when a field is renamed or removed (adding one is compatible).
    const VERSION: u32;
}

/// `{"id", "type", "version", "occurred_at", "producer", "data"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope<T> {
    /// Unique per event; consumers deduplicate on it.
    pub id: EventId,
    /// The event type (routing key).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Schema version of `data`.
    pub version: u32,
    /// When the state change happened (RFC 3339, UTC).
    pub occurred_at: DateTime<Utc>,
    /// The service that emitted it, e.g. `auth-gateway`.
    pub producer: String,
    /// The payload.
    pub data: T,
}

/// An envelope whose payload has not been decoded yet (what a consumer receives).
pub type RawEnvelope = Envelope<serde_json::Value>;

impl<T: Event> Envelope<T> {
    /// Wraps `data` in a new envelope stamped now.
    pub fn new(producer: &str, data: T) -> Self {
        Self {
            id: EventId::new(),
            event_type: T::TYPE.to_owned(),
            version: T::VERSION,
            occurred_at: Utc::now(),
            producer: producer.to_owned(),
            data,
        }
    }
}

impl RawEnvelope {
    /// Decodes the payload as `T`, checking that the type matches.
    pub fn decode<T: Event>(&self) -> Result<Envelope<T>, String> {
        if self.event_type != T::TYPE {
            return Err(format!(
                "expected a `{}` event, got `{}`",
                T::TYPE,
                self.event_type
            ));
        }
        let data = serde_json::from_value(self.data.clone())
            .map_err(|e| format!("invalid `{}` payload: {e}", T::TYPE))?;
        Ok(Envelope {
            id: self.id,
            event_type: self.event_type.clone(),
            version: self.version,
            occurred_at: self.occurred_at,
            producer: self.producer.clone(),
            data,
        })
    }
}
