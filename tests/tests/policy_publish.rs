//! Policy publish against the twin: a push that changes steward.toml publishes
//! it (labelled with the commit, subscriptions synced) and start-build loads
//! it; an invalid one is rejected with its errors in the ledger and mailed to
//! the stewards while the old policy stays; a push that does not touch it
//! publishes nothing; redeliveries publish once. Files come from the twin's
//! CodeCommit GetFile and its GitHub and GitLab file APIs.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use publish_policy::{handle, Config, Context, Outcome};
use serde_json::{json, Value};
use steward::ledger::{Ledger, Subject};
use steward::policy_store::publish::{self, GitHost, PolicyPush, PolicySource};
use steward_tests::EXAMPLE_POLICY;
use steward_twin::twin::TwinClient;
use steward_twin::{local_sdk_config, Emulator, Stack, StackSpec, Twin, TwinConfig};

const REPOSITORY: &str = "acme/ml-models";
const TOKEN_SECRET: &str = "steward/git-token";

struct Env {
    _moto: Emulator,
    twin: Twin,
    sdk: aws_config::SdkConfig,
    stack: Stack,
}

async fn start() -> Env {
    let moto = Emulator::start().unwrap_or_else(|e| panic!("{e}"));
    let twin = Twin::start(TwinConfig::new(moto.endpoint())).await.unwrap();
    let sdk = local_sdk_config(&twin.endpoint()).await;
    let stack = Stack::provision(&sdk, StackSpec::new(EXAMPLE_POLICY))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(TOKEN_SECRET)
        .secret_string("glpat-and-ghp-test-token")
        .send()
        .await
        .unwrap();
    Env {
        _moto: moto,
        twin,
        sdk,
        stack,
    }
}

impl Env {
    /// publish-policy's context, as its main.rs makes it, for a repository.
    async fn function(&self, repository: &str) -> Context {
        let config = Config {
            ledger_table: self.stack.spec.ledger_table.clone(),
            policy_parameter: self.stack.spec.policy_parameter.clone(),
            notifications_topic: self.stack.notifications_topic_arn.clone(),
            source: PolicySource {
                repository: repository.into(),
                branch: "main".into(),
                path: "steward.toml".into(),
            },
            git_token_secret: Some(TOKEN_SECRET.into()),
            github_api: format!("{}/github", self.twin.endpoint()),
            gitlab_api: format!("{}/gitlab/api/v4", self.twin.endpoint()),
            claim_lease: Duration::from_secs(60),
        };
        Context::connect(&self.sdk, &config)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The file at a commit, as the git host will serve it.
    async fn commit(&self, repository: &str, commit: &str, policy: &str) {
        TwinClient::new(self.twin.endpoint())
            .post(
                "git/files",
                &json!({"repository": repository, "commit": commit,
                        "path": "steward.toml", "content": policy}),
            )
            .await
            .unwrap();
    }

    async fn parameter(&self, selector: &str) -> (String, i64) {
        let p = aws_sdk_ssm::Client::new(&self.sdk)
            .get_parameter()
            .name(format!("{}{selector}", self.stack.spec.policy_parameter))
            .send()
            .await
            .unwrap()
            .parameter
            .unwrap();
        (p.value.unwrap_or_default(), p.version)
    }

    /// The policy start-build loads at its next cold start.
    async fn start_build_policy(&self) -> start_build::Context {
        let config = start_build::Config {
            ledger_table: self.stack.spec.ledger_table.clone(),
            event_bus: self.stack.spec.event_bus.clone(),
            policy_parameter: self.stack.spec.policy_parameter.clone(),
            claim_lease: Duration::from_secs(120),
            notifications_topic: Some(self.stack.notifications_topic_arn.clone()),
        };
        start_build::Context::connect(&self.sdk, &config)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn mail(&self) -> Vec<Value> {
        let reply = TwinClient::new(self.twin.endpoint())
            .get("mail")
            .await
            .unwrap();
        reply["messages"].as_array().cloned().unwrap_or_default()
    }
}

fn git_push(provider: &str, id: &str, commit: &str, paths: &[&str]) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": "Git Push",
        "source": "steward",
        "account": "123456789012",
        "time": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "modelPackageGroup": "*",
            "correlationId": "stw-test",
            "cause": format!("webhook/{provider}/{id}"),
            "provider": provider,
            "repository": REPOSITORY,
            "branch": "main",
            "commit": commit,
            "changedPaths": paths,
            "changedPathsComplete": true,
            "deliveryId": id,
        }
    })
}

/// The example policy with one more steward for payroll-fraud.
fn with_new_steward() -> String {
    let before = "stewards = [\"ml-fraud@acme.com\"]";
    assert!(EXAMPLE_POLICY.contains(before));
    EXAMPLE_POLICY.replace(
        before,
        "stewards = [\"ml-fraud@acme.com\", \"new-steward@acme.com\"]",
    )
}

#[tokio::test]
async fn a_valid_push_publishes_once_labelled_with_its_commit() {
    let env = start().await;
    let ctx = env.function(REPOSITORY).await;
    let commit = "9f2c1e0b8d4a6c3e5f7a9b1d2c4e6f8a0b1c3d5e";
    let policy = with_new_steward();
    env.commit(REPOSITORY, commit, &policy).await;
    let (_, before) = env.parameter("").await;

    let push = git_push("github", "d-1", commit, &["README.md", "steward.toml"]);
    let outcome = handle(&ctx, push.clone()).await.unwrap();
    let Outcome::Published {
        version,
        label,
        subscribed,
        ..
    } = &outcome
    else {
        panic!("expected a publication, got {outcome:?}");
    };
    assert_eq!(*version, before + 1);
    assert_eq!(label, &format!("commit-{commit}"));
    assert_eq!(subscribed, &vec!["new-steward@acme.com".to_string()]);
    assert_eq!(env.parameter("").await, (policy.clone(), before + 1));
    assert_eq!(
        env.parameter(&format!(":commit-{commit}")).await.1,
        before + 1,
        "the label selects the version"
    );

    // Redelivered, concurrently, and announced by another host: nothing more.
    let again = futures::future::join_all((0..5).map(|_| handle(&ctx, push.clone()))).await;
    for outcome in again {
        assert!(
            matches!(outcome.unwrap(), Outcome::AlreadyHandled { .. }),
            "a redelivery publishes nothing"
        );
    }
    let gitlab = git_push("gitlab", "gl-1", commit, &["steward.toml"]);
    assert!(matches!(
        handle(&ctx, gitlab).await.unwrap(),
        Outcome::AlreadyHandled { .. }
    ));
    assert_eq!(env.parameter("").await.1, before + 1);

    // start-build's next cold start runs on it, and names its version.
    let start_build = env.start_build_policy().await;
    assert_eq!(
        start_build.policy.version,
        format!("ssm:/steward/policy:{}", before + 1)
    );
    assert!(start_build
        .policy
        .policy
        .group("payroll-fraud")
        .unwrap()
        .stewards
        .contains(&"new-steward@acme.com".to_string()));
    let history = start_build
        .ledger
        .records(&Subject::Group("payroll-fraud".into()))
        .await
        .unwrap();
    let published: Vec<_> = history
        .iter()
        .filter(|r| r.kind == publish_policy::handler::PUBLISHED)
        .collect();
    assert_eq!(published.len(), 1, "{history:#?}");
    assert_eq!(published[0].detail["commit"], commit);
}

#[tokio::test]
async fn an_invalid_push_is_rejected_recorded_and_mailed_and_the_old_policy_stays() {
    let env = start().await;
    let ctx = env.function(REPOSITORY).await;
    let commit = "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327";
    let broken = EXAMPLE_POLICY.replace("max_per_day = 4", "max_per_day = 0");
    assert_ne!(broken, EXAMPLE_POLICY);
    env.commit(REPOSITORY, commit, &broken).await;
    let before = env.parameter("").await;

    let push = git_push("gitlab", "gl-7", commit, &["steward.toml"]);
    let outcome = handle(&ctx, push.clone()).await.unwrap();
    let Outcome::Rejected {
        errors,
        notified,
        in_force,
        ..
    } = &outcome
    else {
        panic!("expected a rejection, got {outcome:?}");
    };
    assert!(
        errors.iter().any(|e| e.contains("max_per_day")),
        "{errors:?}"
    );
    assert_eq!(
        in_force.as_deref(),
        Some(format!("ssm:/steward/policy:{}", before.1).as_str())
    );
    assert_eq!(
        notified,
        &vec![
            "ml-fraud@acme.com".to_string(),
            "people-analytics@acme.com".to_string()
        ]
    );
    assert_eq!(env.parameter("").await, before, "the old policy stays");

    // Once, however often delivered.
    assert!(matches!(
        handle(&ctx, push).await.unwrap(),
        Outcome::AlreadyHandled { .. }
    ));
    let mail: Vec<Value> = env
        .mail()
        .await
        .into_iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap_or_default()
                .contains("rejected")
        })
        .collect();
    assert_eq!(mail.len(), 2, "{mail:#?}");
    for m in &mail {
        let body = m["body"].as_str().unwrap();
        assert!(body.contains("max_per_day"), "{body}");
        assert!(body.contains(commit), "{body}");
    }

    let ctx_build = env.start_build_policy().await;
    assert_eq!(
        ctx_build.policy.version,
        format!("ssm:/steward/policy:{}", before.1)
    );
    let rejected: Vec<_> = ctx_build
        .ledger
        .records(&Subject::Group("attrition".into()))
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == publish_policy::handler::REJECTED)
        .collect();
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].detail["errors"]
        .to_string()
        .contains("max_per_day"));
}

#[tokio::test]
async fn a_push_that_does_not_touch_the_policy_publishes_nothing() {
    let env = start().await;
    let ctx = env.function(REPOSITORY).await;
    let before = env.parameter("").await;
    let push = git_push(
        "github",
        "d-2",
        "3c1a5b7d9e2f",
        &["models/payroll-fraud/train.py"],
    );
    let outcome = handle(&ctx, push).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Ignored { reason } if reason.contains("did not change steward.toml")),
        "{outcome:?}"
    );
    let other_branch = {
        let mut push = git_push("github", "d-3", "3c1a5b7d9e2f", &["steward.toml"]);
        push["detail"]["branch"] = "feature/x".into();
        push
    };
    assert!(matches!(
        handle(&ctx, other_branch).await.unwrap(),
        Outcome::Ignored { .. }
    ));
    assert_eq!(env.parameter("").await, before);
}

#[tokio::test]
async fn a_codecommit_push_is_fetched_with_get_file_and_compared() {
    let env = start().await;
    let ctx = env.function("ml-models").await;
    let event = |commit: &str, id: &str| {
        let mut event: Value =
            serde_json::from_str(include_str!("../../events/codecommit-push.json")).unwrap();
        event["id"] = id.into();
        event["detail"]["repositoryName"] = "ml-models".into();
        event["detail"]["commitId"] = commit.into();
        event
    };
    let before = env.parameter("").await;

    // CodeCommit does not list changed paths: the file is fetched and compared.
    env.commit("ml-models", "c0ffee01", EXAMPLE_POLICY).await;
    assert!(matches!(
        handle(&ctx, event("c0ffee01", "e-1")).await.unwrap(),
        Outcome::Unchanged { .. }
    ));
    let policy = with_new_steward();
    env.commit("ml-models", "c0ffee02", &policy).await;
    let outcome = handle(&ctx, event("c0ffee02", "e-2")).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Published { version, .. } if *version == before.1 + 1),
        "{outcome:?}"
    );
    assert_eq!(env.parameter(":commit-c0ffee02").await.0, policy);

    // A commit without the file is a broken policy repository: rejected.
    let outcome = handle(&ctx, event("c0ffee03", "e-3")).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Rejected { errors, .. } if errors[0].contains("does not exist")),
        "{outcome:?}"
    );
    assert_eq!(env.parameter("").await.1, before.1 + 1);
}

#[tokio::test]
async fn a_retry_after_a_crash_mid_publication_finishes_that_publication() {
    let env = start().await;
    let ctx = env.function("ml-models").await;
    let commit = "c0ffee0a";
    let policy = with_new_steward();
    env.commit("ml-models", commit, &policy).await;
    let before = env.parameter("").await.1;

    // The first attempt put the new version, then died before the label, the
    // mail subscriptions and the ledger record (its claim's lease ran out).
    let push = PolicyPush {
        host: GitHost::CodeCommit,
        repository: "ml-models".into(),
        branch: "main".into(),
        commit: commit.into(),
        changed_paths: None,
    };
    aws_sdk_ssm::Client::new(&env.sdk)
        .put_parameter()
        .name(&env.stack.spec.policy_parameter)
        .value(&policy)
        .description(publish::version_description(&push))
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .tier(aws_sdk_ssm::types::ParameterTier::Advanced)
        .overwrite(true)
        .send()
        .await
        .unwrap();

    let mut event: Value =
        serde_json::from_str(include_str!("../../events/codecommit-push.json")).unwrap();
    event["detail"]["repositoryName"] = "ml-models".into();
    event["detail"]["commitId"] = commit.into();
    let outcome = handle(&ctx, event).await.unwrap();
    let Outcome::Published {
        version,
        label,
        subscribed,
        ..
    } = &outcome
    else {
        panic!("the retry finishes the publication, got {outcome:?}");
    };
    assert_eq!(*version, before + 1, "no second version");
    assert_eq!(env.parameter("").await.1, before + 1);
    assert_eq!(label, &format!("commit-{commit}"));
    assert_eq!(env.parameter(&format!(":{label}")).await.0, policy);
    assert_eq!(subscribed, &vec!["new-steward@acme.com".to_string()]);
    let history = env
        .start_build_policy()
        .await
        .ledger
        .records(&Subject::Group("payroll-fraud".into()))
        .await
        .unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|r| r.kind == publish_policy::handler::PUBLISHED && r.detail["commit"] == commit)
            .count(),
        1,
        "{history:#?}"
    );

    // Another push of the same text is unchanged: the version is not its own.
    env.commit("ml-models", "c0ffee0b", &policy).await;
    let mut event: Value =
        serde_json::from_str(include_str!("../../events/codecommit-push.json")).unwrap();
    event["id"] = "e-other".into();
    event["detail"]["repositoryName"] = "ml-models".into();
    event["detail"]["commitId"] = "c0ffee0b".into();
    assert!(matches!(
        handle(&ctx, event).await.unwrap(),
        Outcome::Unchanged { .. }
    ));
}
