//! Small deserialization helpers for shapes AWS sends loosely.

use serde::{de::Error as _, Deserialize, Deserializer};

/// Reads a missing or `null` field as the type's default (an empty list or map).
///
/// SageMaker may write `null` where a list is empty, and the local emulator's
/// UpdateModelPackage nulls every field it was not given; an empty collection
/// means the same to Steward and saves every caller an `Option`.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads an instance count that SageMaker may write as `3` or as `3.0`.
///
/// The endpoint state change example in the SageMaker guide has
/// `"DesiredInstanceCount": 1.0`, the deployment example `3`.
pub(crate) fn opt_count<'de, D>(deserializer: D) -> Result<Option<u32>, D::Error>
where
    D: Deserializer<'de>,
{
    let Some(value) = Option::<f64>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if value.is_finite() && value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
        // Integral and in range, checked above: the cast is exact.
        Ok(Some(value as u32))
    } else {
        Err(D::Error::custom(format!(
            "expected a whole, non-negative count, found {value}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Sample {
        #[serde(default, deserialize_with = "null_as_default")]
        list: Vec<String>,
        #[serde(default, deserialize_with = "opt_count")]
        count: Option<u32>,
    }

    #[test]
    fn null_and_missing_lists_are_empty() {
        let missing: Sample = serde_json::from_value(json!({})).expect("missing is fine");
        assert!(missing.list.is_empty());
        assert_eq!(missing.count, None);
        let null: Sample =
            serde_json::from_value(json!({"list": null, "count": null})).expect("null is fine");
        assert!(null.list.is_empty());
        assert_eq!(null.count, None);
    }

    #[test]
    fn counts_accept_integers_and_integral_floats() {
        let int: Sample = serde_json::from_value(json!({"count": 3})).expect("int");
        assert_eq!(int.count, Some(3));
        let float: Sample = serde_json::from_value(json!({"count": 1.0})).expect("float");
        assert_eq!(float.count, Some(1));
        assert!(serde_json::from_value::<Sample>(json!({"count": 1.5})).is_err());
        assert!(serde_json::from_value::<Sample>(json!({"count": -1})).is_err());
    }
}
