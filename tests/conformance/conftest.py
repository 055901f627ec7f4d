"""Conformance suite of hat-event-c against the real hat-event (0.9.44).

The library is loaded with cffi in ABI mode (`ffi.dlopen`). Its declarations
come from the committed header include/hat/event.h, never retyped: the
`#include` lines are dropped, the rest goes through the C preprocessor
(`cc -E -P -`) and into `ffi.cdef()`, followed by the header's plain integer
`#define`s.

Library: $HAT_EVENT_LIB, else target/release/libhat_event.so (built by
`cargo build --release`).

Options: --seed (random seed of every randomized test), --cases (base case
count; timestamp_from_float runs ten times as many). Case counts per area
are printed in the terminal summary.
"""

import enum
import math
import os
import pathlib
import re
import subprocess
import sys

import cffi
import pytest


ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADER = ROOT / 'include' / 'hat' / 'event.h'
DEFAULT_LIB = ROOT / 'target' / 'release' / 'libhat_event.so'
DEFAULT_SEED = 20261128
DEFAULT_CASES = 10_000

_DEFINE_RE = re.compile(r'^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+'
                        r'(-?(?:0[xX][0-9A-Fa-f]+|[0-9]+))[uUlL]*\s*$')


# --- loading -----------------------------------------------------------------

def _cdef_source(header_text):
    lines = header_text.splitlines(keepends=True)
    body = ''.join(line for line in lines
                   if not re.match(r'^\s*#\s*include\b', line))
    cc = os.environ.get('CC', 'cc')
    try:
        res = subprocess.run([cc, '-E', '-P', '-'], input=body,
                             capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise RuntimeError(f'C preprocessor {cc!r} not found: {e}') from e
    if res.returncode != 0:
        raise RuntimeError(f'{cc} -E -P failed on {HEADER}:\n{res.stderr}')
    defines = [f'#define {m.group(1)} {m.group(2)}'
               for m in map(_DEFINE_RE.match, lines) if m]
    return res.stdout + '\n' + '\n'.join(defines) + '\n'


def _load():
    if not HEADER.is_file():
        raise RuntimeError(f'header not found: {HEADER}')
    lib_path = pathlib.Path(os.environ.get('HAT_EVENT_LIB') or DEFAULT_LIB)
    if not lib_path.is_file():
        raise RuntimeError(
            f'hat-event-c library not found at {lib_path}: build it with '
            f'`cargo build --release` in {ROOT} or point HAT_EVENT_LIB at it')
    ffi = cffi.FFI()
    ffi.cdef(_cdef_source(HEADER.read_text(encoding='utf-8')))
    lib = ffi.dlopen(str(lib_path))
    return ffi, lib, lib_path


ffi, lib, LIB_PATH = _load()


# --- helpers -----------------------------------------------------------------

class HatEventError(Exception):
    """A failing hat_event_* call: `status` and the library's message."""

    def __init__(self, status, message):
        super().__init__(f'{_status_name(status)} ({status}): {message}')
        self.status = status
        self.message = message


_STATUS_NAMES = {getattr(lib, n): n for n in dir(lib)
                 if n == 'HAT_EVENT_OK' or n.startswith('HAT_EVENT_ERR_')}


def _status_name(status):
    return _STATUS_NAMES.get(status, f'status {status}')


def check(status):
    """Raises HatEventError (with hat_event_last_error_message()) unless OK."""
    if status != lib.HAT_EVENT_OK:
        msg = ffi.string(lib.hat_event_last_error_message()).decode('utf-8')
        raise HatEventError(status, msg)


def to_bytes(x):
    return x if isinstance(x, bytes) else x.encode('utf-8')


class StrArray:
    """A hat_event_str_t array over the segments of `segments` (a tuple of
    str, or of bytes to pass raw, e.g. invalid UTF-8). Owns the buffers:
    keep this object alive while the library may read `ptr`."""

    __slots__ = ('ptr', 'len', '_keep')

    def __init__(self, segments):
        n = len(segments)
        arr = ffi.new('hat_event_str_t[]', max(n, 1))
        keep = [arr]
        for i, seg in enumerate(segments):
            b = to_bytes(seg)
            buf = ffi.new('char[]', b)     # NUL-terminated copy, len excludes it
            keep.append(buf)
            arr[i].ptr = buf
            arr[i].len = len(b)
        self.ptr = arr
        self.len = n
        self._keep = keep


def str_array(segments):
    return StrArray(tuple(segments))


def str_view(text):
    """(hat_event_str_t value, keepalive) for one string."""
    b = to_bytes(text)
    buf = ffi.new('char[]', b)
    v = ffi.new('hat_event_str_t *')
    v.ptr = buf
    v.len = len(b)
    return v[0], buf


def read_str(view):
    """Python str of a hat_event_str_t handed out by the library."""
    if view.len == 0:
        return ''
    return ffi.unpack(view.ptr, view.len).decode('utf-8')


def ts(s, us):
    """hat_event_timestamp_t value."""
    p = ffi.new('hat_event_timestamp_t *')
    p.s = s
    p.us = us
    return p[0]


def ts_tuple(t):
    return (t.s, t.us)


def event_type_segments(et):
    """Segments of a hat_event_event_type_t handle as a tuple of str."""
    n = lib.hat_event_event_type_len(et)
    return tuple(read_str(lib.hat_event_event_type_segment(et, i))
                 for i in range(n))


class Hat:
    """What the tests use: ffi, lib and the helpers."""
    ffi = ffi
    lib = lib
    lib_path = LIB_PATH
    Error = HatEventError
    check = staticmethod(check)
    StrArray = StrArray
    str_array = staticmethod(str_array)
    str_view = staticmethod(str_view)
    read_str = staticmethod(read_str)
    ts = staticmethod(ts)
    ts_tuple = staticmethod(ts_tuple)
    event_type_segments = staticmethod(event_type_segments)
    status_name = staticmethod(_status_name)


MAX_FAILURES = 20
MAX_SHRUNK = 3          # failures per test that get shrunk (shrinking costs calls)
SHRINK_BUDGET = 4000    # candidate checks per shrink

_RUN_OPTIONS = {}       # --seed/--cases of this run, for the rerun hint


class Failures:
    """Collects the first few distinct mismatches of a randomized test and
    fails it with all of them at the end.

    A randomized test builds each case as plain data (tuples, lists, str,
    bytes, ints, hat-event NamedTuples), then calls `run(case, check)`, where
    `check(case)` returns None when ours and the oracle agree and a
    description of the mismatch otherwise. The first MAX_SHRUNK failures are
    shrunk (see `shrink`) and reported with their minimal reproducer."""

    def __init__(self, area):
        self.area = area
        self.items = []
        self.count = 0
        self.shrunk = 0

    def add(self, text):
        self.count += 1
        if len(self.items) < MAX_FAILURES and text not in self.items:
            self.items.append(text)

    def run(self, case, check):
        """check(case); on a mismatch, record it (shrunk). True if it agreed."""
        msg = check(case)
        if msg is None:
            return True
        self.found(case, msg, check)
        return False

    def found(self, case, msg, check):
        """Records the mismatch `msg` of `case`, shrinking it with `check`."""
        if self.shrunk < MAX_SHRUNK:
            self.shrunk += 1
            small, small_msg, steps = shrink(case, check)
            if small != case:
                msg = (f'{msg}\n    minimal reproducer ({steps} shrink checks): '
                       f'{small!r:.600}\n    -> {small_msg}')
            else:
                msg = f'{msg}\n    (already minimal: {case!r:.600})'
        self.add(msg)

    def check(self):
        if self.count:
            rerun = ' '.join(f'--{k}={v}' for k, v in _RUN_OPTIONS.items())
            pytest.fail(f'{self.area}: {self.count} mismatches (rerun with {rerun}); '
                        f'first {len(self.items)}:\n' + '\n'.join(self.items),
                        pytrace=False)


# --- shrinking ---------------------------------------------------------------

def shrink(case, check, budget=SHRINK_BUDGET):
    """Greedy structural shrinking: repeatedly replaces `case` by the first
    smaller candidate (see `_candidates`) on which `check` still reports a
    mismatch, until none does or `budget` checks were spent. A candidate on
    which `check` raises (e.g. the oracle refuses to build it) is skipped.
    Returns (smallest case, its mismatch, checks spent)."""
    msg = _mismatch(check, case)
    if msg is None:
        return case, 'no longer fails (flaky check?)', 1
    spent = 1
    improved = True
    while improved and spent < budget:
        improved = False
        for cand in _candidates(case):
            if spent >= budget:
                break
            spent += 1
            m = _mismatch(check, cand)
            if m is not None:
                case, msg, improved = cand, m, True
                break
    return case, msg, spent


def _mismatch(check, case):
    try:
        return check(case)
    except Exception:
        return None


def _candidates(x):
    """Values 'smaller' than x, simplest first: shorter containers and
    strings, numbers nearer zero, fields of NamedTuples shrunk in place."""
    if x is None or isinstance(x, enum.Enum):
        return
    if isinstance(x, bool):
        if x:
            yield False
        return
    if isinstance(x, int):
        if x != 0:
            yield 0
            half = -((-x) // 2) if x < 0 else x // 2
            if half not in (0, x):
                yield half
            if x < 0:
                yield -x
            if abs(x) <= 1000:
                yield x - 1 if x > 0 else x + 1
        return
    if isinstance(x, float):
        for c in (0.0, float(int(x)) if math.isfinite(x) else 0.0, x / 2):
            if c != x:
                yield c
        return
    if isinstance(x, (str, bytes)):
        yield from _sequence_candidates(x, type(x))
        if isinstance(x, str):
            for i, ch in enumerate(x):
                if ord(ch) > 127:
                    yield x[:i] + 'a' + x[i + 1:]
        return
    if isinstance(x, tuple) and hasattr(x, '_fields'):       # NamedTuple
        for name in x._fields:
            if getattr(x, name) is not None:    # an optional field left out
                yield x._replace(**{name: None})
        for name in x._fields:
            for c in _candidates(getattr(x, name)):
                yield x._replace(**{name: c})
        return
    if isinstance(x, (tuple, list)):
        yield from _sequence_candidates(x, type(x))
        for i, item in enumerate(x):
            for c in _candidates(item):
                y = list(x)
                y[i] = c
                yield type(x)(y)
        return
    if isinstance(x, dict):
        for k in list(x):
            yield {kk: v for kk, v in x.items() if kk != k}
        for k, v in x.items():
            for c in _candidates(v):
                yield {**x, k: c}


def _sequence_candidates(x, kind):
    n = len(x)
    if n == 0:
        return
    yield x[:0]
    if n >= 2:
        yield x[:n // 2]
        yield x[n // 2:]
    if n <= 64:
        for i in range(n):
            yield x[:i] + x[i + 1:]


class CaseCounter:
    """Per-area case counts and notes, printed in the terminal summary."""

    def __init__(self):
        self.counts = {}
        self.notes = []

    def add(self, area, n=1):
        self.counts[area] = self.counts.get(area, 0) + n

    def note(self, text):
        self.notes.append(text)


# --- pytest plumbing ---------------------------------------------------------

def pytest_addoption(parser):
    group = parser.getgroup('hat-event-c conformance')
    group.addoption('--seed', type=int, default=DEFAULT_SEED,
                    help=f'seed of the randomized tests (default {DEFAULT_SEED})')
    group.addoption('--cases', type=int, default=DEFAULT_CASES,
                    help=f'base number of random cases per area '
                         f'(default {DEFAULT_CASES})')


def pytest_configure(config):
    config._hat_case_counter = CaseCounter()
    _RUN_OPTIONS.update(seed=config.getoption('--seed'),
                        cases=config.getoption('--cases'))


@pytest.fixture(scope='session')
def hat():
    return Hat


@pytest.fixture(scope='session')
def seed(request):
    return request.config.getoption('--seed')


@pytest.fixture(scope='session')
def cases(request):
    n = request.config.getoption('--cases')
    if n < 1:
        raise pytest.UsageError('--cases must be at least 1')
    return n


@pytest.fixture(scope='session')
def counter(request):
    return request.config._hat_case_counter


def pytest_report_header(config):
    version = ffi.string(lib.hat_event_version()).decode()
    return [f'hat-event-c {version}: {LIB_PATH}',
            f'conformance: --seed={config.getoption("--seed")} '
            f'--cases={config.getoption("--cases")}']


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counter = getattr(config, '_hat_case_counter', None)
    if counter is None or not (counter.counts or counter.notes):
        return
    tr = terminalreporter
    tr.section('hat-event-c conformance cases')
    tr.write_line(f'seed {config.getoption("--seed")}, '
                  f'--cases {config.getoption("--cases")}')
    width = max(len(a) for a in counter.counts) if counter.counts else 0
    for area, n in counter.counts.items():
        tr.write_line(f'CASES {area:<{width}} {n:>9,}')
    tr.write_line(f'CASES {"total":<{width}} {sum(counter.counts.values()):>9,}')
    for note in counter.notes:
        tr.write_line(f'NOTE {note}')
