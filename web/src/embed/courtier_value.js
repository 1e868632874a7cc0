// <courtier-value topic="maMaison/salon/temperature" broker="ws://host:8080/mqtt">: the latest
// value of a topic in one line of HTML. Importing this module defines the element:
//
//   <script type="module" src="courtier-client/courtier_value.js"></script>
//
// `broker` defaults to the /mqtt endpoint of the page's own origin (wss:// on https pages).
// Elements naming the same broker share one connection and one subscription per filter.
// The element's `data-state` is `connecting`, `live` or `error` (then `title` says why), so a
// page can style it, and it fires a `value` event ({ detail: { topic, text, payload } }).
import init, { MqttClient, topicMatches } from './courtier_client.js';

const ready = init();
/** broker URL -> { client: Promise<MqttClient>, filters: Map<filter, element count> } */
const brokers = new Map();

function defaultBroker() {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/mqtt`;
}

function brokerFor(url) {
  let broker = brokers.get(url);
  if (!broker) {
    const client = ready.then(() => MqttClient.connect(url, { keepalive: 30 }));
    broker = { client, filters: new Map() };
    brokers.set(url, broker);
    // A failed first connection is forgotten, so a later element may try again.
    client.catch(() => brokers.delete(url));
  }
  return broker;
}

const decoder = new TextDecoder();

class CourtierValue extends HTMLElement {
  static observedAttributes = ['topic', 'broker'];
  #stop = null;

  connectedCallback() {
    this.#start();
  }

  disconnectedCallback() {
    this.#halt();
  }

  attributeChangedCallback() {
    if (this.isConnected) {
      this.#halt();
      this.#start();
    }
  }

  #halt() {
    if (this.#stop) this.#stop();
    this.#stop = null;
  }

  #start() {
    const filter = this.getAttribute('topic');
    if (!filter) return this.#fail('the topic attribute is missing');
    const url = this.getAttribute('broker') || defaultBroker();
    const broker = brokerFor(url);
    this.dataset.state = 'connecting';
    let stopped = false;
    let client = null;
    const onMessage = (topic, payload) => {
      if (!topicMatches(filter, topic)) return;
      const text = decoder.decode(payload);
      this.textContent = text;
      this.dataset.state = 'live';
      this.removeAttribute('title');
      this.dispatchEvent(new CustomEvent('value', { detail: { topic, text, payload } }));
    };
    this.#stop = () => {
      stopped = true;
      if (!client) return;
      client.off('message', onMessage);
      const count = (broker.filters.get(filter) || 1) - 1;
      if (count === 0) {
        broker.filters.delete(filter);
        client.unsubscribe(filter).catch(() => {});
      } else {
        broker.filters.set(filter, count);
      }
    };
    broker.client
      .then(async (c) => {
        if (stopped) return;
        client = c;
        c.on('message', onMessage);
        const count = broker.filters.get(filter) || 0;
        broker.filters.set(filter, count + 1);
        // Subscribing again to a filter another element holds makes the broker resend its
        // retained value, which this element needs too.
        await c.subscribe(filter, { qos: 0 });
        if (!stopped && this.dataset.state === 'connecting') this.dataset.state = 'live';
      })
      .catch((error) => this.#fail(error.message));
  }

  #fail(message) {
    this.dataset.state = 'error';
    this.title = message;
  }
}

if (!customElements.get('courtier-value')) {
  customElements.define('courtier-value', CourtierValue);
}
