//! What can be wrong with a baseline or with training data.

/// A baseline (or the training data it is built from) that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("the baseline is not valid JSON of a known format: {0}")]
    Unreadable(String),
    #[error("baseline feature {feature}: {reason}")]
    Invalid { feature: String, reason: String },
    #[error("the baseline has no features")]
    NoFeatures,
    #[error("training data line {line}: {reason}")]
    Training { line: u64, reason: String },
    #[error("reading the training data failed: {0}")]
    Io(#[from] std::io::Error),
}

impl BaselineError {
    /// A stable name for logs and metrics.
    pub fn error_type(&self) -> &'static str {
        match self {
            BaselineError::Unreadable(_) => "baseline_unreadable",
            BaselineError::Invalid { .. } => "baseline_invalid",
            BaselineError::NoFeatures => "baseline_empty",
            BaselineError::Training { .. } => "training_data_invalid",
            BaselineError::Io(_) => "training_data_unreadable",
        }
    }
}
