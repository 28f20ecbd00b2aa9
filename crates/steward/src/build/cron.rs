//! When an EventBridge schedule expression fires, so one tick can evaluate every
//! group's own schedule. Times are UTC, as EventBridge's are.
//!
//! `rate(N unit)` fires at whole multiples of its period since the Unix epoch
//! (EventBridge anchors a rate at the rule's creation; Steward has one tick rule
//! for every group, so it anchors at the epoch to make due times deterministic).
//! `cron(...)` supports numbers, names, `*`, `?`, lists, ranges and steps, `L`
//! (last day of the month; `5L`, the last Thursday) and `#` (`2#1`, the first
//! Monday); `W` is refused with a message.

use chrono::{DateTime, Datelike, Duration as TimeDelta, NaiveDate, Timelike, Utc};

/// The longest look back, so a very old "last evaluated" time cannot make a tick
/// scan years of minutes.
pub const MAX_LOOKBACK_DAYS: i64 = 400;

/// The latest time the schedule fired in `(after, until]`, if any.
pub fn latest_fire(
    expression: &str,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, String> {
    let after = after.max(until - TimeDelta::days(MAX_LOOKBACK_DAYS));
    if let Some(body) = inner(expression, "rate(") {
        let period = rate_seconds(body).ok_or_else(|| format!("\"{expression}\" is not a rate"))?;
        let t = until.timestamp().div_euclid(period) * period;
        let fire = DateTime::<Utc>::from_timestamp(t, 0);
        return Ok(fire.filter(|f| *f > after));
    }
    let body =
        inner(expression, "cron(").ok_or_else(|| format!("\"{expression}\" is not a schedule"))?;
    let cron = Cron::parse(body).map_err(|e| format!("\"{expression}\": {e}"))?;
    // Minute by minute, newest first: at most MAX_LOOKBACK_DAYS of minutes.
    let mut t = until
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(until);
    while t > after {
        if cron.fires(t) {
            return Ok(Some(t));
        }
        t -= TimeDelta::minutes(1);
    }
    Ok(None)
}

fn inner<'a>(expression: &'a str, opening: &str) -> Option<&'a str> {
    expression.trim().strip_prefix(opening)?.strip_suffix(')')
}

fn rate_seconds(body: &str) -> Option<i64> {
    let mut parts = body.split_whitespace();
    let n: i64 = parts.next()?.parse().ok().filter(|n| *n >= 1)?;
    let unit = match parts.next()?.trim_end_matches('s') {
        "minute" => 60,
        "hour" => 3_600,
        "day" => 86_400,
        _ => return None,
    };
    parts.next().is_none().then_some(n * unit)
}

/// A field as a set of allowed values, or a special day rule.
#[derive(Debug, Clone)]
enum Days {
    Any,
    Set(Vec<u32>),
    LastOfMonth,
    /// Day of week (1 = Sunday) and `L`: the last such weekday of the month.
    LastWeekday(u32),
    /// Day of week and `#n`: the n-th such weekday of the month.
    NthWeekday(u32, u32),
}

#[derive(Debug, Clone)]
struct Cron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    dom: Days,
    months: Vec<u32>,
    dow: Days,
    years: Option<Vec<u32>>,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    fn parse(body: &str) -> Result<Cron, String> {
        let fields: Vec<&str> = body.split_whitespace().collect();
        let [minutes, hours, dom, month, dow, year] = fields.as_slice() else {
            return Err("a cron expression has six fields".into());
        };
        Ok(Cron {
            minutes: set(minutes, 0, 59, &[])?,
            hours: set(hours, 0, 23, &[])?,
            dom: match *dom {
                "?" | "*" => Days::Any,
                "L" => Days::LastOfMonth,
                d if d.contains('W') => return Err("`W` (nearest weekday) is not supported".into()),
                d => Days::Set(set(d, 1, 31, &[])?),
            },
            months: set(month, 1, 12, &MONTHS)?,
            dow: match *dow {
                "?" | "*" => Days::Any,
                d if d.ends_with('L') && d.len() > 1 => {
                    Days::LastWeekday(value(&d[..d.len() - 1], 1, 7, &WEEKDAYS)?)
                }
                d if d.contains('#') => {
                    let (day, n) = d.split_once('#').unwrap_or((d, ""));
                    Days::NthWeekday(value(day, 1, 7, &WEEKDAYS)?, value(n, 1, 5, &[])?)
                }
                d => Days::Set(set(d, 1, 7, &WEEKDAYS)?),
            },
            years: match *year {
                "*" => None,
                y => Some(set(y, 1970, 2199, &[])?),
            },
        })
    }

    fn fires(&self, t: DateTime<Utc>) -> bool {
        let date = t.date_naive();
        self.minutes.contains(&t.minute())
            && self.hours.contains(&t.hour())
            && self.months.contains(&t.month())
            && self
                .years
                .as_ref()
                .is_none_or(|years| years.contains(&(t.year() as u32)))
            && day_matches(&self.dom, date, false)
            && day_matches(&self.dow, date, true)
    }
}

fn day_matches(rule: &Days, date: NaiveDate, weekday: bool) -> bool {
    let dow = date.weekday().num_days_from_sunday() + 1;
    let days_in_month = last_day(date);
    match rule {
        Days::Any => true,
        Days::Set(values) => values.contains(&if weekday { dow } else { date.day() }),
        Days::LastOfMonth => date.day() == days_in_month,
        Days::LastWeekday(d) => dow == *d && date.day() + 7 > days_in_month,
        Days::NthWeekday(d, n) => dow == *d && (date.day() - 1) / 7 + 1 == *n,
    }
}

fn last_day(date: NaiveDate) -> u32 {
    (28..=31)
        .rev()
        .find(|d| date.with_day(*d).is_some())
        .unwrap_or(28)
}

fn set(field: &str, min: u32, max: u32, names: &[&str]) -> Result<Vec<u32>, String> {
    let mut values = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, value(step, 1, max.max(1), &[])?),
            None => (part, 1),
        };
        let (low, high) = match range {
            "*" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a, min, max, names)?, value(b, min, max, names)?),
                // `5/15` means from 5 to the end, every 15.
                None if part.contains('/') => (value(r, min, max, names)?, max),
                None => {
                    let v = value(r, min, max, names)?;
                    (v, v)
                }
            },
        };
        if low > high {
            return Err(format!("the range {range} runs backwards"));
        }
        values.extend((low..=high).step_by(step as usize));
    }
    Ok(values)
}

fn value(text: &str, min: u32, max: u32, names: &[&str]) -> Result<u32, String> {
    let upper = text.to_ascii_uppercase();
    let named = names
        .iter()
        .position(|n| *n == upper)
        .map(|i| i as u32 + min);
    named
        .or_else(|| text.parse().ok())
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| format!("\"{text}\" is not a value between {min} and {max}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn latest(expression: &str, after: &str, until: &str) -> Option<String> {
        latest_fire(expression, at(after), at(until))
            .unwrap()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }

    #[test]
    fn weekly_cron_fires_once_on_its_monday() {
        // 2026-11-23 is a Monday.
        let e = "cron(0 6 ? * MON *)";
        assert_eq!(
            latest(e, "2026-11-23T05:55:00Z", "2026-11-23T06:00:00Z").as_deref(),
            Some("2026-11-23T06:00:00Z")
        );
        assert_eq!(
            latest(e, "2026-11-23T06:00:00Z", "2026-11-23T06:05:00Z"),
            None
        );
        // A week of missed ticks: only the latest due time.
        assert_eq!(
            latest(e, "2026-11-01T00:00:00Z", "2026-11-24T00:00:00Z").as_deref(),
            Some("2026-11-23T06:00:00Z")
        );
    }

    #[test]
    fn rates_steps_names_and_special_days() {
        assert_eq!(
            latest(
                "rate(1 hour)",
                "2026-11-23T09:59:00Z",
                "2026-11-23T10:04:00Z"
            )
            .as_deref(),
            Some("2026-11-23T10:00:00Z")
        );
        assert_eq!(
            latest(
                "rate(1 hour)",
                "2026-11-23T10:00:00Z",
                "2026-11-23T10:04:00Z"
            ),
            None
        );
        assert_eq!(
            latest(
                "cron(0/15 * * * ? *)",
                "2026-11-23T10:01:00Z",
                "2026-11-23T10:20:00Z"
            )
            .as_deref(),
            Some("2026-11-23T10:15:00Z")
        );
        assert_eq!(
            latest(
                "cron(0 3 L * ? *)",
                "2026-11-01T00:00:00Z",
                "2026-12-01T00:00:00Z"
            )
            .as_deref(),
            Some("2026-11-30T03:00:00Z")
        );
        // The first Monday of November 2026 is the 2nd; the last Friday the 27th.
        assert_eq!(
            latest(
                "cron(0 9 ? * 2#1 *)",
                "2026-11-01T00:00:00Z",
                "2026-11-30T00:00:00Z"
            )
            .as_deref(),
            Some("2026-11-02T09:00:00Z")
        );
        assert_eq!(
            latest(
                "cron(0 10 ? * 6L *)",
                "2026-11-01T00:00:00Z",
                "2026-11-30T00:00:00Z"
            )
            .as_deref(),
            Some("2026-11-27T10:00:00Z")
        );
        assert_eq!(
            latest(
                "cron(0 18 ? * MON-FRI *)",
                "2026-11-21T00:00:00Z",
                "2026-11-23T00:00:00Z"
            ),
            None
        );
        assert!(latest_fire(
            "cron(0 6 15W * ? *)",
            at("2026-11-01T00:00:00Z"),
            at("2026-11-30T00:00:00Z")
        )
        .unwrap_err()
        .contains('W'));
    }
}
