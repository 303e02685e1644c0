//! Loading policies: JSON syntax, then the JSON Schema in `policies/schema/`, then the
//! semantic checks, then compilation. A policy is only ever used once all of that passed.

use super::compile::compile;
use super::compiled::CompiledPolicy;
use super::err::{pointer_to_path, PolicyError, Problem};
use super::model::PolicyDoc;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The policy schema, shipped in the repository and embedded in the binary.
pub const SCHEMA: &str = include_str!("../../policies/schema/policy.schema.json");

/// The shipped default policy, used by `--demo` and when the policy folder is empty.
pub const DEFAULT_POLICY: &str = include_str!("../../policies/goodwill.json");

fn validator() -> Result<&'static jsonschema::Validator, Problem> {
    static V: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    V.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(SCHEMA).map_err(|e| format!("embedded schema: {e}"))?;
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| format!("embedded schema: {e}"))
    })
    .as_ref()
    .map_err(|e| Problem::new("$", e.clone()))
}

/// `sha256:<hex>` over the canonical JSON form (keys sorted, no whitespace).
pub fn digest(value: &serde_json::Value) -> String {
    let canonical = serde_json::to_vec(value).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(&canonical)))
}

/// Validate against the JSON Schema; every violation with its path.
pub fn schema_problems(value: &serde_json::Value) -> Vec<Problem> {
    match validator() {
        Err(p) => vec![p],
        Ok(v) => v
            .iter_errors(value)
            .map(|e| Problem::new(pointer_to_path(e.instance_path().as_str()), e.to_string()))
            .collect(),
    }
}

/// Load a policy from a parsed JSON value: every check, its example cases and the
/// blocking static checks (`check::check` errors) included.
pub fn from_value(value: serde_json::Value) -> Result<CompiledPolicy, PolicyError> {
    let policy = compile_value(value)?;
    let mut problems = super::cases::problems(&policy);
    problems.extend(super::check::check(&policy).errors);
    if !problems.is_empty() {
        return Err(PolicyError::Invalid(problems));
    }
    Ok(policy)
}

/// Schema, semantic checks and compilation, without running the example cases
/// (`kulanz policy test` runs them itself to report each one).
pub fn compile_value(value: serde_json::Value) -> Result<CompiledPolicy, PolicyError> {
    let problems = schema_problems(&value);
    if !problems.is_empty() {
        return Err(PolicyError::Invalid(problems));
    }
    let digest = digest(&value);
    let doc: PolicyDoc = serde_path_to_error::deserialize(&value).map_err(|e| {
        PolicyError::Invalid(vec![Problem::new(
            format!("$.{}", e.path()),
            e.inner().to_string(),
        )])
    })?;
    compile(doc, value, digest).map_err(PolicyError::Invalid)
}

/// Parse JSON bytes, reporting a syntax error with its line and column.
pub fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, PolicyError> {
    serde_json::from_slice(bytes)
        .map_err(|e| PolicyError::Invalid(vec![Problem::new("$", format!("not valid JSON: {e}"))]))
}

/// Load a policy from bytes (a file or an upload), every check included.
pub fn from_slice(bytes: &[u8]) -> Result<CompiledPolicy, PolicyError> {
    from_value(parse_json(bytes)?)
}

/// Read a policy file as JSON.
pub fn read_file(path: &Path) -> Result<serde_json::Value, PolicyError> {
    let bytes = std::fs::read(path).map_err(|source| PolicyError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_json(&bytes)
}

/// Load one policy file, every check included.
pub fn from_file(path: &Path) -> Result<CompiledPolicy, PolicyError> {
    from_value(read_file(path)?)
}

/// The policy files of a folder: `*.json` directly inside it, sorted by name
/// (the `schema/` subfolder is not a policy).
pub fn policy_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Order versions like `2026.11.0` numerically part by part; a pre-release
/// (`2026.12.0-rc.1`) comes before its release, as in semver; build metadata (`+...`)
/// is ignored.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(u64, String)> {
        s.split('.')
            .map(|p| (p.parse::<u64>().unwrap_or(u64::MAX), p.to_string()))
            .collect()
    }
    fn split(v: &str) -> (&str, Option<&str>) {
        let v = v.split_once('+').map_or(v, |(core, _)| core);
        match v.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (v, None),
        }
    }
    let ((ca, pa), (cb, pb)) = (split(a), split(b));
    parts(ca).cmp(&parts(cb)).then_with(|| match (pa, pb) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) => parts(x).cmp(&parts(y)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policy_loads() {
        let p = from_slice(DEFAULT_POLICY.as_bytes()).unwrap_or_else(|e| {
            panic!("{:#?}", e.problems());
        });
        assert_eq!(p.id, "goodwill");
        assert!(p.digest.starts_with("sha256:"));
    }

    #[test]
    fn versions_sort_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("2026.11.0", "2026.9.3"), Greater);
        assert_eq!(compare_versions("2026.11.0", "2026.11.0"), Equal);
        assert_eq!(compare_versions("2026.12.0-rc.1", "2026.12.0"), Less);
        assert_eq!(compare_versions("2026.12.0-rc.2", "2026.12.0-rc.10"), Less);
        assert_eq!(compare_versions("2026.12.0+build.7", "2026.12.0"), Equal);
    }

    #[test]
    fn schema_problems_carry_json_paths() {
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_POLICY).unwrap();
        v["rules"][0]["when"]["severity"] = serde_json::json!(["urgent"]);
        v["currency"] = serde_json::json!("euro");
        let problems = from_value(v).unwrap_err().problems();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"$.currency"), "{paths:?}");
        assert!(paths.contains(&"$.rules[0].when.severity[0]"), "{paths:?}");
    }

    #[test]
    fn semantic_problems_are_all_reported() {
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_POLICY).unwrap();
        v["rules"][0]["when"]["category"] = serde_json::json!(["lost_luggage"]);
        v["authority"]["agent"]["max"] = serde_json::json!("1.00");
        v["rules"][1]["then"]["reason"] = serde_json::json!("worth {nonsense}");
        let problems = from_value(v).unwrap_err().problems();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"$.rules[0].when.category[0]"), "{paths:?}");
        assert!(paths.contains(&"$.authority.agent.max"), "{paths:?}");
        assert!(paths.contains(&"$.rules[1].then.reason"), "{paths:?}");
    }
}
