"""Files a design leaves with: STL, GLB and 3MF meshes, a CSV of all trials, a JSON spec that rebuilds it.

3MF is written here directly (a zip holding one XML model, per the 3MF core specification) rather than
through trimesh, whose 3MF writer needs lxml and networkx for what is a few lines of XML.

Example:
    >>> data = export_mesh(mesh, "3mf")
    >>> spec = design_spec("beam", params, material)
    >>> mesh_again = rebuild(spec)
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any, Literal, get_args
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import trimesh

from domains.manufacturing.materials import Material
from domains.manufacturing.parts import get_family
from shared_models.exceptions import InputError

__all__ = ["MESH_FORMATS", "MeshFormat", "design_spec", "export_mesh", "rebuild", "trials_csv"]

MeshFormat = Literal["stl", "glb", "3mf"]
MESH_FORMATS: tuple[str, ...] = get_args(MeshFormat)
SPEC_VERSION = 1
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
    'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>'
)


def _three_mf(mesh: trimesh.Trimesh, name: str) -> bytes:
    vertices = "".join(
        f'<vertex x="{x:.6g}" y="{y:.6g}" z="{z:.6g}"/>' for x, y, z in np.asarray(mesh.vertices)
    )
    triangles = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in np.asarray(mesh.faces))
    model = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<model unit="millimeter" xml:lang="en-US" '
        'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
        f'<metadata name="Title">{escape(name)}</metadata>'
        f'<resources><object id="1" type="model" name="{escape(name)}"><mesh>'
        f"<vertices>{vertices}</vertices><triangles>{triangles}</triangles>"
        '</mesh></object></resources><build><item objectid="1"/></build></model>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("3D/3dmodel.model", model)
    return buffer.getvalue()


def export_mesh(mesh: trimesh.Trimesh, fmt: str, name: str = "part") -> bytes:
    """The mesh as a file (millimetres).

    Args:
        mesh: A watertight part.
        fmt: "stl" (binary), "glb" (glTF binary) or "3mf".
        name: Object name stored in formats that keep one.
    """
    if fmt not in MESH_FORMATS:
        raise InputError(f"unknown mesh format {fmt!r}; available: {list(MESH_FORMATS)}")
    if fmt == "3mf":
        return _three_mf(mesh, name)
    data = mesh.export(file_type=fmt)
    return data if isinstance(data, bytes) else data.encode()


def trials_csv(trials: pd.DataFrame) -> bytes:
    """All trials of a study as CSV (one row per trial, parameters and metrics as columns)."""
    return trials.to_csv(index=False).encode("utf-8")


def design_spec(
    family: str,
    params: dict[str, Any],
    material: Material,
    load_n: float | None = None,
    load_case: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A JSON document that `rebuild` turns back into the same mesh (and says how it was checked)."""
    resolved = get_family(family).resolve(params)
    document = {
        "kind": "aigc-part-design",
        "version": SPEC_VERSION,
        "family": family,
        "params": resolved,
        "material": material.to_dict(),
        "load_n": load_n,
        "load_case": load_case,
        **(extra or {}),
    }
    return json.dumps(document, indent=2, default=float)


def rebuild(spec: str | bytes | dict[str, Any]) -> trimesh.Trimesh:
    """The mesh described by a `design_spec` document.

    Raises:
        InputError: Not a design spec, a newer version, or parameters the family cannot build.
    """
    try:
        document = json.loads(spec) if isinstance(spec, str | bytes) else dict(spec)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"the design spec is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("kind") != "aigc-part-design":
        raise InputError("not a part-design spec (missing kind 'aigc-part-design')")
    if int(document.get("version", 0)) > SPEC_VERSION:
        raise InputError(f"the spec is version {document['version']}; this suite reads up to {SPEC_VERSION}")
    return get_family(str(document.get("family"))).build(dict(document.get("params") or {}))
