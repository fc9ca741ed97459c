//! Signed (private) US3 object URLs for `ImportCustomImage`'s `UFileUrl`.
//!
//! The API page asks for "UFile私有空间地址" (the address of a private-space object) with `Auth=true` (seed pages 000
//! and 001; ucloud-sdk-go `services/uhost/apis.go` says the same), and never says whether that address must be
//! signed. The official import post-processor settles what works in both readings: for a private bucket it sends
//! `GetPrivateURL(key, 24h)`, a signed URL, with `Auth=true` (ucloud/packer-plugin-ucloud
//! `post-processor/ucloud-import/post-processor.go`). A signed URL reads a public object too, so the provider always
//! signs, unless the URL already carries a query (a URL the user signed).
//!
//! The signature is ufile-gosdk's (`ufilesdk-dev/ufile-gosdk` `file.go` `GetPrivateURL`, `auth.go`
//! `AuthorizationPrivateURL`, and UCloud's US3 signature docs): `Signature = base64(HMAC-SHA1(private key,
//! "GET\n\n\n" + Expires + "\n/" + bucket + "/" + key))` with the key as stored (not escaped), sent with
//! `UCloudPublicKey` and `Expires` (Unix seconds) as query parameters.
//!
//! The signed URL is a time-limited read capability for the object: it is sent to the API and never logged or
//! stored (state keeps the configured URL).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::cloud::Secret;

/// The string ufile-gosdk signs for a GET of `bucket/key` that expires at `expires` (Unix seconds).
pub fn string_to_sign(bucket: &str, key: &str, expires: i64) -> String {
    format!("GET\n\n\n{expires}\n/{bucket}/{key}")
}

/// `Signature` of a private URL.
pub fn signature(private_key: &Secret, bucket: &str, key: &str, expires: i64) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(private_key.expose().as_bytes()) else {
        return String::new();
    };
    mac.update(string_to_sign(bucket, key, expires).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `url` (naming `bucket/key`) with the private-URL query that lets its holder GET it until `expires`.
pub fn sign(
    url: &str,
    bucket: &str,
    key: &str,
    public_key: &str,
    private_key: &Secret,
    expires: i64,
) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("UCloudPublicKey", public_key)
        .append_pair("Signature", &signature(private_key, bucket, key, expires))
        .append_pair("Expires", &expires.to_string())
        .finish();
    format!("{url}?{query}")
}

/// The URL without its query: what may be shown or stored.
pub fn without_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(u, _)| u)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The string to sign and the signature, computed the way ufile-gosdk's `AuthorizationPrivateURL` does
    /// (HMAC-SHA1 over `GET\n<md5>\n<type>\n<expires>\n/<bucket>/<key>` with empty MD5 and type), by hand here.
    #[test]
    fn signs_as_ufile_gosdk() {
        let s = string_to_sign("images", "dir/a b.qcow2", 1_700_000_000);
        assert_eq!(s, "GET\n\n\n1700000000\n/images/dir/a b.qcow2");
        let mut mac = Hmac::<Sha1>::new_from_slice(b"secret").unwrap();
        mac.update(s.as_bytes());
        let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let key = Secret::new("secret");
        assert_eq!(
            signature(&key, "images", "dir/a b.qcow2", 1_700_000_000),
            want
        );
        let url = sign(
            "https://images.cn-bj.ufileos.com/dir/a%20b.qcow2",
            "images",
            "dir/a b.qcow2",
            "pub/key=",
            &key,
            1_700_000_000,
        );
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "https://images.cn-bj.ufileos.com/dir/a%20b.qcow2");
        let q: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(q[0], ("UCloudPublicKey".into(), "pub/key=".into()));
        assert_eq!(q[1], ("Signature".into(), want));
        assert_eq!(q[2], ("Expires".into(), "1700000000".into()));
        assert_eq!(without_query(&url), base);
    }
}
