//! Eventer protocol messages (`HatEventer.Msg*`) as one type, so that a
//! connection can hold, encode and decode any of them by kind.

use std::sync::Arc;

use crate::event::{Event, RegisterEvent, ServerStatus};
use crate::query::{QueryParams, QueryResult};
use crate::sbs::{self, MsgInitReq, MsgInitRes, MsgRegisterRes, Sbs, SbsError};

/// Which message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    InitReq,
    InitRes,
    StatusNotify,
    EventsNotify,
    EventsAck,
    RegisterReq,
    RegisterRes,
    QueryReq,
    QueryRes,
}

/// The one list of kinds is [`MessageKind::ALL`], in `HatEventer` schema
/// order: it drives the names ([`MessageKind::name`]), the numbers below
/// (each kind's position, which is also its C value `HAT_EVENT_MSG_*`,
/// checked by a test in `ffi/message.rs`) and decoding by name.
impl From<MessageKind> for u32 {
    fn from(kind: MessageKind) -> u32 {
        MessageKind::ALL.iter().position(|k| *k == kind).expect("every kind is in ALL") as u32
    }
}

/// The inverse of `From<MessageKind> for u32`; an unknown number is given
/// back as the error.
impl TryFrom<u32> for MessageKind {
    type Error = u32;
    fn try_from(n: u32) -> std::result::Result<MessageKind, u32> {
        MessageKind::ALL.get(n as usize).copied().ok_or(n)
    }
}

impl MessageKind {
    /// Every kind, in `HatEventer` schema order.
    pub const ALL: [MessageKind; 9] = [
        MessageKind::InitReq,
        MessageKind::InitRes,
        MessageKind::StatusNotify,
        MessageKind::EventsNotify,
        MessageKind::EventsAck,
        MessageKind::RegisterReq,
        MessageKind::RegisterRes,
        MessageKind::QueryReq,
        MessageKind::QueryRes,
    ];

    /// The SBS type name, as the chatter layer names message data.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::InitReq => "HatEventer.MsgInitReq",
            MessageKind::InitRes => "HatEventer.MsgInitRes",
            MessageKind::StatusNotify => "HatEventer.MsgStatusNotify",
            MessageKind::EventsNotify => "HatEventer.MsgEventsNotify",
            MessageKind::EventsAck => "HatEventer.MsgEventsAck",
            MessageKind::RegisterReq => "HatEventer.MsgRegisterReq",
            MessageKind::RegisterRes => "HatEventer.MsgRegisterRes",
            MessageKind::QueryReq => "HatEventer.MsgQueryReq",
            MessageKind::QueryRes => "HatEventer.MsgQueryRes",
        }
    }

    /// The kind of an SBS type name.
    pub fn from_name(name: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Any eventer message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    InitReq(MsgInitReq),
    InitRes(MsgInitRes),
    StatusNotify(ServerStatus),
    EventsNotify(Vec<Arc<Event>>),
    EventsAck,
    RegisterReq(Vec<RegisterEvent>),
    RegisterRes(MsgRegisterRes),
    QueryReq(QueryParams),
    QueryRes(QueryResult),
}

impl Message {
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::InitReq(_) => MessageKind::InitReq,
            Message::InitRes(_) => MessageKind::InitRes,
            Message::StatusNotify(_) => MessageKind::StatusNotify,
            Message::EventsNotify(_) => MessageKind::EventsNotify,
            Message::EventsAck => MessageKind::EventsAck,
            Message::RegisterReq(_) => MessageKind::RegisterReq,
            Message::RegisterRes(_) => MessageKind::RegisterRes,
            Message::QueryReq(_) => MessageKind::QueryReq,
            Message::QueryRes(_) => MessageKind::QueryRes,
        }
    }

    /// The SBS bytes of the message (its data in a chatter frame).
    pub fn encode(&self) -> sbs::Result<Vec<u8>> {
        match self {
            Message::InitReq(m) => sbs::encode_to_vec(m),
            Message::InitRes(m) => sbs::encode_to_vec(m),
            Message::StatusNotify(m) => sbs::encode_to_vec(m),
            Message::EventsNotify(m) => sbs::encode_to_vec(m),
            Message::EventsAck => sbs::encode_to_vec(&()),
            Message::RegisterReq(m) => sbs::encode_to_vec(m),
            Message::RegisterRes(m) => sbs::encode_to_vec(m),
            Message::QueryReq(m) => sbs::encode_to_vec(m),
            Message::QueryRes(m) => sbs::encode_to_vec(m),
        }
    }

    /// Decodes a message of `kind` from the start of `data`; returns it and
    /// the bytes it took. With `exact`, trailing bytes are an error.
    pub fn decode(kind: MessageKind, data: &[u8], exact: bool) -> Result<(Message, usize), SbsError> {
        fn run<T: Sbs>(data: &[u8], exact: bool, wrap: fn(T) -> Message) -> Result<(Message, usize), SbsError> {
            if exact {
                Ok((wrap(sbs::decode_exact(data)?), data.len()))
            } else {
                let (value, used) = sbs::decode_prefix(data)?;
                Ok((wrap(value), used))
            }
        }
        match kind {
            MessageKind::InitReq => run(data, exact, Message::InitReq),
            MessageKind::InitRes => run(data, exact, Message::InitRes),
            MessageKind::StatusNotify => run(data, exact, Message::StatusNotify),
            MessageKind::EventsNotify => run(data, exact, Message::EventsNotify),
            MessageKind::EventsAck => run(data, exact, |()| Message::EventsAck),
            MessageKind::RegisterReq => run(data, exact, Message::RegisterReq),
            MessageKind::RegisterRes => run(data, exact, Message::RegisterRes),
            MessageKind::QueryReq => run(data, exact, Message::QueryReq),
            MessageKind::QueryRes => run(data, exact, Message::QueryRes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::QueryLatestParams;

    #[test]
    fn names_round_trip() {
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::from_name(k.name()), Some(k));
        }
        assert_eq!(MessageKind::from_name("HatEventer.Event"), None);
    }

    #[test]
    fn every_kind_round_trips_and_prefix_decoding_reports_the_length() {
        let messages = [
            Message::InitReq(MsgInitReq {
                client_name: "c".into(),
                client_token: Some("t".into()),
                subscriptions: vec![crate::event_type::EventType::from(["a", "*"])],
                server_id: None,
                persisted: true,
            }),
            Message::InitRes(MsgInitRes::Error("no".into())),
            Message::StatusNotify(ServerStatus::Operational),
            Message::EventsNotify(vec![]),
            Message::EventsAck,
            Message::RegisterReq(vec![]),
            Message::RegisterRes(MsgRegisterRes::Failure),
            Message::QueryReq(QueryParams::Latest(QueryLatestParams { event_types: None })),
            Message::QueryRes(QueryResult::default()),
        ];
        for m in messages {
            let mut bytes = m.encode().unwrap();
            assert_eq!(Message::decode(m.kind(), &bytes, true).unwrap(), (m.clone(), bytes.len()));
            let n = bytes.len();
            bytes.push(0x80);
            assert_eq!(Message::decode(m.kind(), &bytes, false).unwrap(), (m.clone(), n));
            assert!(Message::decode(m.kind(), &bytes, true).is_err());
        }
    }
}
