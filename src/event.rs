//! Events and everything they are made of: ids, payloads, register events,
//! sources and the server status.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::error::Result;
use crate::event_type::EventType;
use crate::json::JsonPayload;
use crate::timestamp::Timestamp;

pub type ServerId = i64;
pub type SessionId = i64;
pub type InstanceId = i64;

/// Identifies an event; ordered lexicographically by (server, session, instance).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId {
    pub server: ServerId,
    pub session: SessionId,
    pub instance: InstanceId,
}

/// The payload of an event. Equality follows the reference: JSON values
/// compare as Python compares what `json.loads` returns (see
/// [`crate::json::Document::python_eq`]).
#[derive(Clone, Debug)]
pub enum EventPayload {
    /// Opaque bytes with an application-defined type name.
    Binary { type_: String, data: Vec<u8> },
    /// A JSON value, kept as the text hat-event writes for it.
    Json(JsonPayload),
}

impl PartialEq for EventPayload {
    fn eq(&self, other: &EventPayload) -> bool {
        match (self, other) {
            (EventPayload::Binary { type_: t1, data: d1 }, EventPayload::Binary { type_: t2, data: d2 }) => {
                t1 == t2 && d1 == d2
            }
            (EventPayload::Json(a), EventPayload::Json(b)) => a == b,
            _ => false,
        }
    }
}

impl EventPayload {
    /// A JSON payload from JSON text; the text must hold exactly one value.
    pub fn json_from_text(text: &str) -> Result<EventPayload> {
        JsonPayload::from_text(text).map(EventPayload::Json)
    }
}

/// A registered event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub type_: EventType,
    pub timestamp: Timestamp,
    pub source_timestamp: Option<Timestamp>,
    /// Shared (immutable): the engine hands a register event's payload on
    /// to the event it becomes without copying it.
    pub payload: Option<Arc<EventPayload>>,
}

impl Event {
    /// The reference's `Event.__lt__`: natural order, assuming `self` was
    /// registered before `other` when the order cannot otherwise be told.
    /// Not a total order: use [`Event::cmp_total`] to sort.
    pub fn natural_lt(&self, other: &Event) -> bool {
        if self.id == other.id {
            false
        } else if self.id.server == other.id.server {
            self.id < other.id
        } else if self.timestamp != other.timestamp {
            self.timestamp < other.timestamp
        } else {
            true
        }
    }

    /// The reference's `Event.__gt__` (see [`Event::natural_lt`]).
    pub fn natural_gt(&self, other: &Event) -> bool {
        if self.id == other.id {
            false
        } else if self.id.server == other.id.server {
            self.id > other.id
        } else if self.timestamp != other.timestamp {
            self.timestamp > other.timestamp
        } else {
            false
        }
    }

    /// A total order for sorting: timestamp, then server, session, instance.
    /// Agrees with the natural order wherever that one is decided by
    /// timestamps; events with equal keys compare equal.
    pub fn cmp_total(&self, other: &Event) -> Ordering {
        (self.timestamp, self.id).cmp(&(other.timestamp, other.id))
    }
}

/// An event as a client asks to register it (the server assigns id and timestamp).
#[derive(Clone, Debug, PartialEq)]
pub struct RegisterEvent {
    pub type_: EventType,
    pub source_timestamp: Option<Timestamp>,
    /// Shared (immutable): the engine hands a register event's payload on
    /// to the event it becomes without copying it.
    pub payload: Option<Arc<EventPayload>>,
}

/// The event server's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerStatus {
    Standby,
    Starting,
    Operational,
    Stopping,
}

/// What kind of component registered events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceType {
    Eventer = 1,
    Module = 2,
    Engine = 3,
    Server = 4,
}

/// The one mapping of server statuses to numbers: the reference's order,
/// which is both the SBS choice index and the C value
/// (`HAT_EVENT_SERVER_STATUS_*`).
impl From<ServerStatus> for u32 {
    fn from(status: ServerStatus) -> u32 {
        match status {
            ServerStatus::Standby => 0,
            ServerStatus::Starting => 1,
            ServerStatus::Operational => 2,
            ServerStatus::Stopping => 3,
        }
    }
}

/// The inverse of `From<ServerStatus> for u32`; an unknown number is
/// given back as the error.
impl TryFrom<u32> for ServerStatus {
    type Error = u32;
    fn try_from(n: u32) -> std::result::Result<ServerStatus, u32> {
        match n {
            0 => Ok(ServerStatus::Standby),
            1 => Ok(ServerStatus::Starting),
            2 => Ok(ServerStatus::Operational),
            3 => Ok(ServerStatus::Stopping),
            other => Err(other),
        }
    }
}

/// The one mapping of source types to numbers: the reference's
/// `SourceType` values, which are also the C values
/// (`HAT_EVENT_SOURCE_TYPE_*`).
impl From<SourceType> for u32 {
    fn from(t: SourceType) -> u32 {
        t as u32
    }
}

/// The inverse of `From<SourceType> for u32`; an unknown number is given
/// back as the error.
impl TryFrom<u32> for SourceType {
    type Error = u32;
    fn try_from(n: u32) -> std::result::Result<SourceType, u32> {
        match n {
            1 => Ok(SourceType::Eventer),
            2 => Ok(SourceType::Module),
            3 => Ok(SourceType::Engine),
            4 => Ok(SourceType::Server),
            other => Err(other),
        }
    }
}

/// Who registered events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    pub type_: SourceType,
    pub id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_source_type_numbers_round_trip() {
        for s in [ServerStatus::Standby, ServerStatus::Starting, ServerStatus::Operational, ServerStatus::Stopping] {
            assert_eq!(ServerStatus::try_from(u32::from(s)), Ok(s));
        }
        for t in [SourceType::Eventer, SourceType::Module, SourceType::Engine, SourceType::Server] {
            assert_eq!(SourceType::try_from(u32::from(t)), Ok(t));
        }
        assert_eq!(ServerStatus::try_from(4), Err(4));
        assert_eq!(SourceType::try_from(0), Err(0));
    }

    fn event(server: i64, session: i64, instance: i64, s: i64) -> Event {
        Event {
            id: EventId { server, session, instance },
            type_: crate::event_type::EventType::from(["a"]),
            timestamp: Timestamp::new(s, 0).unwrap(),
            source_timestamp: None,
            payload: None,
        }
    }

    #[test]
    fn natural_order_same_id_is_neither() {
        let a = event(1, 2, 3, 10);
        let b = event(1, 2, 3, 5);
        assert!(!a.natural_lt(&b) && !a.natural_gt(&b));
    }

    #[test]
    fn natural_order_same_server_compares_ids_not_timestamps() {
        let a = event(1, 1, 5, 100);
        let b = event(1, 2, 1, 0);
        assert!(a.natural_lt(&b) && !a.natural_gt(&b));
        assert!(b.natural_gt(&a) && !b.natural_lt(&a));
    }

    #[test]
    fn natural_order_other_server_compares_timestamps() {
        let a = event(1, 9, 9, 5);
        let b = event(2, 1, 1, 6);
        assert!(a.natural_lt(&b) && b.natural_gt(&a));
        assert!(!a.natural_gt(&b) && !b.natural_lt(&a));
    }

    #[test]
    fn natural_order_ties_assume_first_operand_first() {
        let a = event(1, 1, 1, 5);
        let b = event(2, 1, 1, 5);
        assert!(a.natural_lt(&b) && b.natural_lt(&a));
        assert!(!a.natural_gt(&b) && !b.natural_gt(&a));
    }

    #[test]
    fn total_order_is_timestamp_then_id() {
        let mut v = [event(2, 1, 1, 5), event(1, 1, 2, 5), event(9, 9, 9, 1), event(1, 1, 1, 5)];
        v.sort_by(Event::cmp_total);
        let ids: Vec<_> = v.iter().map(|e| (e.id.server, e.id.instance)).collect();
        assert_eq!(ids, [(9, 9), (1, 1), (1, 2), (2, 1)]);
    }

    #[test]
    fn json_payload_keeps_member_order_and_big_integers() {
        let EventPayload::Json(v) =
            EventPayload::json_from_text(r#"{"b": 1, "a": 123456789012345678901234567890}"#).unwrap()
        else {
            panic!("not json")
        };
        assert_eq!(
            serde_json::to_string(&v.value().unwrap()).unwrap(),
            r#"{"b":1,"a":123456789012345678901234567890}"#
        );
        assert_eq!(v.text().unwrap(), r#"{"b": 1, "a": 123456789012345678901234567890}"#);
    }

    #[test]
    fn a_payload_with_inline_json_text_is_64_bytes() {
        assert_eq!(std::mem::size_of::<EventPayload>(), 64);
    }

    #[test]
    fn json_payload_holds_nan_unwritten_and_refuses_trailing_text() {
        use crate::error::Error;
        // Python reads NaN; hat-event cannot write it (allow_nan=False).
        let Ok(EventPayload::Json(nan)) = EventPayload::json_from_text("NaN") else { panic!("NaN refused") };
        assert!(matches!(nan.text(), Err(Error::InvalidJson(_))));
        assert!(matches!(EventPayload::json_from_text("1 2"), Err(Error::InvalidJson(_))));
        assert!(matches!(EventPayload::json_from_text(""), Err(Error::InvalidJson(_))));
    }
}
