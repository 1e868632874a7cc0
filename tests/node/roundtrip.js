// mqtt.js (npm package `mqtt`) through Courtier: for MQTT 3.1.1 and 5,
// subscribe at QoS 2, publish at QoS 0, 1 and 2, and check every message
// comes back. Usage: node roundtrip.js URL [CA_FILE]
// URL is mqtt://, mqtts://, ws:// or wss://; CA_FILE is the PEM CA that
// signed the broker's certificate. Exit status 0 on success.
'use strict';

const fs = require('fs');
const mqtt = require('mqtt');

const TIMEOUT_MS = 5000;

function roundtrip(url, ca, protocolVersion) {
  return new Promise((resolve, reject) => {
    const name = `v${protocolVersion}`;
    const topic = `mqttjs/${new URL(url).protocol.replace(':', '')}/${name}`;
    const options = {
      protocolVersion,
      clientId: `mqttjs-${name}-${process.pid}`,
      reconnectPeriod: 0,
      connectTimeout: TIMEOUT_MS,
    };
    if (ca) {
      options.ca = fs.readFileSync(ca);
      options.rejectUnauthorized = true;
      options.servername = 'localhost';
    }
    const client = mqtt.connect(url, options);
    const received = [];
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error(`${url} ${name}: timed out; received ${JSON.stringify(received)}`));
    }, TIMEOUT_MS);
    const fail = (e) => {
      clearTimeout(timer);
      client.end(true);
      reject(new Error(`${url} ${name}: ${e.message || e}`));
    };
    client.on('error', fail);
    client.on('message', (t, payload, packet) => {
      received.push([packet.qos, payload.toString()]);
      if (received.length === 3) {
        clearTimeout(timer);
        received.sort();
        const expected = [[0, 'qos0'], [1, 'qos1'], [2, 'qos2']];
        client.end(false, () => {
          if (JSON.stringify(received) === JSON.stringify(expected)) resolve();
          else reject(new Error(`${url} ${name}: got ${JSON.stringify(received)}`));
        });
      }
    });
    client.on('connect', () => {
      client.subscribe(topic, { qos: 2 }, (err) => {
        if (err) return fail(err);
        for (const qos of [0, 1, 2]) client.publish(topic, `qos${qos}`, { qos });
      });
    });
  });
}

async function main() {
  const [url, ca] = process.argv.slice(2);
  if (!url) throw new Error('usage: node roundtrip.js URL [CA_FILE]');
  for (const version of [4, 5]) await roundtrip(url, ca, version);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e.message);
    process.exit(1);
  },
);
