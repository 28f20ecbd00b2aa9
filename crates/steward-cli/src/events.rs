//! `steward events route`: which rules of template.yaml an event matches and
//! which functions receive it, as EventBridge's TestEventPattern would say,
//! without an AWS account.

use std::path::Path;

use serde_json::{json, Value};
use steward_twin::router::{parse_params, route as match_rules, template_rules, TemplateRule};

pub struct RouteArgs<'a> {
    pub event: &'a Path,
    pub template: &'a Path,
    pub params: &'a [String],
    pub bus: Option<&'a str>,
    pub json: bool,
}

/// Print the matching rules; an event that matches nothing is not an error.
pub fn route(args: &RouteArgs) -> Result<(), String> {
    let report = report(args)?;
    if args.json {
        println!("{report:#}");
    } else {
        print!("{}", human(&report));
    }
    Ok(())
}

fn report(args: &RouteArgs) -> Result<Value, String> {
    let text = std::fs::read_to_string(args.event)
        .map_err(|e| format!("cannot read {}: {e}", args.event.display()))?;
    let event: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", args.event.display()))?;
    if !event.is_object() {
        return Err(format!(
            "{} is not an event (a JSON object)",
            args.event.display()
        ));
    }
    let template = std::fs::read_to_string(args.template)
        .map_err(|e| format!("cannot read {}: {e}", args.template.display()))?;
    let params = parse_params(args.params.iter().map(String::as_str)).map_err(|e| e.to_string())?;
    let rules = template_rules(&template, &params)
        .map_err(|e| format!("{}: {e}", args.template.display()))?;
    let matched = match_rules(&rules, &event, args.bus);
    let mut functions: Vec<&str> = matched
        .iter()
        .flat_map(|r| r.targets.iter().map(|t| t.binary.as_str()))
        .collect();
    functions.sort_unstable();
    functions.dedup();
    Ok(json!({
        "event": {
            "id": event["id"],
            "source": event["source"],
            "detail-type": event["detail-type"],
        },
        "rules": rules.len(),
        "matched": matched.iter().map(|r| rule_json(r)).collect::<Vec<_>>(),
        "functions": functions,
    }))
}

fn rule_json(rule: &TemplateRule) -> Value {
    json!({
        "rule": rule.name,
        "bus": rule.bus,
        "functions": rule.targets.iter().map(|t| &t.binary).collect::<Vec<_>>(),
    })
}

fn human(report: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
    let event = &report["event"];
    let matched = report["matched"].as_array().cloned().unwrap_or_default();
    let mut out = format!(
        "event {} / {} ({})\n{} of {} rules match\n",
        text(&event["source"]),
        text(&event["detail-type"]),
        text(&event["id"]),
        matched.len(),
        report["rules"],
    );
    for rule in &matched {
        let functions: Vec<String> = rule["functions"]
            .as_array()
            .map(|f| f.iter().map(text).collect())
            .unwrap_or_default();
        let to = if functions.is_empty() {
            "(no function target)".to_string()
        } else {
            functions.join(", ")
        };
        out.push_str(&format!(
            "  {} (bus {}) -> {to}\n",
            text(&rule["rule"]),
            text(&rule["bus"])
        ));
    }
    if matched.is_empty() {
        out.push_str("no function receives this event\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(path: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path)
    }

    fn run(event: &Path, params: &[&str]) -> Result<Value, String> {
        let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        report(&RouteArgs {
            event,
            template: &repo("template.yaml"),
            params: &params,
            bus: None,
            json: true,
        })
    }

    #[test]
    fn the_sample_s3_event_goes_to_start_build() {
        let event = repo("events/s3-object-created.json");
        let report = run(&event, &["DataBucketNames=acme-ml-data"]).unwrap();
        assert_eq!(report["functions"], json!(["start-build"]));
        assert_eq!(
            report["matched"][0]["rule"],
            "StartBuildFunctionDataArrived"
        );
        let text = human(&report);
        // start-build has further rules (git, drift, requests); only one matches.
        assert!(
            text.contains("\n1 of ") && text.contains(" rules match"),
            "{text}"
        );
        assert!(
            text.contains("StartBuildFunctionDataArrived (bus default) -> start-build"),
            "{text}"
        );
        // Another bucket: nothing matches, and that is an answer, not an error.
        let report = run(&event, &["DataBucketNames=other-bucket"]).unwrap();
        assert_eq!(report["functions"], json!([]));
        assert!(human(&report).contains("no function receives this event"));
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("steward-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{not json").unwrap();
        let err = run(&bad, &["DataBucketNames=x"]).unwrap_err();
        assert!(err.contains("is not JSON"), "{err}");
        let event = repo("events/s3-object-created.json");
        let err = run(&event, &[]).unwrap_err();
        assert!(err.contains("--param DataBucketNames="), "{err}");
        let err = run(&event, &["DataBucketNames"]).unwrap_err();
        assert!(err.contains("NAME=VALUE"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
