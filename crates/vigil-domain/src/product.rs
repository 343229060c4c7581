//! The registry's products, their versions, and change-control plans.
//!
//! A product is what a vendor sells for one intended purpose. Each vendor
//! update is a new [`ProductVersion`] with a [`ChangeKind`]; whether that
//! version may keep the deployment's current state or must re-enter
//! validation depends on the deployment's [`ChangeControlPlan`] (a
//! predetermined change control plan, PCCP), see
//! [`crate::deployment::state_for_new_version`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::text::NonEmptyText;

named_enum! {
    /// The imaging or treatment modality a product works on.
    pub enum Modality: "modality" {
        /// Plain X-ray radiography.
        Radiography = "radiography",
        /// Computed tomography.
        Ct = "ct",
        /// Magnetic resonance imaging.
        Mri = "mri",
        /// Mammography, including breast screening.
        Mammography = "mammography",
        /// Ultrasound.
        Ultrasound = "ultrasound",
        /// Nuclear medicine (gamma camera, SPECT).
        NuclearMedicine = "nuclear_medicine",
        /// Positron emission tomography.
        Pet = "pet",
        /// Radiotherapy planning and delivery, for example auto-contouring
        /// or dose prediction — whatever the images it reads (a planning-CT
        /// auto-contouring tool is registered here, not under CT), because
        /// this is what brings in the Medical Physics Expert's sign-offs.
        Radiotherapy = "radiotherapy",
        /// Anything else.
        Other = "other",
    }
}

named_enum! {
    /// What a product's model does with a case.
    pub enum TaskType: "task type" {
        /// Orders or flags cases for attention.
        Triage = "triage",
        /// Assigns a case to a class.
        Classification = "classification",
        /// Finds and localises findings.
        Detection = "detection",
        /// Outlines structures; radiotherapy auto-contouring is segmentation
        /// and "auto_contouring" is read as this.
        Segmentation = "segmentation" | "auto_contouring",
        /// Measures a quantity.
        Quantification = "quantification",
    }
}

named_enum! {
    /// The UK MDR / EU MDR device class.
    pub enum RegulatoryClass: "regulatory class" {
        /// Class I.
        ClassI = "I",
        /// Class IIa.
        ClassIIa = "IIa",
        /// Class IIb.
        ClassIIb = "IIb",
        /// Class III.
        ClassIII = "III",
    }
}

named_enum! {
    /// What a new product version changes, as the vendor declares it.
    pub enum ChangeKind: "change kind" {
        /// The first version of a product: not a change.
        Initial = "initial",
        /// Defect fixes with no intended change to the model's outputs.
        BugFix = "bug_fix",
        /// A retrained or updated model with the same intended use.
        PerformanceUpdate = "performance_update",
        /// A change of the default operating threshold.
        ThresholdChange = "threshold_change",
        /// A new clinical indication: a change of intended use.
        NewIndication = "new_indication",
        /// A new modality or body part: a change of intended use.
        NewModalityOrBodyPart = "new_modality_or_body_part",
        /// Changes to the user interface only.
        UserInterface = "user_interface",
    }
}

impl ChangeKind {
    /// Why a change-control plan may never cover this kind, or `None` when
    /// it may.
    pub const fn never_coverable_reason(self) -> Option<&'static str> {
        match self {
            Self::NewIndication | Self::NewModalityOrBodyPart => Some(
                "a predetermined change control plan may not change a product's intended use, \
                 so such a version always re-enters validation",
            ),
            Self::Initial => Some(
                "an initial version is a product's first version, not a change, \
                 and is always validated",
            ),
            Self::BugFix
            | Self::PerformanceUpdate
            | Self::ThresholdChange
            | Self::UserInterface => None,
        }
    }
}

/// A product as registered: what it is for and how it is regulated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// The manufacturer.
    pub vendor: NonEmptyText,
    /// The product's name.
    pub name: NonEmptyText,
    /// The intended purpose, as in the manufacturer's declaration.
    pub intended_purpose: NonEmptyText,
    /// The modality it works on.
    pub modality: Modality,
    /// The body part or anatomical site, for example "chest" or "head and neck".
    pub body_part: NonEmptyText,
    /// What it does.
    pub task_type: TaskType,
    /// Its device class.
    pub regulatory_class: RegulatoryClass,
    /// Its conformity marking, for example "UKCA" or "CE (MDR)".
    pub marking: NonEmptyText,
}

impl Product {
    /// Whether the product is a radiotherapy tool, whose go-live also needs
    /// the Medical Physics Expert's sign-off (IR(ME)R).
    pub fn is_radiotherapy(&self) -> bool {
        self.modality == Modality::Radiotherapy
    }
}

/// One released version of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductVersion {
    /// The vendor's version label, for example "2.3.1".
    pub version: NonEmptyText,
    /// The vendor's release date.
    pub release_date: jiff::civil::Date,
    /// The vendor's change notes.
    pub change_notes: NonEmptyText,
    /// What kind of change it is.
    pub change_kind: ChangeKind,
}

/// The change kinds a deployment's predetermined change control plan (PCCP)
/// lets a new version make without re-entering validation.
///
/// A plan can never cover [`ChangeKind::NewIndication`] or
/// [`ChangeKind::NewModalityOrBodyPart`] (a PCCP may not change intended
/// use), nor [`ChangeKind::Initial`] (a first version is not a change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<ChangeKind>", into = "Vec<ChangeKind>")]
pub struct ChangeControlPlan {
    /// The covered kinds.
    covered: BTreeSet<ChangeKind>,
}

impl ChangeControlPlan {
    /// A plan covering these kinds; repeated kinds count once.
    pub fn new(kinds: impl IntoIterator<Item = ChangeKind>) -> Result<Self, DomainError> {
        let mut covered = BTreeSet::new();
        for kind in kinds {
            if let Some(reason) = kind.never_coverable_reason() {
                return Err(DomainError::ChangeNotCoverable { kind, reason });
            }
            covered.insert(kind);
        }
        Ok(Self { covered })
    }

    /// The plan that covers nothing: every new version re-enters validation.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether the plan covers this kind of change.
    pub fn covers(&self, kind: ChangeKind) -> bool {
        self.covered.contains(&kind)
    }

    /// The covered kinds, in declaration order.
    pub fn kinds(&self) -> impl Iterator<Item = ChangeKind> + '_ {
        self.covered.iter().copied()
    }
}

impl TryFrom<Vec<ChangeKind>> for ChangeControlPlan {
    type Error = DomainError;

    fn try_from(kinds: Vec<ChangeKind>) -> Result<Self, Self::Error> {
        Self::new(kinds)
    }
}

impl From<ChangeControlPlan> for Vec<ChangeKind> {
    fn from(plan: ChangeControlPlan) -> Self {
        plan.covered.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as ValueError, SeqDeserializer, StrDeserializer};

    use super::*;

    fn text(raw: &str) -> NonEmptyText {
        NonEmptyText::parse(raw).unwrap()
    }

    #[test]
    fn names_round_trip_through_parse() {
        for modality in Modality::ALL {
            assert_eq!(Modality::parse(modality.as_str()), Ok(modality));
        }
        for task in TaskType::ALL {
            assert_eq!(TaskType::parse(task.as_str()), Ok(task));
        }
        for class in RegulatoryClass::ALL {
            assert_eq!(RegulatoryClass::parse(class.as_str()), Ok(class));
        }
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(&kind.to_string()), Ok(kind));
        }
        assert_eq!(Modality::NuclearMedicine.as_str(), "nuclear_medicine");
        assert_eq!(
            ChangeKind::NewModalityOrBodyPart.as_str(),
            "new_modality_or_body_part"
        );
        assert_eq!(RegulatoryClass::ClassIIa.as_str(), "IIa");
        assert_eq!(RegulatoryClass::parse("iib"), Ok(RegulatoryClass::ClassIIb));
    }

    #[test]
    fn auto_contouring_is_segmentation() {
        assert_eq!(
            TaskType::parse("auto_contouring"),
            Ok(TaskType::Segmentation)
        );
        let deserializer: StrDeserializer<ValueError> = "auto_contouring".into_deserializer();
        assert_eq!(
            TaskType::deserialize(deserializer),
            Ok(TaskType::Segmentation)
        );
        assert_eq!(String::from(TaskType::Segmentation), "segmentation");
    }

    #[test]
    fn unknown_names_list_the_accepted_ones() {
        assert_eq!(
            Modality::parse("xray").unwrap_err().to_string(),
            "\"xray\" is not a known modality; expected one of: radiography, ct, mri, \
             mammography, ultrasound, nuclear_medicine, pet, radiotherapy, other"
        );
    }

    #[test]
    fn radiotherapy_products_are_recognised() {
        let mut product = Product {
            vendor: text("Vendor Ltd"),
            name: text("ContourAI"),
            intended_purpose: text("Auto-contouring of organs at risk in head and neck CT"),
            modality: Modality::Radiotherapy,
            body_part: text("head and neck"),
            task_type: TaskType::Segmentation,
            regulatory_class: RegulatoryClass::ClassIIb,
            marking: text("UKCA"),
        };
        assert!(product.is_radiotherapy());
        product.modality = Modality::Ct;
        assert!(!product.is_radiotherapy());
    }

    #[test]
    fn plans_never_cover_a_change_of_intended_use() {
        let error =
            ChangeControlPlan::new([ChangeKind::BugFix, ChangeKind::NewIndication]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a change-control plan cannot cover new_indication: a predetermined change control \
             plan may not change a product's intended use, so such a version always re-enters \
             validation"
        );
        assert!(matches!(
            ChangeControlPlan::new([ChangeKind::NewModalityOrBodyPart]),
            Err(DomainError::ChangeNotCoverable {
                kind: ChangeKind::NewModalityOrBodyPart,
                ..
            })
        ));
        assert!(ChangeControlPlan::new([ChangeKind::Initial]).is_err());
    }

    #[test]
    fn plans_cover_what_they_list() {
        let plan = ChangeControlPlan::new([
            ChangeKind::UserInterface,
            ChangeKind::BugFix,
            ChangeKind::BugFix,
        ])
        .unwrap();
        assert!(plan.covers(ChangeKind::BugFix));
        assert!(plan.covers(ChangeKind::UserInterface));
        assert!(!plan.covers(ChangeKind::PerformanceUpdate));
        assert_eq!(
            plan.kinds().collect::<Vec<_>>(),
            [ChangeKind::BugFix, ChangeKind::UserInterface]
        );
        assert_eq!(ChangeControlPlan::none().kinds().count(), 0);
        assert_eq!(
            ChangeControlPlan::new([]).unwrap(),
            ChangeControlPlan::none()
        );
    }

    #[test]
    fn plans_deserialise_through_new() {
        let deserializer: SeqDeserializer<_, ValueError> = SeqDeserializer::new(
            vec!["bug_fix".to_owned(), "new_indication".to_owned()].into_iter(),
        );
        assert!(ChangeControlPlan::deserialize(deserializer).is_err());
        let deserializer: SeqDeserializer<_, ValueError> =
            SeqDeserializer::new(vec!["bug_fix".to_owned()].into_iter());
        assert_eq!(
            ChangeControlPlan::deserialize(deserializer).unwrap(),
            ChangeControlPlan::new([ChangeKind::BugFix]).unwrap()
        );
    }
}
