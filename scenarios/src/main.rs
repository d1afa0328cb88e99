//! `unplug`: explore device-removal vs ioctl races in the scheme zoo (see
//! [`scenarios::cli`]).

fn main() -> std::process::ExitCode {
    scenarios::cli::main(scenarios::Registry::zoo())
}
