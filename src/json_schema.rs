//! JSON Schema validation of plug-in configurations (draft 2020-12, the
//! draft hat uses, by default), offline: only the schemas of the given
//! repository are known; a `$ref` elsewhere is an error, never a download.

use crate::error::Quoted;

/// Validates `instance` against the schema `id` of `repo`, hat's JSON form
/// of a schema repository: an object mapping schema ids (URIs such as
/// `hat-event://server.yaml`) to schemas. The error is the validator's
/// message.
/// Messages quote ids and values at most [`QUOTE_LIMIT`](crate::error::QUOTE_LIMIT)
/// bytes long; the validator's own text is kept whole here (callers bound it).
pub fn validate(id: &str, repo: &serde_json::Value, instance: &serde_json::Value) -> Result<(), String> {
    let (schemas, index) = compile(id, repo)?;
    schemas.validate(instance, index).map_err(|e| format!("{e:#}"))
}

/// Checks that the schema `id` of `repo` can validate: `repo` is an object
/// of schemas by id, `id` (without a `#` fragment) is one of its ids, and
/// the schema compiles with everything it refers to.
pub fn check(id: &str, repo: &serde_json::Value) -> Result<(), String> {
    compile(id, repo).map(|_| ())
}

fn compile(id: &str, repo: &serde_json::Value) -> Result<(boon::Schemas, boon::SchemaIndex), String> {
    let schemas_by_id =
        repo.as_object().ok_or_else(|| "the schema repository is not a JSON object of schemas by id".to_string())?;
    let base = id.split_once('#').map_or(id, |(base, _)| base);
    if !schemas_by_id.contains_key(base) {
        // Callers name `id` already; only a fragment-less base needs naming.
        return Err(if base == id {
            "no schema of the repository has this id".to_string()
        } else {
            format!("no schema of the repository has the id {}", Quoted(base))
        });
    }
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V2020_12);
    // No loader is registered: nothing outside the repository is fetched.
    compiler.use_loader(Box::new(NoLoader));
    for (schema_id, schema) in schemas_by_id {
        compiler.add_resource(schema_id, schema.clone()).map_err(|e| format!("schema {}: {e}", Quoted(schema_id)))?;
    }
    let mut schemas = boon::Schemas::new();
    let index = compiler.compile(id, &mut schemas).map_err(|e| format!("schema {}: {e}", Quoted(id)))?;
    Ok((schemas, index))
}

struct NoLoader;

impl boon::UrlLoader for NoLoader {
    fn load(&self, url: &str) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
        Err(format!("{} is not in the schema repository", Quoted(url)).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn repo() -> serde_json::Value {
        json!({
            "test://conf.yaml": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "test://conf.yaml",
                "type": "object",
                "required": ["path"],
                "properties": {"path": {"type": "string"}, "limit": {"$ref": "test://defs.yaml#/$defs/positive"}}
            },
            "test://defs.yaml": {"$id": "test://defs.yaml", "$defs": {"positive": {"type": "integer", "minimum": 1}}}
        })
    }

    #[test]
    fn a_conforming_configuration_passes() {
        validate("test://conf.yaml", &repo(), &json!({"module": "x", "path": "/tmp/a", "limit": 3})).unwrap();
    }

    #[test]
    fn a_violation_is_refused_with_the_validators_message() {
        let e = validate("test://conf.yaml", &repo(), &json!({"module": "x"})).unwrap_err();
        assert!(e.contains("missing properties 'path'"), "{e}");
        let e = validate("test://conf.yaml", &repo(), &json!({"path": "p", "limit": 0})).unwrap_err();
        assert!(e.contains("/limit") && e.contains("minimum"), "{e}");
    }

    #[test]
    fn unknown_ids_and_outside_references_are_errors_not_downloads() {
        assert!(validate("test://other.yaml", &repo(), &json!({})).is_err());
        let repo = json!({"test://a.yaml": {"$ref": "https://example.com/x.json"}});
        let e = validate("test://a.yaml", &repo, &json!({})).unwrap_err();
        assert!(e.contains("example.com"), "{e}");
        assert!(validate("test://a.yaml", &json!([]), &json!({})).is_err());
    }

    #[test]
    fn check_names_a_missing_id_as_given_and_refuses_a_schema_that_does_not_compile() {
        check("test://conf.yaml", &repo()).unwrap();
        check("test://conf.yaml#/properties/path", &repo()).unwrap();
        let e = check("x", &repo()).unwrap_err();
        assert_eq!(e, "no schema of the repository has this id");
        let e = check("test://other.yaml#/a", &repo()).unwrap_err();
        assert_eq!(e, "no schema of the repository has the id 'test://other.yaml'");
        let broken = json!({"x": {"type": 12}});
        let e = check("x", &broken).unwrap_err();
        assert!(e.starts_with("schema 'x': "), "{e}");
        let dangling = json!({"test://a.yaml": {"$ref": "test://b.yaml"}});
        assert!(check("test://a.yaml", &dangling).is_err());
    }

    #[test]
    fn a_huge_id_is_quoted_short() {
        let id = "i".repeat(10_000_000);
        let e = check(&id, &repo()).unwrap_err();
        assert!(e.len() < 200, "{}", e.len());
    }
}
