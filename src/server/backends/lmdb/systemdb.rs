//! Settings and the last event id and timestamp of each server
//! (`backends/lmdb/systemdb.py`).

use heed::{RoTxn, RwTxn};
use serde_json::Value;

use super::common::{
    decode_event_id, decode_json, decode_timestamp, decode_uint, encode_event_id, encode_json, encode_uint, DbType,
    IdMap, SettingsId,
};
use super::environment::Dbs;
use super::LmdbError;
use crate::event::{EventId, ServerId};
use crate::timestamp::Timestamp;

/// The last id and timestamp of each server, as registered (not only as
/// flushed), and what changed since the last flush.
#[derive(Default)]
pub struct SystemDb {
    last_event_ids: IdMap<ServerId, EventId>,
    last_timestamps: IdMap<ServerId, Timestamp>,
    changes: Changes,
}

#[derive(Default)]
pub struct Changes {
    last_event_ids: IdMap<ServerId, EventId>,
    last_timestamps: IdMap<ServerId, Timestamp>,
}

impl SystemDb {
    /// Checks the settings (hat's refusal of another version or identifier;
    /// writes the missing ones) and reads the last ids and timestamps.
    pub fn create(txn: &mut RwTxn, dbs: &Dbs, identifier: Option<&str>) -> Result<SystemDb, LmdbError> {
        validate_settings(txn, dbs, identifier)?;
        let mut db = SystemDb::default();
        for item in dbs.get(DbType::SystemLastEventId).iter(txn)? {
            let (key, value) = item?;
            let server = decode_uint(DbType::SystemLastEventId, key)? as ServerId;
            db.last_event_ids.insert(server, decode_event_id(DbType::SystemLastEventId, value)?);
        }
        for item in dbs.get(DbType::SystemLastTimestamp).iter(txn)? {
            let (key, value) = item?;
            let server = decode_uint(DbType::SystemLastTimestamp, key)? as ServerId;
            db.last_timestamps.insert(server, decode_timestamp(DbType::SystemLastTimestamp, value)?);
        }
        Ok(db)
    }

    pub fn get_last_event_id(&self, server: ServerId) -> EventId {
        self.last_event_ids.get(&server).copied().unwrap_or(EventId { server, session: 0, instance: 0 })
    }

    pub fn set_last_event_id(&mut self, id: EventId) {
        self.changes.last_event_ids.insert(id.server, id);
        self.last_event_ids.insert(id.server, id);
    }

    pub fn get_last_timestamp(&self, server: ServerId) -> Timestamp {
        self.last_timestamps.get(&server).copied().unwrap_or(Timestamp::MIN)
    }

    pub fn set_last_timestamp(&mut self, server: ServerId, timestamp: Timestamp) {
        self.changes.last_timestamps.insert(server, timestamp);
        self.last_timestamps.insert(server, timestamp);
    }

    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.last_event_ids.is_empty() && self.last_timestamps.is_empty()
    }

    pub fn write(&self, txn: &mut RwTxn, dbs: &Dbs) -> Result<(), LmdbError> {
        for (server, id) in &self.last_event_ids {
            dbs.get(DbType::SystemLastEventId).put(txn, &encode_uint(*server as u64), &encode_event_id(*id))?;
        }
        for (server, timestamp) in &self.last_timestamps {
            dbs.get(DbType::SystemLastTimestamp).put(txn, &encode_uint(*server as u64), &timestamp.to_bytes())?;
        }
        Ok(())
    }
}

fn read_setting(txn: &RoTxn, dbs: &Dbs, id: SettingsId) -> Result<Option<Value>, LmdbError> {
    match dbs.get(DbType::SystemSettings).get(txn, &encode_uint(id as u64))? {
        Some(bytes) => Ok(Some(decode_json(DbType::SystemSettings, bytes)?)),
        None => Ok(None),
    }
}

fn validate_settings(txn: &mut RwTxn, dbs: &Dbs, identifier: Option<&str>) -> Result<(), LmdbError> {
    let settings = dbs.get(DbType::SystemSettings);
    match read_setting(txn, dbs, SettingsId::Version)? {
        None => {
            settings.put(txn, &encode_uint(SettingsId::Version as u64), &encode_json(&super::common::VERSION.into()))?
        }
        Some(found) if found != super::common::VERSION => {
            return Err(LmdbError::Refused(format!(
                "invalid version: the file is version {found}, this backend writes {:?}",
                super::common::VERSION
            )))
        }
        Some(_) => {}
    }
    // As hat: without a configured identifier, any file is accepted and
    // its identifier kept.
    if let Some(identifier) = identifier {
        match read_setting(txn, dbs, SettingsId::Identifier)? {
            None => settings.put(txn, &encode_uint(SettingsId::Identifier as u64), &encode_json(&identifier.into()))?,
            Some(found) if found != identifier => {
                return Err(LmdbError::Refused(format!(
                    "invalid identifier: the file's is {found}, the configured one {identifier:?}"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}
