//! The HTTP API side of the webhook Lambda: an API Gateway event becomes a [`WebhookRequest`],
//! and a [`WebhookResponse`] becomes the Lambda's answer. Nothing is checked here; [`crate::handle`]
//! decides. Kept out of the binary so that the translation is tested like the rest.

use crate::{WebhookRequest, WebhookResponse};
use lambda_http::http::header::{AUTHORIZATION, CONTENT_TYPE};
use lambda_http::http::HeaderName;
use lambda_http::{Body, Request, RequestExt, Response};

/// The path parameter that carries the tenant id: the route is
/// `POST /webhooks/personio/{tenant_id}` (template.yaml).
pub const TENANT_PARAMETER: &str = "tenant_id";

/// The delivery in `event`: the tenant from the path, the `Authorization` and `Content-Type`
/// headers when they are text, and the raw body. A missing tenant is left empty for
/// [`crate::handle`] to refuse like any unknown tenant.
pub fn request_from(event: &Request) -> WebhookRequest {
    let header = |name: HeaderName| {
        event
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    // lambda_http has already base64-decoded a binary body.
    let body = match event.body() {
        Body::Text(text) => text.as_bytes().to_vec(),
        Body::Binary(bytes) => bytes.clone(),
        _ => Vec::new(),
    };
    WebhookRequest {
        tenant_id: event
            .path_parameters_ref()
            .and_then(|parameters| parameters.first(TENANT_PARAMETER))
            .unwrap_or_default()
            .to_owned(),
        authorization: header(AUTHORIZATION),
        content_type: header(CONTENT_TYPE),
        body,
    }
}

/// The Lambda's answer: `answer`'s status and its JSON body.
pub fn response_from(answer: WebhookResponse) -> Result<Response<Body>, lambda_http::http::Error> {
    Response::builder()
        .status(answer.status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(answer.body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn event(parameters: &[(&str, &str)], body: Body) -> Request {
        let parameters: HashMap<String, String> = parameters
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        let mut event = Request::new(body).with_path_parameters(parameters);
        let headers = event.headers_mut();
        headers.insert(AUTHORIZATION, "token-1".parse().expect("a header value"));
        headers.insert(
            CONTENT_TYPE,
            "application/json; charset=utf-8"
                .parse()
                .expect("a header value"),
        );
        event
    }

    #[test]
    fn the_tenant_headers_and_body_are_taken_from_the_event() {
        let request = request_from(&event(
            &[("tenant_id", "acme")],
            Body::Text(r#"{"event_name":"ping"}"#.to_owned()),
        ));
        assert_eq!(request.tenant_id, "acme");
        assert_eq!(request.authorization.as_deref(), Some("token-1"));
        assert_eq!(
            request.content_type.as_deref(),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(request.body, br#"{"event_name":"ping"}"#);
    }

    #[test]
    fn a_binary_body_is_passed_on_as_its_bytes() {
        let request = request_from(&event(
            &[("tenant_id", "acme")],
            Body::Binary(vec![0xff, 0x00]),
        ));
        assert_eq!(request.body, [0xff, 0x00]);
    }

    #[test]
    fn an_event_without_the_tenant_parameter_has_an_empty_tenant_and_body() {
        let request = request_from(&event(&[("tenantId", "acme")], Body::Empty));
        assert_eq!(request.tenant_id, "");
        assert!(request.body.is_empty());
    }

    #[test]
    fn a_header_that_is_not_text_is_left_out() {
        let mut event = event(&[("tenant_id", "acme")], Body::Empty);
        event.headers_mut().insert(
            AUTHORIZATION,
            lambda_http::http::HeaderValue::from_bytes(&[0xfe]).expect("an opaque header value"),
        );
        assert_eq!(request_from(&event).authorization, None);
    }

    #[test]
    fn the_answer_keeps_its_status_and_is_sent_as_json() {
        let response = response_from(WebhookResponse {
            status: 202,
            body: r#"{"status":"queued"}"#.to_owned(),
        })
        .expect("a valid response");
        assert_eq!(response.status(), 202);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(
            response.body(),
            &Body::Text(r#"{"status":"queued"}"#.to_owned())
        );
    }
}
