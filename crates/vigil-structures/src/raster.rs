//! Even–odd rasterisation of planar polygons onto one slice.
//!
//! # Convention
//!
//! Polygons are given in the slice's continuous index coordinates `(i, j)`:
//! `i` counts columns and `j` rows, and the centre of pixel `(j, i)` is the
//! point `(i, j)` with whole-number coordinates. Each polygon is closed (its
//! last point joins its first). A pixel is inside when its centre is inside an
//! odd number of the polygons (the even–odd rule): an inner polygon drawn
//! inside an outer one is a hole, disjoint polygons are islands.
//!
//! "Inside a polygon" is the crossing-number test with a ray from the centre
//! towards +i: an edge from `a` to `b` is crossed when exactly one endpoint
//! has `j` greater than the centre's (`(a.j > j) ≠ (b.j > j)`) and the
//! crossing lies at `i` strictly greater than the centre's. A centre exactly
//! on an edge is therefore inside when the polygon's interior lies towards
//! larger `i` (or larger `j`, for a horizontal edge) and outside otherwise,
//! so two polygons that share an edge never both claim a centre on it. Each edge's crossing is computed from its endpoint with the
//! smaller `j`, so an edge and its reverse cross at exactly the same place.

/// Flips `plane[j * columns + i]` for every pixel `(j, i)` whose centre is
/// inside an odd number of `polygons`. On a plane of `false` the result is
/// the even–odd fill of the polygons; on a filled plane it is the exclusive
/// or of the two.
///
/// Points that are not finite are skipped together with their edges.
/// Pixels outside `rows × columns` are never touched, whatever the
/// coordinates. `plane` should hold `rows × columns` values; only its
/// complete rows are used.
pub fn rasterise_even_odd<P: AsRef<[[f64; 2]]>>(
    polygons: &[P],
    rows: usize,
    columns: usize,
    plane: &mut [bool],
) {
    if columns == 0 {
        return;
    }
    let rows = rows.min(plane.len() / columns);
    if rows == 0 {
        return;
    }
    let mut crossings: Vec<Vec<f64>> = vec![Vec::new(); rows];
    for polygon in polygons {
        let points = polygon.as_ref();
        for (index, &start) in points.iter().enumerate() {
            let end = points[(index + 1) % points.len()];
            add_edge_crossings(start, end, &mut crossings);
        }
    }
    for (j, row_crossings) in crossings.iter_mut().enumerate() {
        if row_crossings.is_empty() {
            continue;
        }
        row_crossings.sort_by(f64::total_cmp);
        let row = &mut plane[j * columns..(j + 1) * columns];
        for pair in row_crossings.chunks_exact(2) {
            // Centres with pair[0] <= i < pair[1] have an odd count of
            // crossings strictly to their right.
            let first = first_index_at_or_after(pair[0], columns);
            let end = first_index_at_or_after(pair[1], columns);
            for voxel in row.iter_mut().take(end).skip(first) {
                *voxel = !*voxel;
            }
        }
    }
}

/// The crossings of the edge from `a` to `b` with the rows it spans.
fn add_edge_crossings(a: [f64; 2], b: [f64; 2], crossings: &mut [Vec<f64>]) {
    if !(a.iter().chain(&b).all(|v| v.is_finite())) || a[1] == b[1] {
        return;
    }
    // The same arithmetic whichever way the edge runs.
    let (low, high) = if a[1] < b[1] { (a, b) } else { (b, a) };
    // Rows j with low.j <= j < high.j: exactly one endpoint lies above j.
    let first = first_index_at_or_after(low[1], crossings.len());
    let end = first_index_at_or_after(high[1], crossings.len());
    let slope = (high[0] - low[0]) / (high[1] - low[1]);
    for (j, row) in crossings.iter_mut().enumerate().take(end).skip(first) {
        row.push(low[0] + (j as f64 - low[1]) * slope);
    }
}

/// The smallest whole index `n >= value`, clamped to `0..=limit`.
fn first_index_at_or_after(value: f64, limit: usize) -> usize {
    let ceiling = value.ceil();
    if ceiling <= 0.0 {
        0
    } else if ceiling >= limit as f64 {
        limit
    } else {
        ceiling as usize
    }
}

/// The area of a polygon by the shoelace formula, in squared index units.
pub fn shoelace_area(polygon: &[[f64; 2]]) -> f64 {
    let mut twice = 0.0;
    for (index, a) in polygon.iter().enumerate() {
        let b = polygon[(index + 1) % polygon.len()];
        twice += a[0] * b[1] - b[0] * a[1];
    }
    (twice / 2.0).abs()
}

/// The perimeter of a closed polygon, in index units.
pub fn perimeter(polygon: &[[f64; 2]]) -> f64 {
    polygon
        .iter()
        .enumerate()
        .map(|(index, a)| {
            let b = polygon[(index + 1) % polygon.len()];
            (b[0] - a[0]).hypot(b[1] - a[1])
        })
        .sum()
}
