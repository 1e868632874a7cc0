//! Durability: what the broker must not forget across a restart or a crash.
//!
//! The broker talks to persistence through two things only:
//! - [`Store`], the narrow backend interface (`load` at start, `commit` a
//!   batch of [`Op`]s). [`RedbStore`] is the embedded default; a clustered
//!   backend (NATS JetStream) can implement the same trait later. Nothing
//!   outside this module assumes a local file.
//! - [`StoreHandle`], owned by the broker: ops are appended in order under a
//!   short leaf lock (so they are recorded in the same order as the state
//!   changes they mirror), and one writer thread commits everything appended
//!   since its last commit in one transaction (group commit). A connection
//!   that must not acknowledge before its data is on disk awaits
//!   [`StoreHandle::durable`] with the [`Ticket`] its ops were given.
//!
//! # Overflow policy
//! The op buffer is bounded softly: [`StoreHandle::backlogged`] turns true
//! past [`BACKLOG_LIMIT`] ops, and a connection that appended ops then waits
//! for the commit before reading more (backpressure on publishers, never a
//! dropped write).
//!
//! With `--in-memory` the handle is disabled: nothing is recorded and
//! nothing ever waits.

mod codec;
mod redb_store;
mod restore;
mod spill;

use std::num::NonZeroU64;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytestring::ByteString;
use courtier_proto::{PacketId, TopicName};
use parking_lot::{Condvar, Mutex};
use tokio::sync::watch;

pub use self::codec::{OutboundRecord, SessionRecord, StoredWill};
pub use self::redb_store::{FILE_NAME, RedbStore};
pub use self::restore::Restored;
use crate::message::Message;

/// Past this many uncommitted ops, connections wait for the writer.
pub const BACKLOG_LIMIT: usize = 64 * 1024;

/// Identifies one stored outbound message (a queued or inflight delivery) of
/// a session; allocated from one broker-wide counter, so it also orders them.
pub type StoredId = NonZeroU64;

/// Why the store cannot be used. Every message names the file and the way out.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file is damaged or not a store at all.
    #[error(
        "{path}: the store is damaged or not a Courtier store ({detail}); move the file aside to start empty, or start with --data-dir DIR elsewhere"
    )]
    Damaged {
        /// The store file.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// The file cannot be opened or written (permissions, disk full, locked).
    #[error(
        "{path}: cannot use the store: {detail} (check the directory, or choose another with --data-dir DIR, or run with --in-memory)"
    )]
    Io {
        /// The store file.
        path: PathBuf,
        /// The underlying error.
        detail: String,
    },
    /// An earlier commit failed: nothing is acknowledged any more.
    #[error("the store failed earlier; durable acknowledgements are refused")]
    Failed,
}

/// The state a delivery of a stored outbound message is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundState {
    /// Queued, no packet id yet.
    Queued,
    /// PUBLISH sent with this packet id; PUBACK or PUBREC awaited.
    Sent(PacketId),
    /// PUBREC received for this packet id; PUBCOMP awaited.
    Released(PacketId),
}

/// One change to persist. Keys are client identifiers: a discarded session's
/// data is deleted (in op order) before its successor's is written.
#[derive(Debug, Clone)]
pub enum Op {
    /// Create or replace a session (expiry, disconnect time, subscriptions).
    PutSession(ByteString, SessionRecord),
    /// Delete a session with all its messages and inbound QoS 2 ids.
    DeleteSession(ByteString),
    /// Store an outbound message for a session.
    PutOutbound(ByteString, StoredId, OutboundRecord),
    /// Record where a stored outbound delivery stands.
    SetOutboundState(ByteString, StoredId, OutboundState),
    /// The delivery is complete (or expired): forget it.
    DeleteOutbound(ByteString, StoredId),
    /// An inbound QoS 2 packet id awaits PUBREL.
    PutInbound(ByteString, PacketId),
    /// PUBREL arrived for it.
    DeleteInbound(ByteString, PacketId),
    /// Retain a message for its topic.
    PutRetained(Arc<Message>),
    /// Remove the retained message of a topic.
    DeleteRetained(ByteString),
}

/// Everything a store holds, read once at start.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Sessions by client id.
    pub sessions: Vec<(ByteString, SessionRecord)>,
    /// Outbound messages in flight (sent, not yet acknowledged), ordered
    /// by client id then [`StoredId`].
    pub outbound: Vec<(ByteString, StoredId, OutboundState, OutboundRecord)>,
    /// Queued messages, not read: their ids and record sizes, ordered by
    /// client id then [`StoredId`] (read back when their client resumes
    /// the session, [`Store::read_outbound`]).
    pub queued: Vec<QueuedRecord>,
    /// Inbound QoS 2 ids by client id.
    pub inbound: Vec<(ByteString, PacketId)>,
}

/// A queued message as [`Store::load`] reports it, without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRecord {
    /// Whose queue.
    pub client: ByteString,
    /// Its id.
    pub id: StoredId,
    /// Its record's size, for the queue's byte limit.
    pub size: u32,
    /// Whether its Message Expiry Interval had run out at load.
    pub expired: bool,
}

/// A persistence backend: see the module documentation.
///
/// Retained messages are not part of the [`Snapshot`]: the broker keeps
/// only an index of them (built at start with [`Store::retained_index`])
/// and reads the messages themselves when a subscription needs them
/// ([`Store::read_retained`]), from any thread, while the writer commits.
pub trait Store: Send + Sync + 'static {
    /// Read sessions, queues and inbound ids. A damaged store is an error,
    /// never a partial result.
    fn load(&self) -> Result<Snapshot, StoreError>;
    /// Call `each` with the topic of every retained message and whether it
    /// has expired, without reading the messages themselves.
    fn retained_index(&self, each: &mut dyn FnMut(TopicName, bool)) -> Result<(), StoreError>;
    /// The retained messages of `topics` that are stored, in no particular
    /// order (a topic whose message was removed meanwhile is skipped).
    fn read_retained(&self, topics: &[TopicName]) -> Result<Vec<Message>, StoreError>;
    /// The outbound messages `ids` of `client`, with `stored` set, in no
    /// particular order (an id no longer stored is skipped).
    fn read_outbound(
        &self,
        client: &str,
        ids: &[StoredId],
    ) -> Result<Vec<OutboundRecord>, StoreError>;
    /// Apply `ops` in order, atomically and durably.
    fn commit(&self, ops: &[Op]) -> Result<(), StoreError>;
}

/// Called by the writer thread with each batch it committed.
pub type CommitHook = Box<dyn Fn(&[Op]) + Send + Sync>;

/// The position of an appended op: durable once the writer has committed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

/// Ops appended but not yet taken by the writer.
#[derive(Debug)]
struct Pending {
    ops: Vec<Op>,
    /// The generation the ops in `ops` will be committed as.
    generation: u64,
    /// Set at shutdown: the writer commits what is left and stops.
    closing: bool,
}

struct Shared {
    /// The backend, for reads beside the writer thread's commits.
    store: Arc<dyn Store>,
    /// Told of every committed batch (the broker drops retained messages
    /// from memory once they are on disk).
    on_commit: OnceLock<CommitHook>,
    pending: Mutex<Pending>,
    wake: Condvar,
    /// The last committed generation; `u64::MAX` after a failed commit.
    committed: watch::Sender<u64>,
    next_id: AtomicU64,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// What the writer did, for `/metrics`.
    stats: StoreStats,
}

/// Counters of the writer thread: transactions, ops and time spent
/// committing (the latency a PUBACK that must be durable waits on).
#[derive(Debug, Default)]
pub struct StoreStats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Ops in them.
    pub ops: AtomicU64,
    /// Microseconds spent in `commit`, in total.
    pub commit_micros: AtomicU64,
    /// The longest single commit, microseconds.
    pub max_commit_micros: AtomicU64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("pending", &self.pending)
            .field("committed", &self.committed)
            .finish_non_exhaustive()
    }
}

/// The broker's side of the store: ordered appends, group commit, tickets.
#[derive(Debug, Clone, Default)]
pub struct StoreHandle {
    /// `None` with `--in-memory`.
    shared: Option<Arc<Shared>>,
}

impl StoreHandle {
    /// No persistence (`--in-memory`, unit tests).
    pub fn disabled() -> Self {
        Self::default()
    }

    /// The writer's counters; `None` without persistence.
    pub fn stats(&self) -> Option<&StoreStats> {
        self.shared.as_ref().map(|s| &s.stats)
    }

    /// Load `store` and start its writer thread.
    pub fn open(store: Arc<dyn Store>) -> Result<(Self, Snapshot), StoreError> {
        let snapshot = store.load()?;
        let next_id = snapshot
            .outbound
            .iter()
            .map(|(_, id, _, _)| id.get())
            .chain(snapshot.queued.iter().map(|q| q.id.get()))
            .max()
            .unwrap_or(0)
            + 1;
        let shared = Arc::new(Shared {
            store,
            on_commit: OnceLock::new(),
            pending: Mutex::new(Pending {
                ops: Vec::new(),
                generation: 1,
                closing: false,
            }),
            wake: Condvar::new(),
            committed: watch::Sender::new(0),
            next_id: AtomicU64::new(next_id),
            writer: Mutex::new(None),
            stats: StoreStats::default(),
        });
        let writer_shared = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("courtier-store".into())
            .spawn(move || write_loop(&writer_shared))
            .map_err(|e| StoreError::Io {
                path: PathBuf::from("(store writer)"),
                detail: e.to_string(),
            })?;
        *shared.writer.lock() = Some(writer);
        Ok((
            Self {
                shared: Some(shared),
            },
            snapshot,
        ))
    }

    /// Have `hook` called with every batch once it is committed (set once;
    /// later calls are ignored).
    pub fn on_commit(&self, hook: CommitHook) {
        if let Some(shared) = &self.shared {
            let _ = shared.on_commit.set(hook);
        }
    }

    /// See [`Store::retained_index`]; nothing without persistence.
    pub fn retained_index(&self, each: &mut dyn FnMut(TopicName, bool)) -> Result<(), StoreError> {
        self.shared
            .as_ref()
            .map_or(Ok(()), |s| s.store.retained_index(each))
    }

    /// See [`Store::read_retained`]: a blocking read, for the blocking pool.
    pub fn read_retained(&self, topics: &[TopicName]) -> Result<Vec<Message>, StoreError> {
        match &self.shared {
            Some(s) if !topics.is_empty() => s.store.read_retained(topics),
            _ => Ok(Vec::new()),
        }
    }

    /// See [`Store::read_outbound`]: a blocking read, for the blocking pool.
    pub fn read_outbound(
        &self,
        client: &str,
        ids: &[StoredId],
    ) -> Result<Vec<OutboundRecord>, StoreError> {
        match &self.shared {
            Some(s) if !ids.is_empty() => s.store.read_outbound(client, ids),
            _ => Ok(Vec::new()),
        }
    }

    /// Whether anything is persisted at all.
    pub fn is_enabled(&self) -> bool {
        self.shared.is_some()
    }

    /// A fresh id for an outbound message.
    pub fn next_id(&self) -> StoredId {
        let n = self
            .shared
            .as_ref()
            .map_or(1, |s| s.next_id.fetch_add(1, Ordering::Relaxed));
        StoredId::new(n).unwrap_or(StoredId::MIN)
    }

    /// Record `op`; never blocks on the disk. Call it while holding the lock
    /// that orders the state change it mirrors. `None` when disabled.
    pub fn append(&self, op: Op) -> Option<Ticket> {
        let shared = self.shared.as_ref()?;
        let mut pending = shared.pending.lock();
        pending.ops.push(op);
        let ticket = Ticket(pending.generation);
        drop(pending);
        shared.wake.notify_one();
        Some(ticket)
    }

    /// A ticket covering everything appended so far.
    pub fn barrier(&self) -> Option<Ticket> {
        let shared = self.shared.as_ref()?;
        let pending = shared.pending.lock();
        // An empty batch is never committed: then the previous one covers all.
        Some(Ticket(
            pending.generation - u64::from(pending.ops.is_empty()),
        ))
    }

    /// True when so many ops wait that appenders should wait for a commit.
    pub fn backlogged(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|s| s.pending.lock().ops.len() > BACKLOG_LIMIT)
    }

    /// Resolve once everything appended up to `ticket` is on disk.
    pub async fn durable(&self, ticket: Ticket) -> Result<(), StoreError> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        let mut rx = shared.committed.subscribe();
        let done = rx.wait_for(|&c| c >= ticket.0).await;
        match done.map(|c| *c) {
            Ok(u64::MAX) | Err(_) => Err(StoreError::Failed),
            Ok(_) => Ok(()),
        }
    }

    /// Commit what is left and stop the writer (graceful shutdown).
    pub fn close(&self) {
        let Some(shared) = &self.shared else { return };
        shared.pending.lock().closing = true;
        shared.wake.notify_one();
        if let Some(writer) = shared.writer.lock().take() {
            let _ = writer.join();
        }
    }
}

/// The writer thread: take everything appended, commit it in one
/// transaction, publish the committed generation.
fn write_loop(shared: &Shared) {
    loop {
        let (ops, generation, closing) = {
            let mut pending = shared.pending.lock();
            while pending.ops.is_empty() && !pending.closing {
                shared.wake.wait(&mut pending);
            }
            let generation = pending.generation;
            pending.generation += 1;
            (
                std::mem::take(&mut pending.ops),
                generation,
                pending.closing,
            )
        };
        if !ops.is_empty() {
            let started = std::time::Instant::now();
            if let Err(e) = shared.store.commit(&ops) {
                tracing::error!(error = %e, "store commit failed; acknowledgements that need it are refused");
                shared.committed.send_replace(u64::MAX);
                return;
            }
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            let stats = &shared.stats;
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats.ops.fetch_add(ops.len() as u64, Ordering::Relaxed);
            stats.commit_micros.fetch_add(micros, Ordering::Relaxed);
            stats.max_commit_micros.fetch_max(micros, Ordering::Relaxed);
            if let Some(hook) = shared.on_commit.get() {
                hook(&ops);
            }
        }
        shared.committed.send_replace(generation);
        if closing {
            return;
        }
    }
}

/// Milliseconds since the Unix epoch: the store's clock, which unlike
/// `Instant` means the same thing after a restart.
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `at` (an `Instant`) as Unix milliseconds, for storage; 0 = none.
pub fn instant_to_wall(at: Option<Instant>, now: Instant, now_wall: u64) -> u64 {
    at.map_or(0, |at| {
        let ahead = u64::try_from(at.saturating_duration_since(now).as_millis()).unwrap_or(0);
        now_wall.saturating_add(ahead).max(1)
    })
}

/// Stored Unix milliseconds back to an `Instant` on this run's clock.
pub fn wall_to_instant(ms: u64, now: Instant, now_wall: u64) -> Option<Instant> {
    (ms != 0).then(|| now + std::time::Duration::from_millis(ms.saturating_sub(now_wall)))
}
