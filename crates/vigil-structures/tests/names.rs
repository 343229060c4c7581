//! Structure-name matching: the TG-263 table, the user map and the pairing.

use vigil_contours::{Mask, Spacing};
use vigil_structures::names::canonical_name;
use vigil_structures::{NameMap, Structure, StructureSet, StructuresError, match_structures};

/// Asserts the TG-263 name of every `(name, expected)` case.
fn check(cases: &[(&str, Option<&str>)]) {
    for (name, expected) in cases {
        assert_eq!(
            canonical_name(name).as_deref(),
            *expected,
            "the canonical name of '{name}'"
        );
    }
}

#[test]
fn tg263_table_and_normalisation() {
    check(&[
        ("Parotid_L", Some("Parotid_L")),
        ("L Parotid", Some("Parotid_L")),
        ("parotid left", Some("Parotid_L")),
        ("LT_PAROTID", Some("Parotid_L")),
        ("Parotid L", Some("Parotid_L")),
        ("Rt Parotid Gland", Some("Parotid_R")),
        ("PAROTID-RIGHT", Some("Parotid_R")),
        ("Cord", Some("SpinalCord")),
        ("spinal cord", Some("SpinalCord")),
        ("SpinalCord", Some("SpinalCord")),
        ("Brain Stem", Some("Brainstem")),
        ("BrainStem", Some("Brainstem")),
        ("Eye_R", Some("Eye_R")),
        ("left globe", Some("Eye_L")),
        ("Lens L", Some("Lens_L")),
        ("Optic Nerve R", Some("OpticNrv_R")),
        ("OpticNrv_L", Some("OpticNrv_L")),
        ("chiasm", Some("OpticChiasm")),
        ("Mandible", Some("Bone_Mandible")),
        ("larynx", Some("Larynx")),
        ("Oesophagus", Some("Esophagus")),
        ("HEART", Some("Heart")),
        ("Lung_L", Some("Lung_L")),
        ("Right Lung", Some("Lung_R")),
        ("Lungs", Some("Lungs")),
        ("Lung Total", Some("Lungs")),
        ("liver", Some("Liver")),
        ("Kidney R", Some("Kidney_R")),
        ("bladder", Some("Bladder")),
        ("Rectum", Some("Rectum")),
        ("Femoral Head L", Some("Femur_Head_L")),
        ("Femur_Head_R", Some("Femur_Head_R")),
        ("prostate", Some("Prostate")),
        ("Seminal Vesicles", Some("SeminalVes")),
        ("Bowel Bag", Some("Bowel")),
        ("Brain", Some("Brain")),
        ("Cochlea_L", Some("Cochlea_L")),
        ("Submandibular Gland R", Some("Glnd_Submand_R")),
        ("Oral Cavity", Some("Cavity_Oral")),
        ("Breast L", Some("Breast_L")),
        ("spleen", Some("Spleen")),
        ("Stomach", Some("Stomach")),
        ("Duodenum", Some("Duodenum")),
        ("BODY", Some("External")),
        ("Small Bowel", Some("Bowel_Small")),
        // Targets keep their name; the prefix is upper-cased.
        ("ptv 70", Some("PTV_70")),
        ("PTV_70", Some("PTV_70")),
        ("CTV-High", Some("CTV_High")),
        ("gtv", Some("GTV")),
        // Laterality is required for paired organs and forbidden for single ones.
        ("Parotid", None),
        ("Lung", None),
        ("Heart L", None),
        // Unknown names and lone laterality words.
        ("Spacer gel", None),
        ("L", None),
        ("", None),
    ]);
}

fn set(names: &[&str]) -> StructureSet {
    let spacing = Spacing::isotropic(1.0).expect("spacing");
    StructureSet {
        grid: None,
        structures: names
            .iter()
            .enumerate()
            .map(|(index, name)| Structure {
                name: (*name).to_owned(),
                number: index as i64 + 1,
                mask: Mask::new([1, 1, 1], spacing, vec![true]).expect("mask"),
            })
            .collect(),
        warnings: Vec::new(),
    }
}

/// Asserts the pairs (by name) and the unmatched names of one matching.
fn check_matching(
    case: &str,
    reference: &[&str],
    test: &[&str],
    map: &NameMap,
    pairs: &[(&str, &str, &str)],
    unmatched_reference: &[&str],
    unmatched_test: &[&str],
) {
    let matching = match_structures(&set(reference), &set(test), map);
    let named: Vec<(&str, &str, &str)> = matching
        .pairs
        .iter()
        .map(|(r, t, common)| (reference[*r], test[*t], common.as_str()))
        .collect();
    assert_eq!(named, pairs, "{case}: pairs");
    assert_eq!(
        matching.unmatched_reference, unmatched_reference,
        "{case}: unmatched reference"
    );
    assert_eq!(
        matching.unmatched_test, unmatched_test,
        "{case}: unmatched test"
    );
}

#[test]
fn matching_pairs_and_reports() {
    let empty = NameMap::new();
    check_matching(
        "synonyms",
        &["Parotid_L", "SpinalCord", "Brainstem", "PTV_70"],
        &["cord", "LT PAROTID", "ptv 70", "Brain Stem"],
        &empty,
        &[
            ("Parotid_L", "LT PAROTID", "Parotid_L"),
            ("SpinalCord", "cord", "SpinalCord"),
            ("Brainstem", "Brain Stem", "Brainstem"),
            ("PTV_70", "ptv 70", "PTV_70"),
        ],
        &[],
        &[],
    );
    check_matching(
        "unmatched on both sides",
        &["Parotid_L", "Heart", "Spacer gel"],
        &["Parotid_R", "heart", "spacer_GEL", "Couch"],
        &empty,
        &[
            ("Heart", "heart", "Heart"),
            ("Spacer gel", "spacer_GEL", "Spacer gel"),
        ],
        &["Parotid_L"],
        &["Parotid_R", "Couch"],
    );
    check_matching(
        "duplicates pair in order",
        &["Lung_L", "Lung L"],
        &["left lung"],
        &empty,
        &[("Lung_L", "left lung", "Lung_L")],
        &["Lung L"],
        &[],
    );
}

#[test]
fn user_map_takes_precedence() {
    let map = NameMap::from_toml(
        "[map]\n\"my name\" = \"Parotid_L\"\n\"Cord\" = \"SpinalCord_PRV\"\n",
        "test map",
    )
    .expect("valid map");
    assert_eq!(map.len(), 2);
    assert_eq!(map.resolve("MY_NAME").as_deref(), Some("Parotid_L"));
    assert_eq!(map.resolve("cord").as_deref(), Some("SpinalCord_PRV"));
    assert_eq!(map.resolve("spinal cord").as_deref(), Some("SpinalCord"));
    check_matching(
        "user map",
        &["Parotid_L", "SpinalCord_PRV", "SpinalCord"],
        &["my name", "cord", "Spinal Cord"],
        &map,
        &[
            ("Parotid_L", "my name", "Parotid_L"),
            ("SpinalCord_PRV", "cord", "SpinalCord_PRV"),
            ("SpinalCord", "Spinal Cord", "SpinalCord"),
        ],
        &[],
        &[],
    );
}

#[test]
fn invalid_user_maps() {
    for (case, text, words) in [
        ("not TOML", "[map", "invalid"),
        ("unknown table", "[other]\na = \"b\"\n", "unknown field"),
        ("empty value", "[map]\na = \" \"\n", "empty name"),
        (
            "same words twice",
            "[map]\n\"My Name\" = \"A\"\n\"my_name\" = \"B\"\n",
            "mapped twice",
        ),
    ] {
        let error = NameMap::from_toml(text, "map.toml").expect_err(case);
        assert!(
            matches!(error, StructuresError::InvalidNameMap { .. }),
            "{case}: {error:?}"
        );
        assert!(error.to_string().contains(words), "{case}: {error}");
    }
}
