//! Courtier, the MQTT broker.
