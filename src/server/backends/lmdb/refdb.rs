//! Event refs by event id (`backends/lmdb/refdb.py`): where each stored
//! event is (latest, timeseries partitions), which server queries read in
//! id order. Registered events wait in memory until the flush.

use std::ops::Bound;
use std::sync::Arc;

use heed::{RoTxn, RwTxn};

use super::common::{
    decode_event, decode_event_refs, encode_event_id, encode_event_refs, encode_event_refs_into, encode_timeseries_key,
    encode_uint, DbType, EventRef, IdMap,
};
use super::environment::{Appender, Dbs};
use super::LmdbError;
use crate::event::{Event, EventId, ServerId};
use crate::query::{QueryResult, QueryServerParams};

/// The refs a server query reads at most (hat's `RefDb` default).
pub const MAX_RESULTS: i64 = 4096;

/// An added event and its refs; `None` once every ref was removed again.
type Added = Option<(Arc<Event>, Vec<EventRef>)>;

/// Changes of one server since the last flush.
#[derive(Default, Clone)]
pub struct ServerChanges {
    /// Added events in registration order; `None` once every ref of the
    /// event was removed again before the flush (hat pops it from its
    /// dict).
    added: Vec<(EventId, Added)>,
    /// Whether `added` is in strictly increasing id order, which register
    /// ensures (it refuses ids not above the server's last): then an added
    /// event is found by binary search, with no index to keep per event.
    unordered: bool,
    removed: Vec<(EventId, Vec<EventRef>)>,
    removed_index: IdMap<EventId, usize>,
}

pub type Changes = Vec<(ServerId, ServerChanges)>;

#[derive(Default)]
pub struct RefDb {
    last_event_ids: IdMap<ServerId, EventId>,
    changes: Changes,
}

impl RefDb {
    fn server(&mut self, server: ServerId) -> &mut ServerChanges {
        let i = match self.changes.iter().position(|(s, _)| *s == server) {
            Some(i) => i,
            None => {
                self.changes.push((server, ServerChanges::default()));
                self.changes.len() - 1
            }
        };
        &mut self.changes[i].1
    }

    pub fn add(&mut self, event: &Arc<Event>, refs: Vec<EventRef>) {
        self.last_event_ids.insert(event.id.server, event.id);
        let changes = self.server(event.id.server);
        changes.unordered |= changes.added.last().is_some_and(|(last, _)| *last >= event.id);
        changes.added.push((event.id, Some((Arc::clone(event), refs))));
    }

    pub fn remove(&mut self, id: EventId, event_ref: EventRef) {
        let changes = self.server(id.server);
        let found = if changes.unordered {
            changes.added.iter().rposition(|(a, _)| *a == id)
        } else {
            find_recent(&changes.added, id)
        };
        if let Some(i) = found {
            if let Some((_, refs)) = &mut changes.added[i].1 {
                if let Some(at) = refs.iter().position(|r| *r == event_ref) {
                    refs.remove(at);
                    if refs.is_empty() {
                        changes.added[i].1 = None;
                    }
                    return;
                }
            }
        }
        let i = match changes.removed_index.get(&id) {
            Some(&i) => i,
            None => {
                changes.removed_index.insert(id, changes.removed.len());
                changes.removed.push((id, Vec::new()));
                changes.removed.len() - 1
            }
        };
        let refs = &mut changes.removed[i].1;
        if !refs.contains(&event_ref) {
            refs.push(event_ref);
        }
    }

    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// The first `limit` waiting events of `server` with ids above
    /// `after`, in registration order: those of `staged` (changes written
    /// into the flush's open transaction but not committed, oldest first),
    /// then those in memory. A staged event whose every ref was removed
    /// after it was staged is left out, as hat leaves out an event whose
    /// refs all went before its flush.
    pub fn waiting_of(
        &self,
        server: ServerId,
        staged: &[&Changes],
        after: Option<EventId>,
        limit: usize,
    ) -> Vec<Arc<Event>> {
        let layers: Vec<&ServerChanges> = staged
            .iter()
            .copied()
            .chain([&self.changes])
            .filter_map(|changes| changes.iter().find(|(s, _)| *s == server).map(|(_, c)| c))
            .collect();
        let mut events = Vec::new();
        // Skipped while at or below `after` (the ids are in registration
        // order, which is id order: as hat's skip, not a filter).
        let mut skipping = after.is_some();
        for (i, layer) in layers.iter().enumerate() {
            let later = &layers[i + 1..];
            for (id, added) in &layer.added {
                if events.len() >= limit {
                    return events;
                }
                let Some((event, refs)) = added else { continue };
                if skipping && after.is_some_and(|after| *id <= after) {
                    continue;
                }
                if !refs.iter().any(|r| !later.iter().any(|l| l.removed_refs(*id).contains(r))) {
                    continue;
                }
                skipping = false;
                events.push(Arc::clone(event));
            }
        }
        events
    }
}

impl ServerChanges {
    /// The refs of `id` removed in these changes.
    fn removed_refs(&self, id: EventId) -> &[EventRef] {
        match self.removed_index.get(&id) {
            Some(&i) => &self.removed[i].1,
            None => &[],
        }
    }
}

/// The index of `id` in `added` (strictly increasing ids), searched from
/// the end with doubling steps: the event a register replaces is usually a
/// recent one, found among entries still in cache (a plain binary search
/// of a large flush period missed the cache at every step).
fn find_recent(added: &[(EventId, Added)], id: EventId) -> Option<usize> {
    let (mut high, mut step) = (added.len(), 1);
    loop {
        let low = added.len().saturating_sub(step);
        if low == 0 || added[low].0 <= id {
            return added[low..high].binary_search_by_key(&id, |(a, _)| *a).ok().map(|i| low + i);
        }
        high = low;
        step *= 2;
    }
}

pub fn write_changes(changes: &Changes, txn: &mut RwTxn, dbs: &Dbs) -> Result<(), LmdbError> {
    let db = dbs.get(DbType::Ref);
    // New ids of the highest server id are appends.
    let mut appender = Appender::new(db, txn)?;
    let (mut value, mut encoded) = (Vec::new(), Vec::new());
    for (server_id, server) in changes {
        // The server's largest stored key: a key above it is not stored
        // (new ids, the usual case), so it needs no lookup.
        let low = encode_event_id(EventId { server: *server_id, session: 0, instance: 0 });
        let mut high = low;
        high[8..].fill(0xff);
        let range = (Bound::Included(&low[..]), Bound::Included(&high[..]));
        let last_stored: Option<Vec<u8>> = match db.rev_range(txn, &range)?.next() {
            Some(item) => Some(item?.0.to_vec()),
            None => None,
        };
        // Added and removed refs merged in id order (ids are unique in
        // each list). A walk, not a hash lookup per id: the index lookups
        // missed the cache on every event of a large flush.
        let by_id = |list: &mut Vec<(EventId, &[EventRef])>| {
            if !list.is_sorted_by_key(|(id, _)| *id) {
                // Stable: of an id added twice, the last is the one kept.
                list.sort_by_key(|(id, _)| *id);
            }
        };
        // Registration order, which is id order within a server.
        let mut added: Vec<(EventId, &[EventRef])> =
            server.added.iter().filter_map(|(id, a)| a.as_ref().map(|(_, refs)| (*id, &refs[..]))).collect();
        by_id(&mut added);
        let mut removed: Vec<(EventId, &[EventRef])> = server.removed.iter().map(|(id, r)| (*id, &r[..])).collect();
        by_id(&mut removed);
        let (mut added, mut removed) = (added.into_iter().peekable(), removed.into_iter().peekable());
        loop {
            let id = match (added.peek(), removed.peek()) {
                (None, None) => break,
                (Some((a, _)), None) => *a,
                (None, Some((r, _))) => *r,
                (Some((a, _)), Some((r, _))) => *a.min(r),
            };
            let mut add = None;
            while let Some((_, refs)) = added.next_if(|(a, _)| *a == id) {
                add = Some(refs);
            }
            let remove = removed.next_if(|(r, _)| *r == id).map(|(_, refs)| refs);
            let key = encode_event_id(id);
            // hat pops the old value and puts the new one; a put replaces
            // in place, so the delete is needed only when nothing is put
            // back (and never for a new id: one B-tree search, not three).
            let maybe_stored = last_stored.as_deref().is_some_and(|last| key[..] <= *last);
            // One value and one encoding buffer for every id: a flush
            // allocates per event only what it keeps.
            value.clear();
            let stored = match maybe_stored.then(|| db.get(txn, &key)).transpose()?.flatten() {
                Some(bytes) => {
                    value.extend(decode_event_refs(bytes)?);
                    true
                }
                None => false,
            };
            for r in add.unwrap_or_default() {
                if !value.contains(r) {
                    value.push(*r);
                }
            }
            if let Some(remove) = remove {
                value.retain(|r| !remove.contains(r));
            }
            if !value.is_empty() {
                encode_event_refs_into(&mut encoded, &value);
                appender.put(txn, &key, &encoded)?;
            } else if stored {
                db.delete(txn, &key)?;
            }
        }
    }
    Ok(())
}

/// Removes the refs cleanup deleted from their events' refs.
pub fn cleanup(txn: &mut RwTxn, dbs: &Dbs, refs: &[(EventId, EventRef)]) -> Result<(), LmdbError> {
    let db = dbs.get(DbType::Ref);
    for (id, event_ref) in refs {
        let key = encode_event_id(*id);
        let Some(bytes) = db.get(txn, &key)? else { continue };
        let mut value = decode_event_refs(bytes)?;
        value.retain(|r| r != event_ref);
        // A put replaces in place: delete only when nothing is put back.
        if value.is_empty() {
            db.delete(txn, &key)?;
        } else {
            db.put(txn, &key, &encode_event_refs(&value))?;
        }
    }
    Ok(())
}

/// hat's server query: stored events of the server after `last_event_id`
/// in id order, then (unless `persisted`) the waiting ones, which
/// `waiting(after, limit)` gives: the first `limit` with ids above `after`.
pub fn query(
    txn: &RoTxn,
    dbs: &Dbs,
    params: &QueryServerParams,
    waiting: impl FnOnce(Option<EventId>, usize) -> Vec<Arc<Event>>,
) -> Result<QueryResult, LmdbError> {
    if params.last_event_id.is_some_and(|id| id.server != params.server_id) {
        return Err(LmdbError::Query("invalid server id".into()));
    }
    let max_results = match params.max_results {
        Some(n) if n < MAX_RESULTS => n,
        _ => MAX_RESULTS,
    };
    if max_results < 0 {
        // hat's islice refuses a negative stop (ValueError): no answer.
        return Err(LmdbError::Query(format!("max_results {max_results} is negative")));
    }
    let limit = (max_results + 1) as usize;
    let start =
        encode_event_id(params.last_event_id.unwrap_or(EventId { server: params.server_id, session: 0, instance: 0 }));
    let stop = encode_event_id(EventId { server: params.server_id.wrapping_add(1), session: 0, instance: 0 });
    let mut events: Vec<Arc<Event>> = Vec::new();
    let db = dbs.get(DbType::Ref);
    let range = (Bound::Excluded(&start[..]), Bound::Excluded(&stop[..]));
    for item in db.range(txn, &range)? {
        if events.len() >= limit {
            break;
        }
        let (_, value) = item?;
        let refs = decode_event_refs(value)?;
        let Some(first) = refs.first() else { continue };
        if let Some(event) = stored_event(txn, dbs, first)? {
            events.push(Arc::new(event));
        }
    }
    if !params.persisted && events.len() as i64 <= max_results {
        let last = events.last().map(|e| e.id).or(params.last_event_id);
        let room = limit - events.len();
        events.extend(waiting(last, room));
    }
    let more_follows = events.len() as i64 > max_results;
    events.truncate(max_results as usize);
    Ok(QueryResult { events: Arc::new(events), more_follows })
}

fn stored_event(txn: &RoTxn, dbs: &Dbs, event_ref: &EventRef) -> Result<Option<Event>, LmdbError> {
    let (db_type, bytes) = match event_ref {
        EventRef::Latest(type_ref) => {
            (DbType::LatestData, dbs.get(DbType::LatestData).get(txn, &encode_uint(*type_ref))?)
        }
        EventRef::Timeseries(key) => {
            (DbType::TimeseriesData, dbs.get(DbType::TimeseriesData).get(txn, &encode_timeseries_key(key))?)
        }
    };
    match bytes {
        Some(bytes) => Ok(Some(decode_event(db_type, bytes)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_recent_finds_what_a_scan_finds() {
        for len in 0..70i64 {
            // ids 3, 6, 9, ...: present and absent ones between them
            let added: Vec<(EventId, Added)> =
                (1..=len).map(|i| (EventId { server: 1, session: 1, instance: 3 * i }, None)).collect();
            for instance in 0..=3 * len + 4 {
                let id = EventId { server: 1, session: 1, instance };
                assert_eq!(find_recent(&added, id), added.iter().position(|(a, _)| *a == id), "{len} {instance}");
            }
        }
    }
}
