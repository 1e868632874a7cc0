//! Negative vectors: one or more per validation rule, each asserting the
//! exact error and the v5 reason code a server answers with.

use courtier_proto::{DecodeError as E, ReasonCode as R};

use super::*;

#[test]
fn reserved_fixed_header_flags() {
    let e = E::ReservedFlags { packet_type: 6, flags: 0 };
    check_err(V311, &[0x60, 0x02, 0x00, 0x01], e, R::MalformedPacket);
}
