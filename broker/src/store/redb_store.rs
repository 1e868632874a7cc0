//! [`RedbStore`]: the embedded default backend, one redb file in `--data-dir`.
//!
//! redb is pure Rust, ACID and crash-safe: a commit with
//! `Durability::Immediate` is on disk when it returns, and a torn write is
//! rolled back at the next open. Tables are keyed by client id so a
//! session's data is one key range.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bytestring::ByteString;
use courtier_proto::{PacketId, TopicName};
use redb::{Builder, Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use super::codec::{self, Clocks};
use super::{Op, Snapshot, Store, StoreError, StoredId, wall_ms};
use crate::message::Message;

/// Sessions by client id.
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
/// Outbound messages by (client id, stored id).
const OUTBOUND: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("outbound");
/// Where each outbound delivery stands, by (client id, stored id); small and
/// rewritten often, so kept apart from the message bodies.
const OUTBOUND_STATE: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("outbound_state");
/// Inbound QoS 2 packet ids awaiting PUBREL, by (client id, packet id).
const INBOUND: TableDefinition<(&str, u16), ()> = TableDefinition::new("inbound_qos2");
/// Retained messages by topic.
const RETAINED: TableDefinition<&str, &[u8]> = TableDefinition::new("retained");

/// The store file's name inside the data directory.
pub const FILE_NAME: &str = "courtier.redb";

/// redb's page cache. Its default (1 GiB) would let the cache alone hold a
/// store of a million retained messages in memory; the operating system's
/// page cache serves re-reads beyond this as well.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The redb backend.
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    path: PathBuf,
}

impl RedbStore {
    /// Open (or create) `dir/courtier.redb`, creating `dir` if needed.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(FILE_NAME);
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        let db = Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| classify(&path, e.into()))?;
        let store = Self { db, path };
        // Create every table now, so a later read never meets a missing one.
        Store::commit(&store, &[]).map_err(|e| match e {
            StoreError::Io { path, detail } => StoreError::Damaged { path, detail },
            other => other,
        })?;
        Ok(store)
    }

    fn damaged(&self, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            detail: detail.to_string(),
        }
    }

    fn io(&self, e: impl Into<redb::Error>) -> StoreError {
        classify(&self.path, e.into())
    }

    fn read_all(&self) -> Result<Snapshot, StoreError> {
        let clocks = Clocks {
            now: Instant::now(),
            wall: wall_ms(),
        };
        let tx = self.db.begin_read().map_err(|e| self.io(e))?;
        let mut snap = Snapshot::default();
        let sessions = tx.open_table(SESSIONS).map_err(|e| self.io(e))?;
        for row in sessions.iter().map_err(|e| self.io(e))? {
            let (k, v) = row.map_err(|e| self.io(e))?;
            let record = codec::decode_session(v.value()).map_err(|e| self.damaged(e))?;
            snap.sessions.push((ByteString::from(k.value()), record));
        }
        let outbound = tx.open_table(OUTBOUND).map_err(|e| self.io(e))?;
        let states = tx.open_table(OUTBOUND_STATE).map_err(|e| self.io(e))?;
        for row in outbound.iter().map_err(|e| self.io(e))? {
            let (k, v) = row.map_err(|e| self.io(e))?;
            let (client, id) = k.value();
            let id = StoredId::new(id).ok_or_else(|| self.damaged("stored id 0"))?;
            let state = match states.get((client, id.get())).map_err(|e| self.io(e))? {
                Some(s) => codec::decode_state(s.value()).map_err(|e| self.damaged(e))?,
                None => super::OutboundState::Queued,
            };
            // Queued messages stay on disk until their client resumes:
            // only their size is taken, for the queue's byte limit.
            if state == super::OutboundState::Queued {
                let expires = codec::outbound_expiry(v.value()).map_err(|e| self.damaged(e))?;
                snap.queued.push(super::QueuedRecord {
                    client: ByteString::from(client),
                    id,
                    size: u32::try_from(v.value().len()).unwrap_or(u32::MAX),
                    expired: expires != 0 && expires <= clocks.wall,
                });
                continue;
            }
            let item = codec::decode_outbound(v.value(), clocks).map_err(|e| self.damaged(e))?;
            snap.outbound
                .push((ByteString::from(client), id, state, item));
        }
        let inbound = tx.open_table(INBOUND).map_err(|e| self.io(e))?;
        for row in inbound.iter().map_err(|e| self.io(e))? {
            let (k, _) = row.map_err(|e| self.io(e))?;
            let (client, id) = k.value();
            let id = PacketId::new(id).ok_or_else(|| self.damaged("packet id 0"))?;
            snap.inbound.push((ByteString::from(client), id));
        }
        Ok(snap)
    }

    fn retained_topics(&self, each: &mut dyn FnMut(TopicName, bool)) -> Result<(), StoreError> {
        let now = wall_ms();
        let tx = self.db.begin_read().map_err(|e| self.io(e))?;
        let retained = tx.open_table(RETAINED).map_err(|e| self.io(e))?;
        for row in retained.iter().map_err(|e| self.io(e))? {
            let (k, v) = row.map_err(|e| self.io(e))?;
            let expires = codec::message_expiry(v.value()).map_err(|e| self.damaged(e))?;
            let topic = TopicName::new(k.value())
                .map_err(|e| self.damaged(format!("retained topic {:?}: {e}", k.value())))?;
            each(topic, expires != 0 && expires <= now);
        }
        Ok(())
    }

    fn outbound_messages(
        &self,
        client: &str,
        ids: &[StoredId],
    ) -> Result<Vec<super::OutboundRecord>, StoreError> {
        let clocks = Clocks {
            now: Instant::now(),
            wall: wall_ms(),
        };
        let tx = self.db.begin_read().map_err(|e| self.io(e))?;
        let outbound = tx.open_table(OUTBOUND).map_err(|e| self.io(e))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(v) = outbound.get((client, id.get())).map_err(|e| self.io(e))? {
                let mut item =
                    codec::decode_outbound(v.value(), clocks).map_err(|e| self.damaged(e))?;
                item.stored = Some(*id);
                out.push(item);
            }
        }
        Ok(out)
    }

    fn retained_messages(&self, topics: &[TopicName]) -> Result<Vec<Message>, StoreError> {
        let clocks = Clocks {
            now: Instant::now(),
            wall: wall_ms(),
        };
        let tx = self.db.begin_read().map_err(|e| self.io(e))?;
        let retained = tx.open_table(RETAINED).map_err(|e| self.io(e))?;
        let mut out = Vec::with_capacity(topics.len());
        for topic in topics {
            if let Some(v) = retained.get(topic.as_str()).map_err(|e| self.io(e))? {
                out.push(codec::decode_message(v.value(), clocks).map_err(|e| self.damaged(e))?);
            }
        }
        Ok(out)
    }

    fn write(&self, ops: &[Op]) -> Result<(), redb::Error> {
        let clocks = Clocks {
            now: Instant::now(),
            wall: wall_ms(),
        };
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        {
            let mut sessions = tx.open_table(SESSIONS)?;
            let mut outbound = tx.open_table(OUTBOUND)?;
            let mut states = tx.open_table(OUTBOUND_STATE)?;
            let mut inbound = tx.open_table(INBOUND)?;
            let mut retained = tx.open_table(RETAINED)?;
            for op in ops {
                match op {
                    Op::PutSession(client, record) => {
                        sessions.insert(&**client, codec::encode_session(record).as_slice())?;
                    }
                    Op::DeleteSession(client) => {
                        let c: &str = client;
                        sessions.remove(c)?;
                        outbound.retain_in((c, 0)..=(c, u64::MAX), |_, _| false)?;
                        states.retain_in((c, 0)..=(c, u64::MAX), |_, _| false)?;
                        inbound.retain_in((c, 0)..=(c, u16::MAX), |_, _| false)?;
                    }
                    Op::PutOutbound(client, id, item) => {
                        let bytes = codec::encode_outbound(item, clocks);
                        outbound.insert((&**client, id.get()), bytes.as_slice())?;
                    }
                    Op::SetOutboundState(client, id, state) => {
                        let bytes = codec::encode_state(*state);
                        states.insert((&**client, id.get()), bytes.as_slice())?;
                    }
                    Op::DeleteOutbound(client, id) => {
                        outbound.remove((&**client, id.get()))?;
                        states.remove((&**client, id.get()))?;
                    }
                    Op::PutInbound(client, id) => {
                        inbound.insert((&**client, id.get()), ())?;
                    }
                    Op::DeleteInbound(client, id) => {
                        inbound.remove((&**client, id.get()))?;
                    }
                    Op::PutRetained(msg) => {
                        let mut bytes = Vec::with_capacity(64 + msg.payload.len());
                        codec::encode_message(msg, clocks, &mut bytes);
                        retained.insert(msg.topic.as_str(), bytes.as_slice())?;
                    }
                    Op::DeleteRetained(topic) => {
                        retained.remove(&**topic)?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

impl Store for RedbStore {
    fn load(&self) -> Result<Snapshot, StoreError> {
        self.read_all()
    }

    fn retained_index(&self, each: &mut dyn FnMut(TopicName, bool)) -> Result<(), StoreError> {
        self.retained_topics(each)
    }

    fn read_retained(&self, topics: &[TopicName]) -> Result<Vec<Message>, StoreError> {
        self.retained_messages(topics)
    }

    fn read_outbound(
        &self,
        client: &str,
        ids: &[StoredId],
    ) -> Result<Vec<super::OutboundRecord>, StoreError> {
        self.outbound_messages(client, ids)
    }

    fn commit(&self, ops: &[Op]) -> Result<(), StoreError> {
        self.write(ops).map_err(|e| self.io(e))
    }
}

/// Tell a damaged file from an unusable one, for the error message.
fn classify(path: &Path, e: redb::Error) -> StoreError {
    let detail = e.to_string();
    let damaged = match &e {
        redb::Error::Corrupted(_) | redb::Error::UpgradeRequired(_) => true,
        // "Not a redb database", short reads of a truncated file.
        redb::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    };
    let path = path.to_owned();
    if damaged {
        StoreError::Damaged { path, detail }
    } else {
        StoreError::Io { path, detail }
    }
}
