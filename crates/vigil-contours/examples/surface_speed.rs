//! Times `compare` on two ellipsoids in a 200×512×512 CT-like grid.
//!
//! Run with `cargo run --release -p vigil-contours --example surface_speed`.
//! `bench/peer.py` builds the same masks (the same float64 arithmetic) and
//! times DeepMind's surface-distance and MedPy on them; `bench/RESULTS.md`
//! records the figures.

use std::time::{Duration, Instant};

use vigil_contours::{Mask, Spacing, SurfaceDistances, compare};

/// Grid `[z, y, x]`, spacing in mm, and the two ellipsoids as
/// (centre, semi-axes) in voxel units.
const DIMS: [usize; 3] = [200, 512, 512];
const SPACING_MM: [f64; 3] = [2.5, 0.9765625, 0.9765625];
const REFERENCE: ([f64; 3], [f64; 3]) = ([100.0, 256.0, 256.0], [60.0, 180.0, 160.0]);
const TEST: ([f64; 3], [f64; 3]) = ([102.0, 259.0, 252.0], [58.0, 185.0, 155.0]);
const TOLERANCE_MM: f64 = 2.0;
const REPEATS: usize = 3;

fn ellipsoid(spacing: Spacing, (centre, semi_axes): ([f64; 3], [f64; 3])) -> Mask {
    Mask::from_fn(DIMS, spacing, |z, y, x| {
        let a = (z as f64 - centre[0]) / semi_axes[0];
        let b = (y as f64 - centre[1]) / semi_axes[1];
        let c = (x as f64 - centre[2]) / semi_axes[2];
        a * a + b * b + c * c <= 1.0
    })
    .expect("a valid grid")
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let spacing = Spacing::new(SPACING_MM[0], SPACING_MM[1], SPACING_MM[2]).expect("valid spacing");
    let reference = ellipsoid(spacing, REFERENCE);
    let test = ellipsoid(spacing, TEST);
    println!(
        "grid {DIMS:?}, spacing {SPACING_MM:?} mm, {} threads; reference {} voxels, test {} voxels",
        rayon::current_num_threads(),
        reference.voxel_count(),
        test.voxel_count()
    );

    let mut surface_times = Vec::new();
    let mut compare_times = Vec::new();
    let mut agreement = None;
    let mut surfels = (0, 0);
    for _ in 0..REPEATS {
        let start = Instant::now();
        let distances = SurfaceDistances::between(&reference, &test).expect("same grid");
        surface_times.push(start.elapsed());
        surfels = (
            distances.reference_to_test.len(),
            distances.test_to_reference.len(),
        );
        drop(distances);
        let start = Instant::now();
        agreement = Some(compare(&reference, &test, TOLERANCE_MM).expect("same grid"));
        compare_times.push(start.elapsed());
    }
    let agreement = agreement.expect("at least one run");
    let metrics = agreement.surface.metrics().expect("both surfaces");
    println!("surfels: reference {}, test {}", surfels.0, surfels.1);
    println!(
        "surface distances only (compute_surface_distances equivalent): median {:.3} s of {REPEATS}",
        median(surface_times).as_secs_f64()
    );
    println!(
        "compare() (all metrics incl. Dice, APL): median {:.3} s of {REPEATS}",
        median(compare_times).as_secs_f64()
    );
    println!(
        "Dice {:.6}  HD {:.6}  HD95 {:.6}  MSD {:.6}/{:.6}  surface Dice@{TOLERANCE_MM} {:.6}  APL {:.3} mm",
        agreement.dice.unwrap_or(f64::NAN),
        metrics.hausdorff_symmetric_mm(),
        metrics.hausdorff_95_symmetric_mm(),
        metrics.mean_surface_distance_mm.reference_to_test,
        metrics.mean_surface_distance_mm.test_to_reference,
        metrics.surface_dice,
        agreement.added_path_length.total_mm,
    );
}
