//! Content negotiation (GP Connect general API guidance, "Content types"): JSON and XML;
//! `_format` overrides `Accept`; with neither, a FHIR `Content-Type` decides; else JSON.
//! A format bookable can't produce is refused with 415.

use actix_web::HttpRequest;
use actix_web::http::header::{ACCEPT, CONTENT_TYPE};

/// A format bookable can't produce, with the diagnostics for the 415 that refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/fhir+json; charset=utf-8",
            Format::Xml => "application/fhir+xml; charset=utf-8",
        }
    }

    /// A MIME type (parameters such as `charset` ignored) or a `_format` shorthand.
    fn parse(value: &str) -> Option<Format> {
        // An unencoded '+' in a query string decodes as a space.
        let mime = value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .replace(' ', "+")
            .to_ascii_lowercase();
        match mime.as_str() {
            "json"
            | "application/fhir+json"
            | "application/json+fhir"
            | "application/json"
            | "text/json" => Some(Format::Json),
            "xml"
            | "application/fhir+xml"
            | "application/xml+fhir"
            | "application/xml"
            | "text/xml" => Some(Format::Xml),
            _ => None,
        }
    }
}

/// The first `_format` value in a query string, percent-decoded.
fn format_param(query: &str) -> Option<String> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(query)
        .ok()?
        .into_inner()
        .into_iter()
        .find(|(k, _)| k == "_format")
        .map(|(_, v)| v)
}

/// The format of the response to `req`, or why none can be produced (a 415, sent as JSON).
pub fn negotiate(req: &HttpRequest) -> Result<Format, Unsupported> {
    if let Some(value) = format_param(req.query_string()) {
        return Format::parse(&value).ok_or_else(|| {
            Unsupported(format!(
                "_format '{value}' is not supported: use application/fhir+json or application/fhir+xml"
            ))
        });
    }
    if let Some(accept) = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok())
        && let Some(format) = from_accept(accept)?
    {
        return Ok(format);
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    Ok(content_type.and_then(Format::parse).unwrap_or(Format::Json))
}

/// The preferred supported type in an Accept header; `None` when it accepts anything.
fn from_accept(accept: &str) -> Result<Option<Format>, Unsupported> {
    let mut ranges: Vec<(f32, &str)> = accept
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|range| {
            let q = range
                .split(';')
                .skip(1)
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (q, range)
        })
        .filter(|(q, _)| *q > 0.0)
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    if ranges.is_empty() {
        return Ok(None);
    }
    for (_, range) in &ranges {
        if let Some(format) = Format::parse(range) {
            return Ok(Some(format));
        }
        let mime = range.split(';').next().unwrap_or("").trim();
        if mime == "*/*" || mime == "application/*" {
            return Ok(None);
        }
    }
    Err(Unsupported(format!(
        "Accept '{accept}' names no supported type: use application/fhir+json or application/fhir+xml"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn negotiated(uri: &str, headers: &[(&str, &str)]) -> Result<Format, ()> {
        let mut req = TestRequest::get().uri(uri);
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        negotiate(&req.to_http_request()).map_err(|_| ())
    }

    #[test]
    fn format_parameter_wins_over_accept() {
        let xml = "application/fhir+xml";
        assert_eq!(
            negotiated(
                "/Slot?_format=application/fhir%2Bxml",
                &[("accept", "application/fhir+json")]
            ),
            Ok(Format::Xml)
        );
        assert_eq!(
            negotiated("/Slot?_format=json", &[("accept", xml)]),
            Ok(Format::Json)
        );
        assert_eq!(
            negotiated("/Slot?_format=application/fhir+xml", &[]),
            Ok(Format::Xml)
        );
        assert_eq!(negotiated("/Slot", &[("accept", xml)]), Ok(Format::Xml));
    }

    #[test]
    fn json_by_default_and_content_type_when_accept_says_nothing() {
        assert_eq!(negotiated("/Slot", &[]), Ok(Format::Json));
        assert_eq!(negotiated("/Slot", &[("accept", "*/*")]), Ok(Format::Json));
        assert_eq!(
            negotiated(
                "/Slot",
                &[("content-type", "application/fhir+xml;charset=utf-8")]
            ),
            Ok(Format::Xml)
        );
    }

    #[test]
    fn accept_is_read_by_preference() {
        assert_eq!(
            negotiated(
                "/Slot",
                &[(
                    "accept",
                    "application/fhir+json;q=0.5, application/fhir+xml"
                )]
            ),
            Ok(Format::Xml)
        );
        assert_eq!(
            negotiated("/Slot", &[("accept", "text/html, */*;q=0.1")]),
            Ok(Format::Json)
        );
    }

    #[test]
    fn unsupported_formats_are_refused() {
        assert_eq!(negotiated("/Slot?_format=text/html", &[]), Err(()));
        assert_eq!(negotiated("/Slot", &[("accept", "text/html")]), Err(()));
    }
}
