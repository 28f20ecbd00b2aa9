//! `steward local up`.

use std::path::Path;

pub async fn up(policy: &Path) -> Result<(), String> {
    let (emulator, stack) = super::start(policy).await?;
    let env = stack.function_env(&emulator.endpoint());
    let env_file: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    // State lives in a git-ignored folder: `cargo lambda watch` rebuilds on any
    // change in the tree.
    std::fs::create_dir_all(".local").map_err(|e| format!("cannot create .local/: {e}"))?;
    std::fs::write(".local/env", &env_file).map_err(|e| format!("cannot write .local/env: {e}"))?;
    println!("AWS emulator (moto) on {}", emulator.endpoint());
    println!("  log: {}", emulator.log_path().display());
    println!("Provisioned: ledger table {}, bus {}, policy {}, pipelines and data buckets of {} group(s)",
        stack.spec.ledger_table, stack.spec.event_bus, stack.spec.policy_parameter, stack.policy.groups.len());
    println!("\nFunction environment (also in .local/env):");
    for (k, v) in &env {
        println!("  export {k}={v}");
    }
    println!("\nIn another terminal:");
    println!("  .venv/bin/cargo-lambda lambda watch --env-file .local/env");
    println!("  .venv/bin/cargo-lambda lambda invoke start-build --data-file events/s3-object-created.json");
    println!("\nCtrl-C stops the emulator.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    drop(emulator);
    println!("stopped");
    Ok(())
}
