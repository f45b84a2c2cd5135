"""A fast file cache of street networks: the arrays in one ``.npz``, keyed by their source."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import shapely

from cfplan.geo.io import atomic_write_bytes
from cfplan.geo.street_network import StreetNetwork, street_network_from_arrays

__all__ = ["CACHE_FORMAT", "file_digest", "load_network", "network_key", "save_network",
           "stored_key"]

CACHE_FORMAT = 1  # bump when the file layout changes


def file_digest(path: str | Path, *, chunk: int = 1 << 22) -> str:
    """Return the SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def network_key(source: str, **params: object) -> str:
    """Return the cache key of a network: its source (a content hash, a place) and options.

    Parameters
    ----------
    source
        What the network was built from: ``file_digest`` of the OSM file, or a place name.
    **params
        Everything else that changes the arrays (loader version, network type, CRS …),
        as JSON-serialisable values.

    Returns
    -------
    str
        A SHA-256 hex digest.
    """
    text = json.dumps({"source": source, "format": CACHE_FORMAT, **params}, sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _code_dtype(n: int) -> type[np.integer]:
    return np.int8 if n < 127 else np.int16 if n < 32_767 else np.int32


def _frame_arrays(prefix: str, frame: pd.DataFrame | None) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if frame is None:
        return out
    out[f"{prefix}__columns"] = np.array(list(frame.columns), dtype=str)
    for i, col in enumerate(frame.columns):
        values = frame[col]
        if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
            cat = pd.Categorical(values.astype(object).where(values.notna(), None))
            out[f"{prefix}{i}_codes"] = cat.codes.astype(_code_dtype(len(cat.categories)))
            out[f"{prefix}{i}_cats"] = np.array([str(c) for c in cat.categories], dtype=str)
        else:
            out[f"{prefix}{i}_values"] = values.to_numpy()
    return out


def _frame_from(prefix: str, data: np.lib.npyio.NpzFile) -> pd.DataFrame | None:
    if f"{prefix}__columns" not in data:
        return None
    frame = {}
    for i, col in enumerate(data[f"{prefix}__columns"].tolist()):
        if f"{prefix}{i}_codes" in data:
            cats = pd.Index(data[f"{prefix}{i}_cats"].tolist(), dtype=object)
            frame[col] = pd.Categorical.from_codes(data[f"{prefix}{i}_codes"], categories=cats)
        else:
            frame[col] = data[f"{prefix}{i}_values"]
    return pd.DataFrame(frame)


def save_network(network: StreetNetwork, path: str | Path, *, key: str) -> Path:
    """Write ``network`` to an uncompressed ``.npz`` file, atomically, tagged with ``key``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    coords, owner = shapely.get_coordinates(network.edge_geometry, return_index=True)
    arrays = {
        "key": np.array(key), "crs": np.array(network.crs.to_wkt()),
        "node_ids": network.node_ids, "x": network.x, "y": network.y,
        "edge_u": network.edge_u, "edge_v": network.edge_v, "edge_length": network.edge_length,
        "coords": coords,
        "coord_owner": owner.astype(np.int32 if network.n_edges < 2**31 else np.int64),
        **_frame_arrays("edge_tags", network.edge_tags),
        **_frame_arrays("node_tags", network.node_tags),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return atomic_write_bytes(path, buffer.getvalue(), confined=False)  # a cache, not an output


def stored_key(path: str | Path) -> str | None:
    """Return the key a cache file was written with (reads only that), ``None`` if unreadable."""
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            return str(data["key"])
    except (OSError, ValueError, KeyError):
        return None


def load_network(path: str | Path, *, key: str) -> StreetNetwork | None:
    """Read a network written by :func:`save_network` if its key is ``key``.

    Returns
    -------
    StreetNetwork or None
        The network (same arrays, lengths in metres), or ``None`` when the file is missing,
        unreadable, of another format, or was built from another source or with other
        options (a stale cache).
    """
    path = Path(path)
    if not path.is_file() or stored_key(path) != key:
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            geometry = shapely.linestrings(data["coords"], indices=data["coord_owner"])
            return street_network_from_arrays(
                x=data["x"], y=data["y"], edge_u=data["edge_u"], edge_v=data["edge_v"],
                edge_length=data["edge_length"], edge_geometry=geometry,
                node_ids=data["node_ids"], edge_tags=_frame_from("edge_tags", data),
                node_tags=_frame_from("node_tags", data),
                crs=pyproj.CRS.from_wkt(str(data["crs"])))
    except (OSError, ValueError, KeyError):
        return None
