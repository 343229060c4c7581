//! Properties of the even–odd rasteriser on random polygons.

use proptest::prelude::*;
use vigil_structures::raster::{perimeter, rasterise_even_odd, shoelace_area};

const ROWS: usize = 48;
const COLUMNS: usize = 56;

/// A simple (star-shaped) polygon: sorted distinct angles around a centre,
/// each with its own radius.
fn star_polygon() -> impl Strategy<Value = Vec<[f64; 2]>> {
    (
        10.0..46.0f64,
        10.0..38.0f64,
        proptest::collection::vec((0.0..1.0f64, 1.0..9.5f64), 3..24),
    )
        .prop_map(|(ci, cj, spokes)| {
            let mut angles: Vec<(f64, f64)> = spokes
                .into_iter()
                .map(|(t, r)| (t * std::f64::consts::TAU, r))
                .collect();
            angles.sort_by(|a, b| a.0.total_cmp(&b.0));
            angles.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-9);
            angles
                .into_iter()
                .map(|(angle, radius)| [ci + radius * angle.cos(), cj + radius * angle.sin()])
                .collect()
        })
}

fn rasterise(polygons: &[Vec<[f64; 2]>]) -> Vec<bool> {
    let mut plane = vec![false; ROWS * COLUMNS];
    rasterise_even_odd(polygons, ROWS, COLUMNS, &mut plane);
    plane
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Only pixels whose unit square meets the boundary can differ from the
    /// exact area, each by at most 1; a boundary of length P meets at most
    /// 4·(P + 1) unit squares (each piece of length 1 meets at most 4).
    #[test]
    fn area_is_within_the_perimeter_bound(polygon in star_polygon()) {
        let count = rasterise(std::slice::from_ref(&polygon)).iter().filter(|&&v| v).count() as f64;
        let area = shoelace_area(&polygon);
        let bound = 4.0 * (perimeter(&polygon) + 1.0);
        prop_assert!((count - area).abs() <= bound, "count {count}, area {area}, bound {bound}");
    }

    /// A polygon and its reversed copy cover every centre twice: empty.
    #[test]
    fn polygon_with_its_reversed_copy_is_empty(polygon in star_polygon()) {
        let mut reversed = polygon.clone();
        reversed.reverse();
        prop_assert!(rasterise(&[polygon, reversed]).iter().all(|&v| !v));
    }

    /// Arbitrary coordinates, including huge and non-finite ones, never
    /// panic or write outside the plane.
    #[test]
    fn any_coordinates_are_safe(points in proptest::collection::vec(
        (prop_oneof![any::<f64>(), -100.0..100.0f64], prop_oneof![any::<f64>(), -100.0..100.0f64]), 0..12)) {
        let polygon: Vec<[f64; 2]> = points.into_iter().map(|(i, j)| [i, j]).collect();
        let plane = rasterise(&[polygon]);
        prop_assert_eq!(plane.len(), ROWS * COLUMNS);
    }
}

/// Known shapes: an axis-aligned square with centres on its edges, and a
/// square with a square hole.
#[test]
fn squares_and_holes() {
    let square = vec![[2.0, 3.0], [6.0, 3.0], [6.0, 7.0], [2.0, 7.0]];
    let plane = rasterise(std::slice::from_ref(&square));
    // Centres on the low edges are inside, on the high edges outside.
    let inside: Vec<(usize, usize)> = (0..ROWS)
        .flat_map(|j| (0..COLUMNS).map(move |i| (j, i)))
        .filter(|&(j, i)| plane[j * COLUMNS + i])
        .collect();
    let expected: Vec<(usize, usize)> = (3..7).flat_map(|j| (2..6).map(move |i| (j, i))).collect();
    assert_eq!(inside, expected);
    let hole = vec![[3.5, 4.5], [4.5, 4.5], [4.5, 5.5], [3.5, 5.5]];
    let plane = rasterise(&[square, hole]);
    assert!(!plane[5 * COLUMNS + 4], "the hole's centre is outside");
    assert_eq!(plane.iter().filter(|&&v| v).count(), 15);
}
