"""The .wbsession format: round trip, atomic writes, newer versions, damage, copies."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from workbench.errors import WorkbenchError
from workbench.io import session as fmt


def _write(tmp_path, **kw):
    path = tmp_path / "s.wbsession"
    manifest = fmt.new_manifest(window={"tab": "Attribution"},
                                inputs=[{"path": "/x/a.png", "name": "a.png"}],
                                model={"spec": "digits_lenet", "device": "cpu"},
                                tabs={"Attribution": {"method": "gradcam", "target": 3}})
    arrays = kw.get("arrays", {"Attribution/heat": np.arange(12, dtype=np.float32).reshape(3, 4),
                               "Occlusion/mask": np.eye(3, dtype=bool)})
    fmt.write_session(path, manifest, arrays, kw.get("copies"))
    return path, manifest, arrays


def test_round_trip(tmp_path):
    path, manifest, arrays = _write(tmp_path)
    read, got, problems = fmt.read_session(path)
    assert problems == []
    assert read == json.loads(json.dumps(manifest))
    assert read["format_version"] == fmt.FORMAT_VERSION and read["created"]
    assert set(got) == set(arrays)
    for key, array in arrays.items():
        assert got[key].dtype == array.dtype
        np.testing.assert_array_equal(got[key], array)
    names = zipfile.ZipFile(path).namelist()
    assert "manifest.json" in names and "arrays/Attribution/heat.npy" in names


def test_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path):
    path, _, _ = _write(tmp_path)
    before = path.read_bytes()

    class Boom:  # np.asarray of this is an object array: refused mid-write
        pass

    with pytest.raises(WorkbenchError):
        fmt.write_session(path, fmt.new_manifest(), {"A/ok": np.zeros(3), "A/bad": Boom()})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_bad_array_names_are_refused(tmp_path):
    for key in ("../evil", "a/../b", "noslash", "a/b/c"):
        with pytest.raises(WorkbenchError):
            fmt.write_session(tmp_path / "x.wbsession", fmt.new_manifest(), {key: np.zeros(1)})


def test_newer_version_opens_what_it_can(tmp_path):
    path, manifest, _ = _write(tmp_path)
    raw = dict(manifest, format_version=fmt.FORMAT_VERSION + 1, workbench_version="9.0",
               future={"x": 1})
    _rewrite_manifest(path, json.dumps(raw))
    read, arrays, problems = fmt.read_session(path)
    assert len(problems) == 1 and "9.0" in problems[0]
    assert "format 2" in problems[0] and read["tabs"]["Attribution"]["target"] == 3
    assert "Attribution/heat" in arrays


def _rewrite_manifest(path, text):
    members = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            members[name] = archive.read(name)
    members["manifest.json"] = text.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_corrupt_zip_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.wbsession"
    path.write_bytes(content)
    with pytest.raises(WorkbenchError, match="bad.wbsession"):
        fmt.read_session(path)


def test_truncated_session_is_a_clear_error(tmp_path):
    path, _, _ = _write(tmp_path)
    path.write_bytes(path.read_bytes()[: 40])
    with pytest.raises(WorkbenchError, match="not a Workbench session"):
        fmt.read_session(path)


def test_missing_or_bad_manifest(tmp_path):
    path = tmp_path / "m.wbsession"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("arrays/A/x.npy", b"")
    with pytest.raises(WorkbenchError, match="manifest"):
        fmt.read_session(path)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", "{not json")
    with pytest.raises(WorkbenchError, match="not JSON"):
        fmt.read_session(path)
    with pytest.raises(WorkbenchError, match="no such file"):
        fmt.read_session(tmp_path / "absent.wbsession")


def test_bad_and_pickled_arrays_are_per_item_problems(tmp_path):
    path, _, _ = _write(tmp_path)
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("arrays/Attribution/garbage.npy", b"\x93NUMPY rubbish")
        archive.writestr("arrays/Embeddings/pickled.npy", pickled.getvalue())
    _, arrays, problems = fmt.read_session(path)
    assert "Attribution/heat" in arrays and "Occlusion/mask" in arrays
    assert "Attribution/garbage" not in arrays and "Embeddings/pickled" not in arrays
    assert len(problems) == 2
    assert any("garbage" in p for p in problems) and any("pickled" in p for p in problems)
    assert any("never loaded" in p for p in problems)


def test_missing_sections_default(tmp_path):
    path = tmp_path / "min.wbsession"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format_version": 1, "tabs": []}))
    manifest, arrays, problems = fmt.read_session(path)
    assert manifest["tabs"] == {} and manifest["inputs"] == [] and arrays == {}
    assert problems == []


def test_copies_travel_and_extract(tmp_path):
    source = tmp_path / "photo.png"
    source.write_bytes(b"\x89PNG fake bytes")
    member = fmt.copy_member(0, source)
    path, _, _ = _write(tmp_path, copies={member: str(source)})
    assert member == "inputs/0_photo.png"
    source.unlink()
    out = fmt.extract_copy(path, member, tmp_path / "extracted")
    assert out.read_bytes() == b"\x89PNG fake bytes"
    assert fmt.extract_copy(path, member, tmp_path / "extracted") == out  # reused
    with pytest.raises(WorkbenchError):
        fmt.extract_copy(path, "inputs/9_absent.png", tmp_path / "extracted")
    with pytest.raises(WorkbenchError):
        fmt.extract_copy(path, "../outside.png", tmp_path / "extracted")
