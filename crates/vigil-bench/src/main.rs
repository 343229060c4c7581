//! `vigil-bench WORK --dir DIR`: loads the inputs that `bench/make_data.py`
//! (or, for `drift` and `cbpe`, `bench/make_drift_data.py`) wrote into DIR,
//! times WORK alone (input loading excluded, except for `read-csv` whose work
//! is the loading), and prints one line of JSON, `{"seconds": …, "result":
//! {…}}`, for `bench/run.py` to compare with the peers.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod assess;
mod drift;

use anyhow::{Context, Result, bail};
use vigil_evaluation::cases::{CaseTable, CaseTableSpec};
use vigil_stats::bootstrap::{BootstrapConfig, bootstrap};
use vigil_stats::roc::{SortedByClass, delong, delong_paired};
use vigil_stats::{BinarySample, ConfidenceLevel};

pub(crate) fn read_f64(path: &Path) -> Result<Vec<f64>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() % 8 != 0 {
        bail!("{} is not a whole number of float64 values", path.display());
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|chunk| f64::from_le_bytes(chunk.try_into().unwrap_or_default()))
        .collect())
}

fn read_labels(path: &Path) -> Result<Vec<bool>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(bytes.into_iter().map(|byte| byte != 0).collect())
}

pub(crate) fn report(seconds: f64, result: String) {
    println!("{{\"seconds\": {seconds}, \"result\": {{{result}}}}}");
}

fn main() -> Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let (work, directory) = match arguments.as_slice() {
        [work, flag, directory] if flag == "--dir" => (work.as_str(), PathBuf::from(directory)),
        _ => bail!(
            "usage: vigil-bench auc-delong|delong-paired|bootstrap-auc|read-csv|drift|cbpe|assess --dir DIR"
        ),
    };
    let level = ConfidenceLevel::NINETY_FIVE;
    match work {
        "auc-delong" => {
            let scores = read_f64(&directory.join("scores.f64"))?;
            let labels = read_labels(&directory.join("labels.u8"))?;
            let start = Instant::now();
            let sample = BinarySample::new(&scores, &labels)?;
            let result = delong(&SortedByClass::new(&sample));
            let interval = result.interval(level);
            let seconds = start.elapsed().as_secs_f64();
            report(
                seconds,
                format!(
                    "\"auc\": {}, \"ci_low\": {}, \"ci_high\": {}",
                    interval.estimate, interval.low, interval.high
                ),
            );
        }
        "delong-paired" => {
            let scores = read_f64(&directory.join("scores.f64"))?;
            let scores_b = read_f64(&directory.join("scores_b.f64"))?;
            let labels = read_labels(&directory.join("labels.u8"))?;
            let start = Instant::now();
            let result = delong_paired(&scores, &scores_b, &labels)?;
            let interval = result.interval(level);
            let seconds = start.elapsed().as_secs_f64();
            report(
                seconds,
                format!(
                    "\"auc_a\": {}, \"auc_b\": {}, \"z\": {}, \"p_value\": {}, \"ci_low\": {}, \"ci_high\": {}",
                    result.auc_a,
                    result.auc_b,
                    result.z,
                    result.p_value,
                    interval.low,
                    interval.high
                ),
            );
        }
        "bootstrap-auc" => {
            const CASES: usize = 100_000;
            let mut scores = read_f64(&directory.join("scores.f64"))?;
            let mut labels = read_labels(&directory.join("labels.u8"))?;
            scores.truncate(CASES);
            labels.truncate(CASES);
            let start = Instant::now();
            let sample = BinarySample::new(&scores, &labels)?;
            let config = BootstrapConfig::new(1000, 1, level)?;
            let result = bootstrap(&sample, config, |resample| Some(resample.auc()))?;
            let seconds = start.elapsed().as_secs_f64();
            report(
                seconds,
                format!(
                    "\"auc\": {}, \"ci_low\": {}, \"ci_high\": {}, \"replicates\": 1000, \"cases\": {}",
                    result.interval.estimate,
                    result.interval.low,
                    result.interval.high,
                    scores.len()
                ),
            );
        }
        "read-csv" => {
            let path = directory.join("cases.csv");
            let bytes = std::fs::metadata(&path)?.len();
            let spec = CaseTableSpec {
                compare_column: Some("score_b".to_owned()),
                ..CaseTableSpec::default()
            };
            let start = Instant::now();
            let file = File::open(&path)?;
            let table = CaseTable::read(
                BufReader::with_capacity(1 << 20, file),
                "cases.csv",
                &spec,
                &mut |_| {},
            )?;
            let seconds = start.elapsed().as_secs_f64();
            report(
                seconds,
                format!(
                    "\"rows\": {}, \"megabytes\": {}, \"megabytes_per_second\": {}",
                    table.len(),
                    bytes as f64 / 1e6,
                    bytes as f64 / 1e6 / seconds
                ),
            );
        }
        "drift" => drift::drift(&directory)?,
        "cbpe" => drift::cbpe(&directory)?,
        "assess" => assess::run(&directory)?,
        other => bail!("unknown work {other:?}"),
    }
    Ok(())
}
