//! The primitive encodings of MQTT: variable byte integers, two-byte-length
//! UTF-8 strings and binary data.
