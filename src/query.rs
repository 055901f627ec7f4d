//! Query parameters and query results.

use crate::event::{Event, EventId, ServerId};
use crate::event_type::EventType;
use crate::timestamp::Timestamp;

/// Order of query results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Order {
    #[default]
    Descending,
    Ascending,
}

/// Which timestamp orders and filters query results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OrderBy {
    #[default]
    Timestamp,
    SourceTimestamp,
}

/// The latest event of each matching type. `None` means all types.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryLatestParams {
    pub event_types: Option<Vec<EventType>>,
}

/// Events over time; every filter is optional. Defaults as in the reference:
/// descending, ordered by timestamp, no limit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryTimeseriesParams {
    pub event_types: Option<Vec<EventType>>,
    pub t_from: Option<Timestamp>,
    pub t_to: Option<Timestamp>,
    pub source_t_from: Option<Timestamp>,
    pub source_t_to: Option<Timestamp>,
    pub order: Order,
    pub order_by: OrderBy,
    pub max_results: Option<i64>,
    pub last_event_id: Option<EventId>,
}

/// Events of one server, in registration order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryServerParams {
    pub server_id: ServerId,
    pub persisted: bool,
    pub max_results: Option<i64>,
    pub last_event_id: Option<EventId>,
}

impl QueryServerParams {
    /// Parameters for `server_id` with the reference's defaults.
    pub fn new(server_id: ServerId) -> QueryServerParams {
        QueryServerParams { server_id, ..Default::default() }
    }
}

/// One of the three kinds of query.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryParams {
    Latest(QueryLatestParams),
    Timeseries(QueryTimeseriesParams),
    Server(QueryServerParams),
}

/// What a query returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryResult {
    pub events: Vec<Event>,
    pub more_follows: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_reference() {
        let p = QueryTimeseriesParams::default();
        assert_eq!((p.order, p.order_by), (Order::Descending, OrderBy::Timestamp));
        assert!(p.event_types.is_none() && p.max_results.is_none() && p.last_event_id.is_none());
        let s = QueryServerParams::new(7);
        assert_eq!((s.server_id, s.persisted, s.max_results), (7, false, None));
        assert!(QueryLatestParams::default().event_types.is_none());
    }
}
