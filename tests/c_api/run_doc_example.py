#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs the Python code blocks of a doc page (docs/c_api.md) as written, against the
libshmframe of the build tree, in a feed dir of its own.

    run_doc_example.py DOC.md LIBSHMFRAME.so
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def main():
    doc, library = sys.argv[1], sys.argv[2]
    with open(doc, encoding="utf-8") as file:
        blocks = re.findall(r"```python\n(.*?)```", file.read(), re.S)
    if not blocks:
        print(f"no python code block in {doc}")
        return 1
    feeds = tempfile.mkdtemp(prefix="shmframe-doc-")
    try:
        env = dict(os.environ, SHMFRAME_DIR=feeds, SHMFRAME_LIB=library)
        for number, code in enumerate(blocks, 1):
            result = subprocess.run([sys.executable, "-c", code], env=env, timeout=45,
                                    capture_output=True, text=True)
            print(result.stdout, end="")
            if result.returncode != 0:
                print(f"block {number} of {doc} failed:\n{result.stderr}")
                return 1
        print(f"{len(blocks)} block(s) of {doc} ran")
        return 0
    finally:
        shutil.rmtree(feeds, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
