//! Query parameters and query results.

use std::sync::Arc;

use crate::error::{Error, Result};
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

/// Which fields each kind has: the rules every reader and writer of
/// parameters by field name (the C setters and getters) follows. A field
/// the kind lacks reads as absent and is refused on write.
impl QueryParams {
    /// `"latest"`, `"timeseries"` or `"server"`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            QueryParams::Latest(_) => "latest",
            QueryParams::Timeseries(_) => "timeseries",
            QueryParams::Server(_) => "server",
        }
    }

    /// The error for writing `field`, which this kind lacks.
    pub fn no_field(&self, field: &str) -> Error {
        Error::InvalidArgument(format!("query params of kind {} have no field {field}", self.kind_name()))
    }

    /// `event_types` (latest and timeseries); `None` for a server query.
    pub fn event_types(&self) -> Option<&Vec<EventType>> {
        match self {
            QueryParams::Latest(q) => q.event_types.as_ref(),
            QueryParams::Timeseries(q) => q.event_types.as_ref(),
            QueryParams::Server(_) => None,
        }
    }

    /// `event_types` to write; refused for a server query.
    pub fn event_types_mut(&mut self) -> Result<&mut Option<Vec<EventType>>> {
        match self {
            QueryParams::Latest(q) => Ok(&mut q.event_types),
            QueryParams::Timeseries(q) => Ok(&mut q.event_types),
            QueryParams::Server(_) => Err(self.no_field("event_types")),
        }
    }

    /// The timeseries parameters, if this is a timeseries query.
    pub fn timeseries(&self) -> Option<&QueryTimeseriesParams> {
        match self {
            QueryParams::Timeseries(q) => Some(q),
            _ => None,
        }
    }

    /// The timeseries parameters to write `field` of; refused for the
    /// other kinds.
    pub fn timeseries_mut(&mut self, field: &str) -> Result<&mut QueryTimeseriesParams> {
        match self {
            QueryParams::Timeseries(q) => Ok(q),
            _ => Err(self.no_field(field)),
        }
    }

    /// `(max_results, last_event_id)` (timeseries and server); absent for
    /// a latest query.
    pub fn paging(&self) -> (Option<i64>, Option<EventId>) {
        match self {
            QueryParams::Timeseries(q) => (q.max_results, q.last_event_id),
            QueryParams::Server(q) => (q.max_results, q.last_event_id),
            QueryParams::Latest(_) => (None, None),
        }
    }

    /// `(max_results, last_event_id)` to write `field` of; refused for a
    /// latest query.
    pub fn paging_mut(&mut self, field: &str) -> Result<(&mut Option<i64>, &mut Option<EventId>)> {
        match self {
            QueryParams::Timeseries(q) => Ok((&mut q.max_results, &mut q.last_event_id)),
            QueryParams::Server(q) => Ok((&mut q.max_results, &mut q.last_event_id)),
            QueryParams::Latest(_) => Err(self.no_field(field)),
        }
    }
}

/// What a query returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryResult {
    /// Shared: a backend's result holds the events it stores, not copies,
    /// and the list itself may be shared (a backend can hand out the same
    /// list while nothing changes: an O(1) result, one reference count).
    /// Modify with `Arc::make_mut` (copies the list if it is shared).
    pub events: Arc<Vec<Arc<Event>>>,
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

    #[test]
    fn fields_a_kind_lacks_read_as_absent_and_are_refused_on_write() {
        let mut server = QueryParams::Server(QueryServerParams::new(1));
        assert_eq!(server.kind_name(), "server");
        assert!(server.event_types().is_none() && server.timeseries().is_none());
        assert_eq!(
            server.event_types_mut().unwrap_err().to_string(),
            "query params of kind server have no field event_types"
        );
        assert!(server.timeseries_mut("order").is_err());
        *server.paging_mut("max_results").unwrap().0 = Some(3);
        assert_eq!(server.paging(), (Some(3), None));
        let mut latest = QueryParams::Latest(QueryLatestParams::default());
        assert_eq!(latest.paging(), (None, None));
        assert!(latest.paging_mut("last_event_id").is_err());
        *latest.event_types_mut().unwrap() = Some(vec![]);
        assert_eq!(latest.event_types(), Some(&vec![]));
    }
}
