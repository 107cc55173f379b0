//! The key layout of the one table (`pk`, `sk`), in one place. `DESIGN.md` §3 is the reference;
//! every key the store reads or writes is built here.
//!
//! ```text
//! pk               sk                                   holds
//! TENANT#<id>      CONFIG                               config JSON + numeric version
//! TENANT#<id>      LINK#<account>#<personio id>         one Link (JSON) + its hash
//! TENANT#<id>      GROUP#<kind>#<hash of name>          one GroupLink (JSON); the name is inside
//! TENANT#<id>      STATS                                facts of the last applied fetch
//! TENANT#<id>      RUN#<run id>                         run summary: status, counts, first errors
//! TENANT#<id>      RUN#<run id>#CHG#<gen>#<n>           chunk n of the run's change list (JSON text)
//! TENANT#<id>      ERR#<run id>#<gen>#<n>               chunk n of the run's error list (JSON text)
//! TENANT#<id>      HELD#<run id>                        a held run's header
//! TENANT#<id>      HELD#<run id>#PART#<gen>#<n>         chunk n of the held run (JSON text)
//! TENANT#<id>      EVENT#<hash>                         webhook dedupe marker, expires via TTL
//! TENANT#<id>      EVENT#full-run-pending               a webhook's full run is queued, not started
//! TENANT#<id>      NEXTDUE                              the tenant's current SCHEDULE sort key
//! SCHEDULE         <next due, RFC 3339 UTC>#<tenant>    which tenant is due when
//! ```
//!
//! Run ids begin with their UTC start time and have a fixed length, so `RUN#` keys sort by time
//! and no run id is a prefix of another. Chunk numbers are zero-padded so that key order is chunk
//! order.
//!
//! `<gen>` is a random generation written into the header too. A rewrite (`save_run` is called
//! as a run progresses) writes its chunks under a new generation, then the header, then deletes
//! the old generation's chunks: a reader always finds the chunks its header names, and a crash
//! between the steps leaves the previous version whole. Errors are kept as chunks of rows rather
//! than one item per row (DESIGN.md's first sketch): a run with 3,000 errors is then a handful
//! of writes, not 3,000.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use sync_core::ids::{PersonKey, RunId, TenantId};
use sync_core::state::GroupKey;

/// The partition key attribute.
pub const PK: &str = "pk";
/// The sort key attribute.
pub const SK: &str = "sk";
/// The TTL attribute (epoch seconds); DynamoDB deletes the item some time after it passes.
pub const EXPIRES_AT: &str = "expires_at";

/// Sort key of a tenant's config.
pub const CONFIG: &str = "CONFIG";
/// Sort key of a tenant's last source stats.
pub const STATS: &str = "STATS";
/// Sort key of a tenant's pointer into the schedule index.
pub const NEXT_DUE: &str = "NEXTDUE";
/// Partition key of the schedule index.
pub const SCHEDULE: &str = "SCHEDULE";
/// Prefix of every link sort key.
pub const LINK_PREFIX: &str = "LINK#";
/// Prefix of every group sort key.
pub const GROUP_PREFIX: &str = "GROUP#";
/// Prefix of every run sort key (summaries and change chunks).
pub const RUN_PREFIX: &str = "RUN#";

/// `TENANT#<id>`.
pub fn tenant_pk(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}")
}

/// `LINK#<account>#<personio id>`.
pub fn link_sk(key: &PersonKey) -> String {
    format!("{LINK_PREFIX}{}#{}", key.account, key.id)
}

/// `GROUP#<kind>#<hash>`. Group names are free text of any length and script, so the key holds
/// 128 bits of SHA-256 of the name (the same stem the local store uses) and the name is inside.
pub fn group_sk(key: &GroupKey) -> String {
    format!(
        "{GROUP_PREFIX}{}#{}",
        key.kind.as_str(),
        hex_digest(key.name.as_bytes(), 16)
    )
}

/// `RUN#<run id>`: a run's summary item.
pub fn run_sk(run_id: &RunId) -> String {
    format!("{RUN_PREFIX}{run_id}")
}

/// `RUN#<run id>#CHG#`: prefix of a run's change chunks.
pub fn run_changes_prefix(run_id: &RunId) -> String {
    format!("{RUN_PREFIX}{run_id}#CHG#")
}

/// `ERR#<run id>#`: prefix of a run's error chunks.
pub fn run_errors_prefix(run_id: &RunId) -> String {
    format!("ERR#{run_id}#")
}

/// `SKIP#<run id>#`: prefix of a run's skip chunks (its warnings).
pub fn run_skips_prefix(run_id: &RunId) -> String {
    format!("SKIP#{run_id}#")
}

/// `HELD#<run id>`: a held run's header item; also the prefix of all its items.
pub fn held_sk(run_id: &RunId) -> String {
    format!("HELD#{run_id}")
}

/// `HELD#<run id>#PART#`: prefix of a held run's chunks.
pub fn held_parts_prefix(run_id: &RunId) -> String {
    format!("HELD#{run_id}#PART#")
}

/// `JOURNAL#<run id>`: the header of a run's journal.
pub fn journal_sk(run_id: &RunId) -> String {
    format!("JOURNAL#{run_id}")
}

/// `JOURNAL#<run id>#PART#`: prefix of a journal's chunks.
pub fn journal_parts_prefix(run_id: &RunId) -> String {
    format!("JOURNAL#{run_id}#PART#")
}

/// `EVENT#<hash>`: a webhook dedupe marker.
pub fn event_sk(hash: &str) -> String {
    format!("EVENT#{hash}")
}

/// `<prefix><gen>#`: the prefix of one generation's chunks.
pub fn generation_prefix(prefix: &str, generation: &str) -> String {
    format!("{prefix}{generation}#")
}

/// Chunk `n` under a generation prefix, zero-padded so key order is chunk order.
pub fn chunk_sk(generation_prefix: &str, n: usize) -> String {
    format!("{generation_prefix}{n:05}")
}

/// `<due>#<tenant>` in the schedule index. The time is RFC 3339 UTC to the second with a fixed
/// width, so text order is time order (fractions of a second would break that: `.` sorts before
/// `Z`); a due time is truncated to its second.
pub fn schedule_sk(due: chrono::DateTime<chrono::Utc>, tenant: &TenantId) -> String {
    format!("{}#{tenant}", schedule_time(due))
}

/// The upper bound of the index entries due at or before `now`: `~` sorts after every tenant id
/// character (`a-z 0-9 -`).
pub fn schedule_upper_bound(now: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}#~", schedule_time(now))
}

fn schedule_time(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The due time of a schedule sort key (`<due>#<tenant>`); `None` when it is not one.
pub fn schedule_due_at(sort_key: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let (time, _tenant) = sort_key.split_once('#')?;
    chrono::DateTime::parse_from_rfc3339(time)
        .ok()
        .map(|time| time.with_timezone(&chrono::Utc))
}

/// The first `bytes` bytes of SHA-256 of `data`, in lower-case hex.
pub fn hex_digest(data: &[u8], bytes: usize) -> String {
    let digest = Sha256::digest(data);
    digest[..bytes.min(digest.len())].iter().fold(
        String::with_capacity(bytes * 2),
        |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::ids::{AccountId, PersonioId};
    use sync_core::state::GroupKind;

    #[test]
    fn schedule_keys_sort_by_time_and_stay_under_the_bound() {
        let tenant = TenantId::parse("acme").unwrap();
        let early = schedule_sk("2026-11-23T09:00:00.900Z".parse().unwrap(), &tenant);
        let late = schedule_sk("2026-11-23T10:00:00Z".parse().unwrap(), &tenant);
        assert_eq!(early, "2026-11-23T09:00:00Z#acme");
        assert!(early < late);
        let bound = schedule_upper_bound("2026-11-23T10:00:00Z".parse().unwrap());
        assert!(late <= bound);
        let zzz = schedule_sk(
            "2026-11-23T10:00:00Z".parse().unwrap(),
            &TenantId::parse("zzz-999").unwrap(),
        );
        assert!(zzz <= bound);
        assert!(schedule_sk("2026-11-23T10:00:01Z".parse().unwrap(), &tenant) > bound);
    }

    #[test]
    fn a_schedule_key_gives_back_its_due_time() {
        let tenant = TenantId::parse("acme").unwrap();
        let due: chrono::DateTime<chrono::Utc> = "2026-11-23T09:00:00.900Z".parse().unwrap();
        assert_eq!(
            schedule_due_at(&schedule_sk(due, &tenant)),
            Some("2026-11-23T09:00:00Z".parse().unwrap())
        );
        assert_eq!(schedule_due_at("acme"), None);
        assert_eq!(schedule_due_at("yesterday#acme"), None);
    }

    #[test]
    fn link_keys_of_two_accounts_never_share_a_prefix() {
        let de = PersonKey::new(AccountId::parse("de").unwrap(), PersonioId::new(7));
        let de2 = PersonKey::new(AccountId::parse("de-2").unwrap(), PersonioId::new(7));
        assert_eq!(link_sk(&de), "LINK#de#7");
        assert!(!link_sk(&de2).starts_with("LINK#de#"));
    }

    #[test]
    fn group_keys_hash_free_text_names() {
        let key = GroupKey {
            kind: GroupKind::Department,
            name: "R&D / Berlin".into(),
        };
        let sk = group_sk(&key);
        assert!(sk.starts_with("GROUP#department#"));
        assert_eq!(sk.len(), "GROUP#department#".len() + 32);
    }

    #[test]
    fn chunk_keys_sort_in_chunk_order() {
        assert!(chunk_sk("RUN#x#CHG#", 9) < chunk_sk("RUN#x#CHG#", 10));
    }
}
