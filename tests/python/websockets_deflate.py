"""MQTT 3.1.1 by hand over the Python `websockets` library, which offers
permessage-deflate by default and compresses with zlib: a second,
independent deflate implementation against the broker. Checks the
negotiated extension, then CONNECT, SUBSCRIBE and a 256 KiB JSON PUBLISH at
QoS 1 that must come back intact. Usage: websockets_deflate.py URL
Exit status 0 on success; prints the negotiated extension."""

import asyncio
import json
import sys

from websockets.asyncio.client import connect

TIMEOUT = 10


def packet(kind, body):
    """A packet: fixed header with the varint remaining length, then body."""
    out = bytearray([kind])
    n = len(body)
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out) + body


def utf8(s):
    b = s.encode()
    return len(b).to_bytes(2, "big") + b


class Reader:
    """MQTT packets from a stream of WebSocket messages (packets may span them)."""

    def __init__(self, ws):
        self.ws, self.buf = ws, bytearray()

    async def packet(self):
        while True:
            if len(self.buf) >= 2:
                length, shift, i = 0, 0, 1
                while i < len(self.buf):
                    length |= (self.buf[i] & 0x7F) << shift
                    shift += 7
                    i += 1
                    if not self.buf[i - 1] & 0x80:
                        if len(self.buf) >= i + length:
                            kind, body = self.buf[0], bytes(self.buf[i : i + length])
                            del self.buf[: i + length]
                            return kind, body
                        break
            self.buf += await self.ws.recv()


async def main(url):
    async with connect(url, subprotocols=["mqtt"], max_size=None) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        print(f"negotiated: {ext}")
        if not ext.startswith("permessage-deflate"):
            raise SystemExit(f"no permessage-deflate: {ext!r}")
        r = Reader(ws)
        await ws.send(packet(0x10, utf8("MQTT") + bytes([4, 2, 0, 0]) + utf8("py-websockets")))
        kind, body = await r.packet()
        assert kind == 0x20 and body[1] == 0, f"CONNACK {kind:#x} {body!r}"
        await ws.send(packet(0x82, (1).to_bytes(2, "big") + utf8("py/deflate") + bytes([1])))
        kind, _ = await r.packet()
        assert kind == 0x90, f"SUBACK expected, got {kind:#x}"
        rows = [json.dumps({"device": f"sensor-{i % 97}", "seq": i, "temp": 20 + i % 7}) for i in range(8000)]
        payload = "\n".join(rows).encode()[: 256 * 1024]
        await ws.send(packet(0x32, utf8("py/deflate") + (2).to_bytes(2, "big") + payload))
        got = None
        while got is None:
            kind, body = await r.packet()
            if kind & 0xF0 == 0x30:
                topic_len = int.from_bytes(body[:2], "big")
                got = body[2 + topic_len + 2 :]
        assert got == payload, f"payload differs: {len(got)} bytes, expected {len(payload)}"
        await ws.send(packet(0xE0, b""))


asyncio.run(asyncio.wait_for(main(sys.argv[1]), TIMEOUT))
