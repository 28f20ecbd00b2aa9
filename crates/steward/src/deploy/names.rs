//! Deterministic SageMaker names for a deployment, so a retried event finds the
//! model and endpoint config it made before instead of making a second one.
//!
//! SageMaker model and endpoint config names: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`,
//! at most 63 characters. Group and endpoint names may each be 63 characters,
//! so a name that would be longer keeps its meaningful suffix (`-v7`,
//! `-v7-<hash>`) and shortens the prefix, adding a digest of the whole name so
//! two long prefixes that share their start still get different names.

use sha2::{Digest, Sha256};

/// SageMaker's limit for model and endpoint config names.
pub const MAX_NAME: usize = 63;

/// The SageMaker model of a model package version: `{group}-v{version}`.
pub fn model_name(group: &str, version: u32) -> String {
    fit(group, &format!("-v{version}"))
}

/// The endpoint config that serves `version` on `endpoint`:
/// `{endpoint}-v{version}-{hash}`, `hash` covering everything the config
/// contains (see [`super::EndpointConfigSpec::hash`]), so a policy change
/// (instance type, data capture) makes a new config rather than reusing one that
/// no longer matches.
pub fn endpoint_config_name(endpoint: &str, version: u32, hash: &str) -> String {
    fit(endpoint, &format!("-v{version}-{hash}"))
}

/// `prefix + suffix`, shortened to [`MAX_NAME`] if need be.
fn fit(prefix: &str, suffix: &str) -> String {
    let whole = format!("{prefix}{suffix}");
    if whole.len() <= MAX_NAME {
        return whole;
    }
    let digest = &hex::encode(Sha256::digest(whole.as_bytes()))[..6];
    let room = MAX_NAME.saturating_sub(suffix.len() + digest.len() + 1);
    // Names are ASCII (policy validation), so byte slicing is safe; a trailing
    // hyphen would make `--` at the join, which SageMaker accepts, but reads badly.
    let short = prefix[..room.min(prefix.len())].trim_end_matches('-');
    format!("{short}-{digest}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        name.len() <= MAX_NAME
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric())
    }

    #[test]
    fn short_names_are_plain() {
        assert_eq!(model_name("payroll-fraud", 7), "payroll-fraud-v7");
        assert_eq!(
            endpoint_config_name("payroll-fraud-prod", 7, "1a2b3c4d"),
            "payroll-fraud-prod-v7-1a2b3c4d"
        );
    }

    #[test]
    fn long_names_keep_their_suffix_fit_and_stay_distinct() {
        let a = "a".repeat(63);
        let b = format!("{}b", "a".repeat(62));
        let (ma, mb) = (model_name(&a, 12345), model_name(&b, 12345));
        assert!(valid(&ma) && valid(&mb), "{ma} {mb}");
        assert!(ma.ends_with("-v12345"));
        assert_ne!(ma, mb);
        let c = endpoint_config_name(&a, 3, "deadbeef");
        assert!(valid(&c) && c.ends_with("-v3-deadbeef"), "{c}");
        assert_eq!(c, endpoint_config_name(&a, 3, "deadbeef"));
    }
}
