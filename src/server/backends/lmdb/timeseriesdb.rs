//! Timeseries partitions (`backends/lmdb/timeseriesdb.py`): each keeps the
//! events its subscription matches, keyed by the timestamp it orders by,
//! within its limits. Registered events wait in memory until the flush.

use std::ops::Bound;
use std::sync::Arc;

use heed::{RoTxn, RwTxn};
use serde_json::{json, Value};

use super::common::{
    decode_event, decode_json, decode_timeseries_key, decode_uint, encode_event_into, encode_json,
    encode_timeseries_key, encode_uint, DbType, EventRef, PartitionId, TimeseriesKey,
};
use super::conditions::Conditions;
use super::environment::{Appender, Dbs};
use super::{ConfError, LmdbError};
use crate::event::{Event, EventId};
use crate::event_type::{EventType, TypeHashMap};
use crate::query::{Order, OrderBy, QueryResult, QueryTimeseriesParams};
use crate::subscription::Subscription;
use crate::timestamp::Timestamp;

/// A partition's limits (all optional; numbers as the schema allows them).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limit {
    pub min_entries: Option<f64>,
    pub max_entries: Option<f64>,
    pub duration: Option<f64>,
    pub size: Option<f64>,
}

pub struct Partition {
    pub order_by: OrderBy,
    pub subscription: Subscription,
    pub limit: Option<Limit>,
}

/// Registered events not yet flushed: per partition (in the order
/// partitions first got one), `(key timestamp, event)` in registration
/// order.
pub type Changes = Vec<(PartitionId, Vec<(Timestamp, Arc<Event>)>)>;

/// The configured partitions with their ids and the events waiting for the
/// flush.
pub struct TimeseriesDb {
    /// In hat's dict order: configuration order, a partition configured
    /// twice at its first place with its last limit.
    partitions: Vec<(PartitionId, Partition)>,
    max_results: i64,
    /// Shared lists: a hit costs a reference count, not an allocation.
    type_cache: TypeHashMap<Arc<[usize]>>,
    type_cache_size: usize,
    changes: Changes,
}

impl Partition {
    pub fn from_conf(conf: &Value) -> Result<Partition, ConfError> {
        let order_by = match conf["order_by"].as_str() {
            Some("TIMESTAMP") => OrderBy::Timestamp,
            Some("SOURCE_TIMESTAMP") => OrderBy::SourceTimestamp,
            _ => return Err(ConfError::new("timeseries order_by must be TIMESTAMP or SOURCE_TIMESTAMP")),
        };
        let subscription = super::subscription_from_conf(&conf["subscriptions"], "timeseries subscriptions")?;
        let limit = match conf.get("limit") {
            None => None,
            Some(limit) => {
                let field = |name: &str| -> Result<Option<f64>, ConfError> {
                    match limit.get(name) {
                        None => Ok(None),
                        Some(v) => v
                            .as_f64()
                            .map(Some)
                            .ok_or_else(|| ConfError::new(format!("timeseries limit {name} must be a number"))),
                    }
                };
                Some(Limit {
                    min_entries: field("min_entries")?,
                    max_entries: field("max_entries")?,
                    duration: field("duration")?,
                    size: field("size")?,
                })
            }
        };
        Ok(Partition { order_by, subscription, limit })
    }

    /// What hat stores in TIMESERIES_PARTITION and finds a partition by.
    fn data(&self) -> Value {
        let mut types = self.subscription.query_types();
        types.sort();
        let order = if self.order_by == OrderBy::Timestamp { "timestamp" } else { "sourceTimestamp" };
        let types: Vec<Vec<String>> = types.iter().map(EventType::to_vec).collect();
        json!({"order": order, "subscriptions": types})
    }
}

impl TimeseriesDb {
    pub fn create(
        txn: &mut RwTxn,
        dbs: &Dbs,
        partitions: Vec<Partition>,
        max_results: i64,
        type_cache_size: usize,
    ) -> Result<TimeseriesDb, LmdbError> {
        let mut known: Vec<(Value, PartitionId)> = Vec::new();
        let mut max_id = 0;
        for item in dbs.get(DbType::TimeseriesPartition).iter(txn)? {
            let (key, value) = item?;
            let id = decode_uint(DbType::TimeseriesPartition, key)?;
            max_id = max_id.max(id);
            let data = decode_json(DbType::TimeseriesPartition, value)?;
            let data = json!({"order": data["order"], "subscriptions": data["subscriptions"]});
            match known.iter_mut().find(|(d, _)| *d == data) {
                Some(entry) => entry.1 = id,
                None => known.push((data, id)),
            }
        }
        let mut next_id = max_id + 1;
        let mut ids: Vec<(PartitionId, Partition)> = Vec::new();
        for partition in partitions {
            let data = partition.data();
            let id = match known.iter().find(|(d, _)| *d == data) {
                Some((_, id)) => *id,
                None => {
                    let id = next_id;
                    next_id += 1;
                    dbs.get(DbType::TimeseriesPartition).put(txn, &encode_uint(id), &encode_json(&data))?;
                    known.push((data, id));
                    id
                }
            };
            match ids.iter_mut().find(|(i, _)| *i == id) {
                Some(entry) => entry.1 = partition,
                None => ids.push((id, partition)),
            }
        }
        Ok(TimeseriesDb {
            partitions: ids,
            max_results,
            type_cache: TypeHashMap::default(),
            type_cache_size: type_cache_size.max(1),
            changes: Vec::new(),
        })
    }

    fn partitions_of(&mut self, type_: &EventType) -> Arc<[usize]> {
        if let Some(found) = self.type_cache.get(type_) {
            return Arc::clone(found);
        }
        let found: Arc<[usize]> =
            (0..self.partitions.len()).filter(|&i| self.partitions[i].1.subscription.matches_type(type_)).collect();
        if self.type_cache.len() >= self.type_cache_size {
            self.type_cache.clear();
        }
        self.type_cache.insert(type_.clone(), Arc::clone(&found));
        found
    }

    /// Queues `event` for every partition that keeps it; appends its refs
    /// to `refs`.
    pub fn add(&mut self, event: &Arc<Event>, refs: &mut Vec<EventRef>) {
        for &i in self.partitions_of(&event.type_).iter() {
            let (id, partition) = &self.partitions[i];
            let timestamp = match partition.order_by {
                OrderBy::Timestamp => event.timestamp,
                OrderBy::SourceTimestamp => match event.source_timestamp {
                    Some(t) => t,
                    None => continue,
                },
            };
            let id = *id;
            match self.changes.iter_mut().find(|(p, _)| *p == id) {
                Some((_, queue)) => queue.push((timestamp, Arc::clone(event))),
                None => self.changes.push((id, vec![(timestamp, Arc::clone(event))])),
            }
            refs.push(EventRef::Timeseries(TimeseriesKey { partition: id, timestamp, id: event.id }));
        }
    }

    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// The partition a query reads (hat's: the first of the query's order
    /// whose subscription meets the query's), with the result limit.
    pub fn select(&self, params: &QueryTimeseriesParams) -> Result<Option<(PartitionId, i64)>, LmdbError> {
        let subscription = match &params.event_types {
            Some(types) => Some(Subscription::from_types(types).map_err(|e| LmdbError::Query(e.to_string()))?),
            None => None,
        };
        let max_results = match params.max_results {
            Some(n) if n < self.max_results => n,
            _ => self.max_results,
        };
        for (id, partition) in &self.partitions {
            if partition.order_by != params.order_by {
                continue;
            }
            if subscription.as_ref().is_some_and(|s| s.isdisjoint(&partition.subscription)) {
                continue;
            }
            return Ok(Some((*id, max_results)));
        }
        Ok(None)
    }

    /// The waiting events of `partition`, shared. As hat's defaultdict
    /// does, a partition read this way gets an (empty) place among the
    /// changes: the flush then writes its count, and its events in that
    /// place.
    pub fn changes_of(&mut self, partition: PartitionId) -> Vec<(Timestamp, Arc<Event>)> {
        match self.changes.iter().find(|(p, _)| *p == partition) {
            Some((_, queue)) => queue.clone(),
            None => {
                self.changes.push((partition, Vec::new()));
                Vec::new()
            }
        }
    }

    /// The partitions with limits, in cleanup order (what
    /// [`cleanup`] needs, kept apart so that the cleanup never holds the
    /// lock of the waiting changes).
    pub fn limits(&self) -> Vec<(PartitionId, Limit)> {
        self.partitions.iter().filter_map(|(id, p)| p.limit.map(|limit| (*id, limit))).collect()
    }
}

/// Deletes what the limits no longer keep, at most `max_results` entries;
/// the refs deleted.
pub fn cleanup(
    txn: &mut RwTxn,
    dbs: &Dbs,
    limits: &[(PartitionId, Limit)],
    now: Timestamp,
    max_results: usize,
) -> Result<Vec<(EventId, EventRef)>, LmdbError> {
    let mut result = Vec::new();
    for (id, limit) in limits {
        let left = max_results - result.len();
        if left < 1 {
            break;
        }
        cleanup_partition(txn, dbs, now, *id, limit, left, &mut result)?;
    }
    Ok(result)
}

pub fn write_changes(changes: &Changes, txn: &mut RwTxn, dbs: &Dbs) -> Result<(), LmdbError> {
    // New events sort after the stored ones (in the last partition, or in
    // the only one): their puts are appends.
    let mut data = Appender::new(dbs.get(DbType::TimeseriesData), txn)?;
    // One encoding buffer for every put.
    let mut encoded = Vec::new();
    for (partition, queue) in changes {
        for (timestamp, event) in queue {
            let key = TimeseriesKey { partition: *partition, timestamp: *timestamp, id: event.id };
            encode_event_into(&mut encoded, event)?;
            data.put(txn, &encode_timeseries_key(&key), &encoded)?;
        }
    }
    for (partition, queue) in changes {
        let count = partition_count(txn, dbs, *partition)?;
        set_partition_count(txn, dbs, *partition, count + queue.len() as u64)?;
    }
    Ok(())
}

fn partition_count(txn: &RoTxn, dbs: &Dbs, partition: PartitionId) -> Result<u64, LmdbError> {
    match dbs.get(DbType::TimeseriesCount).get(txn, &encode_uint(partition))? {
        Some(bytes) => Ok(decode_uint(DbType::TimeseriesCount, bytes)?),
        None => Ok(0),
    }
}

fn set_partition_count(txn: &mut RwTxn, dbs: &Dbs, partition: PartitionId, count: u64) -> Result<(), LmdbError> {
    Ok(dbs.get(DbType::TimeseriesCount).put(txn, &encode_uint(partition), &encode_uint(count))?)
}

const MIN_ID: EventId = EventId { server: 0, session: 0, instance: 0 };
const MAX_ID: EventId = EventId { server: -1, session: -1, instance: -1 };

fn key(partition: PartitionId, timestamp: Timestamp, id: EventId) -> [u8; 44] {
    encode_timeseries_key(&TimeseriesKey { partition, timestamp, id })
}

fn cleanup_partition(
    txn: &mut RwTxn,
    dbs: &Dbs,
    now: Timestamp,
    partition: PartitionId,
    limit: &Limit,
    max_results: usize,
    result: &mut Vec<(EventId, EventRef)>,
) -> Result<(), LmdbError> {
    let db = dbs.get(DbType::TimeseriesData);
    let start = key(partition, Timestamp::MIN, MIN_ID);
    let stop = key(partition + 1, Timestamp::MIN, MIN_ID);
    let min_entries = limit.min_entries.unwrap_or(0.0);
    let mut max_entries: Option<f64> = None;
    if let Some(size) = limit.size {
        let stat = db.stat(txn)?;
        if stat.entries > 0 {
            let total = f64::from(stat.page_size) * (stat.branch_pages + stat.leaf_pages + stat.overflow_pages) as f64;
            let entry_size = total / stat.entries as f64;
            // Python's int() of the quotient: truncated toward zero.
            max_entries = Some((size / entry_size).trunc());
        }
    }
    if let Some(max) = limit.max_entries {
        max_entries = Some(match max_entries {
            None => max,
            // Python's min(): the first on a tie.
            Some(by_size) => {
                if max < by_size {
                    max
                } else {
                    by_size
                }
            }
        });
    }
    let duration_key = match limit.duration {
        Some(duration) => Some(key(
            partition,
            now.add(-duration).map_err(|e| LmdbError::Query(format!("cleanup duration: {e}")))?,
            MIN_ID,
        )),
        None => None,
    };
    let entries = partition_count(txn, dbs, partition)?;
    let deleted =
        delete_oldest(txn, db, (&start, &stop), entries, min_entries, max_entries, duration_key, max_results, result)?;
    if deleted > 0 {
        set_partition_count(txn, dbs, partition, entries.saturating_sub(deleted))?;
    }
    Ok(())
}

/// Deletes from the start of the partition's key range while the limits
/// ask for it, through one cursor as hat does: deleting through the cursor
/// (not by key) rebalances the B-tree as hat's deletes do, and the tree's
/// page count is what the next size limit reads.
#[allow(unsafe_code, clippy::too_many_arguments)]
fn delete_oldest(
    txn: &mut RwTxn,
    db: super::environment::Db,
    (start, stop): (&[u8; 44], &[u8; 44]),
    entries: u64,
    min_entries: f64,
    max_entries: Option<f64>,
    duration_key: Option<[u8; 44]>,
    max_results: usize,
    result: &mut Vec<(EventId, EventRef)>,
) -> Result<u64, LmdbError> {
    let range = (Bound::Included(&start[..]), Bound::Excluded(&stop[..]));
    let mut deleted: u64 = 0;
    let mut cursor = db.range_mut(txn, &range)?;
    while let Some(item) = cursor.next() {
        if deleted as usize >= max_results {
            break;
        }
        let (key_bytes, _) = item?;
        let left = entries as f64 - deleted as f64;
        if left <= min_entries {
            break;
        }
        let within_max = max_entries.is_none_or(|max| left <= max);
        let within_duration = duration_key.as_ref().is_none_or(|d| key_bytes >= &d[..]);
        if within_max && within_duration {
            break;
        }
        let key = decode_timeseries_key(DbType::TimeseriesData, key_bytes)?;
        // SAFETY: `key_bytes` (borrowed from the map) is not used after the
        // delete; `key` is a copy.
        unsafe { cursor.del_current()? };
        deleted += 1;
        result.push((key.id, EventRef::Timeseries(key)));
    }
    Ok(deleted)
}

/// hat's `_Filter`: the query's filters over events in result order, up to
/// `max_results` (one more than asked, to tell `more_follows`), skipping
/// everything up to and including `last_event_id`.
pub struct Filter<'a> {
    params: &'a QueryTimeseriesParams,
    subscription: Option<Subscription>,
    left: i64,
    last_event_id: Option<EventId>,
}

impl<'a> Filter<'a> {
    pub fn new(params: &'a QueryTimeseriesParams, max_results: i64) -> Result<Filter<'a>, LmdbError> {
        let subscription = match &params.event_types {
            Some(types) => Some(Subscription::from_types(types).map_err(|e| LmdbError::Query(e.to_string()))?),
            None => None,
        };
        Ok(Filter { params, subscription, left: max_results, last_event_id: params.last_event_id })
    }

    pub fn done(&self) -> bool {
        self.left < 1
    }

    /// Whether `event` goes into the result (`None`: the result is full,
    /// stop reading).
    pub fn accept(&mut self, event: &Event) -> Option<bool> {
        if self.left < 1 {
            return None;
        }
        if let Some(last) = self.last_event_id {
            if event.id == last {
                self.last_event_id = None;
            }
            return Some(false);
        }
        let p = self.params;
        let keep = p.t_from.is_none_or(|t| event.timestamp >= t)
            && p.t_to.is_none_or(|t| event.timestamp <= t)
            && p.source_t_from.is_none_or(|t| event.source_timestamp.is_some_and(|s| s >= t))
            && p.source_t_to.is_none_or(|t| event.source_timestamp.is_some_and(|s| s <= t))
            && self.subscription.as_ref().is_none_or(|s| s.matches_type(&event.type_));
        if keep {
            self.left -= 1;
        }
        Some(keep)
    }
}

/// The waiting events of a timestamp-ordered partition, in query order,
/// cut to the query's timestamp range as hat cuts them (by dropping from
/// the start and stopping at the first event past the range).
pub fn filter_changes(changes: &[(Timestamp, Arc<Event>)], filter: &mut Filter<'_>, out: &mut Vec<Arc<Event>>) {
    let p = filter.params;
    let events: Box<dyn Iterator<Item = &Arc<Event>>> = match p.order {
        Order::Descending => Box::new(
            changes
                .iter()
                .rev()
                .map(|(_, e)| e)
                .skip_while(|e| p.t_to.is_some_and(|t| t < e.timestamp))
                .take_while(|e| p.t_from.is_none_or(|t| t <= e.timestamp)),
        ),
        Order::Ascending => Box::new(
            changes
                .iter()
                .map(|(_, e)| e)
                .skip_while(|e| p.t_from.is_some_and(|t| e.timestamp < t))
                .take_while(|e| p.t_to.is_none_or(|t| e.timestamp <= t)),
        ),
    };
    for event in events {
        match filter.accept(event) {
            None => return,
            Some(true) => out.push(Arc::clone(event)),
            Some(false) => {}
        }
    }
}

/// The stored events of `partition` in the query's range and order that
/// the conditions still keep, through `filter`.
pub fn filter_stored(
    txn: &RoTxn,
    dbs: &Dbs,
    conditions: &Conditions,
    partition: PartitionId,
    filter: &mut Filter<'_>,
    out: &mut Vec<Arc<Event>>,
) -> Result<(), LmdbError> {
    let p = filter.params;
    let (t_from, t_to) = match p.order_by {
        OrderBy::Timestamp => (p.t_from, p.t_to),
        OrderBy::SourceTimestamp => (p.source_t_from, p.source_t_to),
    };
    let from = key(partition, t_from.unwrap_or(Timestamp::MIN), MIN_ID);
    let to = key(partition, t_to.unwrap_or(Timestamp::MAX), MAX_ID);
    let range = (Bound::Included(&from[..]), Bound::Included(&to[..]));
    let db = dbs.get(DbType::TimeseriesData);
    let mut visit = |value: &[u8]| -> Result<bool, LmdbError> {
        if filter.done() {
            return Ok(false);
        }
        let event = decode_event(DbType::TimeseriesData, value)?;
        if !conditions.is_empty() && !conditions.matches(&event) {
            return Ok(true);
        }
        match filter.accept(&event) {
            None => return Ok(false),
            Some(true) => out.push(Arc::new(event)),
            Some(false) => {}
        }
        Ok(true)
    };
    match p.order {
        Order::Descending => {
            for item in db.rev_range(txn, &range)? {
                if !visit(item?.1)? {
                    break;
                }
            }
        }
        Order::Ascending => {
            for item in db.range(txn, &range)? {
                if !visit(item?.1)? {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// Cuts `events` (one more than asked at most) to `max_results`.
pub fn finish(mut events: Vec<Arc<Event>>, max_results: i64) -> Result<QueryResult, LmdbError> {
    if max_results < 0 {
        // hat pops from an empty deque here (IndexError): no answer.
        return Err(LmdbError::Query(format!("max_results {max_results} is negative")));
    }
    let more_follows = events.len() as i64 > max_results;
    events.truncate(max_results as usize);
    Ok(QueryResult { events: Arc::new(events), more_follows })
}
