//! `GET /pictures/{tenant}/{file}`: the profile pictures the worker hosted in the stack's bucket
//! (`sync_aws::pictures`), as the apps fetch them from the URLs they were sent.
//!
//! Public and read-only, with no session: a file's name is the SHA-256 of the tenant and the
//! picture's bytes, so whoever has no URL cannot guess one. Only `pictures/<tenant>/<key>.png|jpg`
//! is ever read: a tenant id that does not parse, or a file name that is not a picture's, answers
//! 404 without a call to S3 (so no index, nor any other object, can be named), and so does a
//! picture that is not there, and every request to a console without a bucket.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sync_aws::pictures::{PictureBucket, CACHE_CONTROL};
use sync_core::ids::TenantId;
use sync_core::pictures::ImageKind;

/// The route, on `bucket` (`None`: the stack hosts no pictures, every picture is 404).
pub fn routes(bucket: Option<PictureBucket>) -> Router {
    Router::new()
        .route("/pictures/{tenant}/{file}", get(picture))
        .with_state(bucket)
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "No such picture.\n",
    )
        .into_response()
}

async fn picture(
    State(bucket): State<Option<PictureBucket>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let Ok(Path((tenant, file))) = path else {
        return not_found();
    };
    let (Some(bucket), Ok(tenant), Some(kind)) = (
        bucket,
        TenantId::parse(&tenant),
        ImageKind::of_file_name(&file),
    ) else {
        return not_found();
    };
    match bucket.picture(&tenant, &file).await {
        Ok(Some((_, bytes))) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(kind.content_type()),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(CACHE_CONTROL),
                ),
                // The type is the stored name's, checked when the picture was stored.
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => not_found(),
        Err(error) => {
            tracing::error!(tenant_id = %tenant, error = %error, "a hosted picture could not be read");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                    (header::RETRY_AFTER, "30"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                "The picture could not be read just now; try again in a minute.\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    /// The stack's bucket as the Lambda builds it (`PICTURES_BUCKET`), behind an address where
    /// nothing listens: any call to S3 fails, so a 404 (rather than a 503) proves that no call was
    /// made.
    async fn unreachable_bucket() -> PictureBucket {
        let config = sync_aws::AwsConfig::from_lookup(|name| {
            let value = match name {
                "AWS_REGION" => "eu-central-1",
                "AWS_ENDPOINT_URL" => "http://127.0.0.1:9",
                "TABLE_NAME" => "table",
                "JOBS_QUEUE_URL" => "http://127.0.0.1:9/queue.fifo",
                "SENDER" => "sync@vendor.example",
                "PICTURES_BUCKET" => "pictures",
                "SDK_ATTEMPT_TIMEOUT_MS" => "500",
                _ => return None,
            };
            Some(value.to_owned())
        })
        .expect("a Lambda environment");
        sync_aws::Deps::new(config)
            .await
            .pictures
            .expect("PICTURES_BUCKET is set")
    }

    async fn status(bucket: Option<PictureBucket>, path: &str) -> StatusCode {
        let request = Request::get(path).body(Body::empty()).expect("a request");
        routes(bucket)
            .oneshot(request)
            .await
            .expect("an answer")
            .status()
    }

    #[tokio::test]
    async fn names_that_are_no_picture_are_404_without_reading_the_bucket() {
        let key = "ab".repeat(32);
        for path in [
            "/pictures/acme/index".to_owned(),
            "/pictures/index/acme.json".to_owned(),
            format!("/pictures/acme/{key}.gif"),
            format!("/pictures/acme/{key}.PNG"),
            format!("/pictures/acme/{}.png", &key[1..]),
            "/pictures/acme/..%2F..%2Findex%2Facme.json".to_owned(),
            format!("/pictures/Acme/{key}.png"),
            format!("/pictures/a%2Fb/{key}.png"),
        ] {
            assert_eq!(
                status(Some(unreachable_bucket().await), &path).await,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn a_picture_s_name_is_read_from_the_bucket() {
        // The same bucket: a name that is a picture's is looked up, and S3 not answering is a 503.
        let path = format!("/pictures/acme/{}.png", "ab".repeat(32));
        assert_eq!(
            status(Some(unreachable_bucket().await), &path).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[tokio::test]
    async fn a_console_without_a_bucket_serves_no_picture() {
        let path = format!("/pictures/acme/{}.png", "ab".repeat(32));
        assert_eq!(status(None, &path).await, StatusCode::NOT_FOUND);
    }
}
