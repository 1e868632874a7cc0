//! proptest round trips (filled in below).
