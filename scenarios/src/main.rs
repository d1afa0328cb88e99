//! `unplug`: explore device-removal vs ioctl races in the scheme zoo.
//!
//! Exit status: 0 clean, 1 a finding, 2 bad input (one line on stderr).

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
            eprintln!("unplug: error: {}", cli::one_line(&format!("{e:#}")));
            ExitCode::from(cli::Status::BadInput as u8)
        }
    }
}
