//! `connector-harness`: run the connector component from the command line.
//! JSON on stdout, human messages on stderr; exit 0 ok, 1 connector error, 2 usage error.

mod bench;
mod cli;
mod demo;
mod mcp_http;

fn main() -> std::process::ExitCode {
    cli::main()
}
