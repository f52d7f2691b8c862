//! HTTP-level tests of publisher, each on its own database and exchanges, on port 0.

mod startup;
