//! Retrain schedules are EventBridge schedule expressions, checked for shape here so
//! a typo fails `steward policy check` rather than the rule's deployment.
//!
//! - `cron(minutes hours day-of-month month day-of-week year)`: six fields; one of
//!   day-of-month and day-of-week must be `?` (EventBridge cannot honour both).
//! - `rate(N unit)`: N a positive whole number; unit `minute`, `hour` or `day`,
//!   singular when N is 1 and plural otherwise, as EventBridge insists.

/// Checks an EventBridge schedule expression; the error says what is wrong.
pub(super) fn check_schedule(expression: &str) -> Result<(), String> {
    if let Some(body) = inner(expression, "cron(") {
        check_cron(expression, body)
    } else if let Some(body) = inner(expression, "rate(") {
        check_rate(expression, body)
    } else {
        Err(format!(
            "\"{expression}\" is not a schedule expression; write \"cron(0 6 ? * MON *)\" or \"rate(7 days)\""
        ))
    }
}

fn inner<'a>(expression: &'a str, opening: &str) -> Option<&'a str> {
    expression.strip_prefix(opening)?.strip_suffix(')')
}

const CRON_FIELDS: [(&str, &str); 6] = [
    ("minutes", "0123456789,-*/"),
    ("hours", "0123456789,-*/"),
    ("day-of-month", "0123456789,-*/?LW"),
    ("month", "0123456789,-*/ABCDEFGJLMNOPRSTUVY"),
    ("day-of-week", "0123456789,-*?L#ADEFHIMNORSTUW"),
    ("year", "0123456789,-*/"),
];

fn check_cron(expression: &str, body: &str) -> Result<(), String> {
    let fields: Vec<&str> = body.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(format!(
            "\"{expression}\" has {} fields; a cron expression has six: minutes hours day-of-month month day-of-week year, like \"cron(0 6 ? * MON *)\"",
            fields.len()
        ));
    }
    for (field, (name, allowed)) in fields.iter().zip(CRON_FIELDS) {
        if let Some(bad) = field
            .chars()
            .find(|c| !allowed.contains(c.to_ascii_uppercase()))
        {
            return Err(format!(
                "\"{expression}\": the {name} field \"{field}\" has an unexpected '{bad}'"
            ));
        }
    }
    match (fields[2] == "?", fields[4] == "?") {
        (true, true) => Err(format!(
            "\"{expression}\": only one of day-of-month and day-of-week may be '?'"
        )),
        (false, false) => Err(format!(
            "\"{expression}\": one of day-of-month and day-of-week must be '?', like \"cron(0 6 ? * MON *)\""
        )),
        _ => Ok(()),
    }
}

fn check_rate(expression: &str, body: &str) -> Result<(), String> {
    let usage = "write \"rate(N unit)\" with unit minute(s), hour(s) or day(s), like \"rate(1 day)\" or \"rate(12 hours)\"";
    let parts: Vec<&str> = body.split_whitespace().collect();
    let [value, unit] = parts.as_slice() else {
        return Err(format!("\"{expression}\": {usage}"));
    };
    let value: u64 = match value.parse() {
        Ok(v) if v >= 1 => v,
        _ => {
            return Err(format!(
                "\"{expression}\": the rate must be a whole number of at least 1; {usage}"
            ))
        }
    };
    let singular = match *unit {
        "minute" | "hour" | "day" => true,
        "minutes" | "hours" | "days" => false,
        _ => {
            return Err(format!(
                "\"{expression}\": unknown unit \"{unit}\"; {usage}"
            ))
        }
    };
    if singular != (value == 1) {
        return Err(format!(
            "\"{expression}\": EventBridge wants a singular unit for 1 and a plural one otherwise (\"rate(1 day)\", \"rate(2 days)\")"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_eventbridge_expressions() {
        for ok in [
            "cron(0 6 ? * MON *)",
            "cron(0/15 * * * ? *)",
            "cron(0 18 ? * MON-FRI *)",
            "cron(0 8 1 * ? *)",
            "cron(0 10 ? * 6L 2026-2030)",
            "cron(0 3 L * ? *)",
            "cron(0 9 ? * 2#1 *)",
            "cron(0 6 ? JAN,JUL mon *)",
            "rate(1 day)",
            "rate(5 minutes)",
            "rate(12 hours)",
        ] {
            assert_eq!(check_schedule(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_malformed_expressions() {
        for (bad, says) in [
            ("0 6 * * 1", "not a schedule expression"),
            ("cron(0 6 * * 1)", "has 5 fields"),
            ("cron(0 6 ? * MON * *)", "has 7 fields"),
            ("cron(0 6 * * MON *)", "must be '?'"),
            ("cron(0 6 ? * ? *)", "only one"),
            ("cron(0 6 ? * MON% *)", "unexpected '%'"),
            ("cron(0 6 ? * MON *", "not a schedule expression"),
            ("rate(1 days)", "singular"),
            ("rate(2 day)", "singular"),
            ("rate(0 minutes)", "at least 1"),
            ("rate(-1 minutes)", "at least 1"),
            ("rate(1.5 hours)", "at least 1"),
            ("rate(3 weeks)", "unknown unit"),
            ("rate(3)", "rate(N unit)"),
        ] {
            let message = check_schedule(bad).expect_err(bad);
            assert!(message.contains(says), "{bad}: {message}");
        }
    }
}
