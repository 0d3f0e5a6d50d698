#!/usr/bin/env python3
"""bench/walpages.py: which tables and indexes a SQLite write-ahead log's frames wrote.

    bench/walpages.py DB-WAL-FILE COPY-OF-DB [WORKFLOWS]

Reads the frames of the WAL's current generation (those whose salt matches its header), maps each frame's
page to the table or index that holds it now through SQLite's dbstat table (COPY-OF-DB: a copy of the
database with that WAL beside it, as COPY-OF-DB-wal, so that dbstat sees the pages as the log left them), and
prints frames per b-tree and per workflow. To see everything a run wrote, run swfd with a checkpoint interval
too large to be reached and stop it with kill -9 (see BENCHMARKS.md).
"""
import collections
import sqlite3
import struct
import sys

wal = open(sys.argv[1], "rb").read()
_, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">8I", wal[:32])
frames, commits, off = [], 0, 32
while off + 24 + page_size <= len(wal):
    page, db_size, s1, s2 = struct.unpack(">4I", wal[off:off + 16])
    if (s1, s2) != (salt1, salt2):
        break
    frames.append(page)
    commits += db_size != 0
    off += 24 + page_size
workflows = int(sys.argv[3]) if len(sys.argv) > 3 else 1
print(f"page size {page_size}, {len(frames)} frames in {commits} commits, {len(frames) / workflows:.1f} per workflow")
owner = {p: (name, kind) for name, p, kind in sqlite3.connect(sys.argv[2]).execute("SELECT name, pageno, pagetype FROM dbstat")}
counts = collections.Counter(owner.get(p, ("?", "")) for p in frames)
for (name, kind), n in counts.most_common():
    print(f"{n:8d} {n / workflows:7.2f} per workflow  {name} ({kind})")
