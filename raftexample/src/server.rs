//! One node of the cluster: binds its two listeners, starts raft, the
//! transport, the proposer and the HTTP API, then waits for the shutdown
//! signal (SIGINT, SIGTERM, this node's removal, or a fatal error) and
//! takes everything down in order: the Ready loop, the node, the transport,
//! the requests still waiting, the HTTP server.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::cli::{CliError, NodeArgs};
use crate::http::{self, Api};
use crate::inbox;
use crate::logger::stderr_logger;
use crate::proposer;
use crate::raft_node::{start_raft, Exit, LoopError, RaftOptions, StartError};
use crate::transport::Transport;

/// Why a node could not run, or stopped on an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A flag is wrong.
    #[error(transparent)]
    Cli(#[from] CliError),
    /// A listener could not be bound.
    #[error("cannot listen for {what} on {addr}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime or a thread could not be started.
    #[error("cannot start: {0}")]
    Io(#[from] std::io::Error),
    /// Raft or its storage could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The Ready loop stopped on an error.
    #[error(transparent)]
    Loop(#[from] LoopError),
    /// The Ready loop panicked (a bug).
    #[error("the Ready loop panicked")]
    LoopPanicked,
}

/// Runs the node described by `args` until it is told to stop or removed.
pub fn run(args: &NodeArgs) -> Result<Exit, ServerError> {
    let logger = stderr_logger(args.id, args.verbose);
    let own = args.own_addr()?.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(args.io_threads))
        .thread_name("raftexample-io")
        .enable_all()
        .build()?;
    let bind = |what: &'static str, addr: String| {
        rt.block_on(TcpListener::bind(addr.clone()))
            .map_err(|source| ServerError::Bind { what, addr, source })
    };
    let peer_listener = bind("peers", own.as_str().to_owned())?;
    let http_addr = format!("{}:{}", own.host(), args.port);
    let http_listener = bind("HTTP clients", http_addr.clone())?;

    let (reports_tx, reports_rx) = crossbeam_channel::unbounded();
    let net = CancellationToken::new();
    let transport = Arc::new(Transport::new(
        args.id,
        rt.handle().clone(),
        reports_tx,
        net.clone(),
        logger.clone(),
    ));
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
    let opts = RaftOptions {
        id: args.id,
        cluster: args.cluster.0.clone(),
        join: args.join,
        data_dir: args.data_dir(),
        snapshot_count: args.snapshot_count,
        snapshot_catchup: args.snapshot_catchup(),
        tick: args.tick(),
        wal_segment_size: args.wal_segment_mb << 20,
    };
    let started = start_raft(&opts, transport.clone(), reports_rx, stop_rx, &logger)?;
    let (node, shared) = (started.node.clone(), started.shared.clone());

    let (inbox, inbox_rx) = inbox::inbox();
    // Forwarded proposals wait for a leader about as long as an election.
    inbox_rx.start(node.clone(), args.tick() * 20)?;
    transport.serve(peer_listener, inbox);
    let (proposer, _proposer_thread) =
        proposer::start(node.clone(), shared.clone(), args.request_timeout())?;

    let api = Api {
        node: node.clone(),
        shared: shared.clone(),
        proposer,
        timeout: args.request_timeout(),
        read_retry: args.tick() * 20,
    };
    let shutdown = shared.shutdown.clone();
    let http_server = rt.spawn(
        axum::serve(http_listener, http::router(api))
            .with_graceful_shutdown(shutdown.clone().cancelled_owned())
            .into_future(),
    );
    rt.spawn(on_signal(shutdown.clone(), logger.clone()));
    slog::info!(
        logger,
        "node {} serves keys on http://{} and peers on {} (data in {})",
        args.id,
        http_addr,
        own,
        opts.data_dir.display()
    );

    rt.block_on(shutdown.cancelled());
    drop(stop_tx);
    let exit = started.ready_loop.join();
    if let Err(e) = node.stop() {
        slog::error!(logger, "the raft node had failed: {}", e);
    }
    net.cancel();
    // Nothing can answer the requests still waiting: tell them now.
    shared.puts.clear();
    shared.confs.clear();
    shared.reads.clear();
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(2), http_server).await });
    rt.shutdown_timeout(Duration::from_secs(1));
    match exit {
        Ok(Ok(exit)) => {
            slog::info!(logger, "stopped ({:?})", exit);
            Ok(exit)
        }
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(ServerError::LoopPanicked),
    }
}

/// Fires `shutdown` on SIGINT or SIGTERM.
async fn on_signal(shutdown: CancellationToken, logger: slog::Logger) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        slog::warn!(logger, "cannot watch SIGINT/SIGTERM");
        return;
    };
    let name = tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
        _ = shutdown.cancelled() => return,
    };
    slog::info!(logger, "{} received: shutting down", name);
    shutdown.cancel();
}
