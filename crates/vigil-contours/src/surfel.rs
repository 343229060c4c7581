//! Surface-element areas of the 2×2×2 neighbourhood codes and contour-element
//! lengths of the 2×2 codes, following DeepMind's surface-distance convention.
//!
//! A neighbourhood code describes the eight voxels around one corner point of
//! the grid. The voxel at offset `(dz, dy, dx)` (each 0 or 1, relative to the
//! voxel `(z-1, y-1, x-1)`) sets bit `7 − (4·dz + 2·dy + dx)`: the voxel at
//! `(z-1, y-1, x-1)` is bit 7 and the voxel at `(z, y, x)` is bit 0. This is
//! DeepMind's kernel `[[[128, 64], [32, 16]], [[8, 4], [2, 1]]]` applied by
//! correlation.
//!
//! The surface inside a neighbourhood is the marching-cubes surface whose
//! vertices are the midpoints of the cube edges between an inside and an
//! outside voxel (Lorensen & Cline, 1987). Each triangle is described by its
//! area vector (half the cross product of two edges) in voxel units; with
//! spacing `(s_z, s_y, s_x)` the vector `(a_z, a_y, a_x)` becomes
//! `(a_z·s_y·s_x, a_y·s_z·s_x, a_x·s_z·s_y)`, and the area is its length.
//!
//! Up to the 48 rotations and reflections of the cube, and up to exchanging
//! inside and outside, the 254 codes that are neither empty nor full fall into
//! the 13 classes below. DeepMind's table (surface-distance 0.1,
//! `lookup_tables.py`) assigns the same triangle area vectors to every member
//! of a class, with the components permuted as the axes are; the known-answer
//! tests compare the resulting table with theirs for several spacings. Only
//! the absolute values of the components matter for an area.
//!
//! | class (inside voxels, as `(dz, dy, dx)`) | triangles: area vectors in eighths of a voxel face |
//! | --- | --- |
//! | one corner | `(1,1,1)` |
//! | two along an edge | `(2,2,0)` twice (a planar rectangle) |
//! | two across a face diagonal | `(1,1,1)` twice (two corners cut off) |
//! | three on a face | `(4,0,0)`, `(2,2,2)`, `(1,1,1)` (a pentagon: the triangle in the mid-plane and two more) |
//! | four on a face | `(4,0,0)` twice (the mid-plane square) |
//! | three pairwise across face diagonals | `(1,1,1)` three times |
//! | a corner with its three neighbours | `(1,1,1)`, `(2,2,2)`, `(2,2,2)`, `(1,1,1)` (a planar hexagon) |
//! | two across the body diagonal | `(1,1,1)` twice |
//! | an edge pair and the opposite separate corner | `(0,2,2)` twice, `(1,1,1)` |
//! | an edge pair, a neighbour of it and a separate corner (four voxels) | `(1,1,1)`, `(3,3,3)`, `(0,2,2)`, `(2,0,2)` |
//! | three on a face and a separate corner | `(4,0,0)`, `(1,1,1)`, `(2,2,2)`, `(1,1,1)` |
//! | two parallel edges on opposite sides | `(2,2,0)` four times |
//! | four alternating corners | `(1,1,1)` four times |

use crate::Spacing;

/// One member of each class: its code and its triangles' area vectors, in
/// eighths of a voxel face, along `(z, y, x)`.
const CLASSES: [(u8, &[[u8; 3]]); 13] = [
    // (1,1,1).
    (0b0000_0001, &[[1, 1, 1]]),
    // (1,1,0), (1,1,1): they differ along x, so the rectangle has no x component.
    (0b0000_0011, &[[2, 2, 0], [2, 2, 0]]),
    // (1,0,1), (1,1,0).
    (0b0000_0110, &[[1, 1, 1], [1, 1, 1]]),
    // (1,0,1), (1,1,0), (1,1,1): three voxels of the face dz = 1.
    (0b0000_0111, &[[4, 0, 0], [2, 2, 2], [1, 1, 1]]),
    // The whole face dz = 1.
    (0b0000_1111, &[[4, 0, 0], [4, 0, 0]]),
    // (0,1,1), (1,0,1), (1,1,0).
    (0b0001_0110, &[[1, 1, 1], [1, 1, 1], [1, 1, 1]]),
    // (1,1,1) and its neighbours (0,1,1), (1,0,1), (1,1,0).
    (0b0001_0111, &[[1, 1, 1], [2, 2, 2], [2, 2, 2], [1, 1, 1]]),
    // (0,1,1), (1,0,0).
    (0b0001_1000, &[[1, 1, 1], [1, 1, 1]]),
    // The edge (0,1,1)-(1,1,1) along z and the separate corner (1,0,0).
    (0b0001_1001, &[[0, 2, 2], [0, 2, 2], [1, 1, 1]]),
    // (0,1,1), (1,0,0), (1,1,0), (1,1,1).
    (0b0001_1011, &[[1, 1, 1], [3, 3, 3], [0, 2, 2], [2, 0, 2]]),
    // (0,1,1), (1,0,0), (1,0,1), (1,1,0).
    (0b0001_1110, &[[4, 0, 0], [1, 1, 1], [2, 2, 2], [1, 1, 1]]),
    // The edges (0,1,0)-(0,1,1) and (1,0,0)-(1,0,1), both along x.
    (0b0011_1100, &[[2, 2, 0], [2, 2, 0], [2, 2, 0], [2, 2, 0]]),
    // (0,0,1), (0,1,0), (1,0,0), (1,1,1).
    (0b0110_1001, &[[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]]),
];

/// The bit of the voxel at offset `corner = [dz, dy, dx]`.
fn corner_bit(corner: [usize; 3]) -> u8 {
    1 << (7 - (4 * corner[0] + 2 * corner[1] + corner[2]))
}

/// The code of the configuration `code` after the axes are permuted
/// (new axis `i` is old axis `permutation[i]`) and then reflected where
/// `reflect[i]` is set.
fn transform(code: u8, permutation: [usize; 3], reflect: [bool; 3]) -> u8 {
    let mut out = 0;
    for index in 0..8 {
        let corner = [index >> 2, (index >> 1) & 1, index & 1];
        if code & corner_bit(corner) != 0 {
            let moved: [usize; 3] =
                std::array::from_fn(|axis| corner[permutation[axis]] ^ usize::from(reflect[axis]));
            out |= corner_bit(moved);
        }
    }
    out
}

const PERMUTATIONS: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

/// The triangle area vectors of every code, in eighths, with the components
/// along `(z, y, x)`. Codes 0 and 255 have none.
fn triangles_of_every_code() -> [Vec<[u8; 3]>; 256] {
    let mut table: [Vec<[u8; 3]>; 256] = std::array::from_fn(|_| Vec::new());
    let mut assigned = [false; 256];
    assigned[0] = true;
    assigned[255] = true;
    for (representative, triangles) in CLASSES {
        for permutation in PERMUTATIONS {
            for reflections in 0..8u8 {
                let reflect = [
                    reflections & 4 != 0,
                    reflections & 2 != 0,
                    reflections & 1 != 0,
                ];
                let code = transform(representative, permutation, reflect);
                let moved: Vec<[u8; 3]> = triangles
                    .iter()
                    .map(|vector| std::array::from_fn(|axis| vector[permutation[axis]]))
                    .collect();
                for member in [code, !code] {
                    if !assigned[usize::from(member)] {
                        assigned[usize::from(member)] = true;
                        table[usize::from(member)] = moved.clone();
                    }
                }
            }
        }
    }
    debug_assert!(assigned.iter().all(|&done| done));
    table
}

/// The surface area in mm² of the surface elements of every 2×2×2 code.
pub fn surface_area_table(spacing: &Spacing) -> [f64; 256] {
    let [s_z, s_y, s_x] = spacing.as_array();
    let triangles = triangles_of_every_code();
    std::array::from_fn(|code| {
        triangles[code]
            .iter()
            .map(|vector| {
                let eighths = vector.map(|component| f64::from(component) / 8.0);
                let scaled = [
                    eighths[0] * s_y * s_x,
                    eighths[1] * s_z * s_x,
                    eighths[2] * s_z * s_y,
                ];
                (scaled[0] * scaled[0] + scaled[1] * scaled[1] + scaled[2] * scaled[2]).sqrt()
            })
            .sum()
    })
}

/// The contour length in mm of the marching-squares contour elements of every
/// 2×2 code in a plane of constant z.
///
/// The pixel at offset `(dy, dx)` sets bit `3 − (2·dy + dx)` (DeepMind's
/// kernel `[[8, 4], [2, 1]]`). One or three inside pixels give one diagonal
/// segment of length `½·√(s_y² + s_x²)`; two inside pixels in the same row
/// give a segment of length `s_x`, in the same column one of length `s_y`,
/// and on a diagonal two diagonal segments. Codes 0 and 15 have none.
pub fn contour_length_table(y_mm: f64, x_mm: f64) -> [f64; 16] {
    let diagonal = 0.5 * (y_mm * y_mm + x_mm * x_mm).sqrt();
    std::array::from_fn(|code| match code {
        0 | 15 => 0.0,
        0b0011 | 0b1100 => x_mm,
        0b0101 | 0b1010 => y_mm,
        0b0110 | 0b1001 => 2.0 * diagonal,
        _ => diagonal,
    })
}

/// `SPREAD[n]` moves bit `k` of the four-bit `n` to bit `2k`.
pub(crate) const SPREAD: [u8; 16] = {
    let mut table = [0u8; 16];
    let mut n = 0;
    while n < 16 {
        let mut k = 0;
        while k < 4 {
            if n & (1 << k) != 0 {
                table[n] |= 1 << (2 * k);
            }
            k += 1;
        }
        n += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_triangles_exactly_when_it_is_mixed() {
        let triangles = triangles_of_every_code();
        for (code, list) in triangles.iter().enumerate() {
            assert_eq!(list.is_empty(), code == 0 || code == 255, "code {code}");
        }
    }

    #[test]
    fn complementary_codes_have_the_same_area() {
        let spacing = Spacing::new(2.5, 0.7, 1.3).unwrap();
        let table = surface_area_table(&spacing);
        for code in 0..256 {
            assert_eq!(table[code], table[255 - code], "code {code}");
        }
    }

    #[test]
    fn a_full_face_has_the_area_of_one_voxel_face() {
        let spacing = Spacing::new(3.0, 2.0, 0.5).unwrap();
        let table = surface_area_table(&spacing);
        // The face dz = 1 is a plane of constant z: area s_y·s_x.
        assert!((table[0b0000_1111] - 1.0).abs() < 1e-15);
        // The face dx = 1 (bits of (·,·,1)) is a plane of constant x: area s_z·s_y.
        let face_x = corner_bit([0, 0, 1])
            | corner_bit([0, 1, 1])
            | corner_bit([1, 0, 1])
            | corner_bit([1, 1, 1]);
        assert!((table[usize::from(face_x)] - 6.0).abs() < 1e-15);
    }

    #[test]
    fn spread_interleaves_bits() {
        assert_eq!(SPREAD[0b1111], 0b0101_0101);
        assert_eq!(SPREAD[0b1000], 0b0100_0000);
    }
}
