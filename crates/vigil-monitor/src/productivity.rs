//! The productivity audit of a deployment: report turnaround before and
//! after go-live, the cases the tool prioritised, and a stop-or-scale
//! recommendation against success criteria registered before go-live.
//!
//! A case enters the audit when the tool saw it (it has an inference event)
//! and a report on it was issued. Its turnaround runs from the examination
//! (the report's examination time; else the case's first inference event) to
//! its report milestone: the first verified report (final, amended or
//! corrected) by default, or the first report of any status. Cases first
//! seen before go-live (shadow running, where the tool's output reached no
//! one) are the comparison for the cases first seen after it.
//!
//! Each period's turnaround is summarised by its quartiles; the change is the
//! difference in medians (after − before) with a seeded percentile bootstrap
//! interval and the two-sided Mann–Whitney U test
//! ([`vigil_stats::two_sample`]). A comparison needs at least
//! [`MINIMUM_CASES_PER_PERIOD`] cases in each period; with fewer it says so
//! instead of guessing.
//!
//! A criterion is met when the whole interval clears it, not met when the
//! whole interval falls short of it, and inconclusive otherwise. Only
//! criteria registered before go-live count towards the recommendation
//! (registering them after the results are seen would let the results
//! choose the bar).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use vigil_domain::{ReportStatus, ReportTiming};
use vigil_stats::ConfidenceLevel;
use vigil_stats::bootstrap::quantile_of_sorted;
use vigil_stats::two_sample::{UTestMethod, mann_whitney_u, median_difference};

/// Fewer cases than this in either period give no comparison.
pub const MINIMUM_CASES_PER_PERIOD: usize = 20;

/// Bootstrap replicates of the difference in medians.
pub const TURNAROUND_REPLICATES: usize = 2_000;

/// The seed of the bootstrap (fixed, so that the audit is reproducible).
pub const TURNAROUND_SEED: u64 = 20_260_101;

/// What a case's turnaround runs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Milestone {
    /// The first verified report: final, amended or corrected.
    #[default]
    VerifiedReport,
    /// The first report of any status, preliminary included.
    FirstReport,
}

impl Milestone {
    fn counts(self, status: ReportStatus) -> bool {
        match self {
            Milestone::FirstReport => true,
            Milestone::VerifiedReport => status != ReportStatus::Preliminary,
        }
    }
}

/// One case the tool saw, with every report issued on it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditedCase {
    /// The case's first inference event.
    pub first_seen: Timestamp,
    /// Whether the tool called the case positive (the cases it prioritised).
    pub flagged: bool,
    pub reports: Vec<ReportTiming>,
}

impl AuditedCase {
    /// The first report that reaches the milestone.
    pub fn milestone_report(&self, milestone: Milestone) -> Option<&ReportTiming> {
        self.reports
            .iter()
            .filter(|report| milestone.counts(report.status()))
            .min_by_key(|report| report.issued_at())
    }

    /// Minutes from examination to the milestone report, when the case has
    /// one that can be timed: a report without an examination time issued
    /// before the case's first event has no known start, and is not timed.
    pub fn turnaround_minutes(&self, milestone: Milestone) -> Option<f64> {
        let report = self.milestone_report(milestone)?;
        let start = report.examined_at().unwrap_or(self.first_seen);
        let minutes = report.issued_at().duration_since(start).as_secs_f64() / 60.0;
        (minutes >= 0.0).then_some(minutes)
    }
}

/// Which cases a comparison or criterion is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseGroup {
    /// Every audited case.
    All,
    /// The cases the tool called positive.
    Flagged,
}

/// A success criterion registered before go-live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SuccessCriterion {
    /// The median turnaround of `cases` falls by at least `minutes`.
    MedianTurnaroundReduction { cases: CaseGroup, minutes: f64 },
}

impl SuccessCriterion {
    /// The criterion in words.
    pub fn describe(&self) -> String {
        match self {
            SuccessCriterion::MedianTurnaroundReduction { cases, minutes } => format!(
                "median turnaround of {} falls by at least {minutes} minutes",
                group_name(*cases)
            ),
        }
    }

    /// Checks the numbers: a reduction is a finite number of minutes ≥ 0.
    pub fn check(&self) -> Result<(), String> {
        match self {
            SuccessCriterion::MedianTurnaroundReduction { minutes, .. } => {
                if minutes.is_finite() && *minutes >= 0.0 && *minutes <= 525_600.0 {
                    Ok(())
                } else {
                    Err(format!(
                        "a turnaround reduction of {minutes} minutes is not a number of minutes in [0, 525600]"
                    ))
                }
            }
        }
    }
}

fn group_name(group: CaseGroup) -> &'static str {
    match group {
        CaseGroup::All => "all cases",
        CaseGroup::Flagged => "flagged cases",
    }
}

/// The success criteria of a deployment and when they were registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccessCriteria {
    pub registered_at: Timestamp,
    pub criteria: Vec<SuccessCriterion>,
}

/// One period's turnaround, in minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnaroundSummary {
    pub cases: usize,
    pub median: Option<f64>,
    pub lower_quartile: Option<f64>,
    pub upper_quartile: Option<f64>,
    pub ninetieth_percentile: Option<f64>,
}

impl TurnaroundSummary {
    fn of(minutes: &[f64]) -> TurnaroundSummary {
        let mut sorted = minutes.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let at = |q: f64| quantile_of_sorted(&sorted, q).ok();
        TurnaroundSummary {
            cases: sorted.len(),
            median: at(0.5),
            lower_quartile: at(0.25),
            upper_quartile: at(0.75),
            ninetieth_percentile: at(0.9),
        }
    }
}

/// The change in turnaround after go-live, when both periods have enough
/// cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnaroundChange {
    /// Median after − median before, in minutes (negative: faster).
    pub median_difference: f64,
    pub low: f64,
    pub high: f64,
    pub level: f64,
    pub replicates: usize,
    pub seed: u64,
    /// Two-sided Mann–Whitney p-value.
    pub mann_whitney_p: f64,
    /// The probability that a case after go-live took longer than one
    /// before (ties counting one half).
    pub probability_slower: f64,
}

/// Turnaround before and after go-live for one group of cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnaroundComparison {
    pub cases: CaseGroup,
    pub before: TurnaroundSummary,
    pub after: TurnaroundSummary,
    /// Absent when a period has too few cases; `reason` says why.
    pub change: Option<TurnaroundChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where a criterion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionOutcome {
    /// The whole interval clears the bar.
    Met,
    /// The whole interval falls short of the bar.
    NotMet,
    /// The interval straddles the bar: more cases are needed.
    Inconclusive,
    /// No comparison could be made.
    Unavailable,
}

/// A criterion with its outcome and the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionVerdict {
    pub criterion: SuccessCriterion,
    pub description: String,
    pub outcome: CriterionOutcome,
    pub evidence: String,
}

/// What the audit recommends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    /// Every criterion is met: scale.
    Scale,
    /// A criterion is not met: stop (or fix and re-register).
    Stop,
    /// Some criterion is inconclusive or unavailable and none is failed:
    /// keep collecting.
    Continue,
    /// No criteria were registered before go-live: the audit describes but
    /// cannot recommend.
    NoCriteria,
    /// The deployment has not gone live.
    NotLive,
}

/// One reader's workload among the audited cases: the milestone reports
/// they issued before and after go-live, with their turnaround.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderWorkload {
    /// The pseudonym of the RIS's identifier of the reader.
    pub reader: String,
    pub before: TurnaroundSummary,
    pub after: TurnaroundSummary,
    /// Of the reports after go-live, those on cases the tool flagged.
    pub flagged_after: usize,
}

/// The productivity audit of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductivityAudit {
    pub go_live_at: Option<Timestamp>,
    pub milestone: Milestone,
    /// Cases the tool saw that have a milestone report.
    pub audited_cases: usize,
    /// Cases the tool saw with no milestone report that can be timed (none
    /// yet, or one issued before the case's first event with no
    /// examination time).
    pub cases_without_report: usize,
    /// Cases first seen after go-live that the tool called positive.
    pub cases_prioritised: usize,
    pub all_cases: TurnaroundComparison,
    pub flagged_cases: TurnaroundComparison,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria_registered_at: Option<Timestamp>,
    /// Whether the criteria were registered before go-live (only then do
    /// they count).
    pub criteria_registered_before_go_live: bool,
    pub verdicts: Vec<CriterionVerdict>,
    pub recommendation: Recommendation,
    pub summary: String,
    /// Workload per reader, most reports first (readers whose RIS says who
    /// reported; see `reports_without_reader`).
    #[serde(default)]
    pub readers: Vec<ReaderWorkload>,
    /// Audited cases whose milestone report names no reader.
    #[serde(default)]
    pub reports_without_reader: usize,
}

fn compare(group: CaseGroup, before: &[f64], after: &[f64]) -> TurnaroundComparison {
    let summaries = (TurnaroundSummary::of(before), TurnaroundSummary::of(after));
    let too_few = before.len() < MINIMUM_CASES_PER_PERIOD || after.len() < MINIMUM_CASES_PER_PERIOD;
    let computed = if too_few {
        Err(format!(
            "{} cases before and {} after go-live; at least {MINIMUM_CASES_PER_PERIOD} are needed in each",
            before.len(),
            after.len()
        ))
    } else {
        median_difference(
            before,
            after,
            TURNAROUND_REPLICATES,
            TURNAROUND_SEED,
            ConfidenceLevel::NINETY_FIVE,
        )
        .and_then(|medians| {
            let test = mann_whitney_u(after, before, UTestMethod::Automatic)?;
            Ok(TurnaroundChange {
                median_difference: medians.difference.estimate,
                low: medians.difference.low,
                high: medians.difference.high,
                level: medians.level.get(),
                replicates: medians.replicates,
                seed: medians.seed,
                mann_whitney_p: test.p_value,
                probability_slower: test.probability_first_larger,
            })
        })
        .map_err(|error| error.to_string())
    };
    let (change, reason) = match computed {
        Ok(change) => (Some(change), None),
        Err(reason) => (None, Some(reason)),
    };
    TurnaroundComparison {
        cases: group,
        before: summaries.0,
        after: summaries.1,
        change,
        reason,
    }
}

fn judge(
    criterion: &SuccessCriterion,
    all: &TurnaroundComparison,
    flagged: &TurnaroundComparison,
) -> CriterionVerdict {
    let description = criterion.describe();
    let (outcome, evidence) = match criterion {
        SuccessCriterion::MedianTurnaroundReduction { cases, minutes } => {
            let comparison = match cases {
                CaseGroup::All => all,
                CaseGroup::Flagged => flagged,
            };
            match &comparison.change {
                None => (
                    CriterionOutcome::Unavailable,
                    comparison
                        .reason
                        .clone()
                        .unwrap_or_else(|| "no comparison".to_owned()),
                ),
                Some(change) => {
                    let bar = -minutes;
                    let outcome = if change.high <= bar {
                        CriterionOutcome::Met
                    } else if change.low > bar {
                        CriterionOutcome::NotMet
                    } else {
                        CriterionOutcome::Inconclusive
                    };
                    (
                        outcome,
                        format!(
                            "median change {:+.1} min ({:.0}% interval {:+.1} to {:+.1}; Mann–Whitney p = {:.3}) on {} cases before and {} after go-live, against a required change of at most {:+.1} min",
                            change.median_difference,
                            change.level * 100.0,
                            change.low,
                            change.high,
                            change.mann_whitney_p,
                            comparison.before.cases,
                            comparison.after.cases,
                            bar
                        ),
                    )
                }
            }
        }
    };
    CriterionVerdict {
        criterion: criterion.clone(),
        description,
        outcome,
        evidence,
    }
}

/// Audits the cases of a deployment that went live at `go_live_at` (its
/// latest move to live), against the criteria registered for it.
pub fn audit(
    cases: &[AuditedCase],
    go_live_at: Option<Timestamp>,
    criteria: Option<&SuccessCriteria>,
    milestone: Milestone,
) -> ProductivityAudit {
    let mut before = (Vec::new(), Vec::new());
    let mut after = (Vec::new(), Vec::new());
    let (mut audited, mut without_report, mut prioritised) = (0, 0, 0);
    // Per reader: minutes before, minutes after, flagged after.
    type Workload = (Vec<f64>, Vec<f64>, usize);
    let mut by_reader: std::collections::BTreeMap<&str, Workload> =
        std::collections::BTreeMap::new();
    let mut without_reader = 0;
    for case in cases {
        let Some(minutes) = case.turnaround_minutes(milestone) else {
            without_report += 1;
            continue;
        };
        audited += 1;
        let is_after = matches!(go_live_at, Some(go_live) if case.first_seen >= go_live);
        let period = if is_after {
            if case.flagged {
                prioritised += 1;
            }
            &mut after
        } else {
            &mut before
        };
        period.0.push(minutes);
        if case.flagged {
            period.1.push(minutes);
        }
        match case
            .milestone_report(milestone)
            .and_then(ReportTiming::reader)
        {
            Some(reader) => {
                let workload = by_reader.entry(reader.as_str()).or_default();
                if is_after {
                    workload.1.push(minutes);
                    workload.2 += usize::from(case.flagged);
                } else {
                    workload.0.push(minutes);
                }
            }
            None => without_reader += 1,
        }
    }
    let mut readers: Vec<ReaderWorkload> = by_reader
        .into_iter()
        .map(
            |(reader, (minutes_before, minutes_after, flagged_after))| ReaderWorkload {
                reader: reader.to_owned(),
                before: TurnaroundSummary::of(&minutes_before),
                after: TurnaroundSummary::of(&minutes_after),
                flagged_after,
            },
        )
        .collect();
    readers.sort_by(|left, right| {
        (right.before.cases + right.after.cases)
            .cmp(&(left.before.cases + left.after.cases))
            .then_with(|| left.reader.cmp(&right.reader))
    });
    let all_cases = compare(CaseGroup::All, &before.0, &after.0);
    let flagged_cases = compare(CaseGroup::Flagged, &before.1, &after.1);
    let registered_before = match (criteria, go_live_at) {
        (Some(criteria), Some(go_live)) => criteria.registered_at < go_live,
        _ => false,
    };
    let verdicts: Vec<CriterionVerdict> = criteria
        .map(|criteria| {
            criteria
                .criteria
                .iter()
                .map(|criterion| judge(criterion, &all_cases, &flagged_cases))
                .collect()
        })
        .unwrap_or_default();
    let recommendation = if go_live_at.is_none() {
        Recommendation::NotLive
    } else if !registered_before || verdicts.is_empty() {
        Recommendation::NoCriteria
    } else if verdicts
        .iter()
        .any(|verdict| verdict.outcome == CriterionOutcome::NotMet)
    {
        Recommendation::Stop
    } else if verdicts
        .iter()
        .all(|verdict| verdict.outcome == CriterionOutcome::Met)
    {
        Recommendation::Scale
    } else {
        Recommendation::Continue
    };
    let summary = match recommendation {
        Recommendation::NotLive => "The deployment has not gone live: there is no after-go-live period to audit.".to_owned(),
        Recommendation::NoCriteria if criteria.is_some() => "The success criteria were registered after go-live, so they cannot decide; the turnaround figures are descriptive.".to_owned(),
        Recommendation::NoCriteria => "No success criteria were registered before go-live; the turnaround figures are descriptive.".to_owned(),
        Recommendation::Scale => "Every success criterion registered before go-live is met: the evidence supports scaling.".to_owned(),
        Recommendation::Stop => "A success criterion registered before go-live is not met: the evidence supports stopping, or fixing and re-registering.".to_owned(),
        Recommendation::Continue => "No criterion has failed, but not every one is met yet: keep collecting cases.".to_owned(),
    };
    ProductivityAudit {
        go_live_at,
        milestone,
        audited_cases: audited,
        cases_without_report: without_report,
        cases_prioritised: prioritised,
        all_cases,
        flagged_cases,
        criteria_registered_at: criteria.map(|criteria| criteria.registered_at),
        criteria_registered_before_go_live: registered_before,
        verdicts,
        recommendation,
        summary,
        readers,
        reports_without_reader: without_reader,
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use vigil_domain::{IdentifierKind, PseudonymKey, pseudonymise};

    use super::*;

    fn time(text: &str) -> Timestamp {
        text.parse().expect("a timestamp")
    }

    /// A case examined at `seen` with a preliminary report after
    /// `preliminary` minutes and a final one after `final_minutes`.
    fn case(
        index: usize,
        seen: Timestamp,
        flagged: bool,
        preliminary: i64,
        final_minutes: Option<i64>,
    ) -> AuditedCase {
        let key = PseudonymKey::from_hex(&"cd".repeat(32)).expect("a key");
        let pseudonym = pseudonymise(&key, IdentifierKind::Accession, &format!("ACC{index}"))
            .expect("a pseudonym");
        let mut reports = vec![
            ReportTiming::new(
                pseudonym.clone(),
                ReportStatus::Preliminary,
                None,
                seen + SignedDuration::from_mins(preliminary),
            )
            .expect("a report"),
        ];
        if let Some(minutes) = final_minutes {
            reports.push(
                ReportTiming::new(
                    pseudonym,
                    ReportStatus::Final,
                    Some(seen),
                    seen + SignedDuration::from_mins(minutes),
                )
                .expect("a report"),
            );
        }
        AuditedCase {
            first_seen: seen,
            flagged,
            reports,
        }
    }

    /// 60 shadow cases then 60 live cases; flagged live cases are reported
    /// `speed_up` minutes sooner.
    fn cases(speed_up: i64) -> Vec<AuditedCase> {
        let start = time("2026-03-02T08:00:00Z");
        (0..120)
            .map(|index| {
                let seen = start + SignedDuration::from_hours(6 * index as i64);
                let live = index >= 60;
                let flagged = index % 3 == 0;
                let base = 120 + (index as i64 * 37) % 90;
                let minutes = if live && flagged {
                    base - speed_up
                } else {
                    base
                };
                case(index, seen, flagged, 20, Some(minutes))
            })
            .collect()
    }

    fn go_live() -> Timestamp {
        time("2026-03-02T08:00:00Z") + SignedDuration::from_hours(6 * 60)
    }

    fn criteria(registered_at: Timestamp, minutes: f64) -> SuccessCriteria {
        SuccessCriteria {
            registered_at,
            criteria: vec![SuccessCriterion::MedianTurnaroundReduction {
                cases: CaseGroup::Flagged,
                minutes,
            }],
        }
    }

    #[test]
    fn the_milestone_chooses_the_report() {
        let seen = time("2026-03-02T08:00:00Z");
        let reported = case(1, seen, true, 20, Some(95));
        assert_eq!(
            reported.turnaround_minutes(Milestone::VerifiedReport),
            Some(95.0)
        );
        assert_eq!(
            reported.turnaround_minutes(Milestone::FirstReport),
            Some(20.0)
        );
        let preliminary_only = case(2, seen, false, 20, None);
        assert_eq!(
            preliminary_only.turnaround_minutes(Milestone::VerifiedReport),
            None
        );
        // A preliminary report without an examination time, issued before
        // the tool saw the case: no known start, so no turnaround.
        let early = case(3, seen, false, -15, Some(95));
        assert_eq!(early.turnaround_minutes(Milestone::FirstReport), None);
        assert_eq!(
            early.turnaround_minutes(Milestone::VerifiedReport),
            Some(95.0)
        );
    }

    #[test]
    fn a_large_speed_up_against_criteria_registered_before_go_live_recommends_scaling() {
        let cases = cases(60);
        let registered = time("2026-02-01T00:00:00Z");
        let result = audit(
            &cases,
            Some(go_live()),
            Some(&criteria(registered, 20.0)),
            Milestone::VerifiedReport,
        );
        assert_eq!(result.audited_cases, 120);
        assert_eq!(result.cases_prioritised, 20);
        assert_eq!(result.all_cases.before.cases, 60);
        assert_eq!(result.flagged_cases.after.cases, 20);
        let change = result.flagged_cases.change.as_ref().expect("a comparison");
        assert!(change.median_difference < -40.0, "{change:?}");
        assert!(
            change.high <= -20.0 && change.mann_whitney_p < 0.001,
            "{change:?}"
        );
        assert_eq!(result.verdicts[0].outcome, CriterionOutcome::Met);
        assert_eq!(result.recommendation, Recommendation::Scale);
        assert!(result.criteria_registered_before_go_live);
    }

    #[test]
    fn no_speed_up_fails_a_demanding_criterion_and_the_timing_of_registration_matters() {
        let cases = cases(0);
        let before = time("2026-02-01T00:00:00Z");
        let result = audit(
            &cases,
            Some(go_live()),
            Some(&criteria(before, 60.0)),
            Milestone::VerifiedReport,
        );
        assert_eq!(
            result.verdicts[0].outcome,
            CriterionOutcome::NotMet,
            "{:?}",
            result.verdicts
        );
        assert_eq!(result.recommendation, Recommendation::Stop);
        // The same bar set after go-live decides nothing.
        let late = go_live() + SignedDuration::from_hours(24);
        let result = audit(
            &cases,
            Some(go_live()),
            Some(&criteria(late, 60.0)),
            Milestone::VerifiedReport,
        );
        assert!(!result.criteria_registered_before_go_live);
        assert_eq!(result.recommendation, Recommendation::NoCriteria);
        assert!(result.summary.contains("after go-live"));
    }

    #[test]
    fn too_few_cases_or_no_go_live_give_typed_answers() {
        let cases = cases(60);
        let registered = time("2026-02-01T00:00:00Z");
        // Only 6 flagged cases before go-live when the first 42 are dropped.
        let few = &cases[42..];
        let result = audit(
            few,
            Some(go_live()),
            Some(&criteria(registered, 20.0)),
            Milestone::VerifiedReport,
        );
        assert!(result.flagged_cases.change.is_none());
        assert!(
            result
                .flagged_cases
                .reason
                .as_deref()
                .unwrap_or_default()
                .contains("at least 20")
        );
        assert_eq!(result.verdicts[0].outcome, CriterionOutcome::Unavailable);
        assert_eq!(result.recommendation, Recommendation::Continue);
        let result = audit(
            &cases,
            None,
            Some(&criteria(registered, 20.0)),
            Milestone::VerifiedReport,
        );
        assert_eq!(result.recommendation, Recommendation::NotLive);
        assert_eq!(result.all_cases.after.cases, 0);
        let empty = audit(&[], Some(go_live()), None, Milestone::FirstReport);
        assert_eq!(empty.audited_cases, 0);
        assert_eq!(empty.all_cases.before.median, None);
        assert_eq!(empty.recommendation, Recommendation::NoCriteria);
    }

    #[test]
    fn criteria_are_read_from_json_and_checked() {
        let read: SuccessCriteria = serde_json::from_str(
            r#"{"registered_at":"2026-02-01T00:00:00Z","criteria":[{"kind":"median_turnaround_reduction","cases":"flagged","minutes":30}]}"#,
        )
        .expect("criteria");
        assert_eq!(read.criteria[0].check(), Ok(()));
        assert_eq!(
            read.criteria[0].describe(),
            "median turnaround of flagged cases falls by at least 30 minutes"
        );
        let negative = SuccessCriterion::MedianTurnaroundReduction {
            cases: CaseGroup::All,
            minutes: -5.0,
        };
        assert!(negative.check().is_err());
        assert!(
            serde_json::from_str::<SuccessCriterion>(
                r#"{"kind":"median_turnaround_reduction","cases":"all","minutes":5,"extra":1}"#
            )
            .is_err()
        );
    }

    #[test]
    fn workload_is_counted_per_reader_of_the_milestone_report() {
        let key = PseudonymKey::from_hex(&"cd".repeat(32)).expect("a key");
        let reader =
            |name: &str| pseudonymise(&key, IdentifierKind::Reader, name).expect("a pseudonym");
        let go_live = time("2026-06-01T00:00:00Z");
        let mut all = Vec::new();
        for index in 0..9 {
            let after = index >= 4;
            let seen = if after {
                time("2026-06-02T08:00:00Z")
            } else {
                time("2026-05-02T08:00:00Z")
            };
            let mut case = case(index, seen, index % 2 == 0, 10, Some(60 + index as i64));
            // The preliminary report is dr-b's, the final one (the
            // milestone) dr-a's, except for two cases with no reader.
            case.reports[0] = case.reports[0].clone().with_reader(reader("dr-b"));
            if index != 3 && index != 8 {
                case.reports[1] = case.reports[1].clone().with_reader(reader("dr-a"));
            }
            all.push(case);
        }
        let audited = audit(&all, Some(go_live), None, Milestone::VerifiedReport);
        assert_eq!(
            audited.readers.len(),
            1,
            "only the milestone report's reader counts"
        );
        let workload = &audited.readers[0];
        assert_eq!(workload.reader, reader("dr-a").as_str());
        // Before: cases 0, 1, 2 (3 has no reader); after: 4, 5, 6, 7.
        assert_eq!((workload.before.cases, workload.after.cases), (3, 4));
        assert_eq!(workload.before.median, Some(61.0));
        assert_eq!(workload.after.median, Some(65.5));
        assert_eq!(workload.flagged_after, 2, "cases 4 and 6");
        assert_eq!(audited.reports_without_reader, 2);
        // With the first report as the milestone, dr-b read all nine.
        let first = audit(&all, Some(go_live), None, Milestone::FirstReport);
        assert_eq!(first.readers[0].reader, reader("dr-b").as_str());
        assert_eq!(
            first.readers[0].before.cases + first.readers[0].after.cases,
            9
        );
        assert_eq!(first.reports_without_reader, 0);
    }
}
