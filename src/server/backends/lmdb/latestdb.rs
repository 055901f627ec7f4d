//! The newest event of each type the latest subscription matches
//! (`backends/lmdb/latestdb.py`): kept in memory, written at flush.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use heed::RwTxn;

use super::common::{decode_event, decode_json, decode_uint, encode_event, encode_json, encode_uint, DbType};
use super::common::{EventRef, EventTypeRef};
use super::conditions::Conditions;
use super::environment::Dbs;
use super::LmdbError;
use crate::event::{Event, EventId};
use crate::event_type::{EventType, TypeHashMap};
use crate::query::{QueryLatestParams, QueryResult};
use crate::subscription::Subscription;

pub struct LatestDb {
    subscription: Subscription,
    type_refs: TypeHashMap<EventTypeRef>,
    /// The latest events in the order their types were first kept (hat's
    /// dict order), with an index by type.
    events: Vec<Arc<Event>>,
    /// `events` as a shared list for queries of every type, built at the
    /// first such query after a change (one reference count per query
    /// instead of one per event).
    all: OnceLock<Arc<Vec<Arc<Event>>>>,
    index: TypeHashMap<usize>,
    next_type_ref: EventTypeRef,
    changes: Changes,
}

#[derive(Default)]
pub struct Changes {
    data: Vec<(EventTypeRef, Arc<Event>)>,
    types: Vec<(EventTypeRef, EventType)>,
}

/// What adding an event did: the ref it is now stored under, and the ref of
/// the event it replaced (to be removed from that event's refs).
#[derive(Default)]
pub struct AddResult {
    pub added: Option<EventRef>,
    pub removed: Option<(EventId, EventRef)>,
}

impl LatestDb {
    pub fn create(
        txn: &RwTxn,
        dbs: &Dbs,
        conditions: &Conditions,
        subscription: Subscription,
    ) -> Result<LatestDb, LmdbError> {
        let mut type_refs = TypeHashMap::default();
        for item in dbs.get(DbType::LatestType).iter(txn)? {
            let (key, value) = item?;
            let type_ref = decode_uint(DbType::LatestType, key)?;
            let type_: EventType = serde_json::from_value::<Vec<String>>(decode_json(DbType::LatestType, value)?)
                .map_err(|e| LmdbError::Decode(format!("LATEST_TYPE: {e}")))?
                .into();
            type_refs.insert(type_, type_ref);
        }
        let mut db = LatestDb {
            next_type_ref: type_refs.values().copied().max().unwrap_or(0) + 1,
            subscription,
            type_refs,
            events: Vec::new(),
            all: OnceLock::new(),
            index: TypeHashMap::default(),
            changes: Changes::default(),
        };
        for item in dbs.get(DbType::LatestData).iter(txn)? {
            let (key, value) = item?;
            let type_ref = decode_uint(DbType::LatestData, key)?;
            let event = decode_event(DbType::LatestData, value)?;
            if conditions.matches(&event)
                && db.subscription.matches_type(&event.type_)
                && db.type_refs.get(&event.type_) == Some(&type_ref)
            {
                db.put(Arc::new(event));
            }
        }
        Ok(db)
    }

    fn put(&mut self, event: Arc<Event>) {
        let slot = self.index.get(&event.type_).copied();
        self.put_at(slot, event);
    }

    /// Stores `event` at `slot`, its type's place in `events` (None: a new
    /// type, appended).
    fn put_at(&mut self, slot: Option<usize>, event: Arc<Event>) {
        self.all.take();
        match slot {
            Some(i) => self.events[i] = event,
            None => {
                self.index.insert(event.type_.clone(), self.events.len());
                self.events.push(event);
            }
        }
    }

    pub fn add(&mut self, event: &Arc<Event>) -> AddResult {
        if !self.subscription.matches_type(&event.type_) {
            return AddResult::default();
        }
        // One index lookup serves the comparison and the store.
        let slot = self.index.get(&event.type_).copied();
        let previous = slot.map(|i| &self.events[i]);
        if previous.is_some_and(|p| p.natural_gt(event)) {
            return AddResult::default();
        }
        let previous_id = previous.map(|p| p.id);
        let type_ref = match self.type_refs.get(&event.type_) {
            Some(&r) => r,
            None => {
                let r = self.next_type_ref;
                self.next_type_ref += 1;
                self.changes.types.push((r, event.type_.clone()));
                self.type_refs.insert(event.type_.clone(), r);
                r
            }
        };
        self.changes.data.push((type_ref, Arc::clone(event)));
        self.put_at(slot, Arc::clone(event));
        let added = EventRef::Latest(type_ref);
        AddResult { added: Some(added), removed: previous_id.map(|id| (id, added)) }
    }

    /// hat's branches, which decide the order of the result: every latest
    /// event in first-kept order, except for a query of exact types fewer
    /// than the types kept, answered in the query's order.
    pub fn query(&self, params: &QueryLatestParams) -> Result<QueryResult, LmdbError> {
        let all = || Arc::clone(self.all.get_or_init(|| Arc::new(self.events.clone())));
        let events = match &params.event_types {
            None => all(),
            Some(types) if types.iter().any(|t| t.len() == 1 && t.segment(0) == "*") => all(),
            Some(types) if types.iter().any(|t| t.iter().any(|s| s == "*" || s == "?")) => {
                let subscription = Subscription::from_types(types).map_err(|e| LmdbError::Query(e.to_string()))?;
                Arc::new(self.events.iter().filter(|e| subscription.matches_type(&e.type_)).cloned().collect())
            }
            Some(types) => {
                let mut distinct: Vec<&EventType> = Vec::with_capacity(types.len());
                for t in types {
                    if !distinct.contains(&t) {
                        distinct.push(t);
                    }
                }
                Arc::new(if distinct.len() < self.events.len() {
                    distinct.iter().filter_map(|t| self.index.get(*t)).map(|&i| Arc::clone(&self.events[i])).collect()
                } else {
                    self.events.iter().filter(|e| distinct.contains(&&e.type_)).cloned().collect()
                })
            }
        };
        Ok(QueryResult { events, more_follows: false })
    }

    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && self.types.is_empty()
    }

    pub fn write(&self, txn: &mut RwTxn, dbs: &Dbs) -> Result<(), LmdbError> {
        // hat keeps a dict of changes: a type changed twice is written once,
        // at its first position, with its last event (the order of puts
        // shapes the B-tree, which the size limit reads).
        let mut order: Vec<EventTypeRef> = Vec::new();
        let mut last: HashMap<EventTypeRef, &Arc<Event>> = HashMap::new();
        for (type_ref, event) in &self.data {
            if last.insert(*type_ref, event).is_none() {
                order.push(*type_ref);
            }
        }
        for type_ref in order {
            dbs.get(DbType::LatestData).put(txn, &encode_uint(type_ref), &encode_event(last[&type_ref])?)?;
        }
        for (type_ref, type_) in &self.types {
            dbs.get(DbType::LatestType).put(
                txn,
                &encode_uint(*type_ref),
                &encode_json(&serde_json::json!(type_.to_vec())),
            )?;
        }
        Ok(())
    }
}
