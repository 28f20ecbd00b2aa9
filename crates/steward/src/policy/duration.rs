//! Durations as people write them in `steward.toml`: `"90s"`, `"15m"`, `"6h"`, `"2d"`.
//!
//! One whole number and one unit, nothing else: the policy is read by reviewers in a
//! pull request, and `"1h30m"` or `"1.5h"` invite mistakes that `"90m"` does not.

use std::time::Duration;

const HOW: &str =
    "write a whole number and a unit (s, m, h or d), like \"90s\", \"15m\", \"6h\" or \"2d\"";

/// Why a duration string was refused. The policy validator puts the field's path in
/// front of it, so the message only says what is wrong with the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration; {HOW}")]
    Empty,
    #[error("\"{0}\" has no number before its unit; {HOW}")]
    NoNumber(String),
    #[error("\"{0}\" has no unit; {HOW}")]
    NoUnit(String),
    #[error(
        "\"{0}\" is a fraction; use a smaller unit instead, like \"90m\" for an hour and a half"
    )]
    Fraction(String),
    #[error("\"{text}\" has an unknown unit \"{unit}\"; {HOW}")]
    UnknownUnit { text: String, unit: String },
    #[error("\"{0}\" is too long to represent")]
    TooLong(String),
}

/// Parses `"<whole number><s|m|h|d>"` (surrounding whitespace ignored). `"0s"` is
/// accepted: whether zero makes sense is the field's business, not the parser's.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() {
        return Err(DurationError::NoNumber(trimmed.to_string()));
    }
    if unit.is_empty() {
        return Err(DurationError::NoUnit(trimmed.to_string()));
    }
    if unit.starts_with(['.', ',']) {
        return Err(DurationError::Fraction(trimmed.to_string()));
    }
    let seconds_per_unit: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => {
            return Err(DurationError::UnknownUnit {
                text: trimmed.to_string(),
                unit: unit.to_string(),
            })
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(seconds_per_unit))
        .map(Duration::from_secs)
        .ok_or_else(|| DurationError::TooLong(trimmed.to_string()))
}

/// Writes a duration the way the policy does, in the largest unit that divides it
/// exactly (`2d`, `6h`, `90m`, `45s`), so messages quote values as users wrote them.
/// Sub-second durations (never produced by the parser) fall back to `Debug`.
pub fn format_duration(duration: Duration) -> String {
    if duration.subsec_nanos() != 0 {
        return format!("{duration:?}");
    }
    let secs = duration.as_secs();
    match secs {
        0 => "0s".to_string(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
    }

    #[test]
    fn accepts_zero_leading_zeros_and_surrounding_space() {
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("007m"), Ok(Duration::from_secs(420)));
        assert_eq!(parse_duration(" 10m "), Ok(Duration::from_secs(600)));
    }

    #[test]
    fn refuses_what_is_not_one_number_and_one_unit() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("  "), Err(DurationError::Empty));
        assert_eq!(
            parse_duration("90"),
            Err(DurationError::NoUnit("90".into()))
        );
        assert_eq!(
            parse_duration("m"),
            Err(DurationError::NoNumber("m".into()))
        );
        assert_eq!(
            parse_duration("-5m"),
            Err(DurationError::NoNumber("-5m".into()))
        );
        assert_eq!(
            parse_duration("1.5h"),
            Err(DurationError::Fraction("1.5h".into()))
        );
        for (text, unit) in [
            ("10x", "x"),
            ("10ms", "ms"),
            ("10 m", " m"),
            ("1h30m", "h30m"),
            ("10M", "M"),
            ("5min", "min"),
        ] {
            assert_eq!(
                parse_duration(text),
                Err(DurationError::UnknownUnit {
                    text: text.into(),
                    unit: unit.into()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_overflow() {
        assert!(matches!(
            parse_duration("99999999999999999999s"),
            Err(DurationError::TooLong(_))
        ));
        assert!(matches!(
            parse_duration("18446744073709551615d"),
            Err(DurationError::TooLong(_))
        ));
    }

    #[test]
    fn messages_say_how_to_write_one() {
        let message = parse_duration("15x").unwrap_err().to_string();
        assert!(message.contains("\"15x\""), "{message}");
        assert!(message.contains("\"15m\""), "{message}");
    }

    #[test]
    fn formats_in_the_largest_exact_unit() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_secs(45)), "45s");
        assert_eq!(format_duration(Duration::from_secs(5_400)), "90m");
        assert_eq!(format_duration(Duration::from_secs(21_600)), "6h");
        assert_eq!(format_duration(Duration::from_secs(259_200)), "3d");
        for text in ["90s", "15m", "6h", "2d"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}
