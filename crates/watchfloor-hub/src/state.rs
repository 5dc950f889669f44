//! What every handler gets: the store, the metrics, the configuration and the ingest permits.

use crate::auth::IpLimiter;
use crate::config::HubConfig;
use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use watchfloor_store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<HubConfig>,
    /// One permit per ingest request processed at once; none left means 429.
    pub ingest_permits: Arc<Semaphore>,
    /// Sign-in attempts per client address.
    pub sign_in_limiter: Arc<IpLimiter>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: HubConfig) -> Self {
        let permits = config.limits.ingest_concurrency;
        let sign_in_limiter = Arc::new(IpLimiter::new(
            config.auth.ip_max_attempts,
            Duration::from_secs(config.auth.ip_window_secs),
        ));
        AppState {
            store,
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(config),
            ingest_permits: Arc::new(Semaphore::new(permits)),
            sign_in_limiter,
        }
    }
}
