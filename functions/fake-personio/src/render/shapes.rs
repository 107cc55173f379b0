//! The JSON shapes of attribute values (personio-api.md §1.4): the `{label, value, type,
//! universal_id}` wrapper, typed objects, empty forms and dated strings with a Berlin-like offset.

use crate::catalog::Standard;
use crate::company::{EmptyStyle, OffsetStyle, OrgUnit};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use std::fmt;

/// `{"type": kind, "attributes": …}`, Personio's wrapper for every object.
#[derive(Serialize)]
pub(super) struct Typed<'a, A> {
    #[serde(rename = "type")]
    pub(super) kind: &'a str,
    pub(super) attributes: A,
}

#[derive(Serialize)]
pub(super) struct Attr<'a, V> {
    pub(super) label: &'a str,
    pub(super) value: V,
    #[serde(rename = "type")]
    pub(super) kind: &'a str,
    pub(super) universal_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) currency: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct IdName<'a> {
    pub(super) id: u64,
    pub(super) name: &'a str,
}

/// An object attribute's value, or the person's chosen form of "empty".
pub(super) enum OrEmpty<T> {
    Value(T),
    Empty(EmptyStyle),
}

impl<T: Serialize> Serialize for OrEmpty<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Value(value) => value.serialize(serializer),
            Self::Empty(EmptyStyle::Null) => serializer.serialize_none(),
            Self::Empty(EmptyStyle::EmptyString) => serializer.serialize_str(""),
            Self::Empty(EmptyStyle::EmptyArray) => serializer.serialize_seq(Some(0))?.end(),
        }
    }
}

pub(super) fn or_empty<T>(value: Option<T>, style: EmptyStyle) -> OrEmpty<T> {
    value.map_or(OrEmpty::Empty(style), OrEmpty::Value)
}

/// A standard date: midnight (or the stored time) with a Berlin-like UTC offset.
pub(super) struct Stamp(pub(super) NaiveDateTime, pub(super) OffsetStyle);

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Stamp(at, style) = self;
        let hours = berlin_offset_hours(at.date());
        let colon = if *style == OffsetStyle::Colon {
            ":"
        } else {
            ""
        };
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+{hours:02}{colon}00",
            at.year(),
            at.month(),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        )
    }
}

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Central European offset on `date`: +2 from the last Sunday of March to the day before the last
/// Sunday of October, else +1. The switch hour is ignored: Personio sends dates at midnight.
pub(super) fn berlin_offset_hours(date: NaiveDate) -> u32 {
    let last_sunday = |month: u32| {
        let first_of_next = NaiveDate::from_ymd_opt(date.year(), month + 1, 1).unwrap_or(date);
        let back = (first_of_next.weekday().num_days_from_sunday() + 6) % 7 + 1;
        first_of_next - chrono::Duration::days(i64::from(back))
    };
    let summer = date >= last_sunday(3) && date < last_sunday(10);
    if summer {
        2
    } else {
        1
    }
}

pub(super) fn date(value: Option<NaiveDate>, style: OffsetStyle) -> Option<Stamp> {
    value.map(|day| Stamp(day.and_time(NaiveTime::MIN), style))
}

/// The id of the unit called `name`, or a stable id derived from the name, so a unit a test
/// invents still renders.
pub(super) fn unit_id(found: Option<u64>, name: &str) -> u64 {
    found.unwrap_or_else(|| {
        // FNV-1a: stable across runs and platforms, unlike std's hasher.
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        900_000 + hash % 100_000
    })
}

pub(super) fn lookup(units: &[OrgUnit], name: &str) -> u64 {
    unit_id(
        units
            .iter()
            .find(|unit| unit.name == name)
            .map(|unit| unit.id),
        name,
    )
}

/// Writes one standard attribute.
pub(super) fn put<M: SerializeMap, V: Serialize>(
    map: &mut M,
    attribute: &Standard,
    value: V,
) -> Result<(), M::Error> {
    put_with_currency(map, attribute, value, None)
}

/// Writes one standard attribute; a salary carries its `currency` beside the value.
pub(super) fn put_with_currency<M: SerializeMap, V: Serialize>(
    map: &mut M,
    attribute: &Standard,
    value: V,
    currency: Option<&str>,
) -> Result<(), M::Error> {
    map.serialize_entry(
        attribute.key,
        &Attr {
            label: attribute.label,
            value,
            kind: attribute.kind,
            universal_id: Some(attribute.key),
            currency,
        },
    )
}

/// `{"type":"Employee","attributes":{"id":{…}}}`, the supervisor reference of §1.4.
pub(super) fn supervisor(id: u64) -> Typed<'static, SupervisorAttributes> {
    Typed {
        kind: "Employee",
        attributes: SupervisorAttributes {
            id: Attr {
                label: "ID",
                value: id,
                kind: "integer",
                universal_id: Some("id"),
                currency: None,
            },
        },
    }
}

#[derive(Serialize)]
pub(super) struct SupervisorAttributes {
    pub(super) id: Attr<'static, u64>,
}

#[derive(Serialize)]
pub(super) struct CostCenter<'a> {
    pub(super) id: u64,
    pub(super) name: &'a str,
    pub(super) percentage: u32,
}

#[derive(Serialize)]
pub(super) struct HolidayCalendar<'a> {
    pub(super) id: u64,
    pub(super) name: &'a str,
    pub(super) country: &'a str,
    pub(super) state: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct TimeOffType {
    pub(super) id: u64,
    pub(super) name: &'static str,
    pub(super) category: &'static str,
    pub(super) entitlement: u32,
}

#[derive(Serialize)]
pub(super) struct WorkSchedule {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) valid_from: Option<&'static str>,
    pub(super) monday: String,
    pub(super) tuesday: String,
    pub(super) wednesday: String,
    pub(super) thursday: String,
    pub(super) friday: String,
    pub(super) saturday: &'static str,
    pub(super) sunday: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summer_time_starts_on_the_last_sunday_of_march() {
        let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).expect("valid date");
        assert_eq!(berlin_offset_hours(day(3, 29)), 1);
        assert_eq!(berlin_offset_hours(day(3, 30)), 2);
        assert_eq!(berlin_offset_hours(day(10, 25)), 2);
        assert_eq!(berlin_offset_hours(day(10, 26)), 1);
    }
}
