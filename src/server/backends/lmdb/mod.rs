//! The LMDB backend: hat-event's `hat.event.backends.lmdb`, on the same
//! storage engine with the same file format, so that a file moves between
//! hat-event's server and ours in both directions.
//!
//! Layout as hat's package: [`common`] (databases and encodings),
//! [`environment`] (opening the file), [`systemdb`], [`latestdb`],
//! [`timeseriesdb`], [`refdb`] and [`conditions`].
//!
//! Threads and durability. `register` only changes memory (the latest
//! events, the last ids, and the changes waiting for the flush): it never
//! waits for the disk. A background thread flushes every `flush_period`
//! seconds: it writes the waiting changes in one LMDB write transaction
//! whose commit is synchronous (LMDB's default, as py-lmdb's: the data is
//! fsynced before the commit returns); only then does it call the flushed
//! callback, on that thread. Durability is bought there, once per flush
//! period, as in hat. The same thread runs the cleanup every
//! `cleanup_period` seconds (and once before the backend is returned).
//! [`Backend::flush`] asks that thread for a flush and waits for it; so
//! does a query ordered by source timestamp (hat flushes there too); the
//! engine's close flushes, and dropping the backend flushes and stops the
//! thread. A failed flush closes the backend: every later call fails with
//! its message (hat closes its backend too).
//!
//! Between flushes, every few thousand registered events, the same thread
//! writes the waiting timeseries and ref changes into a write transaction
//! it keeps open until the flush commits it (staging): the writing
//! overlaps registering, and the flush at the period's end has only the
//! rest to write. Nothing is committed, and nothing reported, before the
//! period ends (or a flush is asked for): durability is unchanged. The
//! cleanup, which runs in a transaction of its own, flushes what is staged
//! first.
//!
//! Queries see the waiting changes as hat's do (latest from memory;
//! timeseries and server queries from the file plus the waiting changes,
//! staged ones included); a commit and a query never interleave, so that
//! no event is missed or seen twice while it moves from memory to the file.

pub mod common;
pub mod conditions;
pub mod environment;
pub mod latestdb;
pub mod refdb;
pub mod systemdb;
pub mod timeseriesdb;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use heed::{Env, RwTxn};
use serde_json::Value;

use crate::event::{Event, EventId, ServerId};
use crate::query::{OrderBy, QueryParams, QueryResult};
use crate::server::backend::{Backend, BackendCallbacks};
use crate::server::registry::PluginError;
use crate::subscription::Subscription;
use crate::timestamp::Timestamp;

use common::PartitionId;
use conditions::Conditions;
use environment::Dbs;
use latestdb::LatestDb;
use refdb::RefDb;
use systemdb::SystemDb;
use timeseriesdb::{Partition, TimeseriesDb};

/// The name the backend is registered under, as in hat-event (alias `lmdb`).
pub const LMDB_BACKEND_NAME: &str = "hat.event.backends.lmdb";
/// The schema of its configuration in the shipped repository.
pub const LMDB_SCHEMA_ID: &str = "hat-event://backends/lmdb.yaml";

/// Entries one cleanup transaction deletes at most (hat's).
const CLEANUP_MAX_RESULTS: usize = 1024;
/// Registered events that trigger a flush before the period ends (hat's).
const MAX_REGISTERED_COUNT: usize = 256 * 1024;
/// Registered events after which the flush thread writes the waiting
/// timeseries and ref changes into its open transaction, ahead of the
/// commit (see [`Staged`]).
const STAGE_COUNT: usize = 8192;
const DEFAULT_TIMESERIES_MAX_RESULTS: i64 = 4096;
const DEFAULT_TIMESERIES_EVENT_TYPE_CACHE_SIZE: usize = 256 * 1024;

/// A configuration the backend cannot use.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ConfError(String);

impl ConfError {
    fn new(message: impl Into<String>) -> ConfError {
        ConfError(message.into())
    }
}

/// Why a backend operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LmdbError {
    #[error("invalid configuration: {0}")]
    Conf(#[from] ConfError),
    #[error(transparent)]
    Open(#[from] environment::OpenError),
    /// The file belongs to another configuration or format (hat's
    /// "invalid version" / "invalid identifier").
    #[error("{0}")]
    Refused(String),
    #[error("LMDB: {0}")]
    Lmdb(#[from] heed::Error),
    #[error("the file holds data this backend cannot read: {0}")]
    Decode(String),
    #[error("{0}")]
    Query(String),
    #[error("cannot encode an event: {0}")]
    Encode(#[from] crate::sbs::SbsError),
    #[error("the backend is closed: {0}")]
    Closed(String),
}

impl From<common::DecodeError> for LmdbError {
    fn from(e: common::DecodeError) -> LmdbError {
        LmdbError::Decode(e.to_string())
    }
}

impl From<LmdbError> for PluginError {
    fn from(e: LmdbError) -> PluginError {
        PluginError::Failed(format!("lmdb backend: {e}"))
    }
}

fn subscription_from_conf(conf: &Value, what: &str) -> Result<Subscription, ConfError> {
    let types: Vec<Vec<String>> = serde_json::from_value(conf.clone())
        .map_err(|_| ConfError::new(format!("{what}: not a list of event types")))?;
    Subscription::new(&types).map_err(|e| ConfError::new(format!("{what}: {e}")))
}

/// A period in seconds, kept between 1 ms (hat's loops spin on 0; ours
/// would burn a core) and 100 years (so that deadlines never overflow).
fn seconds(conf: &Value, name: &str) -> Result<Duration, ConfError> {
    const LONGEST: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    let s = conf[name].as_f64().ok_or_else(|| ConfError::new(format!("'{name}' must be a number")))?;
    let period = Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(LONGEST);
    Ok(period.clamp(Duration::from_millis(1), LONGEST))
}

/// What the in-memory databases hold; one lock.
struct State {
    system: SystemDb,
    latest: LatestDb,
    timeseries: TimeseriesDb,
    refs: RefDb,
    /// Registered batches not yet flushed, for the flushed callback.
    registered: Vec<Vec<Arc<Event>>>,
    registered_count: usize,
    /// Changes written into the flush thread's open transaction, oldest
    /// first.
    staged: Vec<Arc<Staged>>,
    /// Events registered since the changes were last staged or flushed,
    /// and whether the flush thread was asked to stage them.
    unstaged_count: usize,
    stage_asked: bool,
}

/// Timeseries and ref changes the flush thread has written into its open
/// write transaction ahead of the commit, while the engine goes on
/// registering: the flush at the period's end then writes only what came
/// after, and commits. Until that commit, queries read staged changes as
/// waiting ones (the file they read does not hold them yet); the commit
/// and the dropping of the staged changes happen under the gate, as a
/// flush always did. Latest and system changes are small and wait for the
/// flush; so does the flushed report (nothing is durable before the
/// commit).
struct Staged {
    timeseries: timeseriesdb::Changes,
    refs: refdb::Changes,
}

impl State {
    /// The waiting events of timeseries `partition`: staged ones first.
    fn timeseries_changes_of(&mut self, partition: PartitionId) -> Vec<(Timestamp, Arc<Event>)> {
        let mut changes = Vec::new();
        for staged in &self.staged {
            if let Some((_, queue)) = staged.timeseries.iter().find(|(p, _)| *p == partition) {
                changes.extend(queue.iter().cloned());
            }
        }
        if changes.is_empty() {
            return self.timeseries.changes_of(partition);
        }
        changes.extend(self.timeseries.changes_of(partition));
        changes
    }
}

#[derive(Default)]
struct Control {
    /// Flushes asked for, and done (a flush does every one asked before it
    /// started).
    requested: u64,
    completed: u64,
    /// Staging asked for by a register.
    stage: bool,
    stop: bool,
    failed: Option<String>,
}

struct Shared {
    env: Env,
    dbs: Dbs,
    conditions: Conditions,
    /// The partitions with limits (the cleanup's, apart from the state).
    limits: Vec<(PartitionId, timeseriesdb::Limit)>,
    state: Mutex<State>,
    /// Held for writing while a flush moves changes from memory into the
    /// file; for reading while a query reads memory and the file.
    gate: RwLock<()>,
    control: Mutex<Control>,
    /// Set once `control` has failed or is stopping: the check every call
    /// makes is one load while the backend is healthy (the control lock
    /// was a sixth of a latest query).
    closed: AtomicBool,
    wake: Condvar,
    done: Condvar,
    callbacks: BackendCallbacks,
    /// The host's callbacks run one at a time.
    callback_lock: Mutex<()>,
}

/// The LMDB backend. Dropping it flushes and stops its thread.
pub struct LmdbBackend {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LmdbBackend {
    /// Opens (or creates) the file of `conf` (hat's `lmdb.yaml`
    /// configuration), checks its settings, runs a first cleanup and
    /// starts the flush and cleanup thread.
    pub fn create(conf: &Value, callbacks: BackendCallbacks) -> Result<LmdbBackend, LmdbError> {
        let db_path =
            PathBuf::from(conf["db_path"].as_str().ok_or_else(|| ConfError::new("'db_path' must be a string"))?);
        let identifier = match &conf["identifier"] {
            Value::Null => None,
            Value::String(s) => Some(s.as_str()),
            _ => return Err(ConfError::new("'identifier' must be a string or null").into()),
        };
        let flush_period = seconds(conf, "flush_period")?;
        let cleanup_period = seconds(conf, "cleanup_period")?;
        let conditions = Conditions::new(&conf["conditions"])?;
        let latest_subscription = subscription_from_conf(&conf["latest"]["subscriptions"], "latest subscriptions")?;
        let partitions = conf["timeseries"]
            .as_array()
            .ok_or_else(|| ConfError::new("'timeseries' must be an array"))?
            .iter()
            .map(Partition::from_conf)
            .collect::<Result<Vec<_>, _>>()?;
        let max_results = match conf.get("timeseries_max_results") {
            None => DEFAULT_TIMESERIES_MAX_RESULTS,
            Some(v) => v.as_i64().ok_or_else(|| ConfError::new("'timeseries_max_results' must be an integer"))?,
        };
        let cache_size = match conf.get("timeseries_event_type_cache_size") {
            None => DEFAULT_TIMESERIES_EVENT_TYPE_CACHE_SIZE,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| ConfError::new("'timeseries_event_type_cache_size' must be a non-negative integer"))?
                as usize,
        };

        let (env, dbs) = environment::open(&db_path)?;
        let mut txn = env.write_txn()?;
        let system = SystemDb::create(&mut txn, &dbs, identifier)?;
        let latest = LatestDb::create(&txn, &dbs, &conditions, latest_subscription)?;
        let timeseries = TimeseriesDb::create(&mut txn, &dbs, partitions, max_results, cache_size)?;
        txn.commit()?;

        let limits = timeseries.limits();
        let shared = Arc::new(Shared {
            env,
            dbs,
            conditions,
            limits,
            state: Mutex::new(State {
                system,
                latest,
                timeseries,
                refs: RefDb::default(),
                registered: Vec::new(),
                registered_count: 0,
                staged: Vec::new(),
                unstaged_count: 0,
                stage_asked: false,
            }),
            gate: RwLock::new(()),
            control: Mutex::new(Control::default()),
            closed: AtomicBool::new(false),
            wake: Condvar::new(),
            done: Condvar::new(),
            callbacks,
            callback_lock: Mutex::new(()),
        });
        // hat starts its cleanup loop with a pass; done here before the
        // first query so that what the limits drop is gone by then.
        shared.cleanup(Timestamp::now())?;
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("hat-event-lmdb".into())
            .spawn(move || {
                // A panic (a bug) must not leave flush() waiting forever.
                let run = std::panic::AssertUnwindSafe(|| thread_shared.run(flush_period, cleanup_period));
                if std::panic::catch_unwind(run).is_err() {
                    lock(&thread_shared.control).failed = Some("the flush thread panicked".into());
                    thread_shared.closed.store(true, Ordering::Release);
                    thread_shared.done.notify_all();
                }
            })
            .map_err(|e| LmdbError::Closed(format!("cannot start the flush thread: {e}")))?;
        Ok(LmdbBackend { shared, thread: Some(thread) })
    }

    fn check_open(&self) -> Result<(), LmdbError> {
        if !self.shared.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        let control = lock(&self.shared.control);
        match &control.failed {
            Some(message) => Err(LmdbError::Closed(message.clone())),
            None if control.stop => Err(LmdbError::Closed("stopped".into())),
            None => Ok(()),
        }
    }
}

impl Shared {
    /// The flush and cleanup loop of the background thread.
    fn run(&self, flush_period: Duration, cleanup_period: Duration) {
        let mut next_flush = Instant::now() + flush_period;
        let mut next_cleanup = Instant::now() + cleanup_period;
        // The write transaction changes are staged in, until the flush
        // commits it.
        let mut txn: Option<RwTxn<'_>> = None;
        loop {
            let (target, stop, stage) = {
                let mut control = lock(&self.control);
                loop {
                    let now = Instant::now();
                    if control.stop
                        || control.stage
                        || control.requested > control.completed
                        || now >= next_flush.min(next_cleanup)
                    {
                        break;
                    }
                    let wait = next_flush.min(next_cleanup) - now;
                    control = self.wake.wait_timeout(control, wait).unwrap_or_else(|e| e.into_inner()).0;
                }
                (control.requested, control.stop, std::mem::take(&mut control.stage))
            };
            let now = Instant::now();
            let asked = target > lock(&self.control).completed;
            // The cleanup runs in a transaction of its own: what is staged
            // is flushed first.
            if stop || asked || now >= next_flush || (txn.is_some() && now >= next_cleanup) {
                let result = self.flush(txn.take());
                let mut control = lock(&self.control);
                // The flushed events are freed after the waiters are told
                // (below): freeing a flush period's events is a tenth of a
                // flush and need not delay the report.
                let mut flushed = None;
                match result {
                    Ok(done) => {
                        control.completed = control.completed.max(target);
                        flushed = Some(done);
                    }
                    Err(e) => {
                        control.failed = Some(format!("flush failed: {e}"));
                        self.closed.store(true, Ordering::Release);
                    }
                }
                self.done.notify_all();
                let failed = control.failed.is_some();
                drop(control);
                drop(flushed);
                if failed {
                    return;
                }
                next_flush = Instant::now() + flush_period;
            } else if stage {
                if let Err(e) = self.stage(&mut txn) {
                    // The open transaction is aborted; the backend closes
                    // as after a failed flush.
                    drop(txn.take());
                    self.fail(format!("flush failed: {e}"));
                    return;
                }
            }
            if stop {
                return;
            }
            if txn.is_none() && Instant::now() >= next_cleanup {
                if let Err(e) = self.cleanup(Timestamp::now()) {
                    self.fail(format!("cleanup failed: {e}"));
                    return;
                }
                next_cleanup = Instant::now() + cleanup_period;
            }
        }
    }

    /// Closes the backend with `message`: every later call fails with it.
    fn fail(&self, message: String) {
        lock(&self.control).failed = Some(message);
        self.closed.store(true, Ordering::Release);
        self.done.notify_all();
    }

    /// Writes the waiting timeseries and ref changes into `txn` (opened
    /// here if need be), keeping them readable as staged changes.
    fn stage<'e>(&'e self, txn: &mut Option<RwTxn<'e>>) -> Result<(), LmdbError> {
        let staged = {
            let mut state = lock(&self.state);
            state.unstaged_count = 0;
            state.stage_asked = false;
            let staged = Staged { timeseries: state.timeseries.take_changes(), refs: state.refs.take_changes() };
            if staged.timeseries.is_empty() && staged.refs.is_empty() {
                return Ok(());
            }
            let staged = Arc::new(staged);
            state.staged.push(Arc::clone(&staged));
            staged
        };
        let txn = match txn {
            Some(txn) => txn,
            None => txn.insert(self.env.write_txn()?),
        };
        timeseriesdb::write_changes(&staged.timeseries, txn, &self.dbs)?;
        refdb::write_changes(&staged.refs, txn, &self.dbs)?;
        Ok(())
    }

    /// Writes the waiting changes into `txn` (the transaction changes were
    /// staged in, or a new one) and commits it; after the commit, reports
    /// the registered batches as flushed. Returns what it wrote, for the
    /// caller to free.
    fn flush(&self, txn: Option<RwTxn<'_>>) -> Result<impl Sized, LmdbError> {
        let written = {
            let _gate = self.gate.write().unwrap_or_else(|e| e.into_inner());
            let (system, latest, timeseries, refs, batches, staged) = {
                let mut state = lock(&self.state);
                state.registered_count = 0;
                state.unstaged_count = 0;
                state.stage_asked = false;
                (
                    state.system.take_changes(),
                    state.latest.take_changes(),
                    state.timeseries.take_changes(),
                    state.refs.take_changes(),
                    std::mem::take(&mut state.registered),
                    std::mem::take(&mut state.staged),
                )
            };
            let unwritten = !(system.is_empty() && latest.is_empty() && timeseries.is_empty() && refs.is_empty());
            let mut txn = txn;
            if unwritten && txn.is_none() {
                txn = Some(self.env.write_txn()?);
            }
            if let Some(mut txn) = txn {
                system.write(&mut txn, &self.dbs)?;
                latest.write(&mut txn, &self.dbs)?;
                timeseriesdb::write_changes(&timeseries, &mut txn, &self.dbs)?;
                refdb::write_changes(&refs, &mut txn, &self.dbs)?;
                txn.commit()?;
            }
            (system, latest, timeseries, refs, batches, staged)
        };
        if let Some(flushed) = &self.callbacks.flushed {
            let _one_at_a_time = lock(&self.callback_lock);
            for batch in &written.4 {
                flushed(batch);
            }
        }
        Ok(written)
    }

    /// Cleanup passes until one deletes fewer than the most it may.
    fn cleanup(&self, now: Timestamp) -> Result<(), LmdbError> {
        loop {
            let timeseries_refs = {
                let mut txn = self.env.write_txn()?;
                let deleted = timeseriesdb::cleanup(&mut txn, &self.dbs, &self.limits, now, CLEANUP_MAX_RESULTS)?;
                if deleted.is_empty() {
                    return Ok(());
                }
                refdb::cleanup(&mut txn, &self.dbs, &deleted)?;
                txn.commit()?;
                deleted.len()
            };
            if timeseries_refs < CLEANUP_MAX_RESULTS {
                return Ok(());
            }
        }
    }

    /// Asks the thread for a flush and waits until it is done.
    fn flush_and_wait(&self) -> Result<(), LmdbError> {
        let mut control = lock(&self.control);
        if let Some(message) = &control.failed {
            return Err(LmdbError::Closed(message.clone()));
        }
        control.requested += 1;
        let target = control.requested;
        self.wake.notify_all();
        while control.completed < target {
            if let Some(message) = &control.failed {
                return Err(LmdbError::Closed(message.clone()));
            }
            control = self.done.wait(control).unwrap_or_else(|e| e.into_inner());
        }
        Ok(())
    }
}

impl Backend for LmdbBackend {
    fn get_last_event_id(&mut self, server_id: ServerId) -> Result<EventId, PluginError> {
        self.check_open()?;
        Ok(lock(&self.shared.state).system.get_last_event_id(server_id))
    }

    fn register(&mut self, events: &[Arc<Event>]) -> Result<(), PluginError> {
        self.check_open()?;
        let (flush_now, stage_now) = {
            let mut state = lock(&self.shared.state);
            let state = &mut *state;
            for event in events {
                let server = event.id.server;
                if state.system.get_last_event_id(server) >= event.id {
                    continue;
                }
                if state.system.get_last_timestamp(server) > event.timestamp {
                    continue;
                }
                if !self.shared.conditions.matches(event) {
                    continue;
                }
                // Latest and one partition, usually.
                let mut refs = Vec::with_capacity(2);
                let latest = state.latest.add(event);
                if let Some(added) = latest.added {
                    refs.push(added);
                }
                if let Some((id, removed)) = latest.removed {
                    state.refs.remove(id, removed);
                }
                state.timeseries.add(event, &mut refs);
                if refs.is_empty() {
                    continue;
                }
                state.refs.add(event, refs);
                state.system.set_last_event_id(event.id);
                state.system.set_last_timestamp(server, event.timestamp);
            }
            state.registered.push(events.to_vec());
            state.registered_count += events.len();
            state.unstaged_count += events.len();
            let stage_now = state.unstaged_count >= STAGE_COUNT && !state.stage_asked;
            state.stage_asked |= stage_now;
            (state.registered_count > MAX_REGISTERED_COUNT, stage_now)
        };
        if flush_now || stage_now {
            // Without waiting: the thread flushes (or stages) while the
            // engine goes on.
            let mut control = lock(&self.shared.control);
            if flush_now {
                control.requested += 1;
            } else {
                control.stage = true;
            }
            self.shared.wake.notify_all();
        }
        if let Some(registered) = &self.shared.callbacks.registered {
            let _one_at_a_time = lock(&self.shared.callback_lock);
            registered(events);
        }
        Ok(())
    }

    fn query(&mut self, params: &QueryParams) -> Result<QueryResult, PluginError> {
        self.check_open()?;
        let shared = &*self.shared;
        match params {
            QueryParams::Latest(p) => Ok(lock(&shared.state).latest.query(p)?),
            QueryParams::Timeseries(p) => {
                // hat flushes before reading a partition ordered by source
                // timestamp (its waiting changes are not in that order),
                // and only when there is one to read.
                if p.order_by == OrderBy::SourceTimestamp && lock(&shared.state).timeseries.select(p)?.is_some() {
                    shared.flush_and_wait()?;
                }
                let _gate = shared.gate.read().unwrap_or_else(|e| e.into_inner());
                let (selected, changes) = {
                    let mut state = lock(&shared.state);
                    let selected = state.timeseries.select(p)?;
                    let changes = match selected {
                        // hat reads the waiting changes only for timestamp order.
                        Some((id, _)) if p.order_by == OrderBy::Timestamp => state.timeseries_changes_of(id),
                        _ => Vec::new(),
                    };
                    (selected, changes)
                };
                let Some((partition, max_results)) = selected else {
                    return Ok(QueryResult::default());
                };
                let txn = shared.env.read_txn().map_err(LmdbError::from)?;
                let mut filter = timeseriesdb::Filter::new(p, max_results.saturating_add(1))?;
                let mut events = Vec::new();
                let descending = p.order == crate::query::Order::Descending;
                let by_timestamp = p.order_by == OrderBy::Timestamp;
                if by_timestamp && descending {
                    timeseriesdb::filter_changes(&changes, &mut filter, &mut events);
                }
                if !(by_timestamp && descending && filter.done()) {
                    timeseriesdb::filter_stored(
                        &txn,
                        &shared.dbs,
                        &shared.conditions,
                        partition,
                        &mut filter,
                        &mut events,
                    )?;
                }
                if by_timestamp && !descending && !filter.done() {
                    timeseriesdb::filter_changes(&changes, &mut filter, &mut events);
                }
                Ok(timeseriesdb::finish(events, max_results)?)
            }
            QueryParams::Server(p) => {
                let _gate = shared.gate.read().unwrap_or_else(|e| e.into_inner());
                let txn = shared.env.read_txn().map_err(LmdbError::from)?;
                // The waiting events after the stored ones: the gate keeps
                // them out of the file meanwhile.
                let waiting = |after, limit| {
                    let state = lock(&shared.state);
                    let staged: Vec<&refdb::Changes> = state.staged.iter().map(|s| &s.refs).collect();
                    state.refs.waiting_of(p.server_id, &staged, after, limit)
                };
                Ok(refdb::query(&txn, &shared.dbs, p, waiting)?)
            }
        }
    }

    fn flush(&mut self) -> Result<(), PluginError> {
        Ok(self.shared.flush_and_wait()?)
    }
}

impl Drop for LmdbBackend {
    fn drop(&mut self) {
        lock(&self.shared.control).stop = true;
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn periods_are_kept_between_a_millisecond_and_a_century() {
        let period = |v: Value| seconds(&json!({ "p": v }), "p").unwrap();
        assert_eq!(period(json!(0.5)), Duration::from_millis(500));
        assert_eq!(period(json!(0)), Duration::from_millis(1));
        assert_eq!(period(json!(-3)), Duration::from_millis(1));
        assert_eq!(period(json!(1e300)), Duration::from_secs(100 * 365 * 24 * 3600));
        assert!(seconds(&json!({"p": "1"}), "p").is_err());
    }
}
