"""Our LMDB backend beside hat-event's LmdbBackend, in one run: each side in
its own process (so that each peak RSS is its own), the same events and
queries (benches/lmdb.rs, benches/hat_lmdb.py); then our engine on our
backend beside hat's Engine on hat's. Prints a Markdown table.

    cargo bench --bench lmdb --no-run    # builds the Rust side
    .venv/bin/python benches/lmdb_compare.py [--events N] [--stored N]

Cases: register + flush throughput (sessions of 100 events, one flush at
the end), latest query of all 100 types and of one type, a timeseries query
of 1,000 events (a timestamp range) from --stored stored events, file size
per stored event, peak RSS of the process (of these backend cases); the
engine (one module subscribed to ('sensor', '*') deriving nothing) on the
backend in a new file, --events events registered 100 and 1 a call, timed
until the backend reports the last of them flushed (one flush at the end).
"""

import argparse
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def ours_binary():
    out = subprocess.run(['cargo', 'bench', '--locked', '--bench', 'lmdb', '--no-run',
                          '--message-format=json'], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    exes = [json.loads(line).get('executable') for line in out.splitlines() if '"executable"' in line]
    return [e for e in exes if e][-1]


def run(cmd):
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {r['case']: r for r in map(json.loads, filter(str.strip, out.splitlines()))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--events', type=int, default=100_000)
    parser.add_argument('--stored', type=int, default=1_000_000)
    args = parser.parse_args()
    common = ['--events', str(args.events), '--stored', str(args.stored)]
    ours = run([ours_binary(), *common])
    hat = run([sys.executable, str(ROOT / 'benches' / 'hat_lmdb.py'), *common])
    rows = [
        ('register + flush, events/s (100 a session)', 'register_flush', 'events_per_s', True),
        ('latest query, all 100 types, µs', 'latest_all', 'us', False),
        ('latest query, one type, µs', 'latest_one', 'us', False),
        (f'timeseries query, 1,000 of {args.stored:,} stored, µs', 'timeseries_1000', 'us', False),
        ('file size per stored event, bytes', 'file', 'bytes_per_event', None),
        ('peak RSS, MiB', 'rss', 'peak_kib', None),
        ('engine register → flushed, events/s (100 a call)', 'engine_batch_100', 'events_per_s', True),
        ('engine register → flushed, events/s (1 a call)', 'engine_batch_1', 'events_per_s', True),
    ]
    print('| case | ours | hat-event 0.9.44 | ours vs hat |')
    print('| --- | ---: | ---: | ---: |')
    for label, case, key, higher_better in rows:
        a, b = ours[case][key], hat[case][key]
        if key == 'peak_kib':
            a, b = a / 1024, b / 1024
        if higher_better is None:
            ratio = f'{a / b:.2f}x the size'
        elif higher_better:
            ratio = f'{a / b:.1f}x faster'
        else:
            ratio = f'{b / a:.1f}x faster' if a <= b else f'{a / b:.1f}x slower'
        # three significant digits below 100 (a latest query is hundredths of a µs)
        def fmt(x):
            return f'{x:,.0f}' if x >= 100 else f'{x:.3g}'
        print(f'| {label} | {fmt(a)} | {fmt(b)} | {ratio} |')


if __name__ == '__main__':
    main()
