//! What an audit record is about. Each subject is a partition of the ledger
//! table, so "everything about X, in time order" is one query.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The prefix of every audit partition: audit items never share a partition
/// with the records other functions read (`GROUP#`, `MODEL#`, `EXEC#`, `ENV#`),
/// so a long audit history never slows down, or confuses, their reads.
pub const PARTITION_PREFIX: &str = "AUDIT#";

/// One thing an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum AuditSubject {
    /// A model package, by ARN.
    Model { arn: String },
    /// A model package group: its whole history.
    Group { name: String },
    /// One environment of a group: what was deployed, served, rolled back.
    Environment { group: String, environment: String },
    /// A SageMaker endpoint, by name.
    Endpoint { name: String },
    /// A SageMaker pipeline execution (a build), by ARN.
    Execution { arn: String },
    /// A CodeDeploy deployment group (`application/deploymentGroup`), for
    /// Lambda-served models.
    DeploymentGroup { name: String },
    /// An event that names none of the above, by detail-type: kept, not lost.
    Unfiled { detail_type: String },
}

impl AuditSubject {
    pub fn model(arn: impl Into<String>) -> Self {
        AuditSubject::Model { arn: arn.into() }
    }
    pub fn group(name: impl Into<String>) -> Self {
        AuditSubject::Group { name: name.into() }
    }
    pub fn environment(group: impl Into<String>, environment: impl Into<String>) -> Self {
        AuditSubject::Environment {
            group: group.into(),
            environment: environment.into(),
        }
    }
    pub fn endpoint(name: impl Into<String>) -> Self {
        AuditSubject::Endpoint { name: name.into() }
    }
    pub fn execution(arn: impl Into<String>) -> Self {
        AuditSubject::Execution { arn: arn.into() }
    }

    /// The partition key: `AUDIT#MODEL#<arn>`, `AUDIT#GROUP#<group>`,
    /// `AUDIT#ENV#<group>#<env>`, `AUDIT#ENDPOINT#<name>`, `AUDIT#EXEC#<arn>`,
    /// `AUDIT#CODEDEPLOY#<app>/<group>`, `AUDIT#UNFILED#<detail-type>`.
    pub fn partition_key(&self) -> String {
        format!("{PARTITION_PREFIX}{self}")
    }
}

impl fmt::Display for AuditSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditSubject::Model { arn } => write!(f, "MODEL#{arn}"),
            AuditSubject::Group { name } => write!(f, "GROUP#{name}"),
            AuditSubject::Environment { group, environment } => {
                write!(f, "ENV#{group}#{environment}")
            }
            AuditSubject::Endpoint { name } => write!(f, "ENDPOINT#{name}"),
            AuditSubject::Execution { arn } => write!(f, "EXEC#{arn}"),
            AuditSubject::DeploymentGroup { name } => write!(f, "CODEDEPLOY#{name}"),
            AuditSubject::Unfiled { detail_type } => write!(f, "UNFILED#{detail_type}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_prefixed_and_distinct() {
        let keys: Vec<String> = [
            AuditSubject::model("arn:m"),
            AuditSubject::group("g"),
            AuditSubject::environment("g", "prod"),
            AuditSubject::endpoint("e"),
            AuditSubject::execution("arn:x"),
            AuditSubject::DeploymentGroup { name: "a/b".into() },
        ]
        .iter()
        .map(AuditSubject::partition_key)
        .collect();
        assert_eq!(
            keys,
            [
                "AUDIT#MODEL#arn:m",
                "AUDIT#GROUP#g",
                "AUDIT#ENV#g#prod",
                "AUDIT#ENDPOINT#e",
                "AUDIT#EXEC#arn:x",
                "AUDIT#CODEDEPLOY#a/b"
            ]
        );
    }
}
