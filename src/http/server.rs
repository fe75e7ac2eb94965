//! The accept loop: HTTP/1.1 connections (WebSocket upgrades included) with a deadline for
//! request headers, a cap on connections served at once, and a graceful stop.
//!
//! `axum::serve` sets neither a header deadline nor a cap, so a client sending a byte a second
//! held its connection for as long as it liked, and enough of them used up the process's file
//! descriptors. Here a client gets `header_read_timeout` to send each request's headers (an idle
//! keep-alive connection is closed after that long too), and at most `max_connections`
//! connections are served at once: further ones are not accepted but wait in the listen backlog
//! (the kernel's queue, which takes no descriptor of ours) until one closes. The body deadline
//! is a layer of the router (`body_deadline`), since it answers 408.

use std::{future::Future, io, net::SocketAddr, pin::pin, sync::Arc, time::Duration};

use axum::{Router, extract::connect_info::IntoMakeServiceWithConnectInfo};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{Semaphore, watch},
};
use tower::Service;

use crate::config::HttpConfig;

/// Serves `app` on `listener` until `shutdown` completes; then accepts nothing more, lets
/// requests in flight finish for up to `config.shutdown_grace`, and returns (a request still
/// running then is dropped, and a warning says so). Handlers see the peer address as
/// `ConnectInfo<SocketAddr>`; responses leave with `TCP_NODELAY`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: &HttpConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut make_service: IntoMakeServiceWithConnectInfo<Router, SocketAddr> =
        app.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let builder = Arc::new(builder);
    // A permit per connection served; all of them back means every connection is done.
    let slots = Arc::new(Semaphore::new(config.max_connections as usize));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);

    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &slots) => accepted,
        };
        let (permit, stream, peer) = accepted;
        // Responses go out as soon as they are written: with Nagle's algorithm a response whose
        // head and body leave in two writes waits for the client's delayed ACK (up to 40 ms).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY on a connection");
        }
        let Ok(service) = make_service.call(peer).await;
        let service = TowerToHyperService::new(service);
        let builder = Arc::clone(&builder);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let connections = metrics::gauge!("http_connections");
            connections.increment(1.0);
            // An upgraded connection (a WebSocket) completes this future and lives on in the
            // upgrade's own task, outside the count.
            let mut connection = pin!(
                builder
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
            );
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = async {
                    // The guard `wait_for` returns must not live across the await below.
                    let _ = stop.wait_for(|stopping| *stopping).await;
                } => {
                    // Finish the request in flight, take no further one.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            connections.decrement(1.0);
            if let Err(error) = result {
                // Clients that go away, or are too slow with their headers, end here.
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }

    // No new connections (the listening socket closes), and the open ones finish their request
    // in flight and close.
    drop(listener);
    let _ = stop_tx.send(true);
    let grace = config.shutdown_grace;
    if tokio::time::timeout(grace, slots.acquire_many(config.max_connections))
        .await
        .is_err()
    {
        tracing::warn!(
            grace_seconds = grace.as_secs(),
            "grace period over; stopping with requests in flight"
        );
    }
    Ok(())
}

/// The next connection, once a slot for it is free.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> (tokio::sync::OwnedSemaphorePermit, TcpStream, SocketAddr) {
    let permit = Arc::clone(slots)
        .acquire_owned()
        .await
        .expect("the connection semaphore is never closed");
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => return (permit, stream, peer),
            // The client gave up before it was accepted: nothing to do.
            Err(error) if is_connection_error(&error) => {}
            // Out of file descriptors, most likely: wait for some to close rather than spin.
            Err(error) => {
                tracing::error!(%error, "cannot accept connections");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
