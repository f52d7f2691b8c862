//! HTTP-level tests of token-refresher, each on its own database and exchanges, on port 0.

mod startup;
