//! The shapes AWS accepts for the names a policy mentions. Checking them when the
//! policy is published turns a failed deployment at 3 a.m. into a failed pull request.

/// SageMaker's common name pattern `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,N}$`: letters,
/// digits and hyphens, starting and ending with a letter or digit. Used for model
/// package groups, endpoints (63) and pipelines (256).
pub(super) fn is_sagemaker_name(name: &str, max_len: usize) -> bool {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            bytes.len() <= max_len
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

/// Model package group names (and, by the same rule, environment names, which end
/// up in ledger keys and resource names).
pub(super) fn is_group_name(name: &str) -> bool {
    is_sagemaker_name(name, 63)
}

pub(super) fn is_endpoint_name(name: &str) -> bool {
    is_sagemaker_name(name, 63)
}

pub(super) fn is_pipeline_name(name: &str) -> bool {
    is_sagemaker_name(name, 256)
}

/// Pipeline parameter names: `^[A-Za-z0-9\-_]*$`, 1 to 256 characters.
pub(super) fn is_pipeline_parameter_name(name: &str) -> bool {
    (1..=256).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// S3 bucket names: 3 to 63 lowercase letters, digits, dots and hyphens, starting
/// and ending with a letter or digit, no `..`. Valid-ish: the IP-address and
/// reserved-prefix rules are left to S3.
pub(super) fn is_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (3..=63).contains(&bytes.len())
        && edge(bytes.first())
        && edge(bytes.last())
        && !name.contains("..")
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
}

/// `s3://bucket` or `s3://bucket/key...`; `needs_key` demands an object key.
pub(super) fn check_s3_uri(uri: &str, needs_key: bool) -> Result<(), String> {
    let Some(rest) = uri.strip_prefix("s3://") else {
        return Err(format!("\"{uri}\" must be an S3 URI starting with s3://"));
    };
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if !is_bucket_name(bucket) {
        return Err(format!("\"{uri}\" names an invalid bucket \"{bucket}\""));
    }
    if needs_key && (key.is_empty() || key.ends_with('/')) {
        return Err(format!(
            "\"{uri}\" must name an object, like s3://{bucket}/cases.jsonl"
        ));
    }
    Ok(())
}

/// An address that looks like an email: one `@`, something before it, a dotted
/// domain after it, no spaces. Delivery is the real test; this catches typos.
pub(super) fn is_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

/// A metric path into the model's evaluation report, e.g.
/// `binary_classification_metrics.auc.value`: dot-separated keys of letters,
/// digits, `_` and `-`; or into its bias report,
/// `bias.post_training.<facet>.<value>.<metric>` (see [`crate::gate::bias`]).
pub(super) fn is_metric_path(path: &str) -> bool {
    if path.starts_with(crate::gate::bias::PREFIX) {
        return crate::gate::bias::BiasPath::parse(path).is_some();
    }
    path.split('.').all(|segment| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

/// SageMaker instance types look like `ml.<family>.<size>` (`ml.m5.large`,
/// `ml.g5.2xlarge`).
pub(super) fn is_instance_type(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 3
        && parts[0] == "ml"
        && parts[1..].iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Lambda function names (not ARNs): `[a-zA-Z0-9-_]`, 1 to 64 characters.
pub(super) fn is_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Lambda alias names: `[a-zA-Z0-9-_]`, 1 to 128 characters, not all digits
/// (those would be read as a version).
pub(super) fn is_alias_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !name.bytes().all(|b| b.is_ascii_digit())
}

/// CloudWatch alarm names: 1 to 255 characters, no control characters.
pub(super) fn is_alarm_name(name: &str) -> bool {
    (1..=255).contains(&name.chars().count()) && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sagemaker_names() {
        for ok in ["payroll-fraud", "a", "A1", "a--b", &"x".repeat(63)] {
            assert!(is_group_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a_b", "a.b", "a b", &"x".repeat(64)] {
            assert!(!is_group_name(bad), "{bad}");
        }
        assert!(is_pipeline_name(&"p".repeat(256)));
        assert!(!is_pipeline_name(&"p".repeat(257)));
    }

    #[test]
    fn buckets_and_uris() {
        for ok in ["acme-ml-data", "abc", "a.b-c1"] {
            assert!(is_bucket_name(ok), "{ok}");
        }
        for bad in ["ab", "Acme", "-abc", "abc-", "a..b", "a_b", &"x".repeat(64)] {
            assert!(!is_bucket_name(bad), "{bad}");
        }
        assert!(check_s3_uri("s3://acme/cases.jsonl", true).is_ok());
        assert!(check_s3_uri("s3://acme", false).is_ok());
        assert!(check_s3_uri("s3://acme/capture/", false).is_ok());
        assert!(check_s3_uri("s3://acme/dir/", true).is_err());
        assert!(check_s3_uri("s3://acme", true).is_err());
        assert!(check_s3_uri("https://acme/cases.jsonl", true).is_err());
        assert!(check_s3_uri("s3://A/cases.jsonl", true).is_err());
    }

    #[test]
    fn emails() {
        for ok in ["ana@acme.com", "ml-team+fraud@mail.acme.co.uk"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "ana",
            "@acme.com",
            "ana@",
            "ana@acme",
            "a b@acme.com",
            "a@b@c.com",
            "ana@acme..com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn metric_paths_instance_types_and_lambda_names() {
        assert!(is_metric_path("binary_classification_metrics.auc.value"));
        assert!(is_metric_path("accuracy"));
        assert!(!is_metric_path(""));
        assert!(!is_metric_path("a..b"));
        assert!(!is_metric_path("a.b "));
        assert!(is_metric_path("bias.post_training.gender.F.DPPL"));
        assert!(is_metric_path(
            "bias.post_training.amount.(100.0, 2278.0].AD"
        ));
        assert!(!is_metric_path("bias.post_training.gender.DPPL"));
        assert!(is_instance_type("ml.m5.large"));
        assert!(is_instance_type("ml.g5.2xlarge"));
        assert!(!is_instance_type("m5.large"));
        assert!(!is_instance_type("ml.m5"));
        assert!(!is_instance_type("ml.M5.large"));
        assert!(is_function_name("attrition-model"));
        assert!(!is_function_name("arn:aws:lambda:eu-west-1:1:function:f"));
        assert!(is_alias_name("live"));
        assert!(!is_alias_name("42"));
        assert!(is_alarm_name("payroll-fraud-prod 5xx"));
        assert!(!is_alarm_name(""));
        assert!(is_pipeline_parameter_name("InputDataUrl"));
        assert!(!is_pipeline_parameter_name("Input Data"));
    }
}
