//! The shape of the demonstration dataset, decided before anything is
//! written: the organisation tree, the products, each deployment's site,
//! timeline and story, and how many events each day brings.
//!
//! Everything here is fixed by the code and the end date; the seed only
//! drives the random draws of [`crate::generate`]. The names are invented:
//! no organisation, vendor or product here is real.

use jiff::ToSpan;
use jiff::civil::Date;
use vigil_domain::{LifecycleState, Modality, RegulatoryClass, TaskType};

/// The number of weeks of history, ending on the end date.
pub const WEEKS: i64 = 52;

/// One organisation of the tree: code, name and parent code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrganisationPlan {
    pub code: &'static str,
    pub name: &'static str,
    pub parent: Option<&'static str>,
}

/// Three regions of England, eleven Trusts, fifteen sites.
pub const NATION: OrganisationPlan = OrganisationPlan {
    code: "england",
    name: "NHS England",
    parent: None,
};

/// The regions (imaging networks).
pub const REGIONS: [OrganisationPlan; 3] = [
    OrganisationPlan {
        code: "north-west",
        name: "North West Imaging Network",
        parent: Some("england"),
    },
    OrganisationPlan {
        code: "midlands",
        name: "Midlands Imaging Network",
        parent: Some("england"),
    },
    OrganisationPlan {
        code: "london",
        name: "London Imaging Network",
        parent: Some("england"),
    },
];

/// The Trusts.
pub const TRUSTS: [OrganisationPlan; 11] = [
    trust(
        "rmv",
        "Mersey Valley Hospitals NHS Foundation Trust",
        "north-west",
    ),
    trust(
        "rpn",
        "Pennine Moors Teaching Hospitals NHS Trust",
        "north-west",
    ),
    trust(
        "rlk",
        "Lakeland and Furness NHS Foundation Trust",
        "north-west",
    ),
    trust(
        "rcs",
        "Cheshire Plains University Hospitals NHS Trust",
        "north-west",
    ),
    trust(
        "rtm",
        "Trent Meadows University Hospitals NHS Trust",
        "midlands",
    ),
    trust(
        "rar",
        "Arden Royal Hospitals NHS Foundation Trust",
        "midlands",
    ),
    trust("rwk", "Wrekin and Marches NHS Trust", "midlands"),
    trust(
        "rth",
        "Thameside University Hospitals NHS Foundation Trust",
        "london",
    ),
    trust("rnl", "North London Teaching Hospitals NHS Trust", "london"),
    trust(
        "rsg",
        "St George's Fields Hospitals NHS Foundation Trust",
        "london",
    ),
    trust("rel", "East London Health Partners NHS Trust", "london"),
];

const fn trust(code: &'static str, name: &'static str, region: &'static str) -> OrganisationPlan {
    OrganisationPlan {
        code,
        name,
        parent: Some(region),
    }
}

/// The sites: each Trust's main hospital, and a cancer centre at four.
pub const SITES: [OrganisationPlan; 15] = [
    site("rmv-main", "Mersey Valley General Hospital", "rmv"),
    site("rmv-cancer", "Mersey Valley Cancer Centre", "rmv"),
    site("rpn-main", "Pennine Moors Royal Infirmary", "rpn"),
    site("rlk-main", "Lakeland General Hospital", "rlk"),
    site("rcs-main", "Cheshire Plains University Hospital", "rcs"),
    site("rtm-main", "Trent Meadows Queen's Medical Centre", "rtm"),
    site("rtm-cancer", "Trent Meadows Cancer Centre", "rtm"),
    site("rar-main", "Arden Royal Hospital", "rar"),
    site("rwk-main", "Wrekin Princess Royal Hospital", "rwk"),
    site("rth-main", "Thameside University Hospital", "rth"),
    site("rnl-main", "North London Royal Free Hospital", "rnl"),
    site("rnl-cancer", "North London Cancer Centre", "rnl"),
    site("rsg-main", "St George's Fields Hospital", "rsg"),
    site("rel-main", "East London Royal Hospital", "rel"),
    site("rel-cancer", "East London Cancer Centre", "rel"),
];

const fn site(code: &'static str, name: &'static str, trust: &'static str) -> OrganisationPlan {
    OrganisationPlan {
        code,
        name,
        parent: Some(trust),
    }
}

/// Where a case's ground truth comes from, and how long after the
/// examination it arrives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutcomePlan {
    /// The share of cases that ever get an outcome.
    pub fraction: f64,
    /// "report", "pathology", "follow_up" or "reader".
    pub source: &'static str,
    /// The delay in days: uniform on [minimum, maximum].
    pub delay_days: (i64, i64),
}

/// A product and how its cases behave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProductPlan {
    pub key: &'static str,
    pub vendor: &'static str,
    pub name: &'static str,
    pub intended_purpose: &'static str,
    pub modality: Modality,
    pub body_part: &'static str,
    pub task: TaskType,
    pub class: RegulatoryClass,
    /// The first version, and the mid-year update when there is one.
    pub versions: &'static [&'static str],
    /// The share of cases with the condition.
    pub prevalence: f64,
    /// The binormal separation d′ of the scores (AUC = Φ(d′/√2)).
    pub separation: f64,
    /// Where the operating threshold falls on the negatives' latent scale,
    /// in standard deviations: the specificity is Φ(this). The threshold
    /// on the score is the score there ([`ProductPlan::threshold`]).
    pub negative_cutoff: f64,
    /// Events a weekday at one deployment; weekends bring a fraction.
    pub weekday_volume: u32,
    /// The share of a weekday's volume on Saturdays and Sundays.
    pub weekend_share: f64,
    pub outcome: OutcomePlan,
    /// Scanners: (manufacturer, model, kVp, slice thickness in mm).
    pub scanners: &'static [(&'static str, &'static str, Option<f64>, Option<f64>)],
    pub protocols: &'static [&'static str],
    /// Radiotherapy deployments need the medical physics expert's sign-off.
    pub radiotherapy: bool,
}

impl ProductPlan {
    /// The operating threshold on the score: the calibrated score at the
    /// negative cutoff, to four decimals.
    pub fn threshold(&self) -> f64 {
        crate::generate::score_of(self, self.negative_cutoff)
    }
}

/// The six products.
pub const PRODUCTS: [ProductPlan; 6] = [
    ProductPlan {
        key: "chest",
        vendor: "Lumen Imaging AI Ltd",
        name: "ChestFlag",
        intended_purpose: "Prioritise adult chest radiographs likely to be abnormal for reporting",
        modality: Modality::Radiography,
        body_part: "chest",
        task: TaskType::Triage,
        class: RegulatoryClass::ClassIIa,
        versions: &["2.3.0", "2.4.0"],
        prevalence: 0.30,
        separation: 2.0,
        negative_cutoff: 0.84,
        weekday_volume: 600,
        weekend_share: 0.45,
        outcome: OutcomePlan {
            fraction: 0.92,
            source: "report",
            delay_days: (0, 3),
        },
        scanners: &[
            ("Siemens", "Ysio Max", Some(125.0), None),
            ("Philips", "DigitalDiagnost C90", Some(120.0), None),
        ],
        protocols: &["CXR PA", "CXR AP mobile"],
        radiotherapy: false,
    },
    ProductPlan {
        key: "head",
        vendor: "Cerebra Diagnostics",
        name: "BleedAlert",
        intended_purpose: "Detect acute intracranial haemorrhage on non-contrast CT head and flag for urgent review",
        modality: Modality::Ct,
        body_part: "head",
        task: TaskType::Detection,
        class: RegulatoryClass::ClassIIb,
        versions: &["4.1.0"],
        prevalence: 0.09,
        separation: 2.6,
        negative_cutoff: 1.04,
        weekday_volume: 100,
        weekend_share: 0.8,
        outcome: OutcomePlan {
            fraction: 0.95,
            source: "report",
            delay_days: (0, 1),
        },
        scanners: &[
            ("Siemens", "SOMATOM go.Top", Some(120.0), Some(5.0)),
            ("GE HealthCare", "Revolution EVO", Some(120.0), Some(5.0)),
        ],
        protocols: &["CT head non-contrast"],
        radiotherapy: false,
    },
    ProductPlan {
        key: "breast",
        vendor: "Mammetrics Ltd",
        name: "ScreenRead",
        intended_purpose: "Act as second reader of bilateral screening mammograms in the NHS Breast Screening Programme",
        modality: Modality::Mammography,
        body_part: "breast",
        task: TaskType::Classification,
        class: RegulatoryClass::ClassIIb,
        versions: &["1.8.2"],
        prevalence: 0.009,
        separation: 2.3,
        negative_cutoff: 1.64,
        weekday_volume: 360,
        weekend_share: 0.0,
        outcome: OutcomePlan {
            fraction: 0.97,
            source: "follow_up",
            delay_days: (14, 75),
        },
        scanners: &[
            ("Hologic", "3Dimensions", Some(30.0), None),
            ("Siemens", "MAMMOMAT Revelation", Some(29.0), None),
        ],
        protocols: &["Screening 2-view"],
        radiotherapy: false,
    },
    ProductPlan {
        key: "lung",
        vendor: "Pulmonix AI",
        name: "NoduleFinder",
        intended_purpose: "Detect and measure pulmonary nodules on chest CT as a concurrent reader aid",
        modality: Modality::Ct,
        body_part: "chest",
        task: TaskType::Detection,
        class: RegulatoryClass::ClassIIa,
        versions: &["3.0.1"],
        prevalence: 0.22,
        separation: 1.9,
        negative_cutoff: 0.67,
        weekday_volume: 60,
        weekend_share: 0.2,
        outcome: OutcomePlan {
            fraction: 0.75,
            source: "follow_up",
            delay_days: (30, 120),
        },
        scanners: &[
            ("Canon", "Aquilion ONE", Some(120.0), Some(1.0)),
            ("Siemens", "SOMATOM Force", Some(110.0), Some(1.0)),
        ],
        protocols: &["CT chest low dose", "CT chest with contrast"],
        radiotherapy: false,
    },
    ProductPlan {
        key: "prostate",
        vendor: "Uro Vision Ltd",
        name: "ProstateMR Assist",
        intended_purpose: "Detect clinically significant prostate cancer (PI-RADS 3 or above) on biparametric MRI",
        modality: Modality::Mri,
        body_part: "prostate",
        task: TaskType::Detection,
        class: RegulatoryClass::ClassIIa,
        versions: &["2.0.0"],
        prevalence: 0.35,
        separation: 1.7,
        negative_cutoff: 0.52,
        weekday_volume: 24,
        weekend_share: 0.0,
        outcome: OutcomePlan {
            fraction: 0.70,
            source: "pathology",
            delay_days: (14, 45),
        },
        scanners: &[("Siemens", "MAGNETOM Vida", None, Some(3.0))],
        protocols: &["bpMRI prostate"],
        radiotherapy: false,
    },
    ProductPlan {
        key: "contour",
        vendor: "Radiant Planning Systems",
        name: "ContourAssist",
        intended_purpose: "Propose organ-at-risk contours on planning CT for clinician review and editing",
        modality: Modality::Radiotherapy,
        body_part: "head and neck",
        task: TaskType::Segmentation,
        class: RegulatoryClass::ClassIIb,
        versions: &["5.2.0"],
        // For contouring, "positive" is a structure set that needed a major
        // edit; the score is the tool's own quality estimate, inverted.
        prevalence: 0.12,
        separation: 1.8,
        negative_cutoff: 0.84,
        weekday_volume: 16,
        weekend_share: 0.0,
        outcome: OutcomePlan {
            fraction: 1.0,
            source: "reader",
            delay_days: (0, 2),
        },
        scanners: &[("Philips", "Big Bore RT", Some(120.0), Some(2.0))],
        protocols: &["RT planning head and neck"],
        radiotherapy: true,
    },
];

/// What a deployment's history holds beyond the ordinary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Story {
    /// Nothing unusual.
    Ordinary,
    /// The site's X-ray room is re-equipped in `week`: the new detector's
    /// images shift the inputs and the tool calls more normal films
    /// abnormal (specificity falls).
    ScannerReplacement { week: i64 },
    /// Throughout, the tool misses more bleeds here than anywhere else:
    /// the outlier of the product's funnel plot.
    FunnelOutlier,
    /// From `week` the site reconstructs its CT heads as thin slices, which
    /// the tool was never validated on: it misses far more bleeds, the
    /// sensitivity alert proposes suspension and the clinical safety
    /// officer suspends the deployment.
    SuspendedAfterAlert { week: i64 },
}

/// A deployment of a product at a site, and its timeline in weeks from
/// the start of the history (negative weeks are before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeploymentPlan {
    /// Index into [`PRODUCTS`].
    pub product: usize,
    pub site: &'static str,
    /// The week the deployment goes live (`None`: it stops earlier).
    pub live_week: Option<i64>,
    /// The state it stops in, when it never goes live.
    pub final_state: LifecycleState,
    /// The week of its first decision (proposed → procurement).
    pub first_week: i64,
    pub story: Story,
}

const fn live(product: usize, site: &'static str, live_week: i64, story: Story) -> DeploymentPlan {
    DeploymentPlan {
        product,
        site,
        live_week: Some(live_week),
        final_state: LifecycleState::Live,
        first_week: live_week - 10,
        story,
    }
}

const fn before_live(
    product: usize,
    site: &'static str,
    first_week: i64,
    final_state: LifecycleState,
) -> DeploymentPlan {
    DeploymentPlan {
        product,
        site,
        live_week: None,
        final_state,
        first_week,
        story: Story::Ordinary,
    }
}

/// The week ChestFlag 2.4.0 is released; its deployments take it in the
/// following weeks, under their change control plans.
pub const CHEST_UPDATE_WEEK: i64 = 26;

/// The deployments, in the order they are registered.
pub const DEPLOYMENTS: [DeploymentPlan; 31] = {
    use Story::*;
    [
        live(0, "rmv-main", 4, Ordinary),
        live(0, "rpn-main", 5, ScannerReplacement { week: 34 }),
        live(0, "rlk-main", 6, Ordinary),
        live(0, "rtm-main", 4, Ordinary),
        live(0, "rar-main", 7, Ordinary),
        live(0, "rth-main", 5, Ordinary),
        live(0, "rnl-main", 6, Ordinary),
        live(0, "rel-main", 8, Ordinary),
        live(1, "rmv-main", 5, Ordinary),
        live(1, "rcs-main", 6, FunnelOutlier),
        live(1, "rtm-main", 4, Ordinary),
        live(1, "rwk-main", 7, Ordinary),
        live(1, "rsg-main", 5, SuspendedAfterAlert { week: 40 }),
        live(1, "rnl-main", 8, Ordinary),
        live(2, "rpn-main", 5, Ordinary),
        live(2, "rar-main", 6, Ordinary),
        live(2, "rth-main", 4, Ordinary),
        live(2, "rsg-main", 7, Ordinary),
        live(3, "rmv-main", 6, Ordinary),
        live(3, "rtm-main", 8, Ordinary),
        live(3, "rel-main", 5, Ordinary),
        live(3, "rlk-main", 46, Ordinary),
        live(4, "rnl-main", 6, Ordinary),
        live(4, "rcs-main", 9, Ordinary),
        live(5, "rmv-cancer", 5, Ordinary),
        live(5, "rtm-cancer", 7, Ordinary),
        live(5, "rnl-cancer", 6, Ordinary),
        // Still on their way: in shadow, in validation, in procurement,
        // just proposed.
        before_live(3, "rsg-main", 38, LifecycleState::Shadow),
        before_live(4, "rth-main", 44, LifecycleState::Validation),
        before_live(5, "rel-cancer", 47, LifecycleState::Procurement),
        before_live(2, "rwk-main", 50, LifecycleState::Proposed),
    ]
};

/// The weeks of shadow running before go-live.
pub const SHADOW_WEEKS: i64 = 4;

impl DeploymentPlan {
    /// The product.
    pub fn product(&self) -> &'static ProductPlan {
        &PRODUCTS[self.product]
    }

    /// The week shadow running starts, if it ever does.
    pub fn shadow_week(&self) -> Option<i64> {
        match (self.live_week, self.final_state) {
            (Some(live), _) => Some(live - SHADOW_WEEKS),
            (None, LifecycleState::Shadow) => Some(self.first_week + 6),
            _ => None,
        }
    }

    /// The week the deployment is suspended, if it is.
    pub fn suspension_week(&self) -> Option<i64> {
        match self.story {
            // The alert is raised at the weekly assessment after the
            // fault's second week; the decision follows on the Monday.
            Story::SuspendedAfterAlert { week } => Some(week + 2),
            _ => None,
        }
    }

    /// Whether the deployment produces events in `week`.
    pub fn running_in(&self, week: i64) -> bool {
        let started = self.shadow_week().is_some_and(|shadow| week >= shadow);
        let stopped = self
            .suspension_week()
            .is_some_and(|suspended| week >= suspended);
        started && !stopped && (0..WEEKS).contains(&week)
    }

    /// The number of events on a day of the week (0 is Monday) while the
    /// deployment runs: the weekday volume or its weekend share, times
    /// `ordinary_volume` unless the deployment tells a story.
    pub fn volume_on(&self, weekday_index: i64, ordinary_volume: f64) -> u32 {
        let product = self.product();
        let share = if weekday_index >= 5 {
            product.weekend_share
        } else {
            1.0
        };
        let scale = if self.story == Story::Ordinary {
            ordinary_volume
        } else {
            1.0
        };
        (f64::from(product.weekday_volume) * share * scale).round() as u32
    }

    /// The events the deployment produces over the whole history (any
    /// seven days in a row hold five weekdays and a weekend).
    pub fn planned_events(&self, ordinary_volume: f64) -> u64 {
        (0..WEEKS)
            .filter(|week| self.running_in(*week))
            .map(|_| {
                (0..7)
                    .map(|day| u64::from(self.volume_on(day, ordinary_volume)))
                    .sum::<u64>()
            })
            .sum()
    }
}

/// The first day of the history: 52 weeks before the day after `end`.
pub fn start_of_history(end: Date) -> Date {
    end.saturating_add((1 - 7 * WEEKS).days())
}

/// The first day of a week of the history.
pub fn first_day_of_week(end: Date, week: i64) -> Date {
    start_of_history(end).saturating_add((7 * week).days())
}

/// The events of the whole dataset.
pub fn planned_events(ordinary_volume: f64) -> u64 {
    DEPLOYMENTS
        .iter()
        .map(|deployment| deployment.planned_events(ordinary_volume))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dataset_is_national_in_scale() {
        assert!(REGIONS.len() >= 3);
        assert!(TRUSTS.len() >= 10);
        assert_eq!(PRODUCTS.len(), 6);
        let events = planned_events(1.0);
        assert!(events >= 2_000_000, "{events} events planned");
        assert!(events < 2_600_000, "{events} events planned");
    }

    #[test]
    fn every_site_belongs_to_a_trust_and_every_deployment_to_a_site() {
        for site in SITES {
            assert!(TRUSTS.iter().any(|trust| Some(trust.code) == site.parent));
        }
        for deployment in DEPLOYMENTS {
            assert!(SITES.iter().any(|site| site.code == deployment.site));
        }
        for trust in TRUSTS {
            assert!(
                REGIONS
                    .iter()
                    .any(|region| Some(region.code) == trust.parent)
            );
        }
    }

    #[test]
    fn radiotherapy_products_run_at_cancer_centres() {
        for deployment in DEPLOYMENTS {
            if deployment.product().radiotherapy {
                assert!(deployment.site.ends_with("-cancer"), "{}", deployment.site);
            }
        }
    }

    #[test]
    fn the_history_is_a_whole_number_of_weeks_ending_on_the_end_date() {
        let end: Date = "2026-12-01".parse().unwrap();
        let start = start_of_history(end);
        assert_eq!(start, "2025-12-03".parse::<Date>().unwrap());
        assert_eq!(
            first_day_of_week(end, WEEKS - 1).saturating_add(6.days()),
            end
        );
    }

    #[test]
    fn the_suspended_deployment_stops_producing_events() {
        let suspended = DEPLOYMENTS
            .iter()
            .find(|deployment| matches!(deployment.story, Story::SuspendedAfterAlert { .. }))
            .unwrap();
        let week = suspended.suspension_week().unwrap();
        assert!(suspended.running_in(week - 1));
        assert!(!suspended.running_in(week));
    }
}
