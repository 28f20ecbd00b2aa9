//! `steward local up` and `steward local down`.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use steward_twin::router::Invoker;
use steward_twin::{repo_root, LocalOptions, LocalRun};

use super::{read_policy, running, state_dir};

/// cargo lambda watch compiles the functions before it answers.
const FUNCTIONS_READY: Duration = Duration::from_secs(600);

pub async fn up(policy: &Path, invoke_port: u16, time_scale: f64) -> Result<(), String> {
    let policy_text = read_policy(policy)?;
    let template = std::fs::read_to_string("template.yaml")
        .map_err(|e| format!("cannot read template.yaml (run from the repository root): {e}"))?;
    let cargo_lambda = repo_root().join(".venv/bin/cargo-lambda");
    if !cargo_lambda.exists() {
        return Err(format!(
            "{} is missing: run `bash scripts/setup` first",
            cargo_lambda.display()
        ));
    }
    TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, invoke_port)).map_err(|e| {
        format!("port {invoke_port} is taken ({e}): stop what uses it or pass --invoke-port")
    })?;

    let functions = format!("http://127.0.0.1:{invoke_port}");
    let mut options = LocalOptions::new(policy_text);
    options.time_scale = time_scale;
    options.router = Some((template, Invoker::http(&functions)));
    options.lambda_invoke_endpoint = Some(functions.clone());
    let run = LocalRun::start(options).await.map_err(|e| e.to_string())?;

    let dir = state_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    create_webhook_secret(&run).await?;
    super::demo_approval::create_approval_key(&run).await?;
    let approval_url = approval_link_url(&functions);
    let env = local_env(&run, &approval_url);
    let env: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    write(&dir.join("env"), &env)?;
    let log = dir.join("functions.log");
    let mut watch = start_functions(&cargo_lambda, invoke_port, &dir.join("env"), &log)?;
    write(
        &dir.join("endpoints.json"),
        &json!({
            "twin": run.endpoint(),
            "moto": run.emulator.endpoint(),
            "functions": functions,
            "policy": policy.display().to_string(),
            "pid": std::process::id(),
        })
        .to_string(),
    )?;
    println!("twin (every AWS client's endpoint)  {}", run.endpoint());
    println!(
        "moto server                         {}",
        run.emulator.endpoint()
    );
    println!(
        "functions (cargo lambda watch)      {functions}  log {}",
        log.display()
    );
    println!(
        "function environment                {}",
        dir.join("env").display()
    );
    println!("\nwaiting for the functions to build (first run compiles them)…");
    let ready = wait_for_port(invoke_port, &mut watch, FUNCTIONS_READY);
    if let Err(e) = ready {
        stop(&mut watch);
        let _ = std::fs::remove_file(dir.join("endpoints.json"));
        return Err(format!("{e}; see {}", log.display()));
    }
    println!("ready. Try:");
    println!("  .venv/bin/cargo-lambda lambda invoke -A 127.0.0.1 -P {invoke_port} start-build --data-file events/s3-object-created.json");
    println!("  .venv/bin/cargo-lambda lambda invoke -A 127.0.0.1 -P {invoke_port} git-webhook --data-file events/function-url-github-push.json");
    println!("  .venv/bin/cargo-lambda lambda invoke -A 127.0.0.1 -P {invoke_port} request-approval --data-file events/model-package-pending.json");
    println!("  approval links open at {approval_url}?token=… (approval-link's Function URL)");
    println!("  steward local events | steward local mail | steward local alarm NAME ALARM | steward local down");
    wait_for_stop().await;
    stop(&mut watch);
    let _ = std::fs::remove_file(dir.join("endpoints.json"));
    if let Some(router) = &run.router {
        let dead = router.dead_letters();
        if !dead.is_empty() {
            println!("{} event(s) were dead-lettered during this run", dead.len());
        }
    }
    println!("stopped");
    Ok(())
}

/// Where `cargo lambda watch` serves a function's URL (as AWS serves a
/// Function URL): the links request-approval mails point there.
fn approval_link_url(functions: &str) -> String {
    format!("{functions}/lambda-url/approval-link/")
}

/// One environment for every function: what each one's config.rs reads, as
/// template.yaml gives it on AWS.
pub(super) fn local_env(run: &LocalRun, approval_url: &str) -> Vec<(String, String)> {
    let twin = run.endpoint();
    let mut env = run.function_env();
    env.extend(
        [
            ("STEWARD_WEBHOOK_SECRET_ID", WEBHOOK_SECRET_ID.to_string()),
            ("STEWARD_APPROVAL_URL", approval_url.to_string()),
            (
                "STEWARD_APPROVAL_KEY_SECRET_ID",
                super::demo_approval::APPROVAL_KEY_SECRET_ID.to_string(),
            ),
            // publish-policy reads the policy from the twin's git hosts.
            (
                "STEWARD_POLICY_REPOSITORY",
                steward_twin::LOCAL_POLICY_REPOSITORY.to_string(),
            ),
            ("STEWARD_POLICY_BRANCH", "main".to_string()),
            ("STEWARD_POLICY_PATH", "steward.toml".to_string()),
            ("STEWARD_GITHUB_API_URL", format!("{twin}/github")),
            ("STEWARD_GITLAB_API_URL", format!("{twin}/gitlab/api/v4")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v)),
    );
    env
}

/// The git-webhook's secret, as template.yaml's `GitWebhookSecret` holds it on
/// AWS; its value signs `events/function-url-github-push.json`.
const WEBHOOK_SECRET_ID: &str = "steward/webhook";
const WEBHOOK_SECRET: &str = "steward-local-webhook-secret";

async fn create_webhook_secret(run: &LocalRun) -> Result<(), String> {
    aws_sdk_secretsmanager::Client::new(&run.sdk)
        .create_secret()
        .name(WEBHOOK_SECRET_ID)
        .secret_string(WEBHOOK_SECRET)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot create the webhook secret: {}",
                steward::aws_error::describe(&e)
            )
        })?;
    Ok(())
}

pub fn down() -> Result<(), String> {
    let running = running()?;
    let pid = running["pid"]
        .as_u64()
        .ok_or(".local/endpoints.json names no pid")?;
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map_err(|e| format!("cannot run kill: {e}"))?;
    if !status.success() {
        let _ = std::fs::remove_file(state_dir().join("endpoints.json"));
        return Err(format!(
            "process {pid} is gone; cleared .local/endpoints.json"
        ));
    }
    println!("asked steward local up (pid {pid}) to stop");
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn start_functions(
    cargo_lambda: &Path,
    port: u16,
    env: &Path,
    log: &Path,
) -> Result<Child, String> {
    let out =
        std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    Command::new(cargo_lambda)
        .args([
            "lambda",
            "watch",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
        ])
        .arg(port.to_string())
        .arg("--env-file")
        .arg(env)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // Its own process group, so stopping it stops the functions it runs.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start cargo lambda watch: {e}"))
}

fn wait_for_port(port: u16, child: &mut Child, timeout: Duration) -> Result<(), String> {
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    let started = Instant::now();
    while started.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr.into(), Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("cargo lambda watch exited ({status})"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(format!(
        "cargo lambda watch did not listen on {addr} within {}s",
        timeout.as_secs()
    ))
}

/// Stop cargo lambda watch and the functions it runs (its process group):
/// politely first, then for good.
fn stop(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    let _ = child.wait();
}

async fn wait_for_stop() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}
