//! Integration tests of the event plumbing against the real PostgreSQL and RabbitMQ.

mod consumer;
mod relay;
mod schemas;
mod support;
