//! What a test or benchmark holds on to after starting a sim in-process.

use std::{net::SocketAddr, ops::Deref};

use actix_web::web;

use crate::Sim;

/// A running sim: its address, and (through `Deref`) its [`Sim`] for counters, knobs and
/// seeding. Cheap to clone; every clone sees the same state.
#[derive(Debug, Clone)]
pub struct SimHandle {
    sim: web::Data<Sim>,
    addr: SocketAddr,
}

impl SimHandle {
    pub(crate) fn new(sim: web::Data<Sim>, addr: SocketAddr) -> Self {
        Self { sim, addr }
    }

    /// The bound address (useful after binding port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, without a trailing slash: the sandbox adapter's API base, and the
    /// prefix of its authorize, token and revoke URLs.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Deref for SimHandle {
    type Target = Sim;

    fn deref(&self) -> &Sim {
        &self.sim
    }
}
