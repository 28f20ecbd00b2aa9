//! Drift monitoring of a group's endpoints: which environments, against which
//! baseline, over which window, with which thresholds (`[groups.<name>.monitor]`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::environment::{DataCapture, Environment, Target};
use super::model::Group;
use super::Policy;

/// Default window: the last full hour of capture (SageMaker writes hourly folders).
pub const DEFAULT_MONITOR_WINDOW: Duration = Duration::from_secs(3_600);
/// The longest window: a day of hourly folders.
pub const MAX_MONITOR_WINDOW: Duration = Duration::from_secs(24 * 3_600);
/// Fewer rows than this in a window give no verdict.
pub const DEFAULT_MIN_ROWS: u64 = 100;
/// SageMaker's default production variant name.
pub const DEFAULT_VARIANT: &str = "AllTraffic";

#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    /// Environment names, each a SageMaker endpoint with `data_capture`.
    /// Default: every environment that captures data.
    pub environments: Vec<String>,
    /// `s3://bucket/key` of the baseline: Steward's (`steward baseline`), or
    /// Model Monitor's `statistics.json`.
    pub baseline: String,
    /// `s3://bucket/key` of Model Monitor's `constraints.json`, if any.
    pub constraints: Option<String>,
    /// The production variant whose capture is read. Default `AllTraffic`.
    pub variant: String,
    /// Whole hours, 1h to 24h. Default 1h.
    pub window: Duration,
    /// Default 100.
    pub min_rows: u64,
    pub thresholds: DriftThresholds,
    /// Per feature, over `thresholds`.
    pub features: BTreeMap<String, DriftThresholds>,
}

/// Drift limits; `None` leaves a metric out of the verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftThresholds {
    /// Population stability index (numerical). Default 0.2.
    pub psi: Option<f64>,
    /// Kolmogorov–Smirnov statistic on binned CDFs (numerical). Default 0.1.
    pub ks: Option<f64>,
    /// Jensen–Shannon distance, base 2 (categorical). Default 0.1.
    pub js: Option<f64>,
    /// Drift when the chi-squared p-value is below it (categorical). Default off.
    pub chi_squared_p: Option<f64>,
}

impl Default for DriftThresholds {
    fn default() -> Self {
        DriftThresholds {
            psi: Some(0.2),
            ks: Some(0.1),
            js: Some(0.1),
            chi_squared_p: None,
        }
    }
}

/// One monitored endpoint: everything the drift check needs.
#[derive(Debug, Clone, Copy)]
pub struct Monitored<'a> {
    pub group: &'a Group,
    pub environment: &'a Environment,
    pub endpoint: &'a str,
    pub capture: &'a DataCapture,
    pub monitor: &'a Monitor,
}

impl Policy {
    /// Every monitored endpoint of every group.
    pub fn monitored(&self) -> Vec<Monitored<'_>> {
        let mut out = Vec::new();
        for group in self.groups.values() {
            let Some(monitor) = &group.monitor else {
                continue;
            };
            for environment in &group.environments {
                if !monitor.environments.contains(&environment.name) {
                    continue;
                }
                if let (Target::SageMakerEndpoint { endpoint, .. }, Some(capture)) =
                    (&environment.target, &environment.data_capture)
                {
                    out.push(Monitored {
                        group,
                        environment,
                        endpoint,
                        capture,
                        monitor,
                    });
                }
            }
        }
        out
    }
}
