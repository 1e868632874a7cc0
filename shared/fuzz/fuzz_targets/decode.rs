//! Arbitrary bytes into every kind of decoder (server-side, and each fixed
//! version); whatever decodes must re-encode, with `encoded_len` exact, and
//! decode again to the same packet.

#![no_main]

use bytes::BytesMut;
use courtier_proto::{Decoder, ProtocolVersion};
use libfuzzer_sys::fuzz_target;

const MAX: u32 = 1 << 16;

fuzz_target!(|data: &[u8]| {
    let decoders = [
        Decoder::new(MAX),
        Decoder::with_version(MAX, ProtocolVersion::V3_1),
        Decoder::with_version(MAX, ProtocolVersion::V3_1_1),
        Decoder::with_version(MAX, ProtocolVersion::V5),
    ];
    for mut decoder in decoders {
        let mut buf = BytesMut::from(data);
        while let Ok(Some(packet)) = decoder.decode(&mut buf) {
            let version = decoder.version().expect("known once a packet decoded");
            let mut out = BytesMut::new();
            packet.encode(version, &mut out).expect("a decoded packet re-encodes");
            assert_eq!(packet.encoded_len(version), out.len());
            let again = Decoder::with_version(u32::MAX, version).decode(&mut out);
            assert_eq!(again, Ok(Some(packet)));
            assert!(out.is_empty());
        }
    }
});
