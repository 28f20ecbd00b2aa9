//! `steward local status|alarm|mail|events`: ask the running twin.

use serde_json::json;

use super::{running, twin_client};

pub async fn status() -> Result<(), String> {
    let running = running()?;
    let twin = twin_client()?;
    let healthy = twin.get("health").await.is_ok();
    println!(
        "twin      {} ({})",
        running["twin"].as_str().unwrap_or("?"),
        if healthy { "up" } else { "NOT ANSWERING" }
    );
    println!("moto      {}", running["moto"].as_str().unwrap_or("?"));
    println!("functions {}", running["functions"].as_str().unwrap_or("?"));
    println!("policy    {}", running["policy"].as_str().unwrap_or("?"));
    if healthy {
        let events = twin.get("events").await.map_err(|e| e.to_string())?;
        let mail = twin.get("mail").await.map_err(|e| e.to_string())?;
        println!(
            "so far: {} AWS event(s) emitted, {} email(s) captured",
            events["events"].as_array().map_or(0, Vec::len),
            mail["messages"].as_array().map_or(0, Vec::len)
        );
    }
    Ok(())
}

pub async fn alarm(name: &str, state: &str, reason: &str) -> Result<(), String> {
    let reply = twin_client()?
        .post(
            "alarm",
            &json!({"name": name, "state": state, "reason": reason}),
        )
        .await
        .map_err(|e| e.to_string())?;
    if reply["changed"] == true {
        println!("{name} → {state} (CloudWatch Alarm State Change emitted)");
    } else {
        println!("{name} was already {state}: nothing emitted");
    }
    Ok(())
}

pub async fn mail(last: usize) -> Result<(), String> {
    let reply = twin_client()?
        .get("mail")
        .await
        .map_err(|e| e.to_string())?;
    let messages = reply["messages"].as_array().cloned().unwrap_or_default();
    if messages.is_empty() {
        println!("no mail yet");
    }
    for message in messages.iter().rev().take(last).rev() {
        println!(
            "── {} → {}",
            message["time"].as_str().unwrap_or(""),
            message["to"].as_str().unwrap_or("?")
        );
        println!("Subject: {}", message["subject"].as_str().unwrap_or(""));
        println!("{}", message["body"].as_str().unwrap_or(""));
        for link in message["links"].as_array().into_iter().flatten() {
            println!("link: {}", link.as_str().unwrap_or(""));
        }
    }
    Ok(())
}

pub async fn events() -> Result<(), String> {
    let reply = twin_client()?
        .get("events")
        .await
        .map_err(|e| e.to_string())?;
    for event in reply["events"].as_array().into_iter().flatten() {
        println!(
            "{}  {:<12} {}  {}",
            event["time"].as_str().unwrap_or(""),
            event["source"].as_str().unwrap_or(""),
            event["detail-type"].as_str().unwrap_or(""),
            event["resources"]
                .get(0)
                .and_then(|r| r.as_str())
                .unwrap_or("")
        );
    }
    Ok(())
}
