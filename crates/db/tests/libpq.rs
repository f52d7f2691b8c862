//! The libpq diesel links: built from source into every binary (pq-sys `bundled`, see the
//! workspace Cargo.toml), so these pin what the system libpq used to bring.

use db::diesel::{Connection, PgConnection};

/// Production URLs say `sslmode=require` (deploy/k8s/README.md): a libpq built without TLS
/// refuses that option before connecting, whatever the server. With TLS compiled in, the local
/// server either speaks TLS or says it does not; both mean the client side is there.
#[test]
fn the_linked_libpq_speaks_tls_so_sslmode_require_is_accepted() {
    let url = testkit::database_url();
    let separator = if url.contains('?') { '&' } else { '?' };
    match PgConnection::establish(&format!("{url}{separator}sslmode=require")) {
        Ok(_) => {}
        Err(err) => {
            let message = err.to_string();
            assert!(
                !message.contains("not compiled in") && !message.contains("SSL is not supported"),
                "libpq was built without TLS: {message}"
            );
            assert!(
                message.contains("does not support SSL"),
                "the server refused TLS, not the client: {message}"
            );
        }
    }
}
