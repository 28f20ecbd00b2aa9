//! The window a tick checks, and where SageMaker put its capture.
//!
//! SageMaker writes capture under
//! `{destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/` by the hour of the
//! request (UTC). A tick at 04:10 checks the last `window` of whole hours before
//! 04:00; run the schedule a few minutes past the hour so the last files of the
//! hour have landed.

use chrono::{DateTime, DurationRound, SecondsFormat, TimeDelta, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// The `hours` whole hours that ended at or before `now`.
    pub fn ending_before(now: DateTime<Utc>, hours: u32) -> Window {
        let end = now
            .duration_trunc(TimeDelta::hours(1))
            .expect("an hour divides any timestamp");
        Window {
            start: end - TimeDelta::hours(i64::from(hours.max(1))),
            end,
        }
    }

    /// `2026-11-24T03:00:00Z/2026-11-24T04:00:00Z` (ISO 8601 interval): names
    /// the finding in keys and in `Drift Detected`.
    pub fn id(&self) -> String {
        format!(
            "{}/{}",
            self.start.to_rfc3339_opts(SecondsFormat::Secs, true),
            self.end.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }

    /// The capture folder of every hour in the window, in order.
    pub fn prefixes(&self, destination_prefix: &str, endpoint: &str, variant: &str) -> Vec<String> {
        let base = match destination_prefix.trim_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        };
        let mut out = Vec::new();
        let mut hour = self.start;
        while hour < self.end {
            out.push(format!(
                "{base}{endpoint}/{variant}/{}/",
                hour.format("%Y/%m/%d/%H")
            ));
            hour += TimeDelta::hours(1);
        }
        out
    }
}

/// `s3://bucket/some/prefix/` → (`bucket`, `some/prefix/`).
pub fn split_s3_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_tick_checks_the_whole_hours_before_it() {
        let w = Window::ending_before(at("2026-11-24T04:10:37Z"), 1);
        assert_eq!(w.start, at("2026-11-24T03:00:00Z"));
        assert_eq!(w.end, at("2026-11-24T04:00:00Z"));
        assert_eq!(w.id(), "2026-11-24T03:00:00Z/2026-11-24T04:00:00Z");
        // A redelivered tick a minute later checks the same window.
        assert_eq!(Window::ending_before(at("2026-11-24T04:11:00Z"), 1), w);
    }

    #[test]
    fn prefixes_follow_sagemakers_layout_across_midnight() {
        let w = Window::ending_before(at("2026-11-24T01:05:00Z"), 3);
        assert_eq!(
            w.prefixes("payroll-fraud/prod/", "payroll-fraud-prod", "AllTraffic"),
            [
                "payroll-fraud/prod/payroll-fraud-prod/AllTraffic/2026/11/23/22/",
                "payroll-fraud/prod/payroll-fraud-prod/AllTraffic/2026/11/23/23/",
                "payroll-fraud/prod/payroll-fraud-prod/AllTraffic/2026/11/24/00/",
            ]
        );
        assert_eq!(
            Window::ending_before(at("2026-11-24T01:05:00Z"), 1).prefixes("", "e", "v"),
            ["e/v/2026/11/24/00/"]
        );
    }

    #[test]
    fn s3_uris_split_into_bucket_and_key() {
        assert_eq!(
            split_s3_uri("s3://acme-ml-capture/payroll-fraud/prod/"),
            Some(("acme-ml-capture", "payroll-fraud/prod/"))
        );
        assert_eq!(split_s3_uri("s3://bucket"), Some(("bucket", "")));
        assert_eq!(split_s3_uri("https://x"), None);
        assert_eq!(split_s3_uri("s3:///key"), None);
    }
}
