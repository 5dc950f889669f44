//! A store in front of the real one that can slow ingest down or fail transiently.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use watchfloor_store::*;

#[derive(Default)]
pub struct Faults {
    /// Milliseconds each ingest waits before going to the real store.
    pub ingest_delay_ms: AtomicU64,
    /// Every call fails as a stopped writer does (transient).
    pub down: AtomicBool,
}

pub struct FaultyStore {
    pub inner: Arc<dyn Store>,
    pub faults: Arc<Faults>,
}

impl FaultyStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.faults.down.load(Ordering::SeqCst) {
            Err(StoreError::WriterGone(" (injected)".into()))
        } else {
            Ok(())
        }
    }
}

macro_rules! pass {
    ($self:ident, $call:expr) => {
        Box::pin(async move {
            $self.check()?;
            $call.await
        })
    };
}

impl Store for FaultyStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn access(&self) -> &dyn watchfloor_store::Access {
        self.inner.access()
    }
    fn migrate(&self) -> StoreFuture<'_, u32> {
        pass!(self, self.inner.migrate())
    }
    fn create_org(&self, org: NewOrg) -> StoreFuture<'_, Org> {
        pass!(self, self.inner.create_org(org))
    }
    fn get_org(&self, id: OrgId) -> StoreFuture<'_, Option<Org>> {
        pass!(self, self.inner.get_org(id))
    }
    fn list_orgs(&self) -> StoreFuture<'_, Vec<Org>> {
        pass!(self, self.inner.list_orgs())
    }
    fn enroll_sensor<'a>(
        &'a self,
        org: OrgId,
        name: &'a str,
    ) -> StoreFuture<'a, (Sensor, SensorToken)> {
        pass!(self, self.inner.enroll_sensor(org, name))
    }
    fn issue_sensor_token(&self, sensor: SensorId) -> StoreFuture<'_, SensorToken> {
        pass!(self, self.inner.issue_sensor_token(sensor))
    }
    fn authenticate_sensor<'a>(&'a self, token: &'a str) -> StoreFuture<'a, Option<Sensor>> {
        // Authentication keeps working while ingest fails, to reach the 503 path.
        self.inner.authenticate_sensor(token)
    }
    fn revoke_sensor_token(&self, sensor: SensorId) -> StoreFuture<'_, u64> {
        pass!(self, self.inner.revoke_sensor_token(sensor))
    }
    fn ingest_batch(
        &self,
        sensor: SensorId,
        batch: Vec<EventEnvelope>,
    ) -> StoreFuture<'_, IngestOutcome> {
        Box::pin(async move {
            let ms = self.faults.ingest_delay_ms.load(Ordering::SeqCst);
            if ms > 0 {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            self.check()?;
            self.inner.ingest_batch(sensor, batch).await
        })
    }
    fn record_heartbeat(
        &self,
        sensor: SensorId,
        counters: serde_json::Value,
        at: UnixMicros,
    ) -> StoreFuture<'_, ()> {
        pass!(self, self.inner.record_heartbeat(sensor, counters, at))
    }
    fn list_sensors<'a>(
        &'a self,
        orgs: Option<&'a [OrgId]>,
        now: UnixMicros,
        stale_after: Duration,
    ) -> StoreFuture<'a, Vec<SensorStatus>> {
        pass!(self, self.inner.list_sensors(orgs, now, stale_after))
    }
    fn query_events(&self, filter: EventFilter) -> StoreFuture<'_, EventPage> {
        pass!(self, self.inner.query_events(filter))
    }
    fn count_events(&self, filter: EventFilter) -> StoreFuture<'_, u64> {
        pass!(self, self.inner.count_events(filter))
    }
    fn apply_retention(&self, older_than: UnixMicros) -> StoreFuture<'_, RetentionReport> {
        pass!(self, self.inner.apply_retention(older_than))
    }
}
