//! The raw view of a request the handlers need (signatures cover exact bytes, headers and
//! paths, so no typed extractors), and the reply type every cloud module produces.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct RawRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path as received (no query).
    pub path: String,
    /// Raw query string (without `?`), empty when none.
    pub raw_query: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Exact body bytes.
    pub body: Bytes,
}

impl RawRequest {
    /// A header value as text; `None` when absent or not valid text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Host` header as sent (signatures cover it).
    pub(crate) fn host(&self) -> &str {
        self.header("host").unwrap_or("")
    }

    /// The `Content-Type` header as sent.
    pub(crate) fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    /// The media type of the body, lower case, without parameters.
    pub(crate) fn media_type(&self) -> String {
        self.content_type()
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// Decoded query parameters, in order.
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.raw_query.as_bytes())
            .into_owned()
            .collect()
    }

    /// Decoded form-body parameters, when the body is `application/x-www-form-urlencoded`.
    pub(crate) fn form_pairs(&self) -> Vec<(String, String)> {
        if self.media_type() == "application/x-www-form-urlencoded" {
            url::form_urlencoded::parse(&self.body)
                .into_owned()
                .collect()
        } else {
            Vec::new()
        }
    }
}

/// A finished answer plus the outcome string recorded in the request log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` of the body.
    pub content_type: &'static str,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Log outcome (`ok`, `error:<Code>`, ...).
    pub outcome: String,
    /// Extra response headers (Alibaba's rate-limit headers).
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A JSON reply.
    pub(crate) fn json(
        status: u16,
        value: &serde_json::Value,
        outcome: impl Into<String>,
    ) -> Reply {
        Reply {
            status,
            content_type: "application/json;charset=utf-8",
            body: serde_json::to_vec(value).unwrap_or_default(),
            outcome: outcome.into(),
            headers: Vec::new(),
        }
    }

    /// A plain-text reply (injected 5xx faults, admin errors).
    pub(crate) fn text(status: u16, text: &str, outcome: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain;charset=utf-8",
            body: text.as_bytes().to_vec(),
            outcome: outcome.into(),
            headers: Vec::new(),
        }
    }

    /// The axum response.
    pub(crate) fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, self.body).into_response();
        resp.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(ct: &str, query: &str, body: &str) -> RawRequest {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_str(ct).unwrap());
        headers.insert("host", HeaderValue::from_static("127.0.0.1:9"));
        RawRequest {
            method: "POST".into(),
            path: "/x".into(),
            raw_query: query.into(),
            headers,
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn parses_query_and_form() {
        let r = req(
            "application/x-www-form-urlencoded; charset=UTF-8",
            "A=1&B=x%20y",
            "C=%2B&D=a+b",
        );
        assert_eq!(r.host(), "127.0.0.1:9");
        assert_eq!(r.media_type(), "application/x-www-form-urlencoded");
        assert_eq!(r.query_pairs()[1], ("B".to_string(), "x y".to_string()));
        assert_eq!(r.form_pairs()[0], ("C".to_string(), "+".to_string()));
        assert_eq!(r.form_pairs()[1], ("D".to_string(), "a b".to_string()));
        assert!(req("application/json", "", "C=1").form_pairs().is_empty());
    }

    #[test]
    fn reply_sets_status_and_type() {
        let r = Reply::json(404, &serde_json::json!({"a":1}), "error:X").into_response();
        assert_eq!(r.status(), 404);
        assert_eq!(
            r.headers()["content-type"],
            "application/json;charset=utf-8"
        );
    }
}
