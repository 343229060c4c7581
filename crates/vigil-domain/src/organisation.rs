//! Organisations and how they nest: nation → region → Trust → site.
//!
//! A region is an imaging network or integrated care system; a Trust is the
//! deploying organisation in the DCB0160 sense; a site is one hospital of a
//! Trust. A user belongs to one organisation and sees it and what lies below
//! it, never sideways: [`OrganisationTree::is_within`] is the question every
//! access check asks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::text::{Code, NonEmptyText};

named_enum! {
    /// The level of an organisation in the hierarchy.
    pub enum OrganisationKind: "organisation kind" {
        /// The whole country; the root of the tree.
        Nation = "nation",
        /// An imaging network or integrated care system.
        Region = "region",
        /// An NHS Trust, the deploying organisation.
        Trust = "trust",
        /// One hospital or department of a Trust.
        Site = "site",
    }
}

impl OrganisationKind {
    /// The kind an organisation of this kind must have as its parent, or
    /// `None` for a nation, which has no parent.
    pub const fn allowed_parent(self) -> Option<OrganisationKind> {
        match self {
            Self::Nation => None,
            Self::Region => Some(Self::Nation),
            Self::Trust => Some(Self::Region),
            Self::Site => Some(Self::Trust),
        }
    }
}

/// One organisation. Build it with [`Organisation::new`] to have the parent
/// rule checked; [`OrganisationTree::new`] checks it again for the whole tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// The organisation's unique code.
    pub code: Code,
    /// Its display name.
    pub name: NonEmptyText,
    /// Its level.
    pub kind: OrganisationKind,
    /// Its parent's code; `None` only for the nation.
    pub parent: Option<Code>,
}

impl Organisation {
    /// Builds an organisation, checking that its parent (given with the
    /// parent's kind) is of the kind [`OrganisationKind::allowed_parent`]
    /// demands: none for a nation, a nation for a region, a region for a
    /// Trust, a Trust for a site.
    pub fn new(
        code: Code,
        name: NonEmptyText,
        kind: OrganisationKind,
        parent: Option<(&Code, OrganisationKind)>,
    ) -> Result<Self, DomainError> {
        check_parent(&code, kind, parent)?;
        Ok(Self {
            code,
            name,
            kind,
            parent: parent.map(|(parent_code, _)| parent_code.clone()),
        })
    }
}

/// Checks one organisation's parent against the parent rule.
fn check_parent(
    code: &Code,
    kind: OrganisationKind,
    parent: Option<(&Code, OrganisationKind)>,
) -> Result<(), DomainError> {
    match (kind.allowed_parent(), parent) {
        (None, None) => Ok(()),
        (None, Some((parent_code, _))) => Err(DomainError::NationWithParent {
            code: code.clone(),
            parent: parent_code.clone(),
        }),
        (Some(expected), None) => Err(DomainError::MissingParent {
            code: code.clone(),
            kind,
            expected,
        }),
        (Some(_), Some((parent_code, _))) if parent_code == code => {
            Err(DomainError::SelfParent { code: code.clone() })
        }
        (Some(expected), Some((parent_code, parent_kind))) if parent_kind != expected => {
            Err(DomainError::ParentKindMismatch {
                code: code.clone(),
                kind,
                parent: parent_code.clone(),
                parent_kind,
                expected,
            })
        }
        (Some(_), Some(_)) => Ok(()),
    }
}

/// A checked hierarchy of organisations: unique codes, exactly one nation at
/// the root, every other organisation's parent present and of the right kind.
///
/// Because each kind's parent is one level up, the tree can hold no cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationTree {
    /// Every organisation by code.
    by_code: BTreeMap<Code, Organisation>,
    /// Each organisation's children's codes, in code order.
    children: BTreeMap<Code, Vec<Code>>,
    /// All codes, parents before children: depth first from the nation,
    /// siblings in code order.
    order: Vec<Code>,
}

impl OrganisationTree {
    /// Checks and builds the tree.
    pub fn new(organisations: Vec<Organisation>) -> Result<Self, DomainError> {
        let mut by_code = BTreeMap::new();
        for organisation in organisations {
            let code = organisation.code.clone();
            if by_code.insert(code.clone(), organisation).is_some() {
                return Err(DomainError::DuplicateOrganisation { code });
            }
        }
        let nations: Vec<&Code> = by_code
            .values()
            .filter(|organisation| organisation.kind == OrganisationKind::Nation)
            .map(|organisation| &organisation.code)
            .collect();
        if nations.len() != 1 {
            return Err(DomainError::NationCount {
                count: nations.len(),
            });
        }
        let nation = nations[0].clone();

        let mut children: BTreeMap<Code, Vec<Code>> = BTreeMap::new();
        for organisation in by_code.values() {
            let parent = match &organisation.parent {
                None => None,
                Some(parent_code) => {
                    let Some(parent) = by_code.get(parent_code) else {
                        return Err(DomainError::UnknownParent {
                            code: organisation.code.clone(),
                            parent: parent_code.clone(),
                        });
                    };
                    Some((&parent.code, parent.kind))
                }
            };
            check_parent(&organisation.code, organisation.kind, parent)?;
            if let Some((parent_code, _)) = parent {
                children
                    .entry(parent_code.clone())
                    .or_default()
                    .push(organisation.code.clone());
            }
        }

        // Every non-nation has a parent exactly one level up, so a walk
        // from the nation reaches every organisation once.
        let mut order = Vec::with_capacity(by_code.len());
        let mut stack = vec![nation];
        while let Some(code) = stack.pop() {
            if let Some(child_codes) = children.get(&code) {
                stack.extend(child_codes.iter().rev().cloned());
            }
            order.push(code);
        }
        debug_assert_eq!(order.len(), by_code.len());

        Ok(Self {
            by_code,
            children,
            order,
        })
    }

    /// The organisation with this code, if it is in the tree.
    pub fn get(&self, code: &Code) -> Option<&Organisation> {
        self.by_code.get(code)
    }

    /// The nation at the root.
    pub fn nation(&self) -> &Organisation {
        &self.by_code[&self.order[0]]
    }

    /// The organisation's ancestors, nearest first, not including itself;
    /// empty for the nation and for a code not in the tree.
    pub fn ancestors(&self, code: &Code) -> Vec<&Organisation> {
        let mut ancestors = Vec::new();
        let mut current = self.by_code.get(code);
        while let Some(parent) = current
            .and_then(|organisation| organisation.parent.as_ref())
            .and_then(|parent_code| self.by_code.get(parent_code))
        {
            ancestors.push(parent);
            current = Some(parent);
        }
        ancestors
    }

    /// Whether `descendant_or_self` is `ancestor` or lies below it. A user of
    /// `ancestor` may see `descendant_or_self` exactly when this is true.
    /// False when either code is not in the tree.
    pub fn is_within(&self, descendant_or_self: &Code, ancestor: &Code) -> bool {
        if !self.by_code.contains_key(ancestor) {
            return false;
        }
        if !self.by_code.contains_key(descendant_or_self) {
            return false;
        }
        descendant_or_self == ancestor
            || self
                .ancestors(descendant_or_self)
                .iter()
                .any(|organisation| &organisation.code == ancestor)
    }

    /// Everything below the organisation, not including itself: depth first,
    /// parents before their children, siblings in code order. Empty for a
    /// code not in the tree.
    pub fn descendants(&self, code: &Code) -> Vec<&Organisation> {
        let mut descendants = Vec::new();
        let mut stack: Vec<&Code> = self
            .children
            .get(code)
            .map(|child_codes| child_codes.iter().rev().collect())
            .unwrap_or_default();
        while let Some(child_code) = stack.pop() {
            descendants.push(&self.by_code[child_code]);
            if let Some(grandchildren) = self.children.get(child_code) {
                stack.extend(grandchildren.iter().rev());
            }
        }
        descendants
    }

    /// The organisation's direct children, in code order.
    pub fn children(&self, code: &Code) -> Vec<&Organisation> {
        self.children
            .get(code)
            .map(|child_codes| {
                child_codes
                    .iter()
                    .map(|child_code| &self.by_code[child_code])
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every organisation, parents before children: depth first from the
    /// nation, siblings in code order. Inserting in this order never names a
    /// parent that is not yet stored.
    pub fn iter(&self) -> impl Iterator<Item = &Organisation> + '_ {
        self.order.iter().map(|code| &self.by_code[code])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(raw: &str) -> Code {
        Code::parse(raw).unwrap()
    }

    fn organisation(raw_code: &str, kind: OrganisationKind, parent: Option<&str>) -> Organisation {
        Organisation {
            code: code(raw_code),
            name: NonEmptyText::parse(&raw_code.to_uppercase()).unwrap(),
            kind,
            parent: parent.map(code),
        }
    }

    /// England, two regions, three Trusts, two sites.
    fn england() -> OrganisationTree {
        use OrganisationKind::*;
        OrganisationTree::new(vec![
            organisation("rw3-a", Site, Some("rw3")),
            organisation("nhs-england", Nation, None),
            organisation("north-west", Region, Some("nhs-england")),
            organisation("london", Region, Some("nhs-england")),
            organisation("rw3", Trust, Some("north-west")),
            organisation("rm3", Trust, Some("north-west")),
            organisation("rj1", Trust, Some("london")),
            organisation("rw3-b", Site, Some("rw3")),
        ])
        .unwrap()
    }

    fn codes(organisations: Vec<&Organisation>) -> Vec<&str> {
        organisations
            .into_iter()
            .map(|organisation| organisation.code.as_str())
            .collect()
    }

    #[test]
    fn kinds_have_names_and_parents() {
        assert_eq!(
            OrganisationKind::parse(" Trust "),
            Ok(OrganisationKind::Trust)
        );
        assert_eq!(OrganisationKind::Site.as_str(), "site");
        assert_eq!(OrganisationKind::Nation.allowed_parent(), None);
        assert_eq!(
            OrganisationKind::Region.allowed_parent(),
            Some(OrganisationKind::Nation)
        );
        assert_eq!(
            OrganisationKind::Trust.allowed_parent(),
            Some(OrganisationKind::Region)
        );
        assert_eq!(
            OrganisationKind::Site.allowed_parent(),
            Some(OrganisationKind::Trust)
        );
        assert_eq!(
            OrganisationKind::parse("ics").unwrap_err().to_string(),
            "\"ics\" is not a known organisation kind; expected one of: nation, region, trust, site"
        );
    }

    #[test]
    fn new_checks_the_parent_kind_and_names_both_kinds() {
        let name = NonEmptyText::parse("Manchester").unwrap();
        let nation = code("nhs-england");
        let error = Organisation::new(
            code("rw3"),
            name.clone(),
            OrganisationKind::Trust,
            Some((&nation, OrganisationKind::Nation)),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "organisation rw3 is a trust, so its parent must be a region, \
             but its parent nhs-england is a nation"
        );
        let region = code("north-west");
        let trust = Organisation::new(
            code("rw3"),
            name.clone(),
            OrganisationKind::Trust,
            Some((&region, OrganisationKind::Region)),
        )
        .unwrap();
        assert_eq!(trust.parent.as_ref(), Some(&region));
        assert_eq!(
            Organisation::new(code("rw3"), name.clone(), OrganisationKind::Trust, None)
                .unwrap_err()
                .to_string(),
            "organisation rw3 is a trust and needs a parent region, but none is given"
        );
        assert!(matches!(
            Organisation::new(
                code("nhs-england"),
                name.clone(),
                OrganisationKind::Nation,
                Some((&region, OrganisationKind::Region)),
            ),
            Err(DomainError::NationWithParent { .. })
        ));
        assert!(matches!(
            Organisation::new(
                code("rw3"),
                name,
                OrganisationKind::Trust,
                Some((&code("rw3"), OrganisationKind::Region)),
            ),
            Err(DomainError::SelfParent { .. })
        ));
    }

    #[test]
    fn ancestors_are_nearest_first() {
        let tree = england();
        assert_eq!(
            codes(tree.ancestors(&code("rw3-a"))),
            ["rw3", "north-west", "nhs-england"]
        );
        assert!(tree.ancestors(&code("nhs-england")).is_empty());
        assert!(tree.ancestors(&code("unknown")).is_empty());
        assert_eq!(tree.nation().code.as_str(), "nhs-england");
    }

    #[test]
    fn is_within_sees_down_and_never_sideways() {
        let tree = england();
        assert!(tree.is_within(&code("rw3-a"), &code("rw3")));
        assert!(tree.is_within(&code("rw3-a"), &code("nhs-england")));
        assert!(tree.is_within(&code("rw3"), &code("rw3")));
        assert!(!tree.is_within(&code("rw3"), &code("rw3-a")));
        assert!(!tree.is_within(&code("rm3"), &code("rw3")));
        assert!(!tree.is_within(&code("rj1"), &code("north-west")));
        assert!(!tree.is_within(&code("unknown"), &code("unknown")));
        assert!(!tree.is_within(&code("rw3"), &code("unknown")));
    }

    #[test]
    fn descendants_and_iteration_put_parents_first() {
        let tree = england();
        assert_eq!(
            codes(tree.descendants(&code("north-west"))),
            ["rm3", "rw3", "rw3-a", "rw3-b"]
        );
        assert!(tree.descendants(&code("rw3-a")).is_empty());
        assert!(tree.descendants(&code("unknown")).is_empty());
        assert_eq!(
            tree.iter()
                .map(|organisation| organisation.code.as_str())
                .collect::<Vec<_>>(),
            [
                "nhs-england",
                "london",
                "rj1",
                "north-west",
                "rm3",
                "rw3",
                "rw3-a",
                "rw3-b"
            ]
        );
        assert_eq!(codes(tree.children(&code("rw3"))), ["rw3-a", "rw3-b"]);
        assert_eq!(
            tree.get(&code("rj1")).unwrap().kind,
            OrganisationKind::Trust
        );
        assert!(tree.get(&code("zz9")).is_none());
    }

    #[test]
    fn tree_rejects_broken_hierarchies() {
        use OrganisationKind::*;
        let nation = || organisation("nhs-england", Nation, None);
        assert_eq!(
            OrganisationTree::new(vec![]),
            Err(DomainError::NationCount { count: 0 })
        );
        assert_eq!(
            OrganisationTree::new(vec![nation(), organisation("wales", Nation, None)]),
            Err(DomainError::NationCount { count: 2 })
        );
        assert_eq!(
            OrganisationTree::new(vec![nation(), nation()]),
            Err(DomainError::DuplicateOrganisation {
                code: code("nhs-england")
            })
        );
        assert_eq!(
            OrganisationTree::new(vec![
                nation(),
                organisation("rw3", Trust, Some("north-west"))
            ]),
            Err(DomainError::UnknownParent {
                code: code("rw3"),
                parent: code("north-west"),
            })
        );
        assert!(matches!(
            OrganisationTree::new(vec![
                nation(),
                organisation("rw3", Trust, Some("nhs-england"))
            ]),
            Err(DomainError::ParentKindMismatch { .. })
        ));
        assert!(matches!(
            OrganisationTree::new(vec![nation(), organisation("rw3", Trust, None)]),
            Err(DomainError::MissingParent { .. })
        ));
        assert!(matches!(
            OrganisationTree::new(vec![
                organisation("nhs-england", Nation, Some("london")),
                organisation("london", Region, Some("nhs-england")),
            ]),
            Err(DomainError::NationWithParent { .. })
        ));
        assert!(
            OrganisationTree::new(vec![nation()])
                .unwrap()
                .iter()
                .eq([&nation()])
        );
    }
}
