//! What follows a model's bake in one environment: the next environment of the
//! chain, directly or after a person approves.

use crate::policy::{Approval, Group};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Promotion {
    /// Deploy to the next environment now (approval `none`, or `auto`: approved
    /// by policy, recorded).
    Deploy { environment: String, auto: bool },
    /// The next environment needs a person: ask through the approval flow.
    RequestApproval { environment: String },
    /// The last environment of the chain.
    EndOfChain,
}

pub fn after_bake(group: &Group, environment: &str) -> Promotion {
    let Some(next) = group.next_environment(environment) else {
        return Promotion::EndOfChain;
    };
    match next.approval {
        Approval::Required => Promotion::RequestApproval {
            environment: next.name.clone(),
        },
        Approval::Auto | Approval::None => Promotion::Deploy {
            environment: next.name.clone(),
            auto: next.approval == Approval::Auto,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn the_example_policy_asks_a_person_before_prod() {
        let policy = Policy::parse(include_str!("../../../../examples/steward.toml")).unwrap();
        let fraud = policy.group("payroll-fraud").unwrap();
        assert_eq!(
            after_bake(fraud, "staging"),
            Promotion::RequestApproval {
                environment: "prod".into()
            }
        );
        assert_eq!(after_bake(fraud, "prod"), Promotion::EndOfChain);
        let mut auto = fraud.clone();
        auto.environments[1].approval = Approval::Auto;
        assert_eq!(
            after_bake(&auto, "staging"),
            Promotion::Deploy {
                environment: "prod".into(),
                auto: true
            }
        );
    }
}
