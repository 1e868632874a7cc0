//! Just enough DER to read the subject Common Name of a client certificate
//! (RFC 5280 section 4.1) — the name a verified client certificate gives
//! the connection. rustls has already verified the certificate; this only
//! walks it, and returns `None` for anything unexpected instead of failing.

/// A DER tag-length-value: (tag, contents, rest of input).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        // Long form: the low bits give how many length bytes follow; a
        // certificate never needs more than 4.
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
/// `[0] EXPLICIT Version`, absent in v1 certificates.
const VERSION: u8 = 0xa0;
/// id-at-commonName, 2.5.4.3.
const COMMON_NAME: [u8; 3] = [0x55, 0x04, 0x03];

/// The first Common Name in the subject of the DER certificate `cert`.
pub(super) fn subject_common_name(cert: &[u8]) -> Option<String> {
    let (SEQUENCE, certificate, _) = tlv(cert)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = tlv(certificate)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, _, after) = tlv(rest)?;
    if tag == VERSION {
        rest = after;
    }
    // serialNumber, signature, issuer, validity, then subject.
    for _ in 0..4 {
        rest = tlv(rest)?.2;
    }
    let (SEQUENCE, mut names, _) = tlv(rest)? else {
        return None;
    };
    while !names.is_empty() {
        let (SET, mut set, next) = tlv(names)? else {
            return None;
        };
        names = next;
        while !set.is_empty() {
            let (SEQUENCE, attribute, next) = tlv(set)? else {
                return None;
            };
            set = next;
            let (OID, oid, value) = tlv(attribute)? else {
                return None;
            };
            if oid == COMMON_NAME {
                let (tag, text, _) = tlv(value)?;
                return directory_string(tag, text);
            }
        }
    }
    None
}

/// A DirectoryString as text: UTF8String, PrintableString, IA5String,
/// TeletexString (read as Latin-1, as in practice) or BMPString (UTF-16BE).
fn directory_string(tag: u8, bytes: &[u8]) -> Option<String> {
    match tag {
        0x0c | 0x13 | 0x16 => std::str::from_utf8(bytes).ok().map(str::to_owned),
        0x14 => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        0x1e => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_with(name: Option<&str>) -> Vec<u8> {
        let mut params =
            rcgen::CertificateParams::new(vec!["device.example".to_owned()]).expect("params");
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::OrganizationName, "Courtier tests");
        if let Some(name) = name {
            dn.push(rcgen::DnType::CommonName, name);
        }
        params.distinguished_name = dn;
        let key = rcgen::KeyPair::generate().expect("key");
        params.self_signed(&key).expect("cert").der().to_vec()
    }

    #[test]
    fn the_common_name_is_read_from_a_real_certificate() {
        assert_eq!(
            subject_common_name(&cert_with(Some("sensor-17"))).as_deref(),
            Some("sensor-17")
        );
        assert_eq!(
            subject_common_name(&cert_with(Some("capteur-été"))).as_deref(),
            Some("capteur-été")
        );
    }

    #[test]
    fn no_common_name_is_none() {
        assert_eq!(subject_common_name(&cert_with(None)), None);
    }

    #[test]
    fn truncated_or_garbage_input_is_none_not_a_panic() {
        let cert = cert_with(Some("x"));
        for len in 0..cert.len() {
            let _ = subject_common_name(&cert[..len]);
        }
        assert_eq!(
            subject_common_name(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            None
        );
        assert_eq!(directory_string(0x1e, &[0xd8, 0x00]), None);
        assert_eq!(directory_string(0x1e, &[0x00, 0x41]).as_deref(), Some("A"));
    }
}
