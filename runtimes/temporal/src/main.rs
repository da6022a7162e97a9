//! `connector-temporal`: see [`connector_temporal::cli`].

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = connector_temporal::cli::Cli::parse();
    std::process::exit(connector_temporal::cli::run(cli).await);
}
