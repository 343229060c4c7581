#!/usr/bin/env python3
"""Times DeepMind's surface-distance and MedPy on the masks of
examples/surface_speed.rs (the same grid, spacing and ellipsoids, built with
the same float64 arithmetic, so the voxel counts must match).

    /tmp/contours-venv/bin/python crates/vigil-contours/bench/peer.py

Needs the packages of tests/reference/requirements.txt plus medpy.
"""

import time
import warnings

import numpy as np

warnings.simplefilter("ignore", DeprecationWarning)
import surface_distance as sd  # noqa: E402

DIMS = (200, 512, 512)
SPACING_MM = (2.5, 0.9765625, 0.9765625)
REFERENCE = ((100.0, 256.0, 256.0), (60.0, 180.0, 160.0))
TEST = ((102.0, 259.0, 252.0), (58.0, 185.0, 155.0))
TOLERANCE_MM = 2.0


def ellipsoid(centre, semi_axes):
    z, y, x = np.meshgrid(*(np.arange(n, dtype=np.float64) for n in DIMS), indexing="ij", sparse=True)
    a = (z - centre[0]) / semi_axes[0]
    b = (y - centre[1]) / semi_axes[1]
    c = (x - centre[2]) / semi_axes[2]
    return a * a + b * b + c * c <= 1.0


def main():
    reference = ellipsoid(*REFERENCE)
    test = ellipsoid(*TEST)
    print(f"grid {DIMS}, spacing {SPACING_MM} mm; reference {int(reference.sum())} voxels, test {int(test.sum())} voxels")

    start = time.perf_counter()
    d = sd.compute_surface_distances(reference, test, SPACING_MM)
    surface = time.perf_counter() - start
    start = time.perf_counter()
    hd = sd.compute_robust_hausdorff(d, 100)
    hd95 = sd.compute_robust_hausdorff(d, 95)
    msd = sd.compute_average_surface_distance(d)
    sdice = sd.compute_surface_dice_at_tolerance(d, TOLERANCE_MM)
    overlap = sd.compute_surface_overlap_at_tolerance(d, TOLERANCE_MM)
    dice = sd.compute_dice_coefficient(reference, test)
    metrics = time.perf_counter() - start
    print(f"surfels: reference {len(d['distances_gt_to_pred'])}, test {len(d['distances_pred_to_gt'])}")
    print(f"surface-distance compute_surface_distances: {surface:.3f} s; metrics afterwards: {metrics:.3f} s; total {surface + metrics:.3f} s")
    print(
        f"Dice {dice:.6f}  HD {hd:.6f}  HD95 {hd95:.6f}  MSD {msd[0]:.6f}/{msd[1]:.6f}  "
        f"surface Dice@{TOLERANCE_MM} {sdice:.6f}  overlap {overlap[0]:.6f}/{overlap[1]:.6f}"
    )

    try:
        from medpy.metric.binary import hd95 as medpy_hd95
    except ImportError as error:  # pragma: no cover
        print(f"MedPy not available: {error}")
        return
    start = time.perf_counter()
    value = medpy_hd95(test, reference, voxelspacing=SPACING_MM)
    elapsed = time.perf_counter() - start
    print(f"MedPy hd95: {elapsed:.3f} s, value {value:.6f} (a different definition: unweighted, pooled, interpolated)")


if __name__ == "__main__":
    main()
