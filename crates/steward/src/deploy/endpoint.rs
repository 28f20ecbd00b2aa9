//! Decisions from what `DescribeEndpoint` shows: whether to create or update an
//! endpoint (or that a retried event's work is already under way), and how a
//! rollout ended. What is live decides, never what Steward asked for: SageMaker
//! rolls an update back on its own, silently.

use crate::events::sagemaker::EndpointStatus;

/// An endpoint as `DescribeEndpoint` shows it (SDK-free).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedEndpoint {
    pub status: EndpointStatus,
    /// `EndpointConfigName`: the config serving now.
    pub live_config: Option<String>,
    /// `PendingDeploymentSummary.EndpointConfigName`: the config being rolled out.
    pub pending_config: Option<String>,
    pub failure_reason: Option<String>,
}

impl ObservedEndpoint {
    fn busy(&self) -> bool {
        matches!(
            self.status,
            EndpointStatus::Creating
                | EndpointStatus::Updating
                | EndpointStatus::SystemUpdating
                | EndpointStatus::RollingBack
                | EndpointStatus::Deleting
        )
    }
}

/// What to do to put `config` on an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointAction {
    /// No endpoint yet: `CreateEndpoint`.
    Create,
    /// In service on another config: `UpdateEndpoint` with the deployment config.
    Update,
    /// This config is already being rolled out (a retried event): carry on.
    AlreadyRollingOut,
    /// This config already serves.
    AlreadyLive,
    /// Another change is under way (or the endpoint cannot be updated): retry
    /// later; never queue a second update behind SageMaker's back.
    Busy { status: String },
}

pub fn next_action(config: &str, observed: Option<&ObservedEndpoint>) -> EndpointAction {
    let Some(observed) = observed else {
        return EndpointAction::Create;
    };
    if observed.pending_config.as_deref() == Some(config) {
        return EndpointAction::AlreadyRollingOut;
    }
    let live = observed.live_config.as_deref() == Some(config);
    if observed.busy() {
        return if live && observed.status == EndpointStatus::Creating {
            EndpointAction::AlreadyRollingOut
        } else {
            EndpointAction::Busy {
                status: observed.status.to_string(),
            }
        };
    }
    match (&observed.status, live) {
        (EndpointStatus::InService, true) => EndpointAction::AlreadyLive,
        (EndpointStatus::InService, false) => EndpointAction::Update,
        (status, _) => EndpointAction::Busy {
            status: status.to_string(),
        },
    }
}

/// How a rollout towards `config` stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    InProgress,
    /// `config` serves.
    Live,
    /// The endpoint is in service on another config: SageMaker rolled the
    /// update back (alarm, timeout), or it never started.
    RolledBack {
        reason: String,
    },
    /// The endpoint itself failed.
    Failed {
        reason: String,
    },
}

pub fn judge(config: &str, observed: Option<&ObservedEndpoint>) -> Verdict {
    let Some(observed) = observed else {
        return Verdict::Failed {
            reason: "the endpoint no longer exists".into(),
        };
    };
    if observed.busy() {
        return Verdict::InProgress;
    }
    let reason = || {
        observed.failure_reason.clone().unwrap_or_else(|| {
            format!(
                "the endpoint is {} on {}, not on {config}",
                observed.status,
                observed.live_config.as_deref().unwrap_or("no config")
            )
        })
    };
    match observed.status {
        EndpointStatus::InService if observed.live_config.as_deref() == Some(config) => {
            Verdict::Live
        }
        EndpointStatus::InService => Verdict::RolledBack { reason: reason() },
        _ => Verdict::Failed { reason: reason() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(status: &str, live: &str, pending: Option<&str>) -> ObservedEndpoint {
        ObservedEndpoint {
            status: EndpointStatus::from(status),
            live_config: Some(live.into()),
            pending_config: pending.map(str::to_string),
            failure_reason: None,
        }
    }

    #[test]
    fn create_update_or_carry_on() {
        assert_eq!(next_action("v2", None), EndpointAction::Create);
        assert_eq!(
            next_action("v2", Some(&observed("InService", "v1", None))),
            EndpointAction::Update
        );
        assert_eq!(
            next_action("v2", Some(&observed("Updating", "v1", Some("v2")))),
            EndpointAction::AlreadyRollingOut
        );
        assert_eq!(
            next_action("v1", Some(&observed("Creating", "v1", None))),
            EndpointAction::AlreadyRollingOut
        );
        assert_eq!(
            next_action("v2", Some(&observed("InService", "v2", None))),
            EndpointAction::AlreadyLive
        );
        assert_eq!(
            next_action("v3", Some(&observed("Updating", "v1", Some("v2")))),
            EndpointAction::Busy {
                status: "UPDATING".into()
            }
        );
        assert!(matches!(
            next_action("v3", Some(&observed("Failed", "v1", None))),
            EndpointAction::Busy { .. }
        ));
    }

    #[test]
    fn what_is_live_decides_the_verdict() {
        assert_eq!(
            judge("v2", Some(&observed("Updating", "v1", Some("v2")))),
            Verdict::InProgress
        );
        assert_eq!(
            judge("v2", Some(&observed("InService", "v2", None))),
            Verdict::Live
        );
        let mut rolled = observed("InService", "v1", None);
        rolled.failure_reason = Some("alarm p-5xx".into());
        assert_eq!(
            judge("v2", Some(&rolled)),
            Verdict::RolledBack {
                reason: "alarm p-5xx".into()
            }
        );
        assert!(matches!(
            judge("v2", Some(&observed("InService", "v1", None))),
            Verdict::RolledBack { reason } if reason.contains("not on v2")
        ));
        assert!(matches!(judge("v2", None), Verdict::Failed { .. }));
        assert!(matches!(
            judge("v2", Some(&observed("Failed", "v2", None))),
            Verdict::Failed { .. }
        ));
    }
}
