//! Operations checks live in `tests/`: `metrics.rs` (every metric the Grafana dashboard and the
//! alert rules name is one the services export) and `production_start.rs` (the release
//! binaries started with exactly what the production overlay sets). This library is empty on
//! purpose.
