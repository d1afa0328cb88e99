//! Race-detector probes: small self-contained scenarios, outside the zoo,
//! whose verdict pins down one rule of the data-race detector (a plain
//! access racing a marked one, a free racing a read, …). They run under
//! every command that takes a scheme name; `all` does not include them.

use crate::schemes::Scheme;

/// Every probe.
pub static ALL: &[Scheme] = &[];
