//! `vigil contours`: compare an auto-contouring tool's structures with
//! clinicians' reference structures, for one patient (`compare`) or a
//! cohort judged against an acceptance protocol (`cohort`), and store a
//! cohort's result as the local validation of a deployment.
//!
//! Exit codes as `vigil evaluate`: 0 (compared; protocol met or none
//! given), 1 (a criterion not met), 2 (usage or input error).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_contours::cohort::{
    AcceptanceCriterion, AcceptanceVerdict, Bound, CohortEntry, ContourMetric, SummaryStatistic,
    judge, summarise,
};
use vigil_reports::contours::{CohortDescription, cohort_report};
use vigil_structures::{
    ImageGrid, Matching, NameMap, RtStruct, StructureSet, StructuresError, match_structures,
};

/// The `vigil contours` commands.
#[derive(Debug, Subcommand)]
pub enum ContoursCommand {
    /// Compares one patient's test structures with the reference, structure
    /// by structure (names matched through TG-263 and --names).
    Compare(CompareArgs),
    /// Compares every patient of a folder and summarises each structure
    /// over the cohort (median, quartiles), judged against an acceptance
    /// protocol; optionally stored as a deployment's validation.
    Cohort(CohortArgs),
}

/// Options shared by both commands.
#[derive(Debug, Args)]
pub struct MatchingArgs {
    /// Surface tolerance in mm for the surface Dice, the surface overlaps
    /// and the added path length.
    #[arg(long = "tolerance-mm", default_value_t = 2.0, value_name = "MM")]
    tolerance_mm: f64,
    /// A TOML file mapping local structure names to TG-263 names
    /// (`[map]` table, `"local name" = "TG263_Name"`), tried before the
    /// built-in table.
    #[arg(long, value_name = "FILE.toml")]
    names: Option<PathBuf>,
    /// Print the result as JSON on standard output.
    #[arg(long)]
    json: bool,
    /// Write result.json and a self-contained report.html into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Arguments of `vigil contours compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The reference structures: an RTSTRUCT file (with --images), a DICOM
    /// SEG file, or a NIfTI label map (.nii or .nii.gz).
    #[arg(long, value_name = "FILE")]
    reference: PathBuf,
    /// The test (the tool's) structures, in any of the same forms.
    #[arg(long, value_name = "FILE")]
    test: PathBuf,
    /// The folder of the image series the RTSTRUCT contours are drawn on.
    #[arg(long, value_name = "DIR")]
    images: Option<PathBuf>,
    #[command(flatten)]
    matching: MatchingArgs,
}

/// Arguments of `vigil contours cohort`.
#[derive(Debug, Args)]
pub struct CohortArgs {
    /// A folder with one sub-folder per patient, each holding
    /// `reference.*` and `test.*` (`.dcm`, `.nii` or `.nii.gz`) and, for
    /// RTSTRUCT files, the image series in `images/`.
    #[arg(value_name = "DIR")]
    directory: PathBuf,
    /// The acceptance protocol (TOML; see the README).
    #[arg(long, value_name = "FILE.toml")]
    protocol: Option<PathBuf>,
    /// Store the result as a validation of this deployment (needs --actor
    /// and the database of --db).
    #[arg(long, value_name = "ID")]
    deployment: Option<i64>,
    /// The registered user storing the validation.
    #[arg(long, env = "VIGIL_ACTOR", value_name = "USER")]
    actor: Option<String>,
    #[command(flatten)]
    matching: MatchingArgs,
}

/// Runs a `vigil contours` command.
pub fn run(store: &crate::registry::StoreArgs, command: ContoursCommand) -> ExitCode {
    let outcome = match command {
        ContoursCommand::Compare(arguments) => compare_command(&arguments),
        ContoursCommand::Cohort(arguments) => cohort_command(store, &arguments),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// The acceptance protocol file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtocolFile {
    title: Option<String>,
    /// Patients a structure needs before it is judged (default 1).
    minimum_patients: Option<usize>,
    #[serde(default)]
    criterion: Vec<CriterionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CriterionFile {
    /// Structures (TG-263 names); every structure of the cohort when absent.
    #[serde(default)]
    structures: Vec<String>,
    metric: String,
    /// `median` unless given.
    statistic: Option<String>,
    at_least: Option<f64>,
    at_most: Option<f64>,
    minimum_patients: Option<usize>,
}

/// A parsed protocol: its title, its text (stored with the result) and
/// its criteria.
struct AcceptanceProtocol {
    title: Option<String>,
    text: String,
    criteria: Vec<AcceptanceCriterion>,
}

fn read_protocol(path: &Path) -> Result<AcceptanceProtocol> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the protocol {}", path.display()))?;
    let file: ProtocolFile = toml::from_str(&text)
        .map_err(|error| anyhow!("{}: {}", path.display(), error.message()))?;
    if file.criterion.is_empty() {
        bail!(
            "{}: the protocol has no [[criterion]]; give at least one",
            path.display()
        );
    }
    let default_minimum = file.minimum_patients.unwrap_or(1).max(1);
    let criteria = file
        .criterion
        .iter()
        .enumerate()
        .map(|(index, criterion)| {
            let place = format!("{}: criterion {}", path.display(), index + 1);
            let metric = ContourMetric::parse(&criterion.metric).ok_or_else(|| {
                let names: Vec<&str> = ContourMetric::ALL.iter().map(|metric| metric.as_str()).collect();
                anyhow!(
                    "{place}: unknown metric {:?}; use one of {}",
                    criterion.metric,
                    names.join(", ")
                )
            })?;
            let statistic_name = criterion.statistic.as_deref().unwrap_or("median");
            let statistic = SummaryStatistic::parse(statistic_name).ok_or_else(|| {
                anyhow!(
                    "{place}: unknown statistic {statistic_name:?}; use minimum, lower_quartile, median, upper_quartile or maximum"
                )
            })?;
            let bound = match (criterion.at_least, criterion.at_most) {
                (Some(threshold), None) if threshold.is_finite() => Bound::AtLeast(threshold),
                (None, Some(threshold)) if threshold.is_finite() => Bound::AtMost(threshold),
                (Some(_), Some(_)) => bail!("{place}: give at_least or at_most, not both"),
                _ => bail!("{place}: give a finite at_least or at_most"),
            };
            Ok(AcceptanceCriterion {
                structures: criterion.structures.clone(),
                metric,
                statistic,
                bound,
                minimum_patients: criterion.minimum_patients.unwrap_or(default_minimum).max(1),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(AcceptanceProtocol {
        title: file.title,
        text,
        criteria,
    })
}

fn read_name_map(path: Option<&Path>) -> Result<NameMap> {
    match path {
        None => Ok(NameMap::new()),
        Some(path) => Ok(NameMap::read(path)?),
    }
}

fn check_tolerance(tolerance_mm: f64) -> Result<()> {
    if tolerance_mm.is_finite() && tolerance_mm >= 0.0 {
        Ok(())
    } else {
        bail!("--tolerance-mm must be a finite number of mm, at least 0; got {tolerance_mm}")
    }
}

fn is_nifti(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".nii") || name.ends_with(".nii.gz")
}

/// Reads one side's structures: a NIfTI label map, an RTSTRUCT rasterised
/// on the image series, or a DICOM SEG (placed on the image series when one
/// is given, so that it can be compared with an RTSTRUCT drawn on it).
fn read_structures(path: &Path, images: Option<&ImageGrid>) -> Result<StructureSet> {
    let read = if is_nifti(path) {
        vigil_structures::read_nifti_labels(path)
    } else {
        match RtStruct::parse(path) {
            Ok(rtstruct) => match images {
                Some(grid) => rtstruct.rasterise(grid),
                None => bail!(
                    "{} is an RTSTRUCT: give the folder of its image series (--images, or images/ in a cohort patient's folder)",
                    path.display()
                ),
            },
            // Modality SEG, or the Segmentation Storage SOP class when the
            // file names no modality.
            Err(StructuresError::WrongKind { found, .. })
                if found == "SEG" || found == "1.2.840.10008.5.1.4.1.1.66.4" =>
            {
                match images {
                    Some(grid) => vigil_structures::read_seg_on_grid(path, grid),
                    None => vigil_structures::read_seg(path),
                }
            }
            Err(error) => Err(error),
        }
    };
    let set = read.with_context(|| format!("cannot read the structures of {}", path.display()))?;
    for warning in &set.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    Ok(set)
}

/// One patient compared: the entries of the matched structures, and what
/// matched nothing.
struct PatientComparison {
    entries: Vec<CohortEntry>,
    matching: Matching,
}

fn compare_patient(
    patient: &str,
    reference: &Path,
    test: &Path,
    images: Option<&Path>,
    names: &NameMap,
    tolerance_mm: f64,
) -> Result<PatientComparison> {
    let grid = images
        .map(|folder| {
            ImageGrid::from_series_dir(folder)
                .with_context(|| format!("cannot read the image series in {}", folder.display()))
        })
        .transpose()?;
    let reference_set = read_structures(reference, grid.as_ref())?;
    let test_set = read_structures(test, grid.as_ref())?;
    check_same_place(patient, &reference_set, &test_set)?;
    let matching = match_structures(&reference_set, &test_set, names);
    // Structures are compared in parallel; each comparison is parallel too.
    let entries = matching
        .pairs
        .par_iter()
        .map(|(reference_index, test_index, common)| {
            let reference_structure = &reference_set.structures[*reference_index];
            let test_structure = &test_set.structures[*test_index];
            let agreement = vigil_contours::compare(
                &reference_structure.mask,
                &test_structure.mask,
                tolerance_mm,
            )
            .with_context(|| {
                format!(
                    "{patient}: cannot compare {common} (reference {:?}, test {:?})",
                    reference_structure.name, test_structure.name
                )
            })?;
            Ok(CohortEntry {
                patient: patient.to_owned(),
                structure: common.clone(),
                agreement,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // A reference structure the tool did not produce (or that no name
    // matches) counts as an empty test structure: Dice and surface Dice 0,
    // distances undefined. Leaving it out would let a protocol pass on the
    // structures the tool happened to draw.
    let mut entries = entries;
    for name in &matching.unmatched_reference {
        let Some(structure) = reference_set.get(name) else {
            continue;
        };
        let [z, y, x] = structure.mask.dims();
        let empty =
            vigil_contours::Mask::new([z, y, x], structure.mask.spacing(), vec![false; z * y * x])
                .with_context(|| format!("{patient}: an empty test structure for {name:?}"))?;
        let agreement = vigil_contours::compare(&structure.mask, &empty, tolerance_mm)
            .with_context(|| format!("{patient}: cannot compare {name:?}"))?;
        entries.push(CohortEntry {
            patient: patient.to_owned(),
            structure: vigil_structures::names::canonical_name(name)
                .unwrap_or_else(|| name.clone()),
            agreement,
        });
    }
    Ok(PatientComparison { entries, matching })
}

/// Refuses to compare structures that lie on different grids: masks carry
/// no position, so two grids of the same size and spacing would otherwise
/// be compared as if aligned. A NIfTI label map's geometry is not read, so
/// against one only a warning can be given.
fn check_same_place(patient: &str, reference: &StructureSet, test: &StructureSet) -> Result<()> {
    match (&reference.grid, &test.grid) {
        (Some(first), Some(second)) => {
            let close = |a: [f64; 3], b: [f64; 3], tolerance: f64| {
                a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
            };
            let same = first.dims() == second.dims()
                && close(first.origin_mm(), second.origin_mm(), 0.01)
                && close(first.row_direction(), second.row_direction(), 1e-6)
                && close(first.column_direction(), second.column_direction(), 1e-6)
                && (first.slice_spacing_mm() - second.slice_spacing_mm()).abs() <= 1e-6
                && first
                    .pixel_spacing_mm()
                    .iter()
                    .zip(second.pixel_spacing_mm())
                    .all(|(x, y)| (x - y).abs() <= 1e-6);
            if !same {
                bail!(
                    "{patient}: the reference and test structures lie on different grids (origins {:?} and {:?} mm, {:?} and {:?} voxels); give the image series (--images, or images/ in the patient's folder) so that both are placed on it",
                    first.origin_mm(),
                    second.origin_mm(),
                    first.dims(),
                    second.dims()
                );
            }
        }
        (Some(_), None) | (None, Some(_)) => eprintln!(
            "warning: {patient}: a NIfTI label map's patient geometry is not read; it is compared voxel for voxel with the other side, assumed to be on the same grid"
        ),
        (None, None) => {}
    }
    Ok(())
}

/// A comparison as the JSON contract gives it: the structure and every
/// metric (null where undefined).
fn entry_json(entry: &CohortEntry) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("patient".to_owned(), json!(entry.patient));
    object.insert("structure".to_owned(), json!(entry.structure));
    for metric in ContourMetric::ALL {
        object.insert(
            metric.as_str().to_owned(),
            metric
                .of(&entry.agreement)
                .filter(|value| value.is_finite())
                .map_or(Value::Null, |value| json!(value)),
        );
    }
    Value::Object(object)
}

fn unmatched_words(patient: &str, matching: &Matching) -> Vec<String> {
    let mut words: Vec<String> = matching
        .unmatched_reference
        .iter()
        .map(|name| format!("{patient}: reference {name:?}"))
        .collect();
    words.extend(
        matching
            .unmatched_test
            .iter()
            .map(|name| format!("{patient}: test {name:?}")),
    );
    words
}

fn write_outputs(directory: &Path, result: &Value, report: &str) -> Result<()> {
    let json_text = serde_json::to_string_pretty(result).context("cannot write the result")?;
    crate::evaluate::write_outputs(directory, &(json_text + "\n"), report)
}

fn print_table(entries: &[CohortEntry]) {
    println!(
        "{:<24} {:>7} {:>7} {:>9} {:>9} {:>8} {:>8} {:>10} {:>10} {:>10}",
        "structure",
        "dice",
        "jaccard",
        "hd_mm",
        "hd95_mm",
        "msd_mm",
        "sdice",
        "apl_mm",
        "ref_cc",
        "test_cc"
    );
    for entry in entries {
        let value = |metric: ContourMetric| {
            metric
                .of(&entry.agreement)
                .filter(|value| value.is_finite())
                .map_or_else(|| "-".to_owned(), |value| format!("{value:.3}"))
        };
        println!(
            "{:<24} {:>7} {:>7} {:>9} {:>9} {:>8} {:>8} {:>10} {:>10} {:>10}",
            entry.structure,
            value(ContourMetric::Dice),
            value(ContourMetric::Jaccard),
            value(ContourMetric::HausdorffMm),
            value(ContourMetric::Hd95Mm),
            value(ContourMetric::MsdMm),
            value(ContourMetric::SurfaceDice),
            value(ContourMetric::AddedPathLengthMm),
            value(ContourMetric::VolumeReferenceCc),
            value(ContourMetric::VolumeTestCc),
        );
    }
}

fn compare_command(arguments: &CompareArgs) -> Result<ExitCode> {
    let options = &arguments.matching;
    check_tolerance(options.tolerance_mm)?;
    let names = read_name_map(options.names.as_deref())?;
    let compared = compare_patient(
        "patient",
        &arguments.reference,
        &arguments.test,
        arguments.images.as_deref(),
        &names,
        options.tolerance_mm,
    )?;
    let unmatched = unmatched_words("patient", &compared.matching);
    for words in &unmatched {
        eprintln!("warning: unmatched structure, not compared: {words}");
    }
    let list: Vec<Value> = compared
        .entries
        .iter()
        .map(|entry| {
            let mut object = entry_json(entry);
            if let Some(map) = object.as_object_mut() {
                map.remove("patient");
            }
            object
        })
        .collect();
    if options.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        print_table(&compared.entries);
    }
    if let Some(directory) = &options.out {
        let distributions = summarise(&compared.entries);
        let report = cohort_report(
            &CohortDescription {
                title: "Contour agreement".to_owned(),
                source: format!(
                    "reference {} and test {}",
                    arguments.reference.display(),
                    arguments.test.display()
                ),
                tolerance_mm: options.tolerance_mm,
                protocol: None,
                unmatched,
            },
            &compared.entries,
            &distributions,
            None,
        );
        write_outputs(directory, &Value::Array(list), &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The structure file of a patient's folder whose name starts with `stem`.
fn side_file(folder: &Path, stem: &str) -> Result<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder)
        .with_context(|| format!("cannot read the folder {}", folder.display()))?
    {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let matches = [".dcm", ".nii", ".nii.gz"]
            .iter()
            .any(|extension| name == format!("{stem}{extension}"));
        if matches && path.is_file() {
            found.push(path);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!(
            "{} has no {stem}.dcm, {stem}.nii or {stem}.nii.gz",
            folder.display()
        ),
        _ => bail!(
            "{} has more than one {stem} file; keep one",
            folder.display()
        ),
    }
}

fn cohort_command(store: &crate::registry::StoreArgs, arguments: &CohortArgs) -> Result<ExitCode> {
    let options = &arguments.matching;
    check_tolerance(options.tolerance_mm)?;
    let names = read_name_map(options.names.as_deref())?;
    let protocol = arguments
        .protocol
        .as_deref()
        .map(read_protocol)
        .transpose()?;
    if arguments.deployment.is_some() && arguments.actor.is_none() {
        bail!("--deployment stores the result as a validation: give --actor (or VIGIL_ACTOR) too");
    }
    let mut patients: Vec<PathBuf> = std::fs::read_dir(&arguments.directory)
        .with_context(|| {
            format!(
                "cannot read the cohort folder {}",
                arguments.directory.display()
            )
        })?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_dir())
        .collect();
    patients.sort();
    if patients.is_empty() {
        bail!(
            "{} has no patient folders (one sub-folder per patient with reference.* and test.*)",
            arguments.directory.display()
        );
    }
    let mut entries = Vec::new();
    let mut unmatched = Vec::new();
    for folder in &patients {
        let patient = folder
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let images = folder.join("images");
        let compared = compare_patient(
            &patient,
            &side_file(folder, "reference")?,
            &side_file(folder, "test")?,
            images.is_dir().then_some(images.as_path()),
            &names,
            options.tolerance_mm,
        )?;
        unmatched.extend(unmatched_words(&patient, &compared.matching));
        entries.extend(compared.entries);
    }
    for words in &unmatched {
        eprintln!("warning: unmatched structure, not compared: {words}");
    }
    let distributions = summarise(&entries);
    let verdict = protocol
        .as_ref()
        .map(|protocol| judge(&protocol.criteria, &distributions));
    let verdict_name = match &verdict {
        Some(verdict) if verdict.accepted => "pass",
        Some(_) => "fail",
        None => "not_assessed",
    };
    let result = json!({
        "kind": "contour_agreement",
        "tolerance_mm": options.tolerance_mm,
        "patients": patients.len(),
        "verdict": verdict_name,
        "criteria": verdict.as_ref().map(criteria_json),
        "distributions": distributions.iter().map(|distribution| json!({
            "structure": distribution.structure,
            "metric": distribution.metric.as_str(),
            "patients": distribution.patients,
            "missing": distribution.missing,
            "minimum": distribution.summary.map(|summary| summary.minimum),
            "lower_quartile": distribution.summary.map(|summary| summary.lower_quartile),
            "median": distribution.summary.map(|summary| summary.median),
            "upper_quartile": distribution.summary.map(|summary| summary.upper_quartile),
            "maximum": distribution.summary.map(|summary| summary.maximum),
        })).collect::<Vec<_>>(),
        "unmatched": unmatched,
        "structures": entries.iter().map(entry_json).collect::<Vec<_>>(),
    });
    let report = cohort_report(
        &CohortDescription {
            title: protocol
                .as_ref()
                .and_then(|protocol| protocol.title.clone())
                .unwrap_or_else(|| "Auto-contouring commissioning".to_owned()),
            source: format!("the cohort {}", arguments.directory.display()),
            tolerance_mm: options.tolerance_mm,
            protocol: protocol.as_ref().map(|protocol| protocol.text.clone()),
            unmatched: unmatched.clone(),
        },
        &entries,
        &distributions,
        verdict.as_ref(),
    );
    if options.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        println!(
            "{} patients, {} structure comparisons: {verdict_name}",
            patients.len(),
            entries.len()
        );
    }
    if let Some(directory) = &options.out {
        write_outputs(directory, &result, &report)?;
    }
    if let (Some(deployment), Some(actor)) = (arguments.deployment, &arguments.actor) {
        let stored = crate::registry::store_contour_validation(
            store,
            actor,
            deployment,
            &crate::registry::ContourValidation {
                verdict: verdict_name.to_owned(),
                protocol: protocol
                    .as_ref()
                    .map(|protocol| protocol.text.clone())
                    .unwrap_or_default(),
                options: json!({
                    "tolerance_mm": options.tolerance_mm,
                    "names": options.names.as_ref().map(|path| path.display().to_string()),
                })
                .to_string(),
                result: serde_json::to_string_pretty(&result)?,
                report,
                cases: cohort_fingerprint(&entries),
            },
        )?;
        if !options.json {
            println!("stored as evaluation:{stored} of deployment {deployment}");
        }
    }
    Ok(match &verdict {
        Some(verdict) if !verdict.accepted => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// What the stored validation was computed from, for its content hash: the
/// patients, structures and volumes compared.
fn cohort_fingerprint(entries: &[CohortEntry]) -> String {
    entries
        .iter()
        .map(|entry| {
            format!(
                "{}\t{}\t{}\t{}\n",
                entry.patient,
                entry.structure,
                entry.agreement.reference.voxel_count,
                entry.agreement.test.voxel_count
            )
        })
        .collect()
}

fn criteria_json(verdict: &AcceptanceVerdict) -> Value {
    Value::Array(
        verdict
            .verdicts
            .iter()
            .map(|criterion| {
                let (direction, threshold) = match criterion.bound {
                    Bound::AtLeast(threshold) => ("at_least", threshold),
                    Bound::AtMost(threshold) => ("at_most", threshold),
                };
                json!({
                    "criterion": criterion.criterion + 1,
                    "structure": criterion.structure,
                    "metric": criterion.metric.as_str(),
                    "statistic": criterion.statistic.as_str(),
                    direction: threshold,
                    "value": criterion.value,
                    "patients": criterion.patients,
                    "outcome": criterion.outcome.as_str(),
                })
            })
            .collect(),
    )
}
