//! CodeDeploy `CodeDeploy Deployment State-change Notification`: a deployment
//! (here: one shifting a Lambda alias) started, succeeded, failed or stopped.

use serde::{Deserialize, Serialize};

use super::AwsDetail;

open_enum! {
    /// The `state` of a deployment state-change notification.
    pub enum DeploymentState {
        Start = "START",
        Success = "SUCCESS",
        Failure = "FAILURE",
        Stop = "STOP",
        Ready = "READY",
    }
}

/// The detail of a `CodeDeploy Deployment State-change Notification` (source
/// `aws.codedeploy`).
///
/// Shape: CodeDeploy User Guide, "Monitoring deployments with Amazon
/// EventBridge" (<https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-cloudwatch-events.html>),
/// and aws_lambda_events' `example-codedeploy-deployment-event.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStateChange {
    pub application: String,
    pub deployment_group: String,
    pub deployment_id: String,
    pub state: DeploymentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl AwsDetail for DeploymentStateChange {
    const SOURCE: &'static str = "aws.codedeploy";
    const DETAIL_TYPE: &'static str = "CodeDeploy Deployment State-change Notification";
}

impl DeploymentState {
    /// The deployment ended (succeeded, failed or stopped).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            DeploymentState::Success | DeploymentState::Failure | DeploymentState::Stop
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::decode_as;

    #[test]
    fn a_state_change_notification_decodes() {
        let event = serde_json::json!({
            "version": "0",
            "id": "c071bfbf-83c4-49ca-a6ff-3df053957145",
            "detail-type": "CodeDeploy Deployment State-change Notification",
            "source": "aws.codedeploy",
            "account": "123456789012",
            "time": "2016-06-30T22:06:31Z",
            "region": "us-east-1",
            "resources": [
                "arn:aws:codedeploy:us-east-1:123456789012:application:myApplication",
                "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:myApplication/myDeploymentGroup"
            ],
            "detail": {
                "instanceGroupId": "9fd2fbef-2157-40d8-91e7-6845af69e2d2",
                "region": "us-east-1",
                "application": "myApplication",
                "deploymentId": "d-123456789",
                "state": "SUCCESS",
                "deploymentGroup": "myDeploymentGroup"
            }
        });
        let decoded = decode_as::<DeploymentStateChange>(event).unwrap();
        assert_eq!(decoded.detail.deployment_id, "d-123456789");
        assert_eq!(decoded.detail.state, DeploymentState::Success);
        assert!(decoded.detail.state.is_final());
        assert!(!DeploymentState::Start.is_final());
    }
}
