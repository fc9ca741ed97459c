//! The S3 XML bodies the client reads and writes.
//!
//! Element names from the S3 API model (botocore `data/s3/2006-03-01/service-2.json`: InitiateMultipartUploadResult,
//! ListPartsResult, ListMultipartUploadsResult, CompleteMultipartUpload, Error). Unknown elements are ignored, so
//! the services' extensions do not break parsing.

use serde::Deserialize;

/// `InitiateMultipartUploadResult`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InitiateResult {
    pub(crate) upload_id: String,
}

/// One `Part` of `ListPartsResult`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PartXml {
    pub(crate) part_number: u32,
    #[serde(rename = "ETag")]
    pub(crate) etag: String,
    pub(crate) size: u64,
    #[serde(rename = "ChecksumSHA256", default)]
    pub(crate) checksum_sha256: Option<String>,
}

/// `ListPartsResult`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListPartsResult {
    #[serde(default)]
    pub(crate) is_truncated: Option<String>,
    #[serde(default)]
    pub(crate) next_part_number_marker: Option<String>,
    #[serde(rename = "Part", default)]
    pub(crate) parts: Vec<PartXml>,
}

/// One `Upload` of `ListMultipartUploadsResult`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UploadXml {
    pub(crate) key: String,
    pub(crate) upload_id: String,
    #[serde(default)]
    pub(crate) initiated: Option<String>,
    #[serde(default)]
    pub(crate) checksum_algorithm: Option<String>,
}

/// `ListMultipartUploadsResult`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListUploadsResult {
    #[serde(default)]
    pub(crate) is_truncated: Option<String>,
    #[serde(default)]
    pub(crate) next_key_marker: Option<String>,
    #[serde(default)]
    pub(crate) next_upload_id_marker: Option<String>,
    #[serde(rename = "Upload", default)]
    pub(crate) uploads: Vec<UploadXml>,
}

/// An S3 `Error` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ErrorXml {
    #[serde(default)]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) request_id: Option<String>,
}

/// True for S3's spelling of a true `IsTruncated`.
pub(crate) fn truthy(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("true"))
}

/// Parses `text` as `T`.
pub(crate) fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, String> {
    quick_xml::de::from_str(text).map_err(|e| e.to_string())
}

/// The `<Error>` in a body, if the body is one (S3 may answer 200 to CompleteMultipartUpload with an error body).
pub(crate) fn error_in(text: &str) -> Option<ErrorXml> {
    let t = text.trim_start();
    let t = t.strip_prefix("<?xml").map_or(t, |rest| {
        rest.split_once("?>")
            .map_or(rest, |(_, after)| after.trim_start())
    });
    if !t.starts_with("<Error>") && !t.starts_with("<Error ") {
        return None;
    }
    parse::<ErrorXml>(text).ok()
}

/// Escapes text for an XML element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One part of a `CompleteMultipartUpload` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// Part number.
    pub number: u32,
    /// The ETag UploadPart returned.
    pub etag: String,
    /// Base64 SHA-256 of the part, for uploads created with the SHA256 checksum algorithm.
    pub checksum_sha256: Option<String>,
}

/// The `CompleteMultipartUpload` body, in part-number order.
pub(crate) fn complete_body(parts: &[CompletedPart]) -> String {
    let mut sorted: Vec<&CompletedPart> = parts.iter().collect();
    sorted.sort_by_key(|p| p.number);
    let mut s =
        String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for p in sorted {
        s.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag>",
            p.number,
            escape(&p.etag)
        ));
        if let Some(c) = &p.checksum_sha256 {
            s.push_str(&format!("<ChecksumSHA256>{}</ChecksumSHA256>", escape(c)));
        }
        s.push_str("</Part>");
    }
    s.push_str("</CompleteMultipartUpload>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_list_parts_with_namespace_and_extras() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>
  <PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>
  <MaxParts>1000</MaxParts><IsTruncated>true</IsTruncated>
  <Part><PartNumber>1</PartNumber><LastModified>2026-01-01T00:00:00.000Z</LastModified>
    <ETag>"9e107d9d372bb6826bd81d3542a419d6"</ETag><Size>5242880</Size></Part>
  <Part><PartNumber>2</PartNumber><ETag>&quot;abc&quot;</ETag><Size>10</Size><ChecksumCRC32>x</ChecksumCRC32></Part>
</ListPartsResult>"#;
        let r: ListPartsResult = parse(text).unwrap();
        assert!(truthy(&r.is_truncated));
        assert_eq!(r.next_part_number_marker.as_deref(), Some("2"));
        assert_eq!(r.parts.len(), 2);
        assert_eq!(r.parts[0].etag, "\"9e107d9d372bb6826bd81d3542a419d6\"");
        assert_eq!(r.parts[1].etag, "\"abc\"");
        let empty: ListPartsResult =
            parse("<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>").unwrap();
        assert!(empty.parts.is_empty() && !truthy(&empty.is_truncated));
    }

    #[test]
    fn parses_uploads_and_errors() {
        let text = r#"<ListMultipartUploadsResult><Bucket>b</Bucket><IsTruncated>false</IsTruncated>
<Upload><Key>a/b.qcow2</Key><UploadId>id1</UploadId><Initiated>2026-01-01T00:00:00Z</Initiated></Upload>
<Upload><Key>a/b.qcow2.x</Key><UploadId>id2</UploadId></Upload></ListMultipartUploadsResult>"#;
        let r: ListUploadsResult = parse(text).unwrap();
        assert_eq!(r.uploads.len(), 2);
        assert_eq!(r.uploads[1].initiated, None);
        let e = error_in("<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code><Message>m</Message><RequestId>r</RequestId></Error>").unwrap();
        assert_eq!(e.code.as_deref(), Some("InternalError"));
        assert!(error_in("<CompleteMultipartUploadResult/>").is_none());
    }

    #[test]
    fn complete_body_is_sorted_and_escaped() {
        let part = |number, etag: &str, c: Option<&str>| CompletedPart {
            number,
            etag: etag.into(),
            checksum_sha256: c.map(str::to_string),
        };
        let body = complete_body(&[part(2, "\"b\"", Some("c2=")), part(1, "\"a&\"", None)]);
        assert!(
            body.contains("<Part><PartNumber>1</PartNumber><ETag>&quot;a&amp;&quot;</ETag></Part><Part><PartNumber>2"),
            "{body}"
        );
        assert!(
            body.contains("<ChecksumSHA256>c2=</ChecksumSHA256></Part></Complete"),
            "{body}"
        );
    }
}
