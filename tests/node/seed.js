// The project seed's own example with mqtt.js (npm package `mqtt`): over
// mqtts with a user name and password, subscribe to `dev` and receive one's
// own publish. Usage:
//   node seed.js URL CA_FILE VERSION USER PASSWORD EXPECT
// USER and PASSWORD may be '-' for none. EXPECT is `ok`, or the CONNACK code
// the connection must be refused with (3.1.1: 4 or 5; 5.0: 134 or 135).
// Exit status 0 when it went as expected.
'use strict';

const fs = require('fs');
const mqtt = require('mqtt');

const TIMEOUT_MS = 5000;

function run(url, ca, version, username, password, expect) {
  return new Promise((resolve, reject) => {
    const options = {
      protocolVersion: version,
      clientId: `seed-${version}-${process.pid}`,
      reconnectPeriod: 0,
      connectTimeout: TIMEOUT_MS,
      ca: fs.readFileSync(ca),
      rejectUnauthorized: true,
      servername: 'localhost',
    };
    if (username !== '-') options.username = username;
    if (password !== '-') options.password = password;
    const client = mqtt.connect(url, options);
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error('timed out'));
    }, TIMEOUT_MS);
    const done = (error) => {
      clearTimeout(timer);
      client.end(true);
      if (error) reject(error);
      else resolve();
    };
    client.on('error', (e) => {
      if (expect !== 'ok' && String(e.code) === expect) done();
      else done(new Error(`refused with ${e.code}: ${e.message}`));
    });
    client.on('connect', () => {
      if (expect !== 'ok') return done(new Error(`connected, expected refusal ${expect}`));
      client.subscribe('dev', { qos: 1 }, (err) => {
        if (err) return done(err);
        client.publish('dev', 'hello from mqtt.js', { qos: 1 });
      });
    });
    client.on('message', (topic, payload) => {
      if (topic === 'dev' && payload.toString() === 'hello from mqtt.js') done();
      else done(new Error(`unexpected ${topic}: ${payload}`));
    });
  });
}

const [url, ca, version, username, password, expect] = process.argv.slice(2);
run(url, ca, Number(version), username, password, expect).then(
  () => process.exit(0),
  (e) => {
    console.error(e.message);
    process.exit(1);
  },
);
