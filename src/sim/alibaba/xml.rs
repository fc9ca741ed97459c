//! JSON-to-XML rendering for Alibaba RPC answers: without `Format=JSON` the real services
//! answer in XML, so a client that forgets the parameter fails here too.

use serde_json::Value;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

fn element(out: &mut String, name: &str, v: &Value) {
    match v {
        // Arrays repeat the element name, as in `<Images><Image/><Image/></Images>`.
        Value::Array(items) => items.iter().for_each(|i| element(out, name, i)),
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in m {
                element(out, k, v);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => out.push_str(&format!("<{name}></{name}>")),
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// Renders `body` as an XML document with root element `root`.
pub(super) fn render(root: &str, body: &Value) -> String {
    let mut out = String::from("<?xml version='1.0' encoding='UTF-8'?>");
    element(&mut out, root, body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_and_repeated() {
        let v = serde_json::json!({
            "RequestId": "R", "Images": {"Image": [{"ImageId": "m-1"}, {"ImageId": "m-<2>"}]},
            "TotalCount": 2, "Ok": true, "Nothing": null
        });
        let x = render("DescribeImagesResponse", &v);
        assert!(x.starts_with("<?xml"));
        assert!(x.contains("<DescribeImagesResponse><RequestId>R</RequestId>"));
        assert!(x.contains("<Images><Image><ImageId>m-1</ImageId></Image><Image><ImageId>m-&lt;2&gt;</ImageId></Image></Images>"));
        assert!(x.contains("<TotalCount>2</TotalCount><Ok>true</Ok><Nothing></Nothing>"));
        assert!(x.ends_with("</DescribeImagesResponse>"));
    }
}
