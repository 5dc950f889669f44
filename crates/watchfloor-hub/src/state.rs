//! What every handler gets: the store, the metrics, the configuration and the ingest permits.

use crate::config::HubConfig;
use crate::metrics::Metrics;
use std::sync::Arc;
use tokio::sync::Semaphore;
use watchfloor_store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<HubConfig>,
    /// One permit per ingest request processed at once; none left means 429.
    pub ingest_permits: Arc<Semaphore>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: HubConfig) -> Self {
        let permits = config.limits.ingest_concurrency;
        AppState {
            store,
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(config),
            ingest_permits: Arc::new(Semaphore::new(permits)),
        }
    }
}
