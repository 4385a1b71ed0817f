//! The network edge: accepts TCP connections (optionally TLS), serves the router over
//! HTTP/1.1 and HTTP/2, and keeps any one client from exhausting the process.
//!
//! - At most `max_connections` connections are served at once, kept below the open-file
//!   limit. A connection beyond the cap closes the longest-idle connection (one with no
//!   request in flight) to take its place, so idle or slow clients cannot lock out a
//!   probe or a real request.
//! - A connection that has not sent a complete request head within
//!   `header_read_timeout` of opening, or of the first byte of a later head, is closed
//!   (HTTP/1.1), and so is one with no request in flight for `idle_timeout` (both
//!   protocols). hyper's own header timer is off: it starts as soon as a kept-alive
//!   connection waits for its next request, so it cut idle keep-alive connections at
//!   `header_read_timeout` instead of `idle_timeout` (issue 30).
//! - Shutdown stops accepting, lets in-flight requests finish, then closes the rest.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tower::ServiceExt;

use crate::config::Settings;

/// Descriptors kept free for the database pool, log files and the like: the connection
/// cap stays this far below the open-file limit.
const RESERVED_DESCRIPTORS: u64 = 128;

/// The connection limits of one server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_connections: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
}

impl Limits {
    /// The limits from the settings, with the connection cap lowered to fit the
    /// open-file limit (raised first to the hard limit where the system allows).
    pub(crate) fn from_settings(settings: &Settings) -> Limits {
        let descriptors = raise_open_file_limit();
        let fitting = descriptors
            .map(|n| {
                n.checked_sub(RESERVED_DESCRIPTORS)
                    .filter(|&free| free >= n / 2)
                    .unwrap_or(n / 2)
            })
            .unwrap_or(u64::MAX);
        let wanted = u64::from(settings.max_connections);
        let max_connections = usize::try_from(wanted.min(fitting).max(1)).unwrap_or(usize::MAX);
        if wanted > fitting {
            tracing::warn!(
                max_connections,
                open_file_limit = descriptors,
                "max_connections lowered to fit the open-file limit"
            );
        }
        Limits {
            max_connections,
            header_read_timeout: Duration::from_secs(settings.header_read_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(settings.idle_timeout_secs.max(1)),
        }
    }
}

/// Raise the soft open-file limit to the hard one; the soft limit in force after.
fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::debug!(error = %e, "cannot read or raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    #[error("--tls-cert and --tls-key go together: give both or neither")]
    Incomplete,
    #[error("--tls-cert {path}: {reason}")]
    Certificate { path: String, reason: String },
    #[error("--tls-key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// The TLS acceptor for `--tls-cert`/`--tls-key` (PEM), offering HTTP/2 and HTTP/1.1
/// through ALPN; `None` when TLS is not configured.
pub(crate) fn tls_acceptor(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<TlsAcceptor>, TlsError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        _ => return Err(TlsError::Incomplete),
    };
    let certificate_error = |reason: String| TlsError::Certificate {
        path: cert.display().to_string(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| certificate_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(certificate_error("no CERTIFICATE in the file".into()));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.display().to_string(),
        reason: e.to_string(),
    })?;
    #[expect(
        deprecated,
        reason = "ring builds without a C toolchain; post-quantum key exchange is not needed here"
    )]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

/// One open connection, as the accept loop sees it.
struct Connection {
    in_flight: AtomicUsize,
    /// Whether a request has begun: until then the connection gets only the header read
    /// timeout (protocol detection reads before hyper's own header timer starts).
    spoken: AtomicBool,
    /// Milliseconds since the server started when a request last began or ended.
    last_active: AtomicU64,
    /// When the first byte of a request head arrived on an idle connection
    /// ([`NO_HEAD`]: none is being read).
    head_started: AtomicU64,
    /// HTTP/2: frames arrive between requests (window updates, pings), so bytes on an
    /// idle connection are not a request head.
    http2: AtomicBool,
    closing: AtomicBool,
    close: Notify,
}

/// `Connection::head_started` when no request head is being read.
const NO_HEAD: u64 = u64::MAX;

/// The open connections, to find the longest-idle one when the cap is reached.
struct Registry {
    started: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
}

impl Registry {
    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn open(&self) -> (u64, Arc<Connection>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            in_flight: AtomicUsize::new(0),
            spoken: AtomicBool::new(false),
            last_active: AtomicU64::new(self.now()),
            head_started: AtomicU64::new(NO_HEAD),
            http2: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        self.connections().insert(id, connection.clone());
        (id, connection)
    }

    fn closed(&self, id: u64) {
        self.connections().remove(&id);
    }

    fn connections(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ask the longest-idle connection to close; false when every one is busy.
    fn close_longest_idle(&self) -> bool {
        let connections = self.connections();
        let idle = connections
            .values()
            .filter(|c| c.in_flight.load(Ordering::Acquire) == 0 && !c.closing.load(Ordering::Acquire))
            .min_by_key(|c| c.last_active.load(Ordering::Acquire));
        match idle {
            Some(connection) => {
                connection.closing.store(true, Ordering::Release);
                connection.close.notify_one();
                true
            }
            None => false,
        }
    }

    /// How long a request head has been arriving on an idle connection.
    fn head_for(&self, connection: &Connection) -> Option<Duration> {
        let started = connection.head_started.load(Ordering::Acquire);
        (started != NO_HEAD && connection.in_flight.load(Ordering::Acquire) == 0)
            .then(|| Duration::from_millis(self.now().saturating_sub(started)))
    }

    fn idle_for(&self, connection: &Connection) -> Option<Duration> {
        (connection.in_flight.load(Ordering::Acquire) == 0).then(|| {
            Duration::from_millis(
                self.now()
                    .saturating_sub(connection.last_active.load(Ordering::Acquire)),
            )
        })
    }
}

/// Marks a request in flight on its connection for as long as it lives.
struct InFlight {
    registry: Arc<Registry>,
    connection: Arc<Connection>,
}

impl InFlight {
    fn begin(registry: &Arc<Registry>, connection: &Arc<Connection>) -> InFlight {
        connection.in_flight.fetch_add(1, Ordering::AcqRel);
        connection.spoken.store(true, Ordering::Release);
        connection.head_started.store(NO_HEAD, Ordering::Release);
        connection.last_active.store(registry.now(), Ordering::Release);
        InFlight {
            registry: registry.clone(),
            connection: connection.clone(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.connection
            .last_active
            .store(self.registry.now(), Ordering::Release);
        self.connection.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serve `router` on `listener` until `shutdown` completes, then stop accepting, let
/// in-flight requests finish and close every connection.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // Off: the accept loop times request heads itself (see the module's comment).
        .header_read_timeout(None);
    builder.http2().timer(TokioTimer::new());
    let edge = Arc::new(Edge {
        builder,
        router,
        tls,
        limits,
        registry: Arc::new(Registry {
            started: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        }),
    });
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                // At the cap: make room by closing an idle connection, or wait for a busy
                // one to end (further clients wait in the kernel's backlog meanwhile).
                edge.registry.close_longest_idle();
                tokio::select! {
                    () = &mut shutdown => break,
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                }
            }
        };
        let edge = edge.clone();
        let stopping = stopping.clone();
        connections.spawn(async move {
            edge.serve_connection(stream, stopping).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
}

/// Accepting fails when the process is out of descriptors (or a client gave up before
/// being accepted): wait a moment rather than spin.
async fn accept_failed(e: io::Error) {
    if !matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
    ) {
        tracing::error!(error = %e, "accepting a connection failed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What every connection task shares.
struct Edge {
    builder: auto::Builder<TokioExecutor>,
    router: Router,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    registry: Arc<Registry>,
}

impl Edge {
    async fn serve_connection(&self, stream: TcpStream, stopping: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        let peer = stream.peer_addr().ok();
        let (id, connection) = self.registry.open();
        match &self.tls {
            None => self.drive(stream, peer, &connection, stopping).await,
            Some(acceptor) => {
                // The handshake gets the same time as a request head.
                match tokio::time::timeout(self.limits.header_read_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => self.drive(stream, peer, &connection, stopping).await,
                    Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                }
            }
        }
        self.registry.closed(id);
    }

    /// Serve one connection's requests, each carrying the client's address
    /// (`ConnectInfo`, what the wrong-credential throttle counts by).
    async fn drive<I>(
        &self,
        io: I,
        peer: Option<SocketAddr>,
        connection: &Arc<Connection>,
        mut stopping: watch::Receiver<bool>,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let registry = self.registry.clone();
        let router = self.router.clone();
        let tracked = connection.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let in_flight = InFlight::begin(&registry, &tracked);
            if request.version() == axum::http::Version::HTTP_2 {
                tracked.http2.store(true, Ordering::Release);
            }
            if let Some(peer) = peer {
                request.extensions_mut().insert(ConnectInfo(peer));
            }
            let served = router.clone().oneshot(request.map(axum::body::Body::new));
            async move {
                let response = served.await;
                drop(in_flight);
                response
            }
        });
        let watched = Watched {
            inner: io,
            registry: self.registry.clone(),
            connection: connection.clone(),
        };
        let served = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(watched), service);
        tokio::pin!(served);
        let Limits {
            header_read_timeout,
            idle_timeout,
            ..
        } = self.limits;
        let mut idle_check =
            tokio::time::interval((header_read_timeout.min(idle_timeout) / 4).max(Duration::from_millis(50)));
        let closing = loop {
            tokio::select! {
                result = served.as_mut() => break result,
                _ = stopping.changed() => {}
                () = connection.close.notified() => {}
                _ = idle_check.tick() => {
                    let allowed = if connection.spoken.load(Ordering::Acquire) {
                        idle_timeout
                    } else {
                        header_read_timeout
                    };
                    let head_late = self
                        .registry
                        .head_for(connection)
                        .is_some_and(|reading| reading >= header_read_timeout);
                    let idle_too_long = self.registry.idle_for(connection).is_some_and(|idle| idle >= allowed);
                    if head_late || (idle_too_long && !connection.spoken.load(Ordering::Acquire)) {
                        // A head that is late: no request is in flight, and hyper's
                        // graceful shutdown would wait for the head to complete.
                        return;
                    }
                    if !idle_too_long {
                        continue;
                    }
                }
            }
            served.as_mut().graceful_shutdown();
            break served.await;
        };
        if let Err(e) = closing {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }
}

/// A connection's stream that notes when bytes arrive while no request is in flight:
/// the start of a request head, which must then complete within `header_read_timeout`.
struct Watched<I> {
    inner: I,
    registry: Arc<Registry>,
    connection: Arc<Connection>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let connection = &self.connection;
        if buf.filled().len() > before
            && connection.in_flight.load(Ordering::Acquire) == 0
            && !connection.http2.load(Ordering::Acquire)
            && connection.head_started.load(Ordering::Acquire) == NO_HEAD
        {
            connection
                .head_started
                .store(self.registry.now(), Ordering::Release);
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_needs_both_a_certificate_and_a_key() {
        let path = Path::new("cert.pem");
        assert!(matches!(
            tls_acceptor(Some(path), None),
            Err(TlsError::Incomplete)
        ));
        assert!(matches!(
            tls_acceptor(None, Some(path)),
            Err(TlsError::Incomplete)
        ));
        assert!(matches!(tls_acceptor(None, None), Ok(None)));
        let missing = tls_acceptor(Some(Path::new("/nonexistent/cert.pem")), Some(path));
        assert!(matches!(missing, Err(TlsError::Certificate { .. })));
    }
}
