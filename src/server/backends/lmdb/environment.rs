//! The LMDB environment as hat opens it (`backends/lmdb/environment.py` and
//! `common.ext_create_env`): one file, not a directory (`subdir=False`),
//! nine named databases, a 1 TiB map on 64-bit hosts (2 GiB on 32-bit),
//! and py-lmdb's default flags otherwise: synchronous commits (`sync`,
//! `metasync`), locking, read-ahead. Named databases are created in a new
//! file (or one that has no database at all); an existing file must have
//! all nine.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use heed::types::Bytes;
use heed::{Env, EnvFlags, EnvOpenOptions, PutFlags, RoTxn, RwTxn};

use super::common::DbType;

/// A database of raw keys and values.
pub type Db = heed::Database<Bytes, Bytes>;

/// The nine databases, indexed by [`DbType`].
#[derive(Clone, Copy)]
pub struct Dbs([Db; 9]);

impl Dbs {
    pub fn get(&self, db_type: DbType) -> Db {
        self.0[db_type as usize]
    }
}

/// Puts into one database, appending where it can: a key above every
/// stored key goes in with `MDB_APPEND`, which skips the B-tree search and,
/// when the last page is full, starts a new page instead of splitting it in
/// half, so that pages written in key order end up full. Any other key is
/// put as usual. A flush writes new event ids and timestamps, which are
/// above what is stored, so nearly every put of a flush is an append.
///
/// The remembered last key is an upper bound of the stored ones (a delete
/// through another handle can only lower the true one), so an append is
/// never refused.
pub struct Appender {
    db: Db,
    last: Option<Vec<u8>>,
}

impl Appender {
    /// An appender for `db`, which reads the database's last key once.
    pub fn new(db: Db, txn: &RoTxn) -> heed::Result<Appender> {
        let last = db.last(txn)?.map(|(key, _)| key.to_vec());
        Ok(Appender { db, last })
    }

    pub fn put(&mut self, txn: &mut RwTxn, key: &[u8], value: &[u8]) -> heed::Result<()> {
        match &mut self.last {
            Some(last) if key <= &last[..] => self.db.put(txn, key, value),
            last => {
                self.db.put_with_flags(txn, PutFlags::APPEND, key, value)?;
                let last = last.get_or_insert_with(Vec::new);
                last.clear();
                last.extend_from_slice(key);
                Ok(())
            }
        }
    }
}

/// hat's `default_max_size`.
pub const MAP_SIZE: usize = if usize::BITS == 64 { 1 << 40 } else { 2 << 30 };

/// Why the environment could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path}: not an LMDB file this backend can open: {reason}")]
    NotLmdb { path: String, reason: String },
    #[error("{path}: database {name} is missing (not a hat-event LMDB file?)")]
    MissingDb { path: String, name: &'static str },
    #[error("{path}: {source}")]
    Lmdb { path: String, source: heed::Error },
}

/// Opens (or creates) the file at `path` and its nine databases.
pub fn open(path: &Path) -> Result<(Env, Dbs), OpenError> {
    let shown = path.display().to_string();
    let create = !path.exists();
    if !create {
        check_header(path).map_err(|reason| OpenError::NotLmdb { path: shown.clone(), reason })?;
    }
    let lmdb = |source| OpenError::Lmdb { path: shown.clone(), source };
    let env = open_env(path).map_err(lmdb)?;
    let mut dbs = Vec::with_capacity(9);
    let mut missing = Vec::new();
    let blank;
    {
        let txn = env.read_txn().map_err(lmdb)?;
        // The unnamed database lists the named ones (and holds whatever a
        // foreign program put there).
        blank = match env.open_database::<Bytes, Bytes>(&txn, None).map_err(lmdb)? {
            Some(main) => main.is_empty(&txn).map_err(lmdb)?,
            None => true,
        };
        for db_type in DbType::ALL {
            match env.open_database::<Bytes, Bytes>(&txn, Some(db_type.name())) {
                Ok(Some(db)) => dbs.push(db),
                Ok(None) => missing.push(db_type),
                Err(e) => return Err(lmdb(e)),
            }
        }
        txn.commit().map_err(lmdb)?;
    }
    // hat creates the databases only in a file that did not exist. Beyond
    // hat: a file with none of them (LMDB initialised it, but the first
    // transaction never committed: a process killed while creating it) is
    // taken as new too. A file with some but not all is refused.
    if blank || (create && !missing.is_empty()) {
        let mut txn = env.write_txn().map_err(lmdb)?;
        dbs.clear();
        for db_type in DbType::ALL {
            dbs.push(env.create_database::<Bytes, Bytes>(&mut txn, Some(db_type.name())).map_err(lmdb)?);
        }
        txn.commit().map_err(lmdb)?;
    } else if let Some(db_type) = missing.first() {
        return Err(OpenError::MissingDb { path: shown.clone(), name: db_type.name() });
    }
    let dbs: [Db; 9] = dbs.try_into().unwrap_or_else(|_| unreachable!("nine databases were opened"));
    Ok((env, Dbs(dbs)))
}

// The one unsafe call of the backend: heed marks opening an environment
// unsafe because the memory map is undefined behaviour if the file is
// changed under it other than through LMDB (truncated, rewritten). LMDB's
// own lock file guards every change made through LMDB (ours, hat's,
// hat-event-lmdb-manager's); `check_header` refuses a file already too
// short for the pages its header names. A file truncated while open is
// outside what any LMDB user can defend against.
#[allow(unsafe_code)]
fn open_env(path: &Path) -> heed::Result<Env> {
    let mut options = EnvOpenOptions::new();
    options.map_size(MAP_SIZE).max_dbs(DbType::ALL.len() as u32);
    // SAFETY: NO_SUB_DIR only changes where the files are (the data file
    // at `path`, the lock file at `path-lock`), as py-lmdb's subdir=False.
    unsafe { options.flags(EnvFlags::NO_SUB_DIR) };
    // SAFETY: see the comment above this function.
    unsafe { options.open(path) }
}

const MDB_MAGIC: u32 = 0xBEEF_C0DE;
const MDB_DATA_VERSION: u32 = 1;
/// Offsets in a meta page: the page header is 16 bytes, then `MDB_meta`.
const META_MAGIC: usize = 16;
const META_VERSION: usize = 20;
const META_PAGE_SIZE: usize = 40;
const META_LAST_PAGE: usize = 136;
const META_TXNID: usize = 144;
const META_LEN: usize = 152;

/// Reads the two meta pages LMDB reads first and checks what LMDB itself
/// would only find out by touching memory past the end of the file: that
/// the file holds every page its newest meta page counts. An empty file is
/// left to LMDB (which initialises it; then the databases are missing).
fn check_header(path: &Path) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len == 0 {
        return Ok(());
    }
    let mut first = [0u8; META_LEN];
    file.read_exact(&mut first).map_err(|_| format!("file of {len} bytes is too short for an LMDB header"))?;
    let meta = |page: &[u8]| -> Result<(u64, u64), String> {
        let u32_at = |at: usize| u32::from_le_bytes(page[at..at + 4].try_into().unwrap_or_default());
        let u64_at = |at: usize| u64::from_le_bytes(page[at..at + 8].try_into().unwrap_or_default());
        if u32_at(META_MAGIC) != MDB_MAGIC {
            return Err("no LMDB magic number".into());
        }
        if u32_at(META_VERSION) != MDB_DATA_VERSION {
            return Err(format!("LMDB data version {}, not {MDB_DATA_VERSION} (LMDB 0.9)", u32_at(META_VERSION)));
        }
        Ok((u64_at(META_LAST_PAGE), u64_at(META_TXNID)))
    };
    let (last_0, txn_0) = meta(&first)?;
    let page_size = u32::from_le_bytes(first[META_PAGE_SIZE..META_PAGE_SIZE + 4].try_into().unwrap_or_default());
    if !page_size.is_power_of_two() || !(512..=65536).contains(&page_size) {
        return Err(format!("page size {page_size} in the header"));
    }
    let page_size = u64::from(page_size);
    if len < 2 * page_size {
        return Err(format!("file of {len} bytes is shorter than its two meta pages"));
    }
    let mut second = [0u8; META_LEN];
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(page_size)).map_err(|e| e.to_string())?;
    file.read_exact(&mut second).map_err(|e| e.to_string())?;
    let (last_1, txn_1) = meta(&second)?;
    let last_page = if txn_1 > txn_0 { last_1 } else { last_0 };
    let needed = last_page.saturating_add(1).saturating_mul(page_size);
    if len < needed {
        return Err(format!("file of {len} bytes is truncated: its header counts {needed} bytes of pages"));
    }
    Ok(())
}
