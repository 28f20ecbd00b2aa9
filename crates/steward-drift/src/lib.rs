//! Steward's drift core: stream SageMaker endpoint data capture, keep per-feature
//! statistics whose memory does not grow with traffic, and compare them with a
//! baseline made from the training data.
//!
//! No AWS SDK here: the monitor-drift function lists and fetches the capture
//! objects and hands each body to [`WindowStats::read`] as a [`std::io::BufRead`];
//! the CLI builds baselines with [`BaselineBuilder`]; the benchmark runs the
//! same code on local files.
//!
//! The flow: [`Baseline`] (Steward's own JSON, or SageMaker Model Monitor's
//! Deequ `statistics.json` + `constraints.json`) → [`WindowStats::new`] (one
//! accumulator per baseline feature, on the baseline's bins) → [`WindowStats::read`]
//! for every capture object (plain or gzip JSON lines) → [`compare`] with
//! [`DriftConfig`] thresholds → [`DriftReport`].
//!
//! Metric definitions (the Python peer in `bench/` computes the same ones on
//! the same bins, so the values match to 1e-6):
//! - Numerical features are binned on the baseline's interior edges `e_1 < … <
//!   e_{k-1}`: a value `x` falls in bin `#{e : e <= x}` (numpy
//!   `searchsorted(edges, x, side="right")`), `k` bins in all.
//! - `p` = baseline shares, `q` = window shares (of present values).
//! - PSI = Σ (q' − p') ln(q'/p') with `x' = max(x, 1e-4)` (empty bins would make
//!   it infinite; Evidently uses the same floor).
//! - KS = max over bins of |CDF_p − CDF_q| on the binned CDFs.
//! - Categorical features: categories are the baseline's, in its order, then the
//!   window's unseen ones sorted by name. Jensen–Shannon distance with log base 2
//!   (in [0, 1]; scipy `jensenshannon(p, q, base=2)`); chi-squared statistic
//!   Σ (w_i − e_i)²/e_i with expected `e_i = W·max(p_i, 1e-4)` and its p-value
//!   with `k − 1` degrees of freedom (scipy `chi2.sf`).

mod baseline;
mod build;
mod capture;
mod compare;
mod deequ;
mod error;
mod gamma;
mod metrics;
mod numbers;
mod scan;
mod stats;

pub use baseline::{Baseline, BaselineFeature, Binning, Distribution, BASELINE_FORMAT};
pub use build::{BaselineBuilder, BuildOptions, InputFormat};
pub use capture::{decode_line, decode_request, CaptureLine, Decoded, Encoding, Payload, Request};
pub use compare::{
    compare, DriftConfig, DriftReport, FeatureDrift, Scores, Status, Thresholds, DEFAULT_JS,
    DEFAULT_KS, DEFAULT_PSI,
};
pub use deequ::from_deequ;
pub use error::BaselineError;
pub use metrics::{chi_squared, jensen_shannon, ks_binned, psi, PROPORTION_FLOOR};
pub use stats::{FeatureStats, WindowStats, MAX_NEW_CATEGORIES, OTHER_CATEGORY};
