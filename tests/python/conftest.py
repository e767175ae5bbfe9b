# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures of the Python tests: a feed dir per test, and processes killed by pid."""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))

PEER = os.environ.get("SHMFRAME_PY_PEER", "")


@pytest.fixture(autouse=True)
def feed_dir(monkeypatch):
    # Short: socket paths must fit in 108 bytes.
    path = tempfile.mkdtemp(prefix="sfpy-")
    monkeypatch.setenv("SHMFRAME_DIR", path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Processes:
    """Starts processes and kills (by pid) and reaps the ones still running."""

    def __init__(self):
        self.started = []

    def start(self, *args, **kwargs):
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        kwargs.setdefault("text", True)
        process = subprocess.Popen([str(a) for a in args], **kwargs)
        self.started.append(process)
        return process

    def peer(self, *args, **kwargs):
        if not PEER:
            pytest.skip("SHMFRAME_PY_PEER is not set (run through ctest)")
        return self.start(PEER, *args, **kwargs)

    def python(self, code, *args, **kwargs):
        return self.start(sys.executable, "-c", code, *args, **kwargs)

    def close(self):
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)


@pytest.fixture
def processes():
    started = Processes()
    yield started
    started.close()
