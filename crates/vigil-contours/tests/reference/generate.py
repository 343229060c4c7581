#!/usr/bin/env python3
"""Known-answer fixtures for the vigil-contours crate.

Builds deterministic mask pairs (numpy ``default_rng`` with fixed seeds),
computes every metric that DeepMind's ``surface-distance`` package defines
(plus Dice, Jaccard, volumes and centroids with NumPy, and the added path
length from DeepMind's 2-D ``compute_surface_distances`` slice by slice) and
writes ``fixtures.json`` next to this file. The Rust tests in
``tests/reference.rs`` read that file; they never run Python.

Re-run from the workspace root:

    python3 -m venv /tmp/contours-venv \\
      && /tmp/contours-venv/bin/pip install -r crates/vigil-contours/tests/reference/requirements.txt \\
      && /tmp/contours-venv/bin/python crates/vigil-contours/tests/reference/generate.py

surface-distance 0.1 uses ``np.Inf`` and ``scipy.ndimage.filters``, so it needs
NumPy < 2 (``requirements.txt`` pins the versions used for the committed file).

Every float is written with Python's ``repr`` (shortest round-trip string).
JSON has no infinity or NaN: ``"inf"`` stands for +inf and ``null`` for NaN.
Masks are run-length encoded over the flat C-order (z, y, x) voxel array: the
list alternates runs of False and True, starting with False (the first run may
be 0).
"""

from __future__ import annotations

import json
import math
import platform
import warnings
from pathlib import Path

import numpy as np
import scipy
from scipy import ndimage

# Importing surface_distance touches scipy.ndimage.filters, deprecated since
# SciPy 1.8; that one warning is expected. Any other warning is a bug.
warnings.simplefilter("error")
warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*scipy.ndimage.filters.*")
warnings.filterwarnings("ignore", category=DeprecationWarning, module="surface_distance")
import surface_distance as sd  # noqa: E402
from surface_distance import lookup_tables  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "fixtures.json"

TOLERANCES_MM = [0.0, 1.0, 2.0, 3.5]
PERCENTILES = [50.0, 90.0, 95.0, 99.0, 100.0]
# Cases with at most this many surfels in each direction also store the full
# sorted distance and area arrays.
FULL_ARRAYS_UP_TO = 4000


def num(x):
    """A float for JSON: "inf" for +inf, None for NaN."""
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        assert x > 0, x
        return "inf"
    return x


def rle(mask: np.ndarray) -> list[int]:
    flat = mask.ravel(order="C").astype(np.int8)
    runs = []
    current = 0
    count = 0
    for value in flat:
        if value == current:
            count += 1
        else:
            runs.append(count)
            current = value
            count = 1
    runs.append(count)
    return [int(r) for r in runs]


def rle_fast(mask: np.ndarray) -> list[int]:
    flat = mask.ravel(order="C").astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat[0]:
        runs = [0] + runs
    return [int(r) for r in runs]


# ----------------------------------------------------------------- shapes


def grid(dims):
    return np.meshgrid(*(np.arange(n, dtype=np.float64) for n in dims), indexing="ij")


def ellipsoid(dims, centre, semi_axes):
    z, y, x = grid(dims)
    return ((z - centre[0]) / semi_axes[0]) ** 2 + ((y - centre[1]) / semi_axes[1]) ** 2 + (
        (x - centre[2]) / semi_axes[2]
    ) ** 2 <= 1.0


def blob(dims, seed, sigma, level):
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(dims)
    smooth = ndimage.gaussian_filter(noise, sigma=sigma, mode="constant")
    return smooth > level


def cases():
    out = []

    def add(name, reference, test, spacing, note):
        out.append((name, reference.astype(bool), test.astype(bool), tuple(float(s) for s in spacing), note))

    # DeepMind's own test cases (surface_distance_test.py, 3-D).
    a = np.zeros((128, 128, 128), bool)
    b = np.zeros((128, 128, 128), bool)
    a[50, 60, 70] = True
    b[50, 60, 72] = True
    add("deepmind_two_voxels_2mm_apart", a, b, (3, 2, 1), "DeepMind test_on_2_pixels_2mm_away (3-D)")
    a = np.zeros((100, 100, 100), bool)
    b = np.zeros((100, 100, 100), bool)
    a[0:50] = True
    b[0:51] = True
    add("deepmind_cubes_shifted_by_one", a, b, (2, 1, 1), "DeepMind test_two_cubes_shifted_by_one_pixel")
    a = np.zeros((128, 128, 128), bool)
    a[50, 60, 70] = True
    add("deepmind_empty_test", a, np.zeros_like(a), (3, 2, 1), "DeepMind test_empty_prediction_mask")
    b = np.zeros((128, 128, 128), bool)
    b[50, 60, 72] = True
    add("deepmind_empty_reference", np.zeros_like(b), b, (3, 2, 1), "DeepMind test_empty_ground_truth_mask")
    add(
        "deepmind_both_empty",
        np.zeros((128, 128, 128), bool),
        np.zeros((128, 128, 128), bool),
        (3, 2, 1),
        "DeepMind test_both_empty_masks",
    )

    dims = (40, 40, 40)
    add(
        "spheres_shifted_isotropic",
        ellipsoid(dims, (20, 20, 20), (12, 12, 12)),
        ellipsoid(dims, (21, 19.5, 22), (12, 12, 12)),
        (1, 1, 1),
        "two spheres of radius 12 voxels, centres 2.3 voxels apart",
    )
    dims = (24, 50, 56)
    ref = ellipsoid(dims, (11.5, 25, 27), (8, 18, 22)) & ~ellipsoid(dims, (11.5, 25, 27), (4, 8, 9))
    test = ellipsoid(dims, (12, 24, 28.5), (8.5, 17, 21)) & ~ellipsoid(dims, (12, 24, 28), (3, 9, 9))
    add("ellipsoids_with_holes_anisotropic", ref, test, (2.5, 0.9, 0.9), "hollow ellipsoids, shifted and resized")
    dims = (20, 40, 48)
    add(
        "blobs_random",
        blob(dims, 11, (1.5, 3.0, 3.0), 0.02),
        blob(dims, 12, (1.5, 3.0, 3.0), 0.02),
        (3.0, 1.2, 0.8),
        "two independent smoothed-noise blobs (several components)",
    )
    rng = np.random.default_rng(7)
    base = blob(dims, 13, (1.5, 3.0, 3.0), 0.0)
    flips = rng.random(dims) < 0.03
    perturbed = base ^ (flips & ndimage.binary_dilation(base ^ ndimage.binary_erosion(base)))
    add("blob_perturbed_boundary", base, perturbed, (2.0, 0.98, 0.98), "3 % of boundary-band voxels flipped")
    dims = (30, 24, 24)
    z, y, x = grid(dims)
    ref = ((y - 11.5) ** 2 + (x - 12) ** 2 <= 1.6**2) & (z >= 2) & (z <= 27)
    test = ((y - 12.5 - 0.04 * z) ** 2 + (x - 12) ** 2 <= 1.2**2) & (z >= 3) & (z <= 28)
    add("thin_tubes", ref, test, (2.0, 0.5, 0.5), "spinal-cord-like thin tubes, test tilted and thinner")
    dims = (1, 30, 30)
    add(
        "one_slice_discs",
        ellipsoid(dims, (0, 14, 15), (1, 9, 9)),
        ellipsoid(dims, (0, 16, 14), (1, 8, 10)),
        (3.0, 1.0, 1.0),
        "masks of a single slice (the grid has one slice)",
    )
    dims = (5, 30, 30)
    a = np.zeros(dims, bool)
    b = np.zeros(dims, bool)
    a[2] = ellipsoid((1, 30, 30), (0, 14, 15), (1, 9, 9))[0]
    b[2] = ellipsoid((1, 30, 30), (0, 15, 13), (1, 9, 8))[0]
    add("one_slice_in_thick_grid", a, b, (2.5, 0.8, 1.1), "one slice each, inside a grid of 5 slices")
    a = np.zeros((12, 20, 20), bool)
    b = np.zeros((12, 20, 20), bool)
    a[:, :, 0:9] = True
    b[:, :, 0:11] = True
    add("boxes_touching_grid_border", a, b, (1.5, 1.0, 0.7), "boxes touching five faces of the grid")
    rng = np.random.default_rng(21)
    add(
        "sparse_random_voxels",
        rng.random((16, 18, 20)) < 0.04,
        rng.random((16, 18, 20)) < 0.05,
        (1.0, 1.0, 1.0),
        "isolated voxels: many ties",
    )
    dims = (30, 40, 40)
    add(
        "nested_test_inside_reference",
        ellipsoid(dims, (15, 20, 20), (11, 15, 14)),
        ellipsoid(dims, (15, 20, 20), (9, 12, 11)),
        (1.25, 0.6, 0.6),
        "test strictly inside the reference",
    )
    dims = (10, 20, 60)
    add(
        "disjoint_far_apart",
        ellipsoid(dims, (5, 10, 8), (3, 5, 5)),
        ellipsoid(dims, (4, 9, 50), (3, 4, 6)),
        (2.0, 1.0, 1.0),
        "no overlap; large distances",
    )
    dims = (30, 30, 30)
    same = blob(dims, 31, 2.5, 0.0)
    add("identical", same, same.copy(), (1.5, 0.7, 0.9), "the same mask twice")
    a = np.zeros((12, 12, 12), bool)
    b = np.zeros((12, 12, 12), bool)
    a[2:10, 2:10, 2:10] = True
    b[2:10, 2:10, 3:11] = True
    add("cubes_shifted_in_x_ties", a, b, (1, 1, 1), "symmetric cubes: equal areas, many ties at the 95 % fraction")
    dims = (40, 60, 60)
    add(
        "large_ellipsoids",
        ellipsoid(dims, (19.5, 30, 29), (15, 22, 25)),
        ellipsoid(dims, (20.3, 31.1, 29.6), (14.2, 23, 24)),
        (2.0, 0.7, 1.1),
        "larger ellipsoids, sub-voxel shifts",
    )
    return out


# ----------------------------------------------------------------- metrics


def one_direction(distances, areas):
    """A surface-distances dict whose two directions are the same one, so that
    compute_robust_hausdorff returns the directed value."""
    return {
        "distances_gt_to_pred": distances,
        "distances_pred_to_gt": distances,
        "surfel_areas_gt": areas,
        "surfel_areas_pred": areas,
    }


def added_path_length(reference, test, spacing, tolerance):
    """Per-slice APL from DeepMind's 2-D surface distances."""
    slices = []
    for z in range(reference.shape[0]):
        if not (reference[z].any() or test[z].any()):
            continue
        d = sd.compute_surface_distances(reference[z], test[z], spacing[1:])
        areas_ref = d["surfel_areas_gt"]
        added = float(np.sum(areas_ref[d["distances_gt_to_pred"] > tolerance])) if len(areas_ref) else 0.0
        slices.append(
            {
                "z": z,
                "reference_contour_mm": float(np.sum(areas_ref)),
                "test_contour_mm": float(np.sum(d["surfel_areas_pred"])),
                "added_mm": added,
            }
        )
    return {
        "tolerance_mm": tolerance,
        "total_mm": float(sum(s["added_mm"] for s in slices)),
        "slices": slices,
    }


def case_record(name, reference, test, spacing, note):
    with np.errstate(divide="ignore", invalid="ignore"):
        d = sd.compute_surface_distances(reference, test, spacing)
        directions = {}
        for key, dist_key, area_key in (
            ("reference_to_test", "distances_gt_to_pred", "surfel_areas_gt"),
            ("test_to_reference", "distances_pred_to_gt", "surfel_areas_pred"),
        ):
            dist = d[dist_key]
            area = d[area_key]
            single = one_direction(dist, area)
            record = {
                "surfels": int(len(dist)),
                "total_area_mm2": num(np.sum(area)),
                "percentiles": [
                    {"percent": p, "value": num(sd.compute_robust_hausdorff(single, p))} for p in PERCENTILES
                ],
            }
            if len(dist) <= FULL_ARRAYS_UP_TO:
                record["distances_mm"] = [num(v) for v in dist]
                record["areas_mm2"] = [num(v) for v in area]
            directions[key] = record
        average = sd.compute_average_surface_distance(d)
        symmetric_mean = (np.sum(d["distances_gt_to_pred"] * d["surfel_areas_gt"]) + np.sum(
            d["distances_pred_to_gt"] * d["surfel_areas_pred"]
        )) / (np.sum(d["surfel_areas_gt"]) + np.sum(d["surfel_areas_pred"]))
        at_tolerance = []
        for tolerance in TOLERANCES_MM:
            overlap = sd.compute_surface_overlap_at_tolerance(d, tolerance)
            at_tolerance.append(
                {
                    "tolerance_mm": tolerance,
                    "surface_overlap": [num(overlap[0]), num(overlap[1])],
                    "surface_dice": num(sd.compute_surface_dice_at_tolerance(d, tolerance)),
                    "added_path_length": added_path_length(reference, test, spacing, tolerance),
                }
            )
        record = {
            "name": name,
            "note": note,
            "dims": list(reference.shape),
            "spacing_mm": list(spacing),
            "reference_rle": rle_fast(reference),
            "test_rle": rle_fast(test),
            "average_surface_distance": [num(average[0]), num(average[1])],
            "symmetric_mean_surface_distance": num(symmetric_mean),
            "hausdorff_100": num(sd.compute_robust_hausdorff(d, 100)),
            "hausdorff_95": num(sd.compute_robust_hausdorff(d, 95)),
            "directions": directions,
            "at_tolerance": at_tolerance,
            "volumetric_dice": num(sd.compute_dice_coefficient(reference, test)),
        }
    union = int(np.sum(reference | test))
    intersection = int(np.sum(reference & test))
    record["intersection_voxels"] = intersection
    record["union_voxels"] = union
    record["jaccard"] = num(intersection / union) if union else None
    voxel_mm3 = np.prod(np.asarray(spacing, dtype=np.float64))
    for key, mask in (("reference", reference), ("test", test)):
        count = int(mask.sum())
        centroid = None
        if count:
            centroid = [num(v) for v in np.argwhere(mask).mean(axis=0) * np.asarray(spacing)]
        record[key] = {"voxel_count": count, "volume_cc": num(count * voxel_mm3 / 1000.0), "centroid_mm": centroid}
    assert rle(reference[:2]) == rle_fast(reference[:2])
    return record


def tables():
    out = []
    for spacing in [(1.0, 1.0, 1.0), (2.0, 1.0, 1.0), (3.0, 2.0, 1.0), (2.5, 0.9, 0.9), (1.25, 0.6, 0.7)]:
        out.append(
            {
                "spacing_mm": list(spacing),
                "surface_area": [num(v) for v in lookup_tables.create_table_neighbour_code_to_surface_area(spacing)],
                "contour_length": [
                    num(v) for v in lookup_tables.create_table_neighbour_code_to_contour_length(spacing[1:])
                ],
            }
        )
    return out


def deepmind_two_dimensional_checks():
    """DeepMind's own 2-D test expectations, checked here so the fixture file
    states that the installed package reproduces them."""
    a = np.zeros((128, 128), bool)
    b = np.zeros((128, 128), bool)
    a[50, 70] = True
    b[50, 72] = True
    d = sd.compute_surface_distances(a, b, (2, 1))
    assert list(d["distances_gt_to_pred"]) == [1.0, 1.0, 2.0, 2.0]


def dump(value, indent=0):
    """JSON with indented objects and one-line arrays of scalars."""
    pad = "  " * indent
    if isinstance(value, dict):
        items = [f'{pad}  {json.dumps(k)}: {dump(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return "[" + ", ".join(dump(v) for v in value) + "]"
        items = [f"{pad}  {dump(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value)


def main():
    deepmind_two_dimensional_checks()
    records = [case_record(*case) for case in cases()]
    names = [r["name"] for r in records]
    assert len(set(names)) == len(names)
    cube = next(r for r in records if r["name"] == "deepmind_cubes_shifted_by_one")
    # DeepMind's stated expectations, to 3 decimals.
    assert round(cube["average_surface_distance"][0], 3) == 0.322
    assert round(cube["average_surface_distance"][1], 3) == 0.339
    assert cube["hausdorff_100"] == 2.0 and cube["hausdorff_95"] == 2.0
    assert [round(v, 3) for v in cube["at_tolerance"][1]["surface_overlap"]] == [0.842, 0.830]
    assert round(cube["at_tolerance"][1]["surface_dice"], 3) == 0.836
    assert round(cube["volumetric_dice"], 3) == 0.990
    document = {
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "surface_distance": "0.1",
        },
        "tables": tables(),
        "cases": records,
    }
    OUT.write_text(dump(document) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(records)} cases)")


if __name__ == "__main__":
    main()
