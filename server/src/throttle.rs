//! Counting what one client may take: open connections per node and per address, and token
//! buckets for the rates of what a connection sends.

use crate::config::BURST_SECONDS;
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// This node holds its maximum of connections.
    Node,
    /// The client's address holds its maximum.
    Address,
}

/// Open WebSocket connections, in all and per client address.
#[derive(Debug, Default)]
pub struct Connections {
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

impl Connections {
    /// Admits one more connection from `addr`, held until the permit is dropped.
    pub fn admit(
        self: &Arc<Self>,
        addr: IpAddr,
        max_total: usize,
        max_per_address: usize,
    ) -> Result<Permit, Full> {
        let addr = limited_address(addr);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.total >= max_total {
            return Err(Full::Node);
        }
        let n = counts.per_address.entry(addr).or_default();
        if *n >= max_per_address {
            return Err(Full::Address);
        }
        *n += 1;
        counts.total += 1;
        Ok(Permit {
            connections: Arc::clone(self),
            addr,
        })
    }
}

/// The address a client is counted under: an IPv6 client as its /64, since a host is given a
/// whole /64 and picks addresses in it freely (RFC 4291 §2.5.4, RFC 8981), so counting single
/// addresses would not limit it at all. An IPv4-mapped IPv6 address counts as the IPv4 address.
pub fn limited_address(addr: IpAddr) -> IpAddr {
    match addr.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u64::MAX as u128))),
        v4 => v4,
    }
}

/// One admitted connection.
#[derive(Debug)]
pub struct Permit {
    connections: Arc<Connections>,
    addr: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = self
            .connections
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        counts.total -= 1;
        if let Some(n) = counts.per_address.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                counts.per_address.remove(&self.addr);
            }
        }
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => continue,
            Ok(ip) => return ip,
            // Whatever precedes a malformed entry cannot be trusted either.
            Err(_) => break,
        }
    }
    peer
}

/// A token bucket: `rate` tokens a second, holding at most `capacity`.
#[derive(Debug)]
pub struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket refilling at `rate` a second, holding `BURST_SECONDS` of it (at least
    /// `min_capacity`).
    pub fn new(rate: f64, min_capacity: f64) -> Bucket {
        let capacity = (rate * f64::from(BURST_SECONDS)).max(min_capacity);
        Bucket {
            rate,
            capacity,
            tokens: capacity,
            last: Instant::now(),
        }
    }

    /// Takes `n` tokens; `false` (taking none) if the bucket does not hold them.
    pub fn take(&mut self, n: f64) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.capacity);
        self.last = now;
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_count_and_release() {
        let c = Arc::new(Connections::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let p1 = c.admit(a, 3, 2).unwrap();
        let _p2 = c.admit(a, 3, 2).unwrap();
        assert_eq!(c.admit(a, 3, 2).unwrap_err(), Full::Address);
        let _p3 = c.admit(b, 3, 2).unwrap();
        assert_eq!(c.admit(b, 3, 2).unwrap_err(), Full::Node);
        drop(p1);
        assert!(c.admit(a, 3, 2).is_ok());
    }

    #[test]
    fn an_ipv6_client_counts_as_its_64() {
        let c = Arc::new(Connections::default());
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:fffe".parse().unwrap();
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let _held = c.admit(one, 100, 1).unwrap();
        assert_eq!(c.admit(same_64, 100, 1).unwrap_err(), Full::Address);
        let _other = c.admit(next_64, 100, 1).unwrap();
        // The same client over IPv4 and IPv4-mapped IPv6 is one address.
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let _v4 = c.admit(v4, 100, 1).unwrap();
        assert_eq!(c.admit(mapped, 100, 1).unwrap_err(), Full::Address);
    }

    #[test]
    fn forwarded_addresses_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "1.2.3.4, 5.6.7.8, 10.0.0.9".parse().unwrap(),
        );
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        assert_eq!(
            client_address(proxy, &h, &trusted),
            "5.6.7.8".parse::<IpAddr>().unwrap()
        );
        let stranger: IpAddr = "9.9.9.9".parse().unwrap();
        assert_eq!(client_address(stranger, &h, &trusted), stranger);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &trusted), proxy);
    }

    #[test]
    fn buckets_refuse_beyond_their_capacity() {
        // One message of the largest size passes even when the rate alone would not hold it.
        let mut b = Bucket::new(1.0, 100.0);
        assert!(!b.take(101.0));
        assert!(b.take(100.0));
        let mut b = Bucket::new(10.0, 0.0);
        let taken = (0..100).take_while(|_| b.take(1.0)).count();
        // 50 in the bucket, plus whatever refilled while looping.
        assert!((50..55).contains(&taken), "{taken}");
        assert!(!b.take(1000.0));
    }
}
