//! Procurement assessment: a versioned template of weighted sections of
//! questions (TOML), the answers of one assessment of a product version, and
//! their score.
//!
//! Each question is scored 0 (absent), 1 (poor), 2 (adequate), 3 (good) or
//! 4 (excellent). A section's score is the mean of its questions' scores as
//! a percentage of 4; the total is the weighted mean of the sections. The
//! assessment passes when every question is answered, no gate question
//! scores below 2, and the total reaches the template's pass mark. The
//! default template ([`DEFAULT_TEMPLATE`]) covers clinical need, evidence,
//! local validation, integration, regulatory status, supplier clinical
//! safety (DCB0129), information governance and security (DTAC), commercial
//! terms and environmental impact.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// The default assessment template.
pub const DEFAULT_TEMPLATE: &str = include_str!("../templates/procurement-assessment.toml");

/// The highest score of a question.
pub const MAXIMUM_SCORE: u8 = 4;

/// The lowest score a gate question may have in a passing assessment.
pub const GATE_SCORE: u8 = 2;

/// A question of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub key: String,
    pub text: String,
    /// A gate question below [`GATE_SCORE`] fails the assessment.
    #[serde(default)]
    pub gate: bool,
}

/// A weighted section of questions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub key: String,
    pub title: String,
    pub weight: f64,
    #[serde(rename = "question")]
    pub questions: Vec<Question>,
}

/// An assessment template, checked by [`Template::from_toml`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    pub version: String,
    /// The total (0–100) a passing assessment reaches.
    pub pass_mark: f64,
    #[serde(rename = "section")]
    pub sections: Vec<Section>,
}

fn template_error(reason: impl Into<String>) -> DomainError {
    DomainError::ProcurementTemplate {
        reason: reason.into(),
    }
}

fn is_key(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

impl Template {
    /// Reads and checks a template: a name and version, a pass mark in
    /// [0, 100], at least one section, positive finite weights, keys of
    /// lowercase letters, digits and `_` unique within their level, and at
    /// least one question in every section.
    pub fn from_toml(text: &str) -> Result<Template, DomainError> {
        let template: Template =
            toml::from_str(text).map_err(|error| template_error(error.to_string()))?;
        if template.name.trim().is_empty() || template.version.trim().is_empty() {
            return Err(template_error("the name and version must not be blank"));
        }
        if !(template.pass_mark.is_finite() && (0.0..=100.0).contains(&template.pass_mark)) {
            return Err(template_error(format!(
                "the pass mark {} is not in [0, 100]",
                template.pass_mark
            )));
        }
        if template.sections.is_empty() {
            return Err(template_error("a template needs at least one section"));
        }
        let mut sections = BTreeSet::new();
        for section in &template.sections {
            if !is_key(&section.key) || !sections.insert(section.key.as_str()) {
                return Err(template_error(format!(
                    "section key {:?} is not a unique key of lowercase letters, digits and _",
                    section.key
                )));
            }
            if !(section.weight.is_finite() && section.weight > 0.0) {
                return Err(template_error(format!(
                    "section {} has weight {}; weights are positive",
                    section.key, section.weight
                )));
            }
            if section.questions.is_empty() {
                return Err(template_error(format!(
                    "section {} has no question",
                    section.key
                )));
            }
            let mut questions = BTreeSet::new();
            for question in &section.questions {
                if !is_key(&question.key) || !questions.insert(question.key.as_str()) {
                    return Err(template_error(format!(
                        "question key {:?} of section {} is not a unique key of lowercase letters, digits and _",
                        question.key, section.key
                    )));
                }
                if question.text.trim().is_empty() {
                    return Err(template_error(format!(
                        "question {}.{} has no text",
                        section.key, question.key
                    )));
                }
            }
        }
        Ok(template)
    }

    /// The default template.
    pub fn default_template() -> Template {
        Template::from_toml(DEFAULT_TEMPLATE).expect("the default template is valid")
    }

    /// Every question as `section.question`, in template order.
    pub fn question_keys(&self) -> Vec<String> {
        self.sections
            .iter()
            .flat_map(|section| {
                section
                    .questions
                    .iter()
                    .map(move |question| format!("{}.{}", section.key, question.key))
            })
            .collect()
    }
}

/// The answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// `section.question`.
    pub question: String,
    /// 0 to 4.
    pub score: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// SHA-256 of the attachments offered as evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
}

/// Checks answers against a template: known questions, each at most once,
/// scores 0–4, attachments named by their SHA-256. Lists every problem.
pub fn check_answers(template: &Template, answers: &[Answer]) -> Result<(), DomainError> {
    let known: BTreeSet<String> = template.question_keys().into_iter().collect();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for answer in answers {
        if !known.contains(&answer.question) {
            problems.push(format!(
                "{:?} is not a question of the template",
                answer.question
            ));
        } else if !seen.insert(answer.question.as_str()) {
            problems.push(format!("{} is answered twice", answer.question));
        }
        if answer.score > MAXIMUM_SCORE {
            problems.push(format!(
                "{} is scored {}; scores run from 0 to {MAXIMUM_SCORE}",
                answer.question, answer.score
            ));
        }
        for attachment in &answer.attachments {
            if attachment.len() != 64 || !attachment.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                problems.push(format!(
                    "{} cites attachment {:?}, which is not a SHA-256",
                    answer.question, attachment
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DomainError::ProcurementAnswers {
            problems: problems.join("; "),
        })
    }
}

/// How an assessment came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentOutcome {
    Pass,
    Fail,
    /// Some question is not answered yet.
    Incomplete,
}

impl AssessmentOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentOutcome::Pass => "pass",
            AssessmentOutcome::Fail => "fail",
            AssessmentOutcome::Incomplete => "incomplete",
        }
    }
}

/// A section's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionScore {
    pub key: String,
    pub title: String,
    pub weight: f64,
    /// The mean answered score as a percentage of 4; `None` with no answer.
    pub percent: Option<f64>,
    pub answered: usize,
    pub questions: usize,
}

/// An assessment's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentScore {
    pub sections: Vec<SectionScore>,
    /// The weighted mean of the answered sections' percentages.
    pub total_percent: Option<f64>,
    pub pass_mark: f64,
    /// Gate questions scored below 2.
    pub failed_gates: Vec<String>,
    pub unanswered: Vec<String>,
    pub outcome: AssessmentOutcome,
}

/// Scores checked answers (see [`check_answers`]) against their template.
pub fn score(template: &Template, answers: &[Answer]) -> AssessmentScore {
    let by_question: BTreeMap<&str, &Answer> = answers
        .iter()
        .map(|answer| (answer.question.as_str(), answer))
        .collect();
    let mut sections = Vec::new();
    let mut failed_gates = Vec::new();
    let mut unanswered = Vec::new();
    let (mut weighted, mut weights) = (0.0, 0.0);
    for section in &template.sections {
        let mut scores = Vec::new();
        for question in &section.questions {
            let key = format!("{}.{}", section.key, question.key);
            match by_question.get(key.as_str()) {
                Some(answer) => {
                    if question.gate && answer.score < GATE_SCORE {
                        failed_gates.push(key);
                    }
                    scores.push(f64::from(answer.score));
                }
                None => unanswered.push(key),
            }
        }
        let percent = (!scores.is_empty()).then(|| {
            scores.iter().sum::<f64>() / scores.len() as f64 / f64::from(MAXIMUM_SCORE) * 100.0
        });
        if let Some(percent) = percent {
            weighted += section.weight * percent;
            weights += section.weight;
        }
        sections.push(SectionScore {
            key: section.key.clone(),
            title: section.title.clone(),
            weight: section.weight,
            percent,
            answered: scores.len(),
            questions: section.questions.len(),
        });
    }
    let total_percent = (weights > 0.0).then(|| weighted / weights);
    let outcome = if !failed_gates.is_empty() {
        AssessmentOutcome::Fail
    } else if !unanswered.is_empty() {
        AssessmentOutcome::Incomplete
    } else if total_percent.is_some_and(|total| total >= template.pass_mark) {
        AssessmentOutcome::Pass
    } else {
        AssessmentOutcome::Fail
    };
    AssessmentScore {
        sections,
        total_percent,
        pass_mark: template.pass_mark,
        failed_gates,
        unanswered,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(question: &str, score: u8) -> Answer {
        Answer {
            question: question.to_owned(),
            score,
            note: None,
            attachments: Vec::new(),
        }
    }

    const SMALL: &str = r#"
name = "Small"
version = "2"
pass_mark = 60
[[section]]
key = "a"
title = "A"
weight = 3
question = [{ key = "x", text = "X", gate = true }, { key = "y", text = "Y" }]
[[section]]
key = "b"
title = "B"
weight = 1
question = [{ key = "z", text = "Z" }]
"#;

    #[test]
    fn the_default_template_covers_the_frameworks() {
        let template = Template::default_template();
        let keys: Vec<&str> = template
            .sections
            .iter()
            .map(|section| section.key.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "clinical_need",
                "evidence",
                "local_validation",
                "integration",
                "regulatory",
                "clinical_safety",
                "information_governance",
                "commercial",
                "environment"
            ]
        );
        assert!(
            template
                .question_keys()
                .contains(&"clinical_safety.safety_case".to_owned())
        );
    }

    #[test]
    fn scores_weigh_sections_and_gates_fail_whatever_the_total() {
        let template = Template::from_toml(SMALL).expect("template");
        // Section a: (4 + 2) / 2 / 4 = 75%; b: 1 / 4 = 25%; total
        // (3 × 75 + 1 × 25) / 4 = 62.5.
        let answers = [answer("a.x", 4), answer("a.y", 2), answer("b.z", 1)];
        check_answers(&template, &answers).expect("valid answers");
        let scored = score(&template, &answers);
        assert_eq!(scored.sections[0].percent, Some(75.0));
        assert_eq!(scored.total_percent, Some(62.5));
        assert_eq!(scored.outcome, AssessmentOutcome::Pass);
        let gate = score(
            &template,
            &[answer("a.x", 1), answer("a.y", 4), answer("b.z", 4)],
        );
        assert_eq!(gate.failed_gates, ["a.x"]);
        assert_eq!(gate.outcome, AssessmentOutcome::Fail);
        let low = score(
            &template,
            &[answer("a.x", 2), answer("a.y", 2), answer("b.z", 2)],
        );
        assert_eq!(
            (low.total_percent, low.outcome),
            (Some(50.0), AssessmentOutcome::Fail)
        );
        let partial = score(&template, &[answer("a.x", 4)]);
        assert_eq!(partial.unanswered, ["a.y", "b.z"]);
        assert_eq!(partial.outcome, AssessmentOutcome::Incomplete);
        assert_eq!(score(&template, &[]).total_percent, None);
    }

    #[test]
    fn bad_templates_and_answers_say_what_is_wrong() {
        for (text, expected) in [
            (
                SMALL.replace("pass_mark = 60", "pass_mark = 160"),
                "pass mark 160",
            ),
            (
                SMALL.replace("weight = 1", "weight = 0"),
                "weights are positive",
            ),
            (
                SMALL.replace("key = \"b\"", "key = \"a\""),
                "section key \"a\"",
            ),
            (
                SMALL.replace("key = \"y\"", "key = \"X Y\""),
                "question key \"X Y\"",
            ),
            (
                SMALL.replace("name = \"Small\"", "name = \"Small\"\nextra = 1"),
                "unknown field",
            ),
        ] {
            let error = Template::from_toml(&text).expect_err(expected);
            assert!(error.to_string().contains(expected), "{error}");
        }
        let template = Template::from_toml(SMALL).expect("template");
        let mut bad = answer("a.x", 5);
        bad.attachments.push("not a hash".to_owned());
        let error = check_answers(
            &template,
            &[bad, answer("a.q", 1), answer("b.z", 1), answer("b.z", 2)],
        )
        .expect_err("problems");
        let text = error.to_string();
        for expected in [
            "a.x is scored 5",
            "not a SHA-256",
            "\"a.q\" is not a question",
            "b.z is answered twice",
        ] {
            assert!(text.contains(expected), "{text}");
        }
    }
}
