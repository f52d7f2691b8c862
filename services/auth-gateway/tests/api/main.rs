//! HTTP-level tests of auth-gateway, each on its own database and exchanges, on port 0.

mod startup;
