//! Object URLs read byte for byte: `oss://bucket/key`, `https://host/key`, `http://127.0.0.1:PORT/bucket/key`.
//!
//! A general URL parser (`url::Url`, as browsers and most HTTP stacks read URLs) tidies a URL before anyone sees
//! its path: it resolves `.` and `..` segments (written plainly or as `%2e`), turns `\` into `/` in http(s) URLs,
//! and splits off `?query` and `#fragment`. For a web page that is right. For an object key it silently names
//! another object: `oss://b/images/disk.raw#v2` would upload to, import and then delete `images/disk.raw`. So an
//! object URL is split here by hand, nothing in it is rewritten, and what a parser would rewrite is refused with
//! the way to write it instead. A key is then the exact bytes its percent-decoded path gives, and the storage
//! client percent-encodes exactly those bytes on the wire (`storage::client`).

use std::net::IpAddr;

use super::storage::check_key;

/// An object in a cloud's own object storage: what an object URL names once a backend has read it
/// ([`crate::cloud::Backend::stored_object`]). It stands here, below the backends, so that the trait that gives it
/// and the `objects` module that reaches it both import it downward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Bucket name as the S3-compatible API spells it (COS: `<name>-<appid>`).
    pub bucket: String,
    /// Object key (decoded).
    pub key: String,
    /// The storage region the URL names (OSS, COS and US3 hosts carry it), if any.
    pub region: Option<String>,
    /// For a loopback URL (`http://127.0.0.1:PORT/bucket/key`: a local S3-compatible server): its origin, reached
    /// path style.
    pub local_endpoint: Option<String>,
}

impl StoredObject {
    /// `bucket/key`, for messages.
    pub fn display(&self) -> String {
        format!("{}/{}", self.bucket, self.key)
    }
}

/// An object URL split into its parts, nothing normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUrl {
    /// The scheme, lower-case (`oss`, `https`, ...).
    pub scheme: String,
    /// The host, lower-case, without brackets or port.
    pub host: String,
    /// The port, where written.
    pub port: Option<u16>,
    /// Everything after the `/` that ends the host, up to the query, still percent-encoded as written.
    pub raw_path: String,
    /// The query (after `?`), where written. Only http(s) URLs that a cloud downloads as written may carry one.
    pub query: Option<String>,
}

impl ObjectUrl {
    /// Splits `raw` into scheme, host, port, path and query. Refuses what a URL parser would rewrite or drop
    /// (surrounding spaces, control characters, `\`, a `#fragment`, user info, a malformed port).
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim() != raw {
            return Err(format!(
                "{raw:?} has spaces around it; write the URL without them"
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(format!(
                "{raw:?} holds a control character; percent-encode it (e.g. a tab as %09)"
            ));
        }
        if raw.contains('#') {
            return Err(format!(
                "{raw:?}: `#` starts a URL fragment, which is never sent to the storage service, so the object \
                 would be the one before it; if the object key holds a `#`, write it as %23"
            ));
        }
        if raw.contains('\\') {
            return Err(format!(
                "{raw:?}: URL readers turn `\\` into `/`, so the key would name another object; if the object \
                 key holds a `\\`, write it as %5C"
            ));
        }
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| format!("{raw:?} is not a URL (scheme://host/key)"))?;
        let scheme_ok = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(format!("{raw:?} is not a URL (scheme://host/key)"));
        }
        let (before_query, query) = match rest.split_once('?') {
            Some((b, q)) => (b, Some(q.to_string())),
            None => (rest, None),
        };
        let (authority, raw_path) = before_query.split_once('/').unwrap_or((before_query, ""));
        if authority.contains('@') {
            return Err(format!(
                "{raw:?}: user information in the host part is not allowed (credentials belong in the \
                 provider block)"
            ));
        }
        let (host, port) = split_host_port(authority).map_err(|why| format!("{raw:?}: {why}"))?;
        if host.is_empty() {
            return Err(format!("{raw:?}: the URL has no host (or bucket)"));
        }
        Ok(Self {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_ascii_lowercase(),
            port,
            raw_path: raw_path.to_string(),
            query,
        })
    }

    /// Whether this is an http(s) URL.
    pub fn is_http(&self) -> bool {
        matches!(self.scheme.as_str(), "http" | "https")
    }

    /// Whether this is an http(s) URL to this machine (a local S3-compatible server or the simulator).
    pub fn is_loopback_http(&self) -> bool {
        self.is_http()
            && (self.host == "localhost"
                || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
    }

    /// `scheme://host[:port]`, the origin of a loopback server.
    pub fn origin(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{}://{host}:{p}", self.scheme),
            None => format!("{}://{host}", self.scheme),
        }
    }

    /// The object key the whole path names: its exact bytes, percent-decoded once, checked as a key.
    pub fn key(&self) -> Result<String, String> {
        decode_key(&self.raw_path)
    }

    /// A path-style URL's bucket (its first segment) and key (the rest).
    pub fn path_style(&self) -> Result<(String, String), String> {
        let (bucket, key) = self
            .raw_path
            .split_once('/')
            .unwrap_or((self.raw_path.as_str(), ""));
        Ok((bucket.to_string(), decode_key(key)?))
    }

    /// Refuses a query: where the provider reads or writes the object itself, or the cloud's import takes a
    /// bucket and a key, a query would be dropped and another object named.
    pub fn without_query(self, raw: &str) -> Result<Self, String> {
        match self.query {
            Some(_) => Err(format!(
                "{raw:?}: `?` starts a URL query, which is not part of the object key, so the object would be the \
                 one before it; if the object key holds a `?`, write it as %3F"
            )),
            None => Ok(self),
        }
    }
}

/// `host[:port]` or `[v6]:port`.
fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or("an IPv6 host is missing its `]`")?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(p.strip_prefix(':').ok_or("junk after the IPv6 host")?),
            ),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("port {p} is out of range"))?,
        ),
        Some(p) => return Err(format!("{p:?} is not a port")),
    };
    Ok((host, port))
}

/// Percent-decodes `raw` exactly once into the key's bytes; refuses a stray `%`, bytes that are not UTF-8 (no
/// storage service takes them as a key), and keys the storage services do not keep as written
/// ([`check_key`]: `.`/`..` segments, a leading `/`, control characters, more than 1,023 bytes).
pub fn decode_key(raw: &str) -> Result<String, String> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).and_then(|h| {
                let h = std::str::from_utf8(h).ok()?;
                u8::from_str_radix(h, 16).ok()
            });
            match hex {
                Some(v) if b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() => {
                    out.push(v);
                    i += 3;
                }
                _ => {
                    return Err(format!(
                        "the object key {raw:?} has a `%` that does not start a %XX escape; write a `%` of the \
                         key as %25"
                    ))
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let key = String::from_utf8(out).map_err(|_| {
        format!(
            "the object key {raw:?} decodes to bytes that are not UTF-8, which object keys must be"
        )
    })?;
    check_key(&key).map_err(|e| e.to_string())?;
    Ok(key)
}

/// The path of an object URL for `key`: every byte but RFC 3986's unreserved set and `/` percent-encoded, so that
/// [`decode_key`] gives back exactly `key` and no URL parser rewrites it. Refuses keys the storage services do not
/// keep as written ([`check_key`]).
pub fn encode_key(key: &str) -> Result<String, String> {
    check_key(key).map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_keys_decode_to_themselves() {
        for key in ["a/b c.raw", "disk#v2 final+1.raw", "über/ü%.qcow2", "x?y"] {
            assert_eq!(decode_key(&encode_key(key).unwrap()).unwrap(), key);
        }
        assert_eq!(encode_key("a b/c+d").unwrap(), "a%20b/c%2Bd");
        assert!(encode_key("../x").is_err());
        assert!(encode_key("/x").is_err());
    }

    #[test]
    fn keys_are_the_bytes_written() {
        let u = ObjectUrl::parse("oss://bkt/dir/img%201.qcow2").unwrap();
        assert_eq!((u.scheme.as_str(), u.host.as_str()), ("oss", "bkt"));
        assert_eq!(u.key().unwrap(), "dir/img 1.qcow2");
        let u = ObjectUrl::parse("https://B.cn-bj.ufileos.com/a%3Fb%23c%25d/%E4%B8%AD").unwrap();
        assert_eq!(u.host, "b.cn-bj.ufileos.com");
        assert_eq!(u.key().unwrap(), "a?b#c%d/中");
        let u = ObjectUrl::parse("http://127.0.0.1:9000/bkt/x%2Fy/z").unwrap();
        assert!(u.is_loopback_http());
        assert_eq!(u.origin(), "http://127.0.0.1:9000");
        assert_eq!(
            u.path_style().unwrap(),
            ("bkt".to_string(), "x/y/z".to_string())
        );
        let u = ObjectUrl::parse("http://[::1]:9/b/k").unwrap();
        assert!(u.is_loopback_http());
        assert_eq!(u.origin(), "http://[::1]:9");
    }

    /// Each spelling that a URL parser rewrites into another key (issue 17's probe) is refused, not rewritten.
    #[test]
    fn what_a_url_parser_would_rewrite_is_refused() {
        for raw in [
            "oss://b/k2#frag",
            "oss://b/a/../../etc/passwd",
            "oss://b/%2e%2e/x",
            "oss://b/%2E/x",
            "oss://b//lead",
            "oss://b/x/./y",
            "oss://b/x/.",
            "https://b.oss-cn-beijing.aliyuncs.com/a\\b",
            "oss://b/a%zz",
            "oss://b/a%",
            "oss://b/%ff%fe",
            "oss://b/a%0ab",
            " oss://b/k",
            "oss://b/k\n",
            "oss://user:pw@b/k",
            "https://h:99999/k",
            "https://h:x/k",
            "oss:/b/k",
            "oss://b/",
            "oss:///k",
        ] {
            let r = ObjectUrl::parse(raw).and_then(|u| u.key());
            assert!(r.is_err(), "{raw:?} gave {r:?}");
        }
        // A query is read off, and refused where the key alone counts.
        let u = ObjectUrl::parse("oss://b/k?x=y").unwrap();
        assert_eq!(u.query.as_deref(), Some("x=y"));
        assert_eq!(u.key().unwrap(), "k");
        assert!(u.without_query("oss://b/k?x=y").is_err());
        // Keys with characters a parser would keep: accepted as they are.
        for (raw, key) in [
            ("oss://b/a//b", "a//b"),
            ("oss://b/..x/y..", "..x/y.."),
            ("oss://b/a b+c", "a b+c"),
            ("oss://b/%2e%2e%2f", "../"),
        ] {
            let r = ObjectUrl::parse(raw).and_then(|u| u.key());
            if raw.ends_with("%2f") {
                // `../` decodes to a `..` segment: refused too.
                assert!(r.is_err(), "{raw:?} gave {r:?}");
            } else {
                assert_eq!(r.as_deref(), Ok(key), "{raw:?}");
            }
        }
    }
}
