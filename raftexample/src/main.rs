//! raftexample: a replicated key-value server (etcd's contrib/raftexample).
//! See the crate's library docs for the map of the files.

use std::process::ExitCode;

use clap::Parser;
use raftexample::cli::{Cli, Command};
use raftexample::{bench, cluster, server};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        None => server::run(&cli.node)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Some(Command::Cluster(args)) => cluster::run(args).map_err(|e| e.to_string()),
        Some(Command::Bench(args)) => bench::run(args).map(|_| ()).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raftexample: error: {e}");
            ExitCode::FAILURE
        }
    }
}
