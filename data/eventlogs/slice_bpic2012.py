"""Cut ``bpic2012_slice.xes.gz`` from ``BPI_Challenge_2012.xes.gz``: every 40th case.

The studio's browser test uploads an event log and compares the journey the page discovers
with ``cxsim-discover``'s; the full log (3.3 MB, 13,087 cases) makes that test slow. Every
40th case, in the file's order (which is the order the applications arrived in), keeps the
whole period (October 2011 to March 2012, so a split in the middle leaves months of later
cases) and the process's mix of paths, at about a fortieth of the size. Each kept trace is
copied unchanged, line for line; the log's header keeps its extensions, globals and
classifiers and drops the whole log's statistics (``meta_*``), which a slice would
contradict.

Run from the repository's root: ``python data/eventlogs/slice_bpic2012.py``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "BPI_Challenge_2012.xes.gz"
SLICE = HERE / "bpic2012_slice.xes.gz"
EVERY = 40
HEADER = ("<?xml", "<log", "\t<extension", "\t<global", "\t\t<", "\t</global", "\t<classifier")


def cut(source: Path = SOURCE, every: int = EVERY) -> bytes:
    """The XES text of every *every*-th trace of *source*, the first kept, under its header."""
    lines = gzip.decompress(source.read_bytes()).decode("utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("\t<trace>"))
    header = []
    for line in lines[:first]:
        if line.startswith("\t<") and not line.startswith(HEADER):
            break  # the log's statistics begin: the rest of the header is them
        header.append(line)
    header.insert(1, f"<!-- Every {every}th case of BPI_Challenge_2012.xes.gz (van Dongen "
                     "2012), traces unchanged: data/eventlogs/slice_bpic2012.py -->\n")
    out, trace, number = [], [], 0
    for line in lines[first:]:
        if line.startswith("\t<trace>"):
            trace = []
        trace.append(line)
        if line.startswith("\t</trace>"):
            if number % every == 0:
                out += trace
            number += 1
    return "".join([*header, *out, "</log>\n"]).encode("utf-8")


def main() -> None:
    data = gzip.compress(cut(), compresslevel=9, mtime=0)  # the same bytes on every run
    SLICE.write_bytes(data)
    print(f"{SLICE.name}: {len(data):,} bytes")


if __name__ == "__main__":
    main()
