//! The file format of hat-event's LMDB backend (`backends/lmdb/common.py`):
//! the nine named databases and the bytes of their keys and values.
//!
//! - integers (server ids, event type refs, partition ids, counts):
//!   big-endian `u64`;
//! - event ids: three big-endian `u64` (server, session, instance);
//! - timestamps: the 12-byte form of [`Timestamp::to_bytes`] (big-endian
//!   `s + 2^63`, then big-endian `u32` microseconds), so that byte order is
//!   time order;
//! - timeseries keys: partition id, timestamp, event id (44 bytes);
//! - events: SBS `HatEventer.Event`;
//! - event refs: a database number (4 latest, 6 timeseries) and that
//!   database's key, concatenated for a set of refs;
//! - settings, event types and partitions: JSON as Python's `json.dumps`
//!   writes it.

use crate::event::{Event, EventId};
pub(crate) use crate::server::id_map::IdMap;
use crate::timestamp::Timestamp;

/// The backend's format version, stored in the settings (hat's `version`).
pub const VERSION: &str = "0.9";

/// The named databases, numbered as hat numbers them (the numbers appear in
/// encoded event refs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbType {
    SystemSettings = 0,
    SystemLastEventId = 1,
    SystemLastTimestamp = 2,
    Ref = 3,
    LatestData = 4,
    LatestType = 5,
    TimeseriesData = 6,
    TimeseriesPartition = 7,
    TimeseriesCount = 8,
}

impl DbType {
    /// Every database, in hat's order.
    pub const ALL: [DbType; 9] = [
        DbType::SystemSettings,
        DbType::SystemLastEventId,
        DbType::SystemLastTimestamp,
        DbType::Ref,
        DbType::LatestData,
        DbType::LatestType,
        DbType::TimeseriesData,
        DbType::TimeseriesPartition,
        DbType::TimeseriesCount,
    ];

    /// The LMDB name of the database (hat's enum member name).
    pub fn name(self) -> &'static str {
        match self {
            DbType::SystemSettings => "SYSTEM_SETTINGS",
            DbType::SystemLastEventId => "SYSTEM_LAST_EVENT_ID",
            DbType::SystemLastTimestamp => "SYSTEM_LAST_TIMESTAMP",
            DbType::Ref => "REF",
            DbType::LatestData => "LATEST_DATA",
            DbType::LatestType => "LATEST_TYPE",
            DbType::TimeseriesData => "TIMESERIES_DATA",
            DbType::TimeseriesPartition => "TIMESERIES_PARTITION",
            DbType::TimeseriesCount => "TIMESERIES_COUNT",
        }
    }
}

/// Keys of the settings database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingsId {
    Version = 0,
    Identifier = 1,
}

/// The key of an event type in the latest databases.
pub type EventTypeRef = u64;
/// The key of a timeseries partition.
pub type PartitionId = u64;

/// Where an event is stored: the latest database (by its type's ref) or a
/// timeseries partition (by its key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventRef {
    Latest(EventTypeRef),
    Timeseries(TimeseriesKey),
}

/// A timeseries key: partition, the timestamp the partition orders by, id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeseriesKey {
    pub partition: PartitionId,
    pub timestamp: Timestamp,
    pub id: EventId,
}

/// A value or key that does not decode as hat writes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{db}: {message}")]
pub struct DecodeError {
    pub db: &'static str,
    pub message: String,
}

fn decode_error(db: DbType, message: impl Into<String>) -> DecodeError {
    DecodeError { db: db.name(), message: message.into() }
}

pub fn encode_uint(value: u64) -> [u8; 8] {
    value.to_be_bytes()
}

pub fn decode_uint(db: DbType, bytes: &[u8]) -> Result<u64, DecodeError> {
    let bytes: [u8; 8] =
        bytes.try_into().map_err(|_| decode_error(db, format!("integer of {} bytes, not 8", bytes.len())))?;
    Ok(u64::from_be_bytes(bytes))
}

/// Ids are `u64` in the file and `i64` in memory: the engine never makes a
/// negative one, and the cast keeps the order of the non-negative ones.
pub fn encode_event_id(id: EventId) -> [u8; 24] {
    let mut out = [0u8; 24];
    out[..8].copy_from_slice(&(id.server as u64).to_be_bytes());
    out[8..16].copy_from_slice(&(id.session as u64).to_be_bytes());
    out[16..].copy_from_slice(&(id.instance as u64).to_be_bytes());
    out
}

pub fn decode_event_id(db: DbType, bytes: &[u8]) -> Result<EventId, DecodeError> {
    if bytes.len() != 24 {
        return Err(decode_error(db, format!("event id of {} bytes, not 24", bytes.len())));
    }
    let part = |i: usize| decode_uint(db, &bytes[i * 8..i * 8 + 8]).map(|v| v as i64);
    Ok(EventId { server: part(0)?, session: part(1)?, instance: part(2)? })
}

pub fn decode_timestamp(db: DbType, bytes: &[u8]) -> Result<Timestamp, DecodeError> {
    Timestamp::from_bytes(bytes).map_err(|e| decode_error(db, e.to_string()))
}

pub fn encode_timeseries_key(key: &TimeseriesKey) -> [u8; 44] {
    let mut out = [0u8; 44];
    out[..8].copy_from_slice(&encode_uint(key.partition));
    out[8..20].copy_from_slice(&key.timestamp.to_bytes());
    out[20..].copy_from_slice(&encode_event_id(key.id));
    out
}

pub fn decode_timeseries_key(db: DbType, bytes: &[u8]) -> Result<TimeseriesKey, DecodeError> {
    if bytes.len() != 44 {
        return Err(decode_error(db, format!("timeseries key of {} bytes, not 44", bytes.len())));
    }
    Ok(TimeseriesKey {
        partition: decode_uint(db, &bytes[..8])?,
        timestamp: decode_timestamp(db, &bytes[8..20])?,
        id: decode_event_id(db, &bytes[20..])?,
    })
}

fn encode_event_ref(out: &mut Vec<u8>, event_ref: &EventRef) {
    match event_ref {
        EventRef::Latest(type_ref) => {
            out.push(DbType::LatestData as u8);
            out.extend_from_slice(&encode_uint(*type_ref));
        }
        EventRef::Timeseries(key) => {
            out.push(DbType::TimeseriesData as u8);
            out.extend_from_slice(&encode_timeseries_key(key));
        }
    }
}

/// A set of refs, one after another (hat writes a Python set, in its
/// iteration order: readers must not rely on the order).
pub fn encode_event_refs(refs: &[EventRef]) -> Vec<u8> {
    let mut out = Vec::with_capacity(refs.len() * 45);
    encode_event_refs_into(&mut out, refs);
    out
}

/// [`encode_event_refs`] into `out` (cleared first): a flush reuses one
/// buffer for every put.
pub fn encode_event_refs_into(out: &mut Vec<u8>, refs: &[EventRef]) {
    out.clear();
    for event_ref in refs {
        encode_event_ref(out, event_ref);
    }
}

pub fn decode_event_refs(mut bytes: &[u8]) -> Result<Vec<EventRef>, DecodeError> {
    let db = DbType::Ref;
    let mut refs = Vec::new();
    while let Some((&kind, rest)) = bytes.split_first() {
        let len = match kind {
            4 => 8,
            6 => 44,
            other => return Err(decode_error(db, format!("unsupported event reference to database {other}"))),
        };
        if rest.len() < len {
            return Err(decode_error(db, "event reference cut short"));
        }
        let (key, rest) = rest.split_at(len);
        let event_ref = if kind == 4 {
            EventRef::Latest(decode_uint(db, key)?)
        } else {
            EventRef::Timeseries(decode_timeseries_key(db, key)?)
        };
        if !refs.contains(&event_ref) {
            refs.push(event_ref);
        }
        bytes = rest;
    }
    Ok(refs)
}

pub fn encode_event(event: &Event) -> Result<Vec<u8>, crate::sbs::SbsError> {
    crate::sbs::encode_to_vec(event)
}

/// [`encode_event`] into `out` (cleared first): a flush reuses one buffer
/// for every put.
pub fn encode_event_into(out: &mut Vec<u8>, event: &Event) -> Result<(), crate::sbs::SbsError> {
    out.clear();
    crate::sbs::Sbs::encode(event, out)
}

pub fn decode_event(db: DbType, bytes: &[u8]) -> Result<Event, DecodeError> {
    crate::sbs::decode_exact(bytes).map_err(|e| decode_error(db, format!("event: {e}")))
}

/// JSON as hat writes it (`json.dumps` with its defaults).
pub fn encode_json(value: &serde_json::Value) -> Vec<u8> {
    // Only strings, lists and objects of them are written here, which
    // json.dumps always writes.
    crate::json::to_python_json(value).unwrap_or_default().into_bytes()
}

pub fn decode_json(db: DbType, bytes: &[u8]) -> Result<serde_json::Value, DecodeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| decode_error(db, format!("JSON not UTF-8: {e}")))?;
    serde_json::from_str(text).map_err(|e| decode_error(db, format!("JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeseries_key_is_partition_timestamp_id_big_endian() {
        let key = TimeseriesKey {
            partition: 2,
            timestamp: Timestamp::new(-1, 5).unwrap(),
            id: EventId { server: 1, session: 3, instance: 258 },
        };
        let bytes = encode_timeseries_key(&key);
        // Hand-checked: struct.pack('>Q', 2) + struct.pack('>QI', -1 + 2**63, 5)
        // + struct.pack('>QQQ', 1, 3, 258).
        let mut expected = vec![0, 0, 0, 0, 0, 0, 0, 2];
        expected.extend([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 5]);
        expected.extend([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(bytes.to_vec(), expected);
        assert_eq!(decode_timeseries_key(DbType::TimeseriesData, &bytes).unwrap(), key);
    }

    #[test]
    fn event_refs_round_trip_and_refuse_garbage() {
        let key = TimeseriesKey { partition: 1, timestamp: Timestamp::new(7, 0).unwrap(), id: EventId::default() };
        let refs = vec![EventRef::Latest(3), EventRef::Timeseries(key)];
        let bytes = encode_event_refs(&refs);
        assert_eq!(bytes.len(), 9 + 45);
        assert_eq!(&bytes[..9], &[4, 0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(decode_event_refs(&bytes).unwrap(), refs);
        assert!(decode_event_refs(&bytes[..20]).is_err());
        assert!(decode_event_refs(&[5, 0]).is_err());
    }

    #[test]
    fn json_is_written_as_json_dumps_writes_it() {
        let value = serde_json::json!({"order": "timestamp", "subscriptions": [["a", "é"]]});
        assert_eq!(encode_json(&value), br#"{"order": "timestamp", "subscriptions": [["a", "\u00e9"]]}"#.to_vec());
    }
}
