//! `steward policy check`.

use std::path::Path;

use steward::policy::Policy;

pub fn check(file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let policy = Policy::parse(&text)
        .map_err(|errors| format!("{} is invalid:\n{errors}", file.display()))?;
    println!(
        "{} is valid: {} model group(s)",
        file.display(),
        policy.groups.len()
    );
    for group in policy.groups.values() {
        let envs: Vec<&str> = group.environments.iter().map(|e| e.name.as_str()).collect();
        println!(
            "  {}: pipeline {}, environments {}",
            group.name,
            group.pipeline.name,
            envs.join(" → ")
        );
    }
    Ok(())
}
