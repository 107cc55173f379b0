//! Personio's delivery envelope (personio-api.md §3.4) and what its event means for a sync.
//!
//! The envelope is `{company_id, event_name, occurred_at, payload, meta}`, the first four
//! required. Personio's webhooks are "dataless": the payload says who changed, never what, and
//! its per-event shape is not documented (§3.4 UNCERTAIN). So the person id is looked for where
//! a payload would plausibly carry it, as a number or a numeric string:
//!
//! | event | person id read from |
//! | --- | --- |
//! | `person.*` | `payload.id`, `payload.person_id`, `payload.person.id`, `payload.employee_id` |
//! | `employment.*` | `payload.person_id`, `payload.person.id`, `payload.employee_id` |
//!
//! `payload.id` of an employment event is the *employment's* id, so it is never taken for a
//! person's. A person or employment event without a usable id, and every other documented event,
//! asks for a full run instead.

use serde_json::{Map, Value};
use sync_core::ids::PersonioId;
use sync_core::personio::webhooks::secret::company_text;
use sync_core::personio::webhooks::EVENTS;

/// A delivery's envelope, checked for the required fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The Personio company that sent it (a string; a number is accepted and written as text).
    pub company_id: String,
    /// The event, e.g. `person.updated`.
    pub event_name: String,
    /// When it happened, as Personio wrote it (kept as text: only its presence is checked).
    pub occurred_at: String,
    /// The event's payload object.
    pub payload: Map<String, Value>,
}

/// Why a body is not an envelope. Messages name fields, never values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not a JSON object.
    #[error("the body is not a JSON object")]
    NotJson,
    /// A required field is missing or of the wrong type.
    #[error("the envelope field {0} is missing or has the wrong type")]
    Field(&'static str),
}

impl Envelope {
    /// Reads and checks an envelope.
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(body) else {
            return Err(EnvelopeError::NotJson);
        };
        let company_id = object
            .get("company_id")
            .and_then(|value| company_text(value).ok())
            .ok_or(EnvelopeError::Field("company_id"))?;
        let text = |object: &Map<String, Value>, name: &'static str| {
            object
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
                .ok_or(EnvelopeError::Field(name))
        };
        let event_name = text(&object, "event_name")?;
        let occurred_at = text(&object, "occurred_at")?;
        let Some(Value::Object(payload)) = object.remove("payload") else {
            return Err(EnvelopeError::Field("payload"));
        };
        Ok(Self {
            company_id,
            event_name,
            occurred_at,
            payload,
        })
    }

    /// What the event asks of the sync; `None` for an event Personio does not document.
    pub fn request(&self) -> Option<EventRequest> {
        let event = self.event_name.as_str();
        if !EVENTS.contains(&event) {
            return None;
        }
        if event == "ping" {
            return Some(EventRequest::Ping);
        }
        let keys: &[&[&str]] = if event.starts_with("person.") {
            &[&["id"], &["person_id"], &["person", "id"], &["employee_id"]]
        } else if event.starts_with("employment.") {
            &[&["person_id"], &["person", "id"], &["employee_id"]]
        } else {
            &[]
        };
        let person = keys.iter().find_map(|path| person_id(&self.payload, path));
        Some(match person {
            Some(id) => EventRequest::Person(id),
            None => EventRequest::Everyone,
        })
    }
}

/// What an event asks of the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRequest {
    /// Personio's test event: acknowledge, do nothing.
    Ping,
    /// Sync this person.
    Person(PersonioId),
    /// Something changed that cannot be pinned on one person: a (debounced) full run.
    Everyone,
}

/// The id at `path` in `payload`, if it is a whole number or a numeric string.
fn person_id(payload: &Map<String, Value>, path: &[&str]) -> Option<PersonioId> {
    let (first, rest) = path.split_first()?;
    let mut value = payload.get(*first)?;
    for key in rest {
        value = value.get(key)?;
    }
    match value {
        Value::Number(number) => number.as_u64().map(PersonioId::new),
        Value::String(text) => PersonioId::parse(text).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(event: &str, payload: Value) -> Envelope {
        let body = json!({
            "company_id": "77", "event_name": event,
            "occurred_at": "2026-11-23T12:00:00Z", "payload": payload, "meta": {},
        });
        Envelope::parse(body.to_string().as_bytes()).unwrap()
    }

    fn person(id: u64) -> Option<EventRequest> {
        Some(EventRequest::Person(PersonioId::new(id)))
    }

    #[test]
    fn person_ids_are_read_as_numbers_or_numeric_strings_in_several_places() {
        assert_eq!(
            envelope("person.updated", json!({"id": 5})).request(),
            person(5)
        );
        assert_eq!(
            envelope("person.updated", json!({"id": " 6 "})).request(),
            person(6)
        );
        assert_eq!(
            envelope("person.created", json!({"person_id": "7"})).request(),
            person(7)
        );
        assert_eq!(
            envelope("person.deleted", json!({"person": {"id": 8}})).request(),
            person(8)
        );
        assert_eq!(
            envelope("employment.updated", json!({"id": 1, "employee_id": 9})).request(),
            person(9)
        );
    }

    #[test]
    fn an_employment_id_is_not_taken_for_a_person_id() {
        assert_eq!(
            envelope("employment.updated", json!({"id": 12})).request(),
            Some(EventRequest::Everyone)
        );
    }

    #[test]
    fn unusable_ids_and_other_documented_events_ask_for_a_full_run() {
        for payload in [
            json!({}),
            json!({"id": "abc"}),
            json!({"id": -3}),
            json!({"id": 1.5}),
        ] {
            assert_eq!(
                envelope("person.updated", payload).request(),
                Some(EventRequest::Everyone)
            );
        }
        assert_eq!(
            envelope("absence-period.created", json!({"person_id": 3})).request(),
            Some(EventRequest::Everyone)
        );
        assert_eq!(
            envelope("ping", json!({})).request(),
            Some(EventRequest::Ping)
        );
        assert_eq!(
            envelope("person.exploded", json!({"id": 1})).request(),
            None
        );
    }

    #[test]
    fn missing_or_mistyped_fields_are_named() {
        let cases = [
            (
                json!({"event_name": "ping", "occurred_at": "x", "payload": {}}),
                "company_id",
            ),
            (
                json!({"company_id": 1, "occurred_at": "x", "payload": {}}),
                "event_name",
            ),
            (
                json!({"company_id": 1, "event_name": "ping", "payload": {}}),
                "occurred_at",
            ),
            (
                json!({"company_id": 1, "event_name": "ping", "occurred_at": "x"}),
                "payload",
            ),
            (
                json!({"company_id": 1, "event_name": "ping", "occurred_at": "x", "payload": []}),
                "payload",
            ),
            (
                json!({"company_id": {}, "event_name": "ping", "occurred_at": "x", "payload": {}}),
                "company_id",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(
                Envelope::parse(body.to_string().as_bytes()),
                Err(EnvelopeError::Field(field)),
                "{body}"
            );
        }
        assert_eq!(Envelope::parse(b"[1]"), Err(EnvelopeError::NotJson));
        assert_eq!(
            Envelope::parse(b"{\"company_id\""),
            Err(EnvelopeError::NotJson)
        );
        let numeric = Envelope::parse(
            br#"{"company_id": 77, "event_name": "ping", "occurred_at": "x", "payload": {}}"#,
        )
        .unwrap();
        assert_eq!(numeric.company_id, "77");
    }
}
