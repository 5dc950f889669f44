//! The HTTPS server: TLS (rustls) in front of the axum router, one task per connection,
//! graceful shutdown (stop accepting, let in-flight requests finish, then close).

use crate::config::{describe_store, HubConfig};
use crate::routes;
use crate::state::AppState;
use crate::tls::{self, Identity, TlsError};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use watchfloor_store::{Store, StoreError};

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("store ({what}): {source}")]
    Store { what: String, source: StoreError },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot install the signal handler: {0}")]
    Signal(std::io::Error),
}

/// A bound, not yet serving hub.
pub struct Server {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: AppState,
    pub fingerprint: String,
    pub cert_path: PathBuf,
    pub cert_generated: bool,
}

impl Server {
    /// Loads (or generates) the certificate and binds the listener; `store` is already open.
    pub async fn bind(config: HubConfig, store: Arc<dyn Store>) -> Result<Server, HubError> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir).map_err(|source| HubError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let Identity {
            server_config,
            fingerprint,
            cert_path,
            generated,
        } = tls::load_or_generate(
            config.tls.cert.as_deref(),
            config.tls.key.as_deref(),
            &config.data_dir,
        )?;
        let addr = config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| HubError::Bind { addr, source })?;
        Ok(Server {
            listener,
            acceptor: TlsAcceptor::from(server_config),
            state: AppState::new(store, config),
            fingerprint,
            cert_path,
            cert_generated: generated,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.listen)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting and waits (at most
    /// `shutdown_grace_secs`) for in-flight requests to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), HubError> {
        let Server {
            listener,
            acceptor,
            state,
            ..
        } = self;
        let retention = (state.config.retention.keep_days > 0).then(|| {
            watchfloor_store::retention::spawn(state.store.clone(), state.config.retention)
        });
        let grace = Duration::from_secs(state.config.shutdown_grace_secs);
        let app: Router = routes::router(state);
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (tcp, peer) = match accepted {
                        Ok(x) => x,
                        Err(e) => {
                            // Out of file descriptors and the like: do not spin.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = tcp.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    let app = app.clone();
                    let watcher = graceful.watcher();
                    tokio::spawn(async move {
                        let tls = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                        // Every request learns the client's address (sign-in rate limits,
                        // the audit log's "from where") as axum's ConnectInfo.
                        let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                            req.extensions_mut().insert(ConnectInfo(peer));
                            let mut app = app.clone();
                            async move { tower_service::Service::call(&mut app, req).await }
                        });
                        let conn = hyper::server::conn::http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(HEADER_READ_TIMEOUT)
                            .serve_connection(TokioIo::new(tls), svc);
                        if let Err(e) = watcher.watch(conn).await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        tracing::info!("shutting down: finishing in-flight requests");
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("requests still running after {grace:?}; closing anyway");
        }
        if let Some(r) = retention {
            r.abort();
        }
        Ok(())
    }
}

/// Installs SIGTERM/SIGINT handlers now; the future completes when one arrives.
#[cfg(unix)]
pub fn signals() -> Result<impl Future<Output = ()>, HubError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(HubError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(HubError::Signal)?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
    })
}

/// Ctrl-C where there are no Unix signals.
#[cfg(not(unix))]
pub fn signals() -> Result<impl Future<Output = ()>, HubError> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// What `watchfloor hub` prints once the hub listens.
#[derive(Debug, Clone)]
pub struct Started {
    pub url: String,
    pub fingerprint: String,
    pub cert_path: PathBuf,
    pub cert_generated: bool,
    pub store: String,
    pub retention: String,
}

/// Opens the store, binds, calls `on_start`, and serves until SIGTERM/SIGINT. Blocking: it
/// runs its own runtime, so the binary needs no async code.
pub fn run_blocking(config: HubConfig, on_start: impl FnOnce(&Started)) -> Result<(), HubError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hub")
        .build()
        .map_err(HubError::Runtime)?;
    rt.block_on(async move {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| HubError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let store_cfg = config.store_config();
        let store_desc = describe_store(&store_cfg);
        let retention = config.describe_retention();
        let store = watchfloor_store::open(&store_cfg)
            .await
            .map_err(|source| HubError::Store {
                what: store_desc.clone(),
                source,
            })?;
        let server = Server::bind(config, store).await?;
        let addr = server.local_addr();
        let started = Started {
            url: format!("https://{addr}"),
            fingerprint: server.fingerprint.clone(),
            cert_path: server.cert_path.clone(),
            cert_generated: server.cert_generated,
            store: store_desc,
            retention,
        };
        // Handlers are installed before anyone is told the hub runs, so no early SIGTERM
        // takes the default action (killing the process mid-request).
        let stop = signals()?;
        on_start(&started);
        server.run(stop).await
    })
}
