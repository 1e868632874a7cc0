// mqtt.js over ws:// with permessage-deflate (node's `ws`, which mqtt.js
// uses, offers it by default). First a bare `ws` socket shows what the
// broker negotiated, then mqtt.js (3.1.1 and 5) subscribes at QoS 2 and
// publishes QoS 0, 1 and 2 plus a 1 MiB payload, all of which must come
// back intact (the broker needs --max-packet-size above 1 MiB). Prints
// the negotiated extension. Usage: node deflate.js URL
'use strict';

const crypto = require('crypto');
const WebSocket = require('ws');
const mqtt = require('mqtt');

const TIMEOUT_MS = 10000;

function negotiated(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['mqtt']);
    ws.on('open', () => {
      const ext = ws.extensions;
      ws.close();
      resolve(ext);
    });
    ws.on('error', reject);
  });
}

function roundtrip(url, protocolVersion) {
  return new Promise((resolve, reject) => {
    const name = `v${protocolVersion}`;
    const topic = `deflate/${name}`;
    // 1 MiB of JSON-ish text with random ids: compressible, not trivially.
    const rows = [];
    for (let len = 0; len < 1 << 20; ) {
      const row = JSON.stringify({ id: crypto.randomBytes(6).toString('hex'), temp: 21.5, unit: 'C' });
      rows.push(row);
      len += row.length + 1;
    }
    const big = rows.join('\n').slice(0, 1 << 20);
    const expected = new Map([['qos0', 0], ['qos1', 1], ['qos2', 2], [big, 1]]);
    const client = mqtt.connect(url, {
      protocolVersion,
      clientId: `deflate-${name}-${process.pid}`,
      reconnectPeriod: 0,
      connectTimeout: TIMEOUT_MS,
    });
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error(`${name}: timed out; missing ${[...expected.keys()].map((k) => k.length)}`));
    }, TIMEOUT_MS);
    const fail = (e) => {
      clearTimeout(timer);
      client.end(true);
      reject(new Error(`${name}: ${e.message || e}`));
    };
    client.on('error', fail);
    client.on('message', (t, payload, packet) => {
      const text = payload.toString();
      if (expected.get(text) !== packet.qos) {
        return fail(new Error(`unexpected message at QoS ${packet.qos}, ${text.length} bytes`));
      }
      expected.delete(text);
      if (expected.size === 0) {
        clearTimeout(timer);
        client.end(false, resolve);
      }
    });
    client.on('connect', () => {
      client.subscribe(topic, { qos: 2 }, (err) => {
        if (err) return fail(err);
        for (const [payload, qos] of expected) client.publish(topic, payload, { qos });
      });
    });
  });
}

async function main() {
  const [url] = process.argv.slice(2);
  if (!url) throw new Error('usage: node deflate.js URL');
  const ext = await negotiated(url);
  console.log(`negotiated: ${ext}`);
  if (!ext.startsWith('permessage-deflate')) throw new Error(`no permessage-deflate: "${ext}"`);
  for (const version of [4, 5]) await roundtrip(url, version);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e.message);
    process.exit(1);
  },
);
