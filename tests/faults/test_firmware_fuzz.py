"""The firmware's frame codec (firmware/walkie/codec.cpp) fuzzed on the host with
libFuzzer for a bounded time: no crash, no sanitizer report, and every frame the
decoder accepts is well formed and survives encode -> decode (see
fuzz/fuzz_codec.cpp). Needs clang, which scripts/setup installs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
FIRMWARE = REPOSITORY / "firmware" / "walkie"
TARGET = Path(__file__).resolve().parent / "fuzz" / "fuzz_codec.cpp"
VECTORS = REPOSITORY / "docs" / "serial-vectors.txt"
FUZZ_SECONDS = 20
"""libFuzzer's -max_total_time: the bound on the run, not a timing assertion."""
BUILD_TIMEOUT = 120.0
RUN_TIMEOUT = FUZZ_SECONDS + 120.0
INPUT_LIMIT = 256
"""Bytes per generated input: several frames of up to 62 bytes with noise between."""
SANITIZERS = "-fsanitize=fuzzer,address,undefined"


def seed_corpus(directory: Path) -> None:
    """Every wire byte string of the shared test vectors, one file each."""
    directory.mkdir()
    for number, line in enumerate(VECTORS.read_text().splitlines()):
        fields = line.split()
        if len(fields) >= 3 and fields[0] in ("frame", "reject", "stream") and fields[2] != "-":
            (directory / f"vector-{number}").write_bytes(bytes.fromhex(fields[2]))


def build(output: Path) -> None:
    compiler = shutil.which("clang++")
    assert compiler is not None, "clang++ not found: scripts/setup installs Debian's clang"
    result = subprocess.run(
        [
            compiler,
            "-std=c++11",
            "-g",
            "-O1",
            SANITIZERS,
            "-fno-sanitize-recover=undefined",
            f"-I{FIRMWARE}",
            str(TARGET),
            str(FIRMWARE / "codec.cpp"),
            "-o",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_firmware_codec_survives_libfuzzer(tmp_path: Path) -> None:
    binary = tmp_path / "fuzz_codec"
    build(binary)
    corpus = tmp_path / "corpus"
    seed_corpus(corpus)
    result = subprocess.run(
        [
            str(binary),
            f"-max_total_time={FUZZ_SECONDS}",
            f"-max_len={INPUT_LIMIT}",
            "-timeout=5",
            "-rss_limit_mb=1024",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    tail = "\n".join(result.stderr.splitlines()[-25:])
    assert result.returncode == 0, f"libFuzzer found a problem:\n{tail}"
    assert "Done" in result.stderr, tail
