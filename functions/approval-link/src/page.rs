//! The pages: the review page (templates/review.html) and the one-message
//! pages for results and refusals (templates/message.html). askama escapes
//! every value, so a model name or comment can never become markup.

use askama::Template;

/// One metric of the model, against its threshold and the champion.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// What a person calls it: `auc`, `false_positive_rate`.
    pub label: String,
    /// The metric's path in the report, e.g. `binary_classification_metrics.auc.value`.
    pub name: String,
    pub value: String,
    /// `≥ 0.90`, `≤ 0.15`, or `—`.
    pub threshold: String,
    /// The champion's value, or `—`.
    pub champion: String,
    /// `✓` / `✗` / `` (no check on it).
    pub result: &'static str,
    pub class: &'static str,
}

/// `binary_classification_metrics.auc.value` → `auc`: the report's section
/// and the `.value` suffix say nothing to a person on a phone.
pub fn metric_label(path: &str) -> String {
    let path = path.strip_suffix(".value").unwrap_or(path);
    match path.split_once('.') {
        Some((section, rest)) if section.ends_with("_metrics") => rest.to_string(),
        _ => path.to_string(),
    }
}

/// One of the gate's checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    pub result: &'static str,
    pub class: &'static str,
    pub text: String,
}

impl CheckRow {
    pub fn new(passed: bool, text: impl Into<String>) -> Self {
        let (result, class) = verdict(Some(passed));
        Self {
            result,
            class,
            text: text.into(),
        }
    }
}

/// `(✓ pass | ✗ fail | nothing, its CSS class)`.
pub fn verdict(passed: Option<bool>) -> (&'static str, &'static str) {
    match passed {
        Some(true) => ("✓ pass", "pass"),
        Some(false) => ("✗ fail", "fail"),
        None => ("", ""),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineageRow {
    pub label: &'static str,
    pub value: String,
}

#[derive(Template)]
#[template(path = "review.html")]
pub struct ReviewPage {
    pub model: String,
    pub version: String,
    pub environment: Option<String>,
    pub approver: String,
    /// `2026-11-26 08:00 UTC`.
    pub expires: String,
    pub gate_summary: Option<String>,
    pub metrics: Vec<MetricRow>,
    pub checks: Vec<CheckRow>,
    pub lineage: Vec<LineageRow>,
    /// The link's own token, posted back in a hidden field.
    pub token: String,
    /// Where the form posts: this page's path, without the query (and so
    /// without the token in the URL).
    pub action: String,
    pub max_comment: usize,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub title: String,
    pub class: &'static str,
    pub lines: Vec<String>,
}

impl MessagePage {
    pub fn new(title: impl Into<String>, class: &'static str, lines: Vec<String>) -> Self {
        Self {
            title: title.into(),
            class,
            lines,
        }
    }
}

/// Render a page; the templates are checked at compile time, so only a
/// formatter failure (never expected) could make this fall back.
pub fn render(page: &impl Template) -> String {
    page.render().unwrap_or_else(|_| {
        "<!doctype html><title>Steward</title><p>This page could not be shown.</p>".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> ReviewPage {
        ReviewPage {
            model: "payroll-fraud".into(),
            version: "3".into(),
            environment: Some("prod".into()),
            approver: "ana@acme.com".into(),
            expires: "2026-11-26 08:00 UTC".into(),
            gate_summary: Some("The gate passed: 3 of 3 checks.".into()),
            metrics: vec![MetricRow {
                label: "auc".into(),
                name: "binary_classification_metrics.auc.value".into(),
                value: "0.9700".into(),
                threshold: "≥ 0.9000".into(),
                champion: "0.9500".into(),
                result: "✓",
                class: "pass",
            }],
            checks: vec![CheckRow::new(true, "auc 0.97 ≥ 0.90")],
            lineage: vec![LineageRow {
                label: "Commit",
                value: "<script>alert(1)</script>".into(),
            }],
            token: "v1.abc.def".into(),
            action: "/".into(),
            max_comment: 500,
        }
    }

    #[test]
    fn the_review_page_shows_the_evidence_and_posts_the_token_in_a_hidden_field() {
        let html = render(&page());
        assert!(html.contains("<meta name=\"viewport\""));
        assert!(html.contains("payroll-fraud v3 for prod"));
        assert!(html.contains("binary_classification_metrics.auc.value"));
        assert!(html.contains("0.9500"));
        assert!(html.contains("<input type=\"hidden\" name=\"token\" value=\"v1.abc.def\">"));
        assert!(
            html.contains("<form method=\"post\" action=\"&#x2f;\">")
                || html.contains("action=\"/\""),
            "{html}"
        );
        assert!(html.contains("value=\"approve\"") && html.contains("value=\"reject\""));
        // Values are text, never markup; and nothing is loaded from elsewhere.
        assert!(!html.contains("<script>"));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }

    #[test]
    fn metric_labels_drop_the_report_section_and_value_suffix() {
        assert_eq!(
            metric_label("binary_classification_metrics.auc.value"),
            "auc"
        );
        assert_eq!(
            metric_label("regression_metrics.mse.standard_deviation"),
            "mse.standard_deviation"
        );
        assert_eq!(metric_label("accuracy"), "accuracy");
    }

    #[test]
    fn a_message_page_is_plain() {
        let html = render(&MessagePage::new(
            "This link has expired",
            "fail",
            vec!["Ask for a new one.".into()],
        ));
        assert!(html.contains("<h1 id=\"outcome\" class=\"fail\">This link has expired</h1>"));
        assert!(!html.contains("<form"));
    }
}
