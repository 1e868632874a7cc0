"""paho-mqtt through Courtier: subscribe, publish at QoS 0/1/2 (MQTT 3.1.1
and 5), and check every message comes back. Usage: paho_roundtrip.py HOST PORT [tcp|websockets]
Exit status 0 on success; a message on stderr otherwise."""

import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

TIMEOUT = 5.0


def roundtrip(host: str, port: int, protocol, transport: str) -> None:
    name = "v5" if protocol == mqtt.MQTTv5 else "v311"
    topic = f"paho/{transport}/{name}"
    subscribed = threading.Event()
    done = threading.Event()
    received = []

    def on_connect(client, userdata, flags, reason_code, properties):
        client.subscribe(topic, qos=2)

    def on_subscribe(client, userdata, mid, reason_codes, properties):
        subscribed.set()

    def on_message(client, userdata, message):
        received.append((message.qos, message.payload))
        if len(received) == 3:
            done.set()

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"paho-{transport}-{name}",
        protocol=protocol,
        transport=transport,
    )
    if transport == "websockets":
        client.ws_set_options(path="/mqtt")
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port, keepalive=10)
    client.loop_start()
    try:
        if not subscribed.wait(TIMEOUT):
            raise SystemExit(f"{name}/{transport}: no SUBACK")
        for qos in (0, 1, 2):
            client.publish(topic, f"qos{qos}".encode(), qos=qos)
        if not done.wait(TIMEOUT):
            raise SystemExit(f"{name}/{transport}: received only {received}")
        expected = [(0, b"qos0"), (1, b"qos1"), (2, b"qos2")]
        if sorted(received) != expected:
            raise SystemExit(f"{name}/{transport}: got {received}, expected {expected}")
    finally:
        client.disconnect()
        client.loop_stop()


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    transport = sys.argv[3] if len(sys.argv) > 3 else "tcp"
    for protocol in (mqtt.MQTTv311, mqtt.MQTTv5):
        roundtrip(host, port, protocol, transport)


if __name__ == "__main__":
    main()
