//! Hosts users choose (Mastodon instances, Bluesky services) and the one switch that lets
//! them be private: `[platforms] allow_private_instances` ([`HostPolicy`]). Without it, a host
//! on a loopback, private or reserved address is refused three ways, all with the same
//! permanent `Rejected { code: "instance_not_allowed" }`: when a user connects one
//! ([`resolve_public`]), before any call to a stored one written as an IP literal
//! ([`HostPolicy::check_url`]), and at every connection the HTTP client opens to a name, after
//! DNS answered ([`PublicOnlyResolver`], so a name that passed cannot re-resolve inward).
//! Every service that builds adapters reads the switch through [`crate::PlatformsConfig`].

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::{
    dns::{Addrs, Name, Resolve, Resolving},
    Certificate, Client, Url,
};

use crate::AdapterError;

/// Whether user-chosen hosts may be on private addresses: `true` only in tests and local
/// setups whose Mastodon or Bluesky server runs on a private network, never in production.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostPolicy {
    /// Private, loopback and reserved addresses are allowed.
    pub allow_private: bool,
}

impl HostPolicy {
    /// Refuses `url` when its host is an IP literal off the public internet (names are judged
    /// by the resolver of [`Self::client`] when the connection is opened). No DNS lookup.
    pub fn check_url(self, url: &str) -> Result<(), AdapterError> {
        if self.allow_private {
            return Ok(());
        }
        match Url::parse(url.trim()).ok().as_ref().and_then(host_of) {
            Some(Host::Ip(ip)) if !is_public_ip(ip) => Err(not_allowed(&ip.to_string())),
            _ => Ok(()),
        }
    }

    /// The client for user-chosen hosts: like [`crate::http::client`] (timeouts, no redirects),
    /// trusting `extra_roots` besides the built-in ones, and, unless private hosts are allowed,
    /// resolving names through [`PublicOnlyResolver`].
    /// Fails only where the TLS backend cannot be set up with `extra_roots`; never falls back
    /// to a client without the resolver.
    pub fn client(
        self,
        timeout: Duration,
        extra_roots: &[Certificate],
    ) -> Result<Client, reqwest::Error> {
        let mut builder = crate::http::builder(timeout, extra_roots);
        if !self.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        builder.build()
    }
}

/// The refusal of a host off the public internet. It names the host, never the address it
/// resolved to (that would tell a prober about our internal network), and the setting an
/// operator would change for a test server.
pub(crate) fn not_allowed(host: &str) -> AdapterError {
    AdapterError::Rejected {
        code: "instance_not_allowed".into(),
        message: format!(
            "`{}` is not on the public internet (loopback, private or reserved address); only public instances can be used unless `platforms.allow_private_instances` is set (tests only)",
            short(host)
        ),
    }
}

/// The resolver's refusal, carried inside the HTTP client's error so that
/// [`AdapterError::from_transport`] reports it as [`not_allowed`] instead of a transient failure.
#[derive(Debug)]
pub(crate) struct PrivateHost(String);

impl std::fmt::Display for PrivateHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` has no public address", self.0)
    }
}

impl std::error::Error for PrivateHost {}

/// [`not_allowed`] when `err` was caused by [`PublicOnlyResolver`] refusing a host.
pub(crate) fn refusal_in(err: &(dyn std::error::Error + 'static)) -> Option<AdapterError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(PrivateHost(host)) = current.downcast_ref::<PrivateHost>() {
            return Some(not_allowed(host));
        }
        source = current.source();
    }
    None
}

/// Turns what a user typed as their server into an origin `https://host[:port]` (the rules of
/// [`crate::platforms::mastodon::normalize_instance`]): a bare domain, a URL (path, query and
/// fragment dropped) or a handle's domain; `http://` becomes `https://` unless `policy` allows
/// private hosts (a test server, never production). `what` and `example` word the refusal
/// (`Rejected { code: "invalid_instance" }`): "`x` is not {what}; enter its domain, e.g.
/// {example}".
pub fn normalize_origin(
    input: &str,
    policy: HostPolicy,
    what: &str,
    example: &str,
) -> Result<String, AdapterError> {
    let raw = input.trim();
    let invalid = || AdapterError::Rejected {
        code: "invalid_instance".into(),
        message: format!(
            "`{}` is not {what}; enter its domain, e.g. {example}",
            short(raw)
        ),
    };
    if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let candidate = if let Some((scheme, rest)) = raw.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "https" | "http") {
            return Err(invalid());
        }
        if scheme == "http" && policy.allow_private {
            format!("http://{rest}")
        } else {
            format!("https://{rest}")
        }
    } else if raw.contains('@') {
        let handle = raw.strip_prefix('@').unwrap_or(raw);
        let (user, domain) = handle.split_once('@').ok_or_else(invalid)?;
        if user.is_empty() || domain.is_empty() || domain.contains(['@', '/', '?', '#']) {
            return Err(invalid());
        }
        format!("https://{domain}")
    } else {
        format!("https://{raw}")
    };
    let url = Url::parse(&candidate).map_err(|_| invalid())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid());
    }
    let host = match host_of(&url) {
        Some(Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.');
            if !is_multi_label_hostname(domain) {
                return Err(invalid());
            }
            domain.to_owned()
        }
        Some(Host::Ip(IpAddr::V4(ip))) => ip.to_string(),
        Some(Host::Ip(IpAddr::V6(ip))) => format!("[{ip}]"),
        None => return Err(invalid()),
    };
    let scheme = url.scheme();
    Ok(match url.port() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// A DNS name of two or more labels: ASCII letters, digits and inner hyphens, 1–63 characters
/// each, 253 in all (RFC 1035 as `Url` leaves it: lowercased, internationalized names in
/// punycode). Bluesky handles are such names too.
pub(crate) fn is_multi_label_hostname(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The server-side request forgery guard: resolves the instance's host and refuses it with
/// `Rejected { code: "instance_not_allowed" }` when any address is not on the public internet
/// (see [`is_public_ip`]), unless `allow_private` (tests against wiremock on 127.0.0.1, local
/// development). A name that does not resolve is `Rejected { code: "instance_not_found" }`.
///
/// Without this, "connect my instance at 169.254.169.254" would make the gateway POST to a cloud
/// metadata service or an internal admin API. The check runs before app registration; since DNS
/// may answer differently a moment later (rebinding), [`HostPolicy::client`] repeats it on every
/// connection the HTTP client opens, and [`HostPolicy::check_url`] before every call to a stored
/// host.
pub async fn resolve_public(
    instance_origin: &str,
    allow_private: bool,
) -> Result<(), AdapterError> {
    let url = Url::parse(instance_origin).map_err(|_| AdapterError::Rejected {
        code: "invalid_instance".into(),
        message: format!("`{}` is not an instance URL", short(instance_origin)),
    })?;
    let port = url.port_or_known_default().unwrap_or(443);
    let (name, addresses): (String, Vec<IpAddr>) = match host_of(&url) {
        Some(Host::Ip(ip)) => (ip.to_string(), vec![ip]),
        Some(Host::Domain(domain)) => {
            let not_found = || AdapterError::Rejected {
                code: "instance_not_found".into(),
                message: format!("could not find the instance `{domain}`; check the spelling"),
            };
            let resolved = tokio::net::lookup_host((domain.as_str(), port))
                .await
                .map_err(|_| not_found())?;
            let addresses: Vec<IpAddr> = resolved.map(|a| a.ip()).collect();
            if addresses.is_empty() {
                return Err(not_found());
            }
            (domain, addresses)
        }
        None => {
            return Err(AdapterError::Rejected {
                code: "invalid_instance".into(),
                message: format!("`{}` has no host", short(instance_origin)),
            })
        }
    };
    if allow_private || addresses.iter().all(|ip| is_public_ip(*ip)) {
        return Ok(());
    }
    Err(not_allowed(&name))
}

/// Whether `ip` is a public unicast address. Refused: unspecified, loopback, private (10/8,
/// 172.16/12, 192.168/16), carrier-grade NAT (100.64/10), link-local (169.254/16, fe80::/10,
/// which includes cloud metadata endpoints), IETF protocol assignments, documentation and
/// benchmarking ranges, multicast, reserved and broadcast, IPv6 unique-local (fc00::/7),
/// site-local, discard-only; IPv4-mapped, NAT64 and 6to4 IPv6 addresses are judged by the IPv4
/// address they embed.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", unspecified
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0/24
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // deprecated 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast 224/4, reserved 240/4, broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard-only 100::/64
        || (s[0] == 0 && !ip.is_loopback()); // the rest of ::/16 (IPv4-compatible, reserved)
    !refused
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4
/// (`2002:aabb:ccdd::`) address: a route to it ends at that IPv4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let from = |hi: u16, lo: u16| {
        Ipv4Addr::new(
            (hi >> 8) as u8,
            (hi & 0xff) as u8,
            (lo >> 8) as u8,
            (lo & 0xff) as u8,
        )
    };
    if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
        return Some(from(s[6], s[7]));
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(from(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(from(s[1], s[2]));
    }
    None
}

/// A DNS resolver that only hands out public addresses ([`is_public_ip`]): a host that resolves
/// to nothing public fails to connect, with [`PrivateHost`] as the cause. Installed by
/// [`HostPolicy::client`] so the guard holds at connection time, after any DNS change since
/// [`resolve_public`] looked. (IP-literal URLs do not go through a resolver;
/// [`HostPolicy::check_url`] is what refuses those.)
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public_ip(a.ip()))
                .collect();
            if public.is_empty() {
                return Err(Box::new(PrivateHost(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// The production client for user-chosen hosts: [`HostPolicy::client`] refusing private ones.
pub fn public_only_client() -> Client {
    HostPolicy::default()
        .client(Duration::from_secs(30), &[])
        .unwrap_or_else(|_| {
            // Without extra roots only a broken TLS backend fails the build; the bare builder
            // keeps the resolver, and fails (as `Client::new` would) in that case too.
            Client::builder()
                .dns_resolver(Arc::new(PublicOnlyResolver))
                .build()
                .unwrap_or_default()
        })
}

/// At most 100 characters on one line, for echoing user input in messages.
fn short(text: &str) -> String {
    crate::http::excerpt(text, 100)
}

/// A URL's host, told apart without depending on the `url` crate's own `Host` type.
pub(crate) enum Host {
    /// An IP literal.
    Ip(IpAddr),
    /// A name.
    Domain(String),
}

pub(crate) fn host_of(url: &Url) -> Option<Host> {
    let host = url.host_str().filter(|h| !h.is_empty())?;
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| Host::Ip(IpAddr::V6(ip)));
    }
    Some(match host.parse::<Ipv4Addr>() {
        Ok(ip) => Host::Ip(IpAddr::V4(ip)),
        Err(_) => Host::Domain(host.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_non_public_addresses_are_told_apart() {
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(
                is_public_ip(public.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
                "{public} is public"
            );
        }
        for private in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.168.1.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:0101::1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            let ip: IpAddr = private
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)));
            assert!(!is_public_ip(ip), "{private} is not public");
        }
    }
}
