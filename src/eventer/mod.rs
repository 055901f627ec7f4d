//! A client of Hat's eventer protocol: connects to a running
//! `hat-event-server` over TCP, registers events, queries and receives the
//! events of its subscription.
//!
//! - [`chatter`]: `HatChatter.Msg` records and their framing.
//! - [`client`]: the client (one background reader thread, no async runtime).

pub mod chatter;
pub mod client;

pub use client::{Client, ClientError, ClientOptions, Handler};
