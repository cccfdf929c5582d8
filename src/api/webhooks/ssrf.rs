//! Webhook URLs must not reach into the server's own network: http(s) only, and no loopback,
//! private, link-local or otherwise non-public addresses — checked when a URL is saved, and
//! again on every connection (the resolver below), so DNS rebinding cannot slip past. The
//! checks that need no network ([`parse_url`]) are apart from the lookup
//! ([`check_resolves_publicly`]), which may wait long and so runs outside transactions.

use std::net::{IpAddr, SocketAddr};

use actix_tls::connect::Resolve;
use futures_util::future::LocalBoxFuture;

/// Addresses a webhook may be delivered to.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // Addresses that carry an IPv4 address reach that address: judge it instead.
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(std::net::Ipv4Addr::from(
                    (u32::from(hi) << 16) | u32::from(lo),
                ))
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            if s[..6] == [0; 6] {
                // IPv4-compatible (::a.b.c.d), loopback and unspecified.
                return !(v6.is_loopback() || v6.is_unspecified())
                    && is_public(embedded(s[6], s[7]));
            }
            if s[0] == 0x0064 && s[1] == 0xff9b {
                return is_public(embedded(s[6], s[7])); // NAT64
            }
            if s[0] == 0x2002 {
                return is_public(embedded(s[1], s[2])); // 6to4
            }
            !(v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local
                || (s[0] == 0x2001 && s[1] == 0x0000) // Teredo
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

/// Where a webhook URL points, as far as can be told without the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    host: String,
    port: u16,
}

/// The checks that need no network: scheme, credentials, length.
pub fn parse_url(url: &str) -> Result<Target, String> {
    let uri: awc::http::Uri = url.parse().map_err(|_| "is not a URL".to_string())?;
    let scheme = uri.scheme_str().unwrap_or_default();
    if scheme != "http" && scheme != "https" {
        return Err("must be an http or https URL".into());
    }
    let authority = uri.authority().ok_or("has no host")?;
    if authority.as_str().contains('@') {
        return Err("must not carry credentials".into());
    }
    if url.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    Ok(Target {
        host: host.to_owned(),
        port,
    })
}

/// Resolves the host: every address it has must be public. This waits on DNS, so callers run
/// it before they take a pooled connection or a lock.
pub async fn check_resolves_publicly(target: &Target) -> Result<(), String> {
    let host = target.host.as_str();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, target.port))
        .await
        .map_err(|_| format!("host `{host}` does not resolve"))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
        return Err("points to a loopback, private or otherwise non-public address".into());
    }
    Ok(())
}

/// The resolver of the delivery client: drops non-public addresses at connection time.
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> LocalBoxFuture<'a, Result<Vec<SocketAddr>, Box<dyn std::error::Error>>> {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| self.allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("`{host}` resolves to no public address").into());
            }
            Ok(allowed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "203.0.114.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_offline_checks_need_no_resolver() {
        // Judged without DNS (they run inside transactions); the lookup comes separately.
        assert_eq!(
            parse_url("https://nonexistent.invalid/hook"),
            Ok(Target {
                host: "nonexistent.invalid".into(),
                port: 443
            })
        );
        assert_eq!(parse_url("http://[::1]:8080/x").map(|t| t.port), Ok(8080));
        assert!(parse_url("ftp://example.org/hook").is_err());
        assert!(parse_url("http://user:pass@8.8.8.8/hook").is_err());
    }

    #[tokio::test]
    async fn an_unresolvable_host_is_refused() {
        let target = parse_url("https://nonexistent.invalid/hook").unwrap();
        let err = check_resolves_publicly(&target).await.unwrap_err();
        assert!(err.contains("does not resolve"), "{err}");
    }
}
