//! The schema texts of the wire formats.

use std::ffi::c_char;

/// The SBS schema of module `HatEventer` (every type and message this
/// library encodes), NUL-terminated UTF-8 in hat-sbs syntax; static, never
/// NULL, never freed. Equal, type for type, to hat-event's `sbs_repo`.
#[no_mangle]
pub extern "C" fn hat_event_sbs_schema() -> *const c_char {
    concat!(include_str!("../schemas/hat_eventer.sbs"), "\0").as_ptr().cast()
}

/// The JSON Schema repository of hat-event's configuration and data formats,
/// as hat-event's `json_schema_repo` holds it: one JSON object mapping each
/// schema id (`"hat-event://server.yaml"`, `"hat-json://logging.yaml"`, ...)
/// to its schema (draft 2020-12). NUL-terminated UTF-8 JSON text; static,
/// never NULL, never freed. Equal, as JSON data, to the oracle's repository
/// (hat-json's own schemas merged with hat-event's).
#[no_mangle]
pub extern "C" fn hat_event_json_schema_repo() -> *const c_char {
    JSON_SCHEMA_REPO.as_ptr().cast()
}

const JSON_SCHEMA_REPO: &str = concat!(include_str!("../schemas/json_schema_repo.json"), "\0");

#[cfg(test)]
mod tests {
    use super::JSON_SCHEMA_REPO;

    #[test]
    fn json_schema_repo_maps_each_id_to_its_schema() {
        let text = JSON_SCHEMA_REPO.strip_suffix('\0').expect("NUL-terminated");
        assert!(!text.contains('\0'));
        let repo: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
        let repo = repo.as_object().expect("an object");
        let ids: Vec<&str> = repo.keys().map(String::as_str).collect();
        assert!(ids.contains(&"hat-event://server.yaml"), "{ids:?}");
        assert!(ids.contains(&"hat-event://events.yaml"), "{ids:?}");
        for (id, schema) in repo {
            assert_eq!(schema["$id"], serde_json::Value::from(id.as_str()));
            assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        }
    }
}
