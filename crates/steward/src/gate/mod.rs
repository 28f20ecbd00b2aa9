//! The quality gate: a candidate model's metrics against its group's policy
//! (thresholds, no regression against the champion, required metrics).
//!
//! Pure logic: the function that runs it fetches the files and the champion.

pub mod bias;
pub mod evaluate;
pub mod metrics;
pub mod report;

pub use bias::BiasReport;
pub use evaluate::{evaluate, CandidateModel, ChampionModel, Evaluation};
pub use metrics::{MetricsError, MetricsReport};
pub use report::GateReport;

#[cfg(test)]
mod tests;
