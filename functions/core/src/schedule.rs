//! When a tenant's next scheduled run is due: every N minutes, or daily at a local time (which
//! follows daylight saving: 06:00 in Berlin is 05:00 UTC in winter and 04:00 in summer).

use crate::config::TenantConfig;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};

/// The first due time strictly after `after`.
pub fn next_due(config: &TenantConfig, after: DateTime<Utc>) -> DateTime<Utc> {
    if let Some(every) = config.schedule.every_minutes {
        return after + Duration::minutes(i64::from(every.max(5)));
    }
    let at = config
        .schedule
        .daily_at
        .as_deref()
        .and_then(|text| NaiveTime::parse_from_str(text, "%H:%M").ok())
        .unwrap_or(NaiveTime::MIN);
    let zone = config.timezone;
    let local_today = after.with_timezone(&zone).date_naive();
    for offset in 0..3 {
        let date = local_today + Duration::days(offset);
        // A local time skipped by a daylight-saving jump runs at the first instant after it.
        let candidate = zone
            .from_local_datetime(&date.and_time(at))
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(date.and_time(at) + Duration::hours(1)))
                    .earliest()
            })
            .map(|local| local.with_timezone(&Utc));
        if let Some(candidate) = candidate.filter(|candidate| *candidate > after) {
            return candidate;
        }
    }
    after + Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(schedule: &str) -> TenantConfig {
        TenantConfig::from_toml(&format!(
            "tenant = \"acme\"\n[[personio.accounts]]\n[destination]\nkind = \"directory\"\npath = \"d\"\n[schedule]\n{schedule}\n"
        ))
        .unwrap()
    }

    #[test]
    fn daily_runs_follow_local_time_across_daylight_saving() {
        let daily = config("daily_at = \"06:00\"");
        let winter: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
        assert_eq!(
            next_due(&daily, winter),
            "2026-11-24T05:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let summer: DateTime<Utc> = "2026-07-01T03:00:00Z".parse().unwrap();
        assert_eq!(
            next_due(&daily, summer),
            "2026-07-01T04:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn interval_runs_add_the_interval() {
        let every = config("daily_at = \"06:00\"\nevery_minutes = 30");
        let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
        assert_eq!(
            next_due(&every, now),
            "2026-11-23T10:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
