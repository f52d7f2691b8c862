//! End-to-end tests of Postbridge live in `tests/`: several services in one process, talking
//! through the real RabbitMQ and PostgreSQL, with platform-sim as the only fake. This library is
//! empty on purpose; the crate exists so these tests may depend on services, which no regular
//! crate may.
