//! When a tenant's next scheduled run is due: every N minutes, daily at a local time (which
//! follows daylight saving: 06:00 in Berlin is 05:00 UTC in winter and 04:00 in summer), weekly
//! on one day at that time, or never (`manual`).

use crate::config::TenantConfig;
use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};

/// A week: how far a manual tenant's schedule entry moves each time the scheduler sees it. The
/// scheduler queues nothing for it ([`runs_on_schedule`]), as for a disabled tenant, and keeping
/// the entry (rather than removing it) lets a later schedule take over without another write.
const MANUAL_CHECKPOINT_DAYS: i64 = 7;

/// Whether the scheduler starts this tenant's runs: not when it is disabled, nor when its
/// schedule is manual.
pub fn runs_on_schedule(config: &TenantConfig) -> bool {
    config.enabled && !config.schedule.manual
}

/// The first due time strictly after `after` (for a manual schedule, when the scheduler next
/// looks at the tenant, to queue nothing).
pub fn next_due(config: &TenantConfig, after: DateTime<Utc>) -> DateTime<Utc> {
    if config.schedule.manual {
        return after + Duration::days(MANUAL_CHECKPOINT_DAYS);
    }
    if let Some(every) = config.schedule.every_minutes {
        return after + Duration::minutes(i64::from(every.max(5)));
    }
    let at = config
        .schedule
        .daily_at
        .as_deref()
        .and_then(|text| NaiveTime::parse_from_str(text, "%H:%M").ok())
        // The documented default, also for a `[schedule]` that names no time.
        .unwrap_or(NaiveTime::from_hms_opt(6, 0, 0).unwrap_or(NaiveTime::MIN));
    let zone = config.timezone;
    let weekday = config.schedule.weekday();
    let local_today = after.with_timezone(&zone).date_naive();
    for offset in 0..9 {
        let date = local_today + Duration::days(offset);
        if weekday.is_some_and(|day| date.weekday() != day) {
            continue;
        }
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
    after + Duration::days(if weekday.is_some() { 7 } else { 1 })
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
    fn weekly_runs_come_on_their_day_at_the_daily_time() {
        let weekly = config("daily_at = \"07:30\"\nweekly_on = \"Monday\"");
        // Monday 2026-11-23, 10:00 UTC: past this Monday's 07:30 Berlin, so next Monday.
        let monday: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
        assert_eq!(
            next_due(&weekly, monday),
            "2026-11-30T06:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // Sunday evening: the next morning.
        let sunday: DateTime<Utc> = "2026-11-22T20:00:00Z".parse().unwrap();
        assert_eq!(
            next_due(&weekly, sunday),
            "2026-11-23T06:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // Without a time, 06:00; short day names work too.
        let short = config("weekly_on = \"fri\"");
        assert_eq!(
            next_due(&short, monday),
            "2026-11-27T05:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn a_weekly_schedule_names_a_day_and_is_not_also_an_interval() {
        let problems = |schedule: &str| {
            TenantConfig::from_toml(&format!(
                "tenant = \"acme\"\n[[personio.accounts]]\n[destination]\nkind = \"directory\"\npath = \"d\"\n[schedule]\n{schedule}\n"
            ))
            .err()
            .map(|error| error.to_string())
        };
        assert!(problems("weekly_on = \"someday\"")
            .is_some_and(|text| text.contains("schedule.weekly_on")));
        assert!(problems("weekly_on = \"monday\"\nevery_minutes = 30")
            .is_some_and(|text| text.contains("keep one")));
        assert_eq!(problems("weekly_on = \"Sunday\""), None);
    }

    #[test]
    fn a_manual_schedule_runs_nothing_and_excludes_the_others() {
        let manual = config("manual = true");
        assert!(!runs_on_schedule(&manual));
        assert!(runs_on_schedule(&config("daily_at = \"06:00\"")));
        let err = TenantConfig::from_toml(
            "tenant = \"acme\"\n[[personio.accounts]]\n[destination]\nkind = \"directory\"\npath = \"d\"\n[schedule]\nmanual = true\nevery_minutes = 30\n",
        )
        .err()
        .map(|error| error.to_string());
        assert!(err.is_some_and(|text| text.contains("manual = true")));
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
