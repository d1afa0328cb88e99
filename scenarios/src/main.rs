//! `unplug`: explore device-removal vs ioctl races in the scheme zoo (see
//! [`unplug::cli`]).

fn main() -> std::process::ExitCode {
    unplug::cli::main(unplug::Registry::zoo())
}
