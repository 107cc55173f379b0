//! [`Misses`]: tenants recently found without a config or without a webhook secret. A stream of
//! deliveries for a tenant that does not exist (a typo in a URL, someone probing) then costs one
//! DynamoDB read each — the read a known tenant's delivery makes too — and no Secrets Manager
//! call, whose misses its cache does not keep.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use sync_core::ids::TenantId;
// tokio's clock, so that tests can move time past the TTL without waiting.
use tokio::time::Instant;

/// How long a miss is believed. A tenant created (or given its webhook secret) meanwhile is
/// refused until then; Personio retries, so its delivery arrives a little later.
pub const MISS_TTL: Duration = Duration::from_secs(60);

/// At most this many remembered misses; past it the memory starts over (a flood of made-up
/// tenant ids cannot grow it without bound).
const MAX_MISSES: usize = 10_000;

/// What was missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Miss {
    /// No config: the tenant does not exist.
    Config,
    /// A config but no webhook secret.
    Secret,
}

/// Remembered misses, shared by the deliveries of one warm Lambda.
#[derive(Debug, Default)]
pub struct Misses {
    seen: Mutex<HashMap<TenantId, (Miss, Instant)>>,
}

impl Misses {
    /// The miss remembered for `tenant`, if still believed.
    pub fn get(&self, tenant: &TenantId) -> Option<Miss> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(tenant)
            .filter(|(_, at)| at.elapsed() < MISS_TTL)
            .map(|(miss, _)| *miss)
    }

    /// Remembers that `tenant` lacked `miss`.
    pub fn insert(&self, tenant: &TenantId, miss: Miss) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_MISSES {
            seen.clear();
        }
        seen.insert(tenant.clone(), (miss, Instant::now()));
    }

    /// Forgets `tenant`'s miss (it turned out to exist).
    pub fn remove(&self, tenant: &TenantId) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_miss_is_believed_for_its_ttl_then_forgotten() {
        let misses = Misses::default();
        misses.insert(&tenant("acme"), Miss::Secret);
        assert_eq!(misses.get(&tenant("acme")), Some(Miss::Secret));
        assert_eq!(misses.get(&tenant("globex")), None);
        tokio::time::advance(MISS_TTL - Duration::from_millis(1)).await;
        assert_eq!(misses.get(&tenant("acme")), Some(Miss::Secret));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(misses.get(&tenant("acme")), None);
    }

    #[test]
    fn a_flood_of_made_up_tenants_does_not_grow_it_without_bound() {
        let misses = Misses::default();
        for n in 0..(MAX_MISSES + 5) {
            misses.insert(&tenant(&format!("tenant-{n}")), Miss::Config);
        }
        let kept = misses.seen.lock().unwrap().len();
        assert!(kept <= MAX_MISSES, "{kept}");
    }
}
