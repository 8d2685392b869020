//! The accept loop: HTTP/1.1 connections, at most `max` at once, each with a header
//! timeout that also closes it once idle. A connection past the limit waits in the
//! listen backlog until one ends, so a crowd of idle or stalled clients (a slowloris)
//! costs a few seconds of delay, never the process. axum::serve has neither knob.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower_service::Service as _;

/// Serves `router` on `listener` until `stop` is notified, then lets the requests in
/// flight finish. Aborting the task that runs this cuts every connection.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    max: usize,
    stop: Arc<Notify>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let permits = Arc::new(Semaphore::new(max));
    let (drain, draining) = watch::channel(false);
    let mut connections = JoinSet::new();
    let stopped = stop.notified();
    tokio::pin!(stopped);
    loop {
        let permit = tokio::select! {
            _ = &mut stopped => break,
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let (socket, peer) = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors despite the limit (another part of the process
                    // used them) or a connection reset before accept: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection failed; retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(connection(
            socket,
            peer,
            router.clone(),
            http.clone(),
            permit,
            draining.clone(),
        ));
    }
    drop(listener);
    let _ = drain.send(true);
    while connections.join_next().await.is_some() {}
}

async fn connection(
    socket: TcpStream,
    peer: SocketAddr,
    router: Router,
    http: hyper::server::conn::http1::Builder,
    _permit: OwnedSemaphorePermit,
    mut draining: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().call(request)
    });
    let conn = http.serve_connection(TokioIo::new(socket), service);
    tokio::pin!(conn);
    let served = tokio::select! {
        served = conn.as_mut() => served,
        _ = async { draining.wait_for(|d| *d).await.is_ok() } => {
            // Finish the request in flight, take no other.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = served {
        // A client that stalls or vanishes ends here; it is not the server's error.
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}
