//! The national hub: HTTPS ingest of sensor batches into the store, acknowledgements,
//! heartbeats, health and metrics. See README.md for the API and its contract with the sensor.
//!
//! - `config`: `hub.toml`.
//! - `server`: TLS listener, connections, graceful shutdown.
//! - `routes`: the endpoints; `auth`: who is calling (the one place credentials are read);
//!   `policy`: who may see and do what (org/share rules, roles, TLP 2.0); `audit`: the log.
//! - `metrics`: Prometheus exposition; `tls`: certificate loading and generation.
//! - `admin`: blocking operations for `watchfloor admin`.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod config;
pub mod error;
pub mod metrics;
pub mod policy;
pub mod routes;
pub mod server;
pub mod state;
pub mod tls;

pub use config::HubConfig;
pub use server::{run_blocking, HubError, Server, Started};
pub use state::AppState;
pub use watchfloor_store as store;
