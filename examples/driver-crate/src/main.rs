//! `driver-crate`: the whole `unplug` command line over this crate's schemes.

fn main() -> std::process::ExitCode {
    unplug::cli::main(driver_crate::registry())
}
