//! proptest round trips: `decode(encode(p)) == p` for every packet kind and
//! version, with the encoded bytes fed to the decoder in random chunks, and
//! `encoded_len` equal to the bytes written.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use courtier_proto::packet::*;
use courtier_proto::{Decoder, ReasonCode, TopicFilter, TopicName};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

use super::*;

fn text() -> impl Strategy<Value = ByteString> {
    "\\PC{0,6}".prop_map(ByteString::from)
}

fn bin() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

fn topic_name() -> impl Strategy<Value = TopicName> {
    "[a-z$]{1,4}(/[a-zé]{0,4}){0,2}".prop_map(|s| TopicName::new(s).expect("valid"))
}

fn topic_filter() -> impl Strategy<Value = TopicFilter> {
    "([a-z]{1,3}|\\+)(/([a-z]{0,3}|\\+)){0,2}(/#)?"
        .prop_map(|s| TopicFilter::new(s).expect("valid"))
}

fn users() -> impl Strategy<Value = Vec<UserProperty>> {
    vec(
        (text(), text()).prop_map(|(name, value)| UserProperty { name, value }),
        0..3,
    )
}

fn packet_id() -> impl Strategy<Value = PacketId> {
    (1..=u16::MAX).prop_map(|n| PacketId::new(n).expect("non-zero"))
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn nz16() -> impl Strategy<Value = NonZeroU16> {
    (1..=u16::MAX).prop_map(|n| NonZeroU16::new(n).expect("non-zero"))
}

fn nz32(max: u32) -> impl Strategy<Value = NonZeroU32> {
    (1..=max).prop_map(|n| NonZeroU32::new(n).expect("non-zero"))
}

fn format() -> impl Strategy<Value = PayloadFormat> {
    prop_oneof![Just(PayloadFormat::Unspecified), Just(PayloadFormat::Utf8)]
}

/// A reason code drawn from `codes`, all valid for the packet at hand.
fn reason(codes: &'static [u8]) -> impl Strategy<Value = ReasonCode> {
    proptest::sample::select(codes).prop_map(|c| ReasonCode::from_u8(c).expect("defined"))
}

/// `strategy` in 5.0, the default (what 3.x decodes to) otherwise.
fn v5_only<T: Default + Clone + std::fmt::Debug + 'static>(
    v: ProtocolVersion,
    strategy: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    if v.is_v5() {
        strategy.boxed()
    } else {
        Just(T::default()).boxed()
    }
}

fn auth_pair() -> impl Strategy<Value = (Option<ByteString>, Option<Bytes>)> {
    (of(text()), of(bin())).prop_map(|(m, d)| (m.clone(), d.filter(|_| m.is_some())))
}

fn will(v: ProtocolVersion) -> impl Strategy<Value = LastWill> {
    let props = (
        of(any::<u32>()),
        of(format()),
        of(any::<u32>()),
        of(text()),
        of(topic_name()),
    )
        .prop_flat_map(|t| (Just(t), of(bin()), users()))
        .prop_map(|((d, f, e, c, r), cd, u)| WillProperties {
            will_delay_interval: d,
            payload_format_indicator: f,
            message_expiry_interval: e,
            content_type: c,
            response_topic: r,
            correlation_data: cd,
            user_properties: u,
        });
    (topic_name(), bin(), qos(), any::<bool>(), v5_only(v, props)).prop_map(
        |(topic, payload, qos, retain, properties)| LastWill {
            topic,
            payload,
            qos,
            retain,
            properties,
        },
    )
}

fn connect(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let props = (
        of(any::<u32>()),
        of(nz16()),
        of(nz32(u32::MAX)),
        of(any::<u16>()),
    )
        .prop_flat_map(|t| {
            (
                Just(t),
                of(any::<bool>()),
                of(any::<bool>()),
                users(),
                auth_pair(),
            )
        })
        .prop_map(|((s, r, m, t), rri, rpi, u, (am, ad))| ConnectProperties {
            session_expiry_interval: s,
            receive_maximum: r,
            maximum_packet_size: m,
            topic_alias_maximum: t,
            request_response_information: rri,
            request_problem_information: rpi,
            user_properties: u,
            authentication_method: am,
            authentication_data: ad,
        });
    let head = (any::<bool>(), any::<u16>(), text(), of(will(v)));
    (head, of(text()), of(bin()), v5_only(v, props)).prop_map(
        move |((clean_start, keep_alive, client_id, will), username, password, properties)| {
            // 3.x forbids a password without a user name.
            let password = password.filter(|_| v.is_v5() || username.is_some());
            Packet::Connect(Box::new(Connect {
                protocol: v,
                clean_start,
                keep_alive,
                client_id,
                will,
                username,
                password,
                properties,
            }))
        },
    )
}

fn connack(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    const V3: &[u8] = &[0x00, 0x84, 0x85, 0x88, 0x86, 0x87];
    const V5: &[u8] = &[
        0x00, 0x80, 0x81, 0x82, 0x87, 0x88, 0x89, 0x8A, 0x95, 0x9C, 0x9F,
    ];
    let flags = (
        of(any::<bool>()),
        of(any::<bool>()),
        of(any::<bool>()),
        of(any::<bool>()),
    );
    let props = (
        of(any::<u32>()),
        of(nz16()),
        of(qos().prop_filter("0 or 1", |q| *q != QoS::ExactlyOnce)),
    )
        .prop_flat_map(move |t| {
            (
                Just(t),
                flags.clone(),
                of(nz32(u32::MAX)),
                of(text()),
                of(any::<u16>()),
            )
        })
        .prop_flat_map(|t| {
            (
                Just(t),
                of(text()),
                users(),
                of(any::<u16>()),
                of(text()),
                of(text()),
                auth_pair(),
            )
        })
        .prop_map(
            |(((s, r, q), (ra, w, si, sh), m, a, t), rs, u, ka, ri, sr, (am, ad))| {
                ConnAckProperties {
                    session_expiry_interval: s,
                    receive_maximum: r,
                    maximum_qos: q,
                    retain_available: ra,
                    maximum_packet_size: m,
                    assigned_client_identifier: a,
                    topic_alias_maximum: t,
                    reason_string: rs,
                    user_properties: u,
                    wildcard_subscription_available: w,
                    subscription_identifiers_available: si,
                    shared_subscription_available: sh,
                    server_keep_alive: ka,
                    response_information: ri,
                    server_reference: sr,
                    authentication_method: am,
                    authentication_data: ad,
                }
            },
        );
    let codes = if v.is_v5() { V5 } else { V3 };
    (any::<bool>(), reason(codes), v5_only(v, props)).prop_map(move |(sp, reason, properties)| {
        let session_present = sp && reason.is_success() && v != V31;
        Packet::ConnAck(ConnAck {
            session_present,
            reason,
            properties,
        })
    })
}

fn publish(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let props = (
        of(format()),
        of(any::<u32>()),
        of(nz16()),
        of(topic_name()),
        of(bin()),
    )
        .prop_flat_map(|t| (Just(t), users(), vec(nz32(268_435_455), 0..3), of(text())))
        .prop_map(|((f, e, a, r, c), u, s, ct)| PublishProperties {
            payload_format_indicator: f,
            message_expiry_interval: e,
            topic_alias: a,
            response_topic: r,
            correlation_data: c,
            user_properties: u,
            subscription_identifiers: s,
            content_type: ct,
        });
    let head = (
        any::<bool>(),
        qos(),
        packet_id(),
        any::<bool>(),
        any::<bool>(),
    );
    (
        head,
        topic_name(),
        v5_only(v, props),
        vec(any::<u8>(), 0..300),
    )
        .prop_map(
            |((dup, qos, id, retain, alias_only), topic, properties, payload)| {
                let alias_only = alias_only && properties.topic_alias.is_some();
                Packet::Publish(Publish {
                    dup: dup && qos != QoS::AtMostOnce,
                    qos_pid: QosPid::new(qos, id),
                    retain,
                    topic: if alias_only {
                        TopicName::alias_only()
                    } else {
                        topic
                    },
                    properties,
                    payload: payload.into(),
                })
            },
        )
}

fn ack(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let kind = prop_oneof![
        Just(AckKind::PubAck),
        Just(AckKind::PubRec),
        Just(AckKind::PubRel),
        Just(AckKind::PubComp)
    ];
    let tail = (
        reason(&[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
        reason(&[0x00, 0x92]),
        of(text()),
        users(),
    );
    (kind, packet_id(), v5_only(v, tail.prop_map(Some))).prop_map(|(kind, id, tail)| {
        let mut ack = Ack::new(kind, id);
        if let Some((pub_code, rel_code, rs, u)) = tail {
            let rel = matches!(kind, AckKind::PubRel | AckKind::PubComp);
            ack.reason = if rel { rel_code } else { pub_code };
            (ack.reason_string, ack.user_properties) = (rs, u);
        }
        Packet::Ack(ack)
    })
}

fn subscribe(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let handling = prop_oneof![
        Just(RetainHandling::SendAtSubscribe),
        Just(RetainHandling::SendIfNew),
        Just(RetainHandling::DoNotSend)
    ];
    let v5_options = v5_only(v, (any::<bool>(), any::<bool>(), handling));
    let sub =
        (topic_filter(), qos(), v5_options).prop_map(|(filter, qos, (nl, rap, rh))| Subscription {
            filter,
            options: SubscriptionOptions {
                qos,
                no_local: nl,
                retain_as_published: rap,
                retain_handling: rh,
            },
        });
    let props = (of(nz32(268_435_455)), users()).prop_map(|(s, u)| SubscribeProperties {
        subscription_identifier: s,
        user_properties: u,
    });
    (packet_id(), vec(sub, 1..5), v5_only(v, props)).prop_map(
        |(packet_id, subscriptions, properties)| {
            Packet::Subscribe(Subscribe {
                packet_id,
                subscriptions,
                properties,
            })
        },
    )
}

fn suback(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let codes: &'static [u8] = if v.is_v5() {
        &[
            0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
        ]
    } else {
        &[0x00, 0x01, 0x02, 0x80]
    };
    (
        packet_id(),
        vec(reason(codes), 1..5),
        v5_only(v, (of(text()), users())),
    )
        .prop_map(
            |(packet_id, reason_codes, (reason_string, user_properties))| {
                Packet::SubAck(SubAck {
                    packet_id,
                    reason_codes,
                    reason_string,
                    user_properties,
                })
            },
        )
}

fn unsubscribe(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (packet_id(), vec(topic_filter(), 1..5), v5_only(v, users())).prop_map(
        |(packet_id, filters, user_properties)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                filters,
                user_properties,
            })
        },
    )
}

fn unsuback(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let codes = vec(reason(&[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91]), 1..5);
    (packet_id(), v5_only(v, (codes, of(text()), users()))).prop_map(
        |(packet_id, (reason_codes, reason_string, user_properties))| {
            Packet::UnsubAck(UnsubAck {
                packet_id,
                reason_codes,
                reason_string,
                user_properties,
            })
        },
    )
}

fn disconnect(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let codes: &'static [u8] = &[
        0x00, 0x04, 0x80, 0x81, 0x82, 0x8B, 0x8E, 0x93, 0x94, 0x95, 0xA2,
    ];
    let props = (of(any::<u32>()), of(text()), users(), of(text())).prop_map(|(s, r, u, sr)| {
        DisconnectProperties {
            session_expiry_interval: s,
            reason_string: r,
            user_properties: u,
            server_reference: sr,
        }
    });
    v5_only(v, (reason(codes), props))
        .prop_map(|(reason, properties)| Packet::Disconnect(Disconnect { reason, properties }))
}

fn auth() -> impl Strategy<Value = Packet> {
    (
        reason(&[0x00, 0x18, 0x19]),
        auth_pair(),
        of(text()),
        users(),
    )
        .prop_map(|(reason, (am, ad), rs, u)| {
            let properties = AuthProperties {
                authentication_method: am,
                authentication_data: ad,
                reason_string: rs,
                user_properties: u,
            };
            Packet::Auth(Auth { reason, properties })
        })
}

fn any_packet(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let mut kinds = vec![
        connect(v).boxed(),
        connack(v).boxed(),
        publish(v).boxed(),
        ack(v).boxed(),
        subscribe(v).boxed(),
        suback(v).boxed(),
        unsubscribe(v).boxed(),
        unsuback(v).boxed(),
        Just(Packet::PingReq).boxed(),
        Just(Packet::PingResp).boxed(),
        disconnect(v).boxed(),
    ];
    if v.is_v5() {
        kinds.push(auth().boxed());
    }
    proptest::strategy::Union::new(kinds).boxed()
}

fn version_and_packet() -> impl Strategy<Value = (ProtocolVersion, Packet)> {
    proptest::sample::select(&ALL[..]).prop_flat_map(|v| (Just(v), any_packet(v)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decode_of_encode_is_identity_in_random_chunks(
        (v, packet) in version_and_packet(),
        cuts in vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut bytes = BytesMut::new();
        packet.encode(v, &mut bytes).expect("encodes");
        prop_assert_eq!(packet.encoded_len(v), bytes.len());
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len())).collect();
        cuts.push(bytes.len());
        cuts.sort_unstable();
        let mut decoder = Decoder::with_version(u32::MAX, v);
        let (mut buf, mut start) = (BytesMut::new(), 0);
        for (n, &end) in cuts.iter().enumerate() {
            buf.extend_from_slice(&bytes[start..end]);
            start = end;
            let decoded = decoder.decode(&mut buf).expect("decodes");
            if n + 1 < cuts.len() {
                prop_assert_eq!(decoded, None);
            } else {
                prop_assert_eq!(decoded.as_ref(), Some(&packet));
            }
        }
        prop_assert!(buf.is_empty());
    }
}
