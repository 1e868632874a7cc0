//! The `courtier` binary.

fn main() {}
