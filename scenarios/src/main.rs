//! `unplug`: explore device-removal vs ioctl races in the scheme zoo.
//!
//! Exit status: 0 clean, 1 a finding, 2 bad input or an unwritable output
//! (one line on stderr), 130 interrupted before anything was found.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => return cli::usage_error(e),
    };
    match cli::run(args) {
        Ok(status) => status.into(),
        Err(e) => {
            eprintln!("unplug: error: {}", cli::error_line(&e));
            ExitCode::from(cli::Status::BadInput as u8)
        }
    }
}
