//! The TypeScript declarations of the option and packet objects, added to
//! `courtier_client.d.ts` so editors complete and check the JavaScript API.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Options of `MqttClient.connect`; every field is optional. */
export interface ConnectOptions {
  /** Default: `courtier-` and 8 random hex digits. */
  clientId?: string;
  username?: string;
  password?: string | Uint8Array;
  /** 5 (default), 4 for MQTT 3.1.1, 3 for MQTT 3.1. */
  protocolVersion?: 3 | 4 | 5;
  /** Seconds; 0 turns pings off. Default 60. */
  keepalive?: number;
  /** Clean Start / Clean Session. Default true. */
  clean?: boolean;
  /** MQTT 5.0 Session Expiry Interval, seconds. */
  sessionExpiry?: number;
  will?: { topic: string; payload?: string | Uint8Array; qos?: 0 | 1 | 2; retain?: boolean };
  /** Reopen a lost connection with capped, jittered exponential backoff. Default true. */
  reconnect?: boolean;
  /** Milliseconds to wait for CONNACK. Default 30000. */
  connectTimeout?: number;
}

/** MQTT 5.0 PUBLISH properties, by mqtt.js's names. */
export interface PublishProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: string | Uint8Array;
  userProperties?: Record<string, string | string[]>;
}

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  properties?: PublishProperties;
}

export interface SubscribeOptions {
  qos?: 0 | 1 | 2;
  /** No Local (5.0). */
  nl?: boolean;
  /** Retain As Published (5.0). */
  rap?: boolean;
  /** Retain Handling (5.0): 0 send, 1 send if new, 2 do not send. */
  rh?: 0 | 1 | 2;
  properties?: {
    subscriptionIdentifier?: number;
    userProperties?: Record<string, string | string[]>;
  };
}

/** The third argument of a `message` handler. */
export interface MessagePacket {
  cmd: "publish";
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  properties: PublishProperties & { subscriptionIdentifier?: number[] };
}

/** An `Error` from the client: `reasonCode` is the MQTT reason code it describes. */
export interface MqttError extends Error {
  reasonCode: number;
}
"#;
