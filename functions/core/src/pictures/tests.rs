use super::*;
use crate::config::PicturesConfig;
use crate::ids::{AccountId, PersonioId};

fn person(id: u64) -> PersonKey {
    PersonKey {
        account: AccountId::default(),
        id: PersonioId::new(id),
    }
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

fn hosted(checked: &str) -> Hosted {
    Hosted {
        url: "https://console.example/pictures/t/x.png".to_owned(),
        key: "x".repeat(64),
        checked: day(checked),
    }
}

#[test]
fn new_pictures_come_first_then_the_stalest_within_the_budget() {
    let mut index = PictureIndex::default();
    index.people.insert(person(1), hosted("2026-11-01"));
    index.people.insert(person(2), hosted("2026-10-01"));
    index.people.insert(person(3), hosted("2026-11-20"));
    let people: Vec<PersonKey> = (1..=5).map(person).collect();
    let settings = PicturesConfig {
        per_run: 3,
        ..PicturesConfig::default()
    };
    // 4 and 5 have none hosted; 2 is older than 1; 3 was read 3 days ago (within 7).
    assert_eq!(
        due(&people, &index, day("2026-11-23"), &settings),
        vec![person(4), person(5), person(2)]
    );
    let settings = PicturesConfig::default();
    assert_eq!(
        due(&people, &index, day("2026-11-23"), &settings),
        vec![person(4), person(5), person(2), person(1)]
    );
    // Exactly `refresh_days` after the last read it is due.
    assert_eq!(
        due(&[person(3)], &index, day("2026-11-27"), &settings),
        vec![person(3)]
    );
    assert!(due(&[person(3)], &index, day("2026-11-26"), &settings).is_empty());
}

#[test]
fn the_index_is_a_json_list_and_reads_back() {
    let mut index = PictureIndex::default();
    index.people.insert(person(7), hosted("2026-11-01"));
    let json = serde_json::to_value(&index).expect("serialise");
    assert!(json.is_array(), "{json}");
    assert_eq!(json[0]["checked"], "2026-11-01");
    let back: PictureIndex = serde_json::from_value(json).expect("parse");
    assert_eq!(back, index);
}

#[test]
fn keys_depend_on_tenant_and_bytes_and_only_images_are_pictures() {
    let a = TenantId::parse("acme").expect("tenant");
    let b = TenantId::parse("bolt").expect("tenant");
    let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
    let picture = Picture::new(&a, png.clone()).expect("a PNG");
    assert_eq!(picture.kind, ImageKind::Png);
    assert_eq!(picture.key.len(), 64);
    assert_ne!(picture.key, content_key(&b, &png), "tenants' keys differ");
    assert_eq!(
        picture.key,
        content_key(&a, &png),
        "the same bytes keep their key"
    );
    assert_eq!(
        ImageKind::of_file_name(&picture.file_name()),
        Some(ImageKind::Png)
    );
    assert!(Picture::new(&a, b"<html>".to_vec()).is_none());
    assert_eq!(
        Picture::new(&a, vec![0xff, 0xd8, 0xff, 0xe0]).map(|p| p.kind),
        Some(ImageKind::Jpeg)
    );
}

#[test]
fn only_content_key_file_names_name_a_picture() {
    let key = "0123456789abcdef".repeat(4);
    assert_eq!(
        ImageKind::of_file_name(&format!("{key}.jpg")),
        Some(ImageKind::Jpeg)
    );
    for name in [
        "index.json".to_owned(),
        format!("{key}.json"),
        format!("{}.png", &key[1..]),
        format!("{}.png", key.to_uppercase()),
        format!("../{key}.png"),
        key.clone(),
    ] {
        assert_eq!(ImageKind::of_file_name(&name), None, "{name}");
    }
}

#[test]
fn forgetting_deleted_people_frees_only_pictures_nobody_else_has() {
    let picture = |key: char| Hosted {
        url: format!(
            "https://console.example/pictures/t/{}.png",
            key.to_string().repeat(64)
        ),
        key: key.to_string().repeat(64),
        checked: day("2026-11-01"),
    };
    let mut index = PictureIndex::default();
    index.people.insert(person(1), picture('a'));
    index.people.insert(person(2), picture('b'));
    index.people.insert(person(3), picture('b'));
    let freed = forget(&mut index, &[person(1), person(2), person(9)]);
    // 1's picture is nobody else's; 2 shares theirs with 3; 9 had none.
    assert_eq!(freed, vec![format!("{}.png", "a".repeat(64))]);
    assert_eq!(index.people.keys().collect::<Vec<_>>(), vec![&person(3)]);
}
