"""Side-by-side benchmark of hat-event-c against hat-event 0.9.44 (SPEC §12).

Run it through `benches/run`, which builds the release library and the
Rust worker first:

    benches/run [--quick] [--rounds N] [--update-readme] [filter]

What it does: writes every case's input once to a data directory (event
types one per line, segments tab-separated; SBS bytes and JSON text
produced by hat-event itself), then starts three worker processes that read
those same files:

    ours  benches/compare.rs          our library through the C ABI (Rust
                                      calling the extern "C" functions)
    hat   benches/compare_py.py hat   hat-event as its users call it
                                      (Python with its C extensions)
    py    benches/compare_py.py py    our library from Python through cffi,
                                      in several forms (one call per item,
                                      reusable handles, one batch call)

For each case every side first runs one untimed pass (set-up, warm-up,
calibration: a round repeats the pass until it lasts about --target-ms),
then the sides take turns round by round (the starting side rotates), so
that load from elsewhere on the machine falls on all of them alike. The
result per side is the median ns per operation over the rounds. Every side
also returns a check value per pass (hits, values found, bytes written):
they must agree, or the run stops.

Per case it prints

    BENCH <case> ours_ns=<x> hat_ns=<y> speedup=<y/x> py_ns=<z> [py_<form>_ns=...]

and at the end a markdown table (also written to bench-compare.md next to
the data directory, by default target/bench-compare.md;
with --update-readme, into README.md between the bench markers).
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import random
import re
import statistics
import subprocess
import sys
import time

from hat_subscription import hat_event_types     # hat-event's own generator, one copy

ROOT = pathlib.Path(__file__).resolve().parents[1]
SEED = 0xbe4c4e2026

# Python forms of our library measured per case kind (see compare_py.py).
PY_FORMS = {
    'sub_matches': ['one', 'handle', 'batch', 'views'],
    'coll_get': ['one', 'prebuilt', 'batch', 'views'],
    'engine_register': ['one', 'prebuilt'],
    'fanout_match': ['one', 'handle'],
    'fanout_coll': ['one', 'handle'],
}
FORM_LABEL = {'one': 'py', 'prebuilt': 'py_prebuilt', 'handle': 'py_handle',
              'batch': 'py_batch', 'views': 'py_views'}


# --- workloads ----------------------------------------------------------------

NATS_TOKENS = ['synadia', 'nats', 'jetstream', 'nkeys', 'jwt', 'deny', 'auth',
               'drain']
NATS_WILDCARDS = [('cloud', '*'), ('cloud', 'nats', 'component', '*'),
                  ('cloud', '?', '?', 'nkeys', '?')]
# nats-server's sublist benchmarks (server/sublist_test.go): name, subject.
NATS_QUERIES = [
    ('1_token', ('synadia',)),
    ('3_tokens', ('synadia', 'nats', 'jetstream')),
    ('4_tokens', ('synadia', 'nats', 'jetstream', 'nkeys')),
    ('5_tokens', ('synadia', 'nats', 'jetstream', 'nkeys', 'jwt')),
    ('multi_result', ('cloud', 'nats', 'component', 'router')),
    ('miss_last_of_5', ('synadia', 'nats', 'jetstream', 'nkeys', 'ZZZZ')),
]


def nats_types():
    """Every subject of 1 to 5 tokens over 8 tokens (37,448), as
    nats-server's subsInit, in its order."""
    out = []

    def rec(prefix):
        for t in NATS_TOKENS:
            out.append(prefix + (t,))
            if len(prefix) + 1 < 5:
                rec(prefix + (t,))
    rec(())
    return out


class Data:
    """Writes datasets to the data directory on first use; returns names."""

    def __init__(self, directory):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.written = set()
        self.rng = random.Random(SEED)

    def types(self, name, make):
        if name not in self.written:
            text = ''.join('\t'.join(t) + '\n' for t in make())
            (self.dir / f'{name}.types').write_text(text, encoding='utf-8')
            self.written.add(name)
        return name

    def generated(self, size, count):
        return self.types(f'gen-{size}-{count}',
                          lambda: hat_event_types(size, count))

    def shuffled(self, size, count):
        def make():
            t = hat_event_types(size, count)
            random.Random(f'{SEED}-{size}-{count}').shuffle(t)
            return t
        return self.types(f'shuf-{size}-{count}', make)

    def sbs(self):
        if 'sbs' not in self.written:
            from hat import json as hat_json
            from hat.event.manager import common as manager
            from hat.event import common
            from hat_sbs import typical_event    # the per-side benchmark's event
            repo = common.sbs_repo
            event = typical_event()
            result = common.QueryResult(
                events=[typical_event(i) for i in range(1000)],
                more_follows=False)
            (self.dir / 'event.sbs').write_bytes(
                repo.encode('HatEventer.Event', common.event_to_sbs(event)))
            (self.dir / 'result.sbs').write_bytes(
                repo.encode('HatEventer.QueryResult',
                            common.query_result_to_sbs(result)))
            (self.dir / 'result.json').write_text(
                hat_json.encode(manager.query_result_to_json(result)),
                encoding='utf-8')
            self.written.add('sbs')


def cases(data, quick):
    """Every case: (name, request). The request is what every worker gets."""
    out = []
    counts = (10_000,) if quick else (10_000, 100_000)
    sizes = (1, 3, 10) if quick else (1, 3, 5, 10)
    for size in sizes:
        for count in counts:
            gen = data.generated(size, count)
            out.append((f'subscription_create size={size} count={count}',
                        {'kind': 'sub_create', 'types': gen}))
            for order in ('generated', 'shuffled'):
                queries = gen if order == 'generated' else data.shuffled(size, count)
                out.append((f'subscription_matches size={size} count={count} order={order}',
                            {'kind': 'sub_matches', 'sub': gen, 'queries': queries}))
            if size >= 3 and count == counts[-1]:
                # Misses at the first and at the last segment, against a
                # subscription with 1% of ('?', 'segment 1', '*') mixed in.
                def wild(size=size, count=count):
                    t = hat_event_types(size, count)
                    for i in range(0, count, 100):
                        t[i] = ('?', 'segment 1', '*')
                    return t

                def misses(size=size, count=count):
                    out = []
                    for i, t in enumerate(hat_event_types(size, count)):
                        t = list(t)
                        if i % 2 == 0:
                            t[0] = 'nope'
                        else:
                            t[-1] = 'nope'
                        if t[1] == 'segment 1':
                            t[1] = 'segment x'
                        out.append(tuple(t))
                    return out
                out.append((f'subscription_misses size={size} count={count} wild=1%',
                            {'kind': 'sub_matches',
                             'sub': data.types(f'wild-{size}-{count}', wild),
                             'queries': data.types(f'miss-{size}-{count}', misses)}))

    # Set operations on two 10,000-type subscriptions sharing half their types.
    a = data.types('setops-a', lambda: hat_event_types(3, 15_000)[:10_000])
    b = data.types('setops-b', lambda: hat_event_types(3, 15_000)[5_000:])
    for op in ('union', 'intersection', 'isdisjoint'):
        out.append((f'subscription_{op} count=10000+10000',
                    {'kind': f'sub_{op}', 'a': a, 'b': b}))

    # Tree collection: one value per time series ('a', 'b', 'c', str(i)).
    for series in (100, 14_000):
        gen = data.types(f'series-{series}',
                         lambda series=series: [('a', 'b', 'c', str(i)) for i in range(series)])

        def shuf(series=series):
            t = [('a', 'b', 'c', str(i)) for i in range(series)]
            random.Random(f'{SEED}-series-{series}').shuffle(t)
            return t
        shuffled = data.types(f'series-{series}-shuf', shuf)
        for order, queries in (('generated', gen), ('shuffled', shuffled)):
            out.append((f'collection_get series={series} order={order}',
                        {'kind': 'coll_get', 'subs': gen, 'queries': queries,
                         'repeat': 1}))
        if series == 14_000:
            out.append(('collection_churn series=14000 add_remove_per_100_gets=1',
                        {'kind': 'coll_churn', 'subs': gen, 'queries': shuffled,
                         'extra': data.types('churn-extra', lambda: [('a', 'b', 'c', 'extra')])}))

    # Fan-out: 2,000 of 3,000 subscribers reached through '*' and '?' paths.
    def fanout():
        subs = []
        for i in range(1000):
            subs.append(('a', '*'))
            subs.append(('a', '?', 'c', '?' if i % 2 == 0 else '*'))
            subs.append(('a', 'x', str(i)))
        return subs
    out.append(('collection_fanout values=2000',
                {'kind': 'coll_get', 'subs': data.types('fanout-subs', fanout),
                 'queries': data.types('fanout-query', lambda: [('a', 'b', 'c', 'd')]),
                 'repeat': 1000}))

    # A server's fan-out (hat's eventer server, `notify`): each event is
    # matched against every client's subscription (two query types each; one
    # client in 50 takes everything), or looked up in a collection of them.
    # One operation is one event against every client.
    def fanout_clients(n):
        out = []
        for i in range(n):
            out += ([('*',), ('*',)] if i % 50 == 0 else
                    [('gw', str(i % 25), '*'), ('ui', '?', str(i), '*')])
        return out
    fan_events = data.types('fanout-events', lambda: [('gw', str(k % 25), 'dev', str(k), 'value')
                                                      for k in range(100)])
    for n in (100, 1000):
        clients = data.types(f'fanout-clients-{n}', lambda n=n: fanout_clients(n))
        for kind, label in (('fanout_match', 'server_fanout_matches'), ('fanout_coll', 'server_fanout_collection')):
            out.append((f'{label} clients={n}',
                        {'kind': kind, 'clients': clients, 'per_client': 2, 'events': fan_events}))

    # NATS-style: nats-server's sublist benchmark data, one subscriber per
    # subject ('>' is '*', '*' is '?'), looked up one subject at a time.
    subs = data.types('nats-subs', lambda: nats_types() + NATS_WILDCARDS)
    for name, q in NATS_QUERIES:
        out.append((f'nats_collection_get types=37451 query={name}',
                    {'kind': 'coll_get', 'subs': subs,
                     'queries': data.types(f'nats-q-{name}', lambda q=q: [q]),
                     'repeat': 1000}))
    mix = data.types('nats-mix', lambda: [q for _, q in NATS_QUERIES])
    out.append(('nats_subscription_matches types=37451 queries=6',
                {'kind': 'sub_matches', 'sub': subs, 'queries': mix}))

    data.sbs()
    for kind in ('sbs_event_encode', 'sbs_event_decode',
                 'sbs_result_encode', 'sbs_result_decode',
                 'json_result_encode'):
        name = kind.replace('result', 'query_result') + (
            '' if 'event_' in kind else ' events=1000')
        out.append((name, {'kind': kind}))

    # The engine with its memory backend and one module, 1,000 register
    # events per register call (one session). From Python the module is a
    # cffi callback, as hat's module is Python code.
    out.append(('engine_register modules=1 backend=memory events=1000',
                {'kind': 'engine_register', 'events': 1000}))
    return out


# --- workers ------------------------------------------------------------------

class Worker:
    def __init__(self, label, argv):
        self.label = label
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True,
                                     bufsize=1)

    def call(self, request):
        self.proc.stdin.write(json.dumps(request) + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f'{self.label} worker died on {request}')
        reply = json.loads(line)
        if 'error' in reply:
            raise SystemExit(f'{self.label} worker: {reply["error"]} on {request}')
        return reply

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def memory(argv, dataset):
    """Bytes per query type from a fresh process's RSS growth: (right after
    creating the subscription, after malloc_trim)."""
    out = subprocess.run(argv + ['--memory', dataset], capture_output=True,
                         text=True, check=True).stdout
    reply = json.loads(out.strip().splitlines()[-1])
    return reply['bytes_per_type'], reply['trimmed_bytes_per_type']


def backend_memory(argv, count):
    """Bytes per event kept by an engine with the memory backend, from a
    fresh process's RSS growth after malloc_trim (compare.rs and
    compare_py.py measure it the same way)."""
    out = subprocess.run(argv + ['--memory', f'backend-{count}'],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])['bytes_per_event']


# --- report -------------------------------------------------------------------

def fmt_ns(x):
    if x is None:
        return '—'
    if x >= 100_000:
        return f'{x / 1000:,.0f}k'
    if x >= 100:
        return f'{x:,.0f}'
    return f'{x:.1f}'


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return '—'
    r = a / b
    if r < 0.01:
        return f'1/{1 / r:,.0f}x'
    if r < 1:
        return f'{r:.2f}x'
    return f'{r:.1f}x' if r < 100 else f'{r:.0f}x'


def table(results, mem_rows):
    forms = [f for f in ('prebuilt', 'handle', 'batch', 'views')
             if any(f in r['py'] for r in results)]
    head = ['case', 'ours ns', 'hat ns', 'hat/ours', 'py ns', 'hat/py']
    head += [f'{FORM_LABEL[f]} ns' for f in forms]
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '---|' + '---:|' * (len(head) - 1)]
    for r in results:
        row = [r['case'], fmt_ns(r['ours']), fmt_ns(r['hat']),
               fmt_ratio(r['hat'], r['ours']),
               fmt_ns(r['py'].get('one')), fmt_ratio(r['hat'], r['py'].get('one'))]
        row += [fmt_ns(r['py'].get(f)) for f in forms]
        if r.get('note'):
            row[0] += f' ({r["note"]})'
        lines.append('| ' + ' | '.join(row) + ' |')
    if not mem_rows:
        return '\n'.join(lines)
    lines.append('')
    lines.append('| memory | ours bytes | hat bytes | hat/ours |')
    lines.append('|---|---:|---:|---:|')
    for name, ours, hat in mem_rows:
        lines.append(f'| {name} | {fmt_ns(ours)} | {fmt_ns(hat)} | {fmt_ratio(hat, ours)} |')
    return '\n'.join(lines)


def machine():
    model = platform.processor() or platform.machine()
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    rustc = subprocess.run(['rustc', '--version'], capture_output=True,
                           text=True).stdout.strip()
    return (f'{model}, {os.cpu_count()} cores, {platform.system()} '
            f'{platform.release()}; {rustc}; Python {platform.python_version()}')


def update_readme(block):
    readme = ROOT / 'README.md'
    text = readme.read_text(encoding='utf-8')
    begin, end = '<!-- bench-compare:begin -->', '<!-- bench-compare:end -->'
    if begin not in text or end not in text:
        raise SystemExit(f'README.md has no {begin} ... {end} block')
    pattern = re.compile(re.escape(begin) + '.*?' + re.escape(end), re.S)
    readme.write_text(pattern.sub(lambda _: f'{begin}\n{block}\n{end}', text),
                      encoding='utf-8')


# --- main ---------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('filter', nargs='?', help='only cases containing this text')
    p.add_argument('--quick', action='store_true',
                   help='smoke run: small data, one round, short rounds')
    p.add_argument('--rounds', type=int)
    p.add_argument('--target-ms', type=float,
                   help='minimum duration of a round per side')
    p.add_argument('--ours', required=True, help='the Rust worker executable')
    p.add_argument('--lib', required=True, help='libhat_event.so for cffi')
    p.add_argument('--data', default=str(ROOT / 'target' / 'bench-data'))
    p.add_argument('--update-readme', action='store_true')
    args = p.parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    target_ms = args.target_ms or (2 if args.quick else 40)
    started = time.monotonic()

    data = Data(pathlib.Path(args.data))
    all_cases = [(n, r) for n, r in cases(data, args.quick)
                 if not args.filter or args.filter in n]

    py_worker = [sys.executable, str(ROOT / 'benches' / 'compare_py.py')]
    ours_argv = [args.ours, str(data.dir)]
    hat_argv = py_worker + ['hat', str(data.dir)]
    py_argv = py_worker + ['py', str(data.dir), '--lib', args.lib]
    ours = Worker('ours', ours_argv)
    hat = Worker('hat', hat_argv)
    py = Worker('py', py_argv)

    results = []
    for name, request in all_cases:
        pending = request.pop('pending', [])
        forms = [] if 'py' in pending else PY_FORMS.get(request['kind'], ['one'])
        sides = [] if 'ours' in pending else [('ours', ours, None)]
        sides += [('hat', hat, None)] + [(f, py, f) for f in forms]
        base = dict(request, op='run', case=name, target_ms=target_ms)
        checks = {}
        for label, worker, form in sides:
            reply = worker.call(dict(base, form=form, warmup=True))
            checks[label] = reply['check']
        if len(set(map(json.dumps, checks.values()))) != 1:
            raise SystemExit(f'{name}: the sides disagree: {checks}')
        samples = {label: [] for label, _, _ in sides}
        for r in range(rounds):
            k = r % len(sides)
            for label, worker, form in sides[k:] + sides[:k]:
                samples[label].append(worker.call(dict(base, form=form))['ns_per_op'])
        for w in (ours, hat, py):
            w.call({'op': 'done', 'case': name})
        med = {label: statistics.median(v) for label, v in samples.items()}
        res = {'case': name, 'ours': med.get('ours'), 'hat': med['hat'],
               'py': {f: med[f] for f in forms}}
        if pending:
            res['note'] = f'{" and ".join(pending)}: pending'
        results.append(res)
        ours_ns = f'{med["ours"]:.1f}' if 'ours' in med else 'pending'
        speedup = f'{med["hat"] / med["ours"]:.2f}' if 'ours' in med else 'pending'
        extra = ''.join(f' {FORM_LABEL[f]}_ns={med[f]:.1f}' if f != 'one'
                        else f' py_ns={med[f]:.1f}' for f in forms)
        if 'py' in pending:
            extra += ' py_ns=pending'
        print(f'BENCH {name} ours_ns={ours_ns} hat_ns={med["hat"]:.1f} '
              f'speedup={speedup}{extra}', flush=True)

    for w in (ours, hat, py):
        w.close()

    mem_rows = []
    mem_sizes = (3,) if args.quick else (3, 10)
    mem_count = 10_000 if args.quick else 100_000
    for size in mem_sizes:
        name = f'memory_subscription size={size} count={mem_count}'
        if args.filter and args.filter not in name:
            continue
        dataset = data.generated(size, mem_count)
        (o, ot), (h, ht) = memory(ours_argv, dataset), memory(hat_argv, dataset)
        mem_rows.append((f'{name}, bytes per query type, RSS growth', o, h))
        mem_rows.append((f'{name}, same after malloc_trim', ot, ht))
        print(f'BENCH {name} ours_bytes_per_type={o:.1f} '
              f'hat_bytes_per_type={h:.1f} ratio={h / o:.2f} '
              f'ours_trimmed={ot:.1f} hat_trimmed={ht:.1f}', flush=True)
    name = f'memory_backend_event events={mem_count}'
    if not args.filter or args.filter in name:
        o, h = (backend_memory(argv, mem_count) for argv in (ours_argv, hat_argv))
        mem_rows.append((f'{name}, bytes per stored event after malloc_trim', o, h))
        print(f'BENCH {name} ours_bytes_per_event={o:.1f} '
              f'hat_bytes_per_event={h:.1f} ratio={h / o:.2f}', flush=True)

    elapsed = time.monotonic() - started
    mode = ' --quick' if args.quick else ''
    flt = f' {args.filter}' if args.filter else ''
    block = '\n'.join([
        f'`benches/run{mode}{flt}`, {datetime.date.today().isoformat()}, '
        f'{rounds} rounds, median ns per operation ({elapsed / 60:.1f} min).',
        f'Machine: {machine()}.',
        '',
        table(results, mem_rows)])
    print()
    print(block)
    out = data.dir.parent / 'bench-compare.md'
    out.write_text(block + '\n', encoding='utf-8')
    if args.update_readme:
        update_readme(block)


if __name__ == '__main__':
    main()
