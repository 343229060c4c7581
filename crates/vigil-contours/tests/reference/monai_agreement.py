#!/usr/bin/env python3
"""MONAI's sub-voxel surface Dice on the cases of fixtures.json, for the
side-by-side agreement test (tests/monai.rs).

MONAI's `compute_surface_dice(..., use_subvoxels=True)` follows DeepMind's
definition (surface elements at voxel corners weighted by their area), so
where both masks have a surface the two must agree; MONAI computes in
float32 tensors, so agreement is to about 1e-6, not to the last bit.
Cases where a mask is empty are left out (MONAI answers NaN or 0 by its own
conventions, which the crate documents against DeepMind's instead).

Re-run from the workspace root (Debian/Ubuntu; PyTorch from PyPI):

    python3 -m venv /tmp/monai-venv \\
      && /tmp/monai-venv/bin/pip install -r crates/vigil-contours/tests/reference/requirements-monai.txt \\
      && /tmp/monai-venv/bin/python crates/vigil-contours/tests/reference/monai_agreement.py

Writes monai.json next to this file, floats as Python's repr.
"""

from __future__ import annotations

import json
import pathlib

import monai
import numpy as np
import torch
from monai.metrics import compute_surface_dice

HERE = pathlib.Path(__file__).resolve().parent
TOLERANCES_MM = [1.0, 2.0, 3.5]


def decode(runs: list[int], dims: list[int]) -> np.ndarray:
    """Run lengths starting with a run of zeros, as generate.py writes them."""
    flat = np.zeros(int(np.prod(dims)), dtype=bool)
    position = 0
    value = False
    for run in runs:
        if value:
            flat[position : position + run] = True
        position += run
        value = not value
    return flat.reshape(dims)


def one_hot(mask: np.ndarray) -> torch.Tensor:
    """[batch 1, classes (background, structure), z, y, x]."""
    structure = torch.from_numpy(mask.astype(np.float32))
    return torch.stack([1.0 - structure, structure])[None]


def main() -> None:
    fixtures = json.loads((HERE / "fixtures.json").read_text())
    records = []
    for case in fixtures["cases"]:
        dims = case["dims"]
        reference = decode(case["reference_rle"], dims)
        test = decode(case["test_rle"], dims)
        if not reference.any() or not test.any():
            continue
        for tolerance in TOLERANCES_MM:
            value = compute_surface_dice(
                one_hot(test),
                one_hot(reference),
                class_thresholds=[tolerance],
                include_background=False,
                spacing=tuple(case["spacing_mm"]),
                use_subvoxels=True,
            )
            records.append(
                {
                    "name": case["name"],
                    "tolerance_mm": tolerance,
                    "surface_dice": float(value.reshape(-1)[0]),
                }
            )
    output = {
        "versions": {"monai": monai.__version__, "torch": torch.__version__, "numpy": np.__version__},
        "cases": records,
    }
    (HERE / "monai.json").write_text(json.dumps(output, indent=1) + "\n")
    print(f"wrote {len(records)} values to monai.json")


if __name__ == "__main__":
    main()
