//! Profile pictures read from Personio (v1 `/company/employees/{id}/profile-picture/{width}`,
//! personio-api.md §1.7) through the client's limiter, token and retries: the bytes Personio
//! serves, and no picture (404) for people without one or a credential that may not read them.

use fake_personio::profile_picture_png;
use sync_core::ids::PersonioId;
use sync_core::ports::Source;
use test_support::harness::*;

#[tokio::test]
async fn a_picture_is_the_bytes_personio_serves_and_none_is_none() {
    let harness = Harness::new(20).await;
    let company = harness.fake.company();
    let with = company
        .employees
        .iter()
        .find(|e| e.profile_picture)
        .expect("someone with a picture")
        .id;
    let without = company
        .employees
        .iter()
        .find(|e| !e.profile_picture)
        .expect("someone without a picture")
        .id;
    let (_, client) = client_for("main", &harness.fake, &harness.config);
    let picture = client
        .picture(PersonioId::new(with), 256)
        .await
        .expect("read the picture");
    assert_eq!(picture, Some(profile_picture_png(with, 0)));
    assert_eq!(
        client
            .picture(PersonioId::new(without), 256)
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        client
            .picture(PersonioId::new(999_999), 256)
            .await
            .expect("read"),
        None,
        "nobody of that id"
    );

    // A credential that may not read the attribute gets no picture either.
    let mut readable = company.attribute_keys();
    readable.remove("profile_picture");
    harness.fake.set_whitelist(Some(readable));
    assert_eq!(
        client
            .picture(PersonioId::new(with), 256)
            .await
            .expect("read"),
        None
    );
}
