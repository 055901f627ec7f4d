#!/usr/bin/env python3
"""Writes seed inputs for every fuzz target from the golden vectors
(../tests/golden/sbs_vectors.json: the "hex" of each entry of "vectors",
"decode_only" and "errors") into corpus/<target>/, one file per input,
named by the SHA-1 of its content as libFuzzer names corpus files.

decode_messages and roundtrip inputs start with a type-selector byte: the
index of the type in MESSAGES / ALL of tests/fuzz_support/mod.rs (the lists
below must follow those). Inputs over 4096 bytes (the -max_len used) are
left out.

Also writes a few hand-made inputs near the memory bound of
tests/fuzz_support (JSON payloads nesting arrays, the costliest input per
byte, balanced and unclosed; arrays of minimal register events), named
mem-*, which
coverage-guided minimisation would otherwise drop: `--memory-only` writes
just those (run it after minimising).

Usage: python3 fuzz/make_seeds.py [--memory-only] [OUT_DIR]   (default: fuzz/corpus)
"""

import hashlib
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = HERE.parent / "tests" / "golden" / "sbs_vectors.json"
MAX_LEN = 4096

# tests/fuzz_support/mod.rs, MESSAGES and ALL, in order.
MESSAGES = ["MsgInitReq", "MsgInitRes", "MsgStatusNotify", "MsgEventsNotify",
            "MsgRegisterReq", "MsgRegisterRes", "MsgQueryReq", "MsgQueryRes"]
ALL = ["Timestamp", "EventId", "Status", "Order", "OrderBy", "EventType",
       "EventPayload", "Event", "RegisterEvent", "QueryLatestParams",
       "QueryTimeseriesParams", "QueryServerParams", "MsgQueryReq",
       "MsgQueryRes", "MsgInitReq", "MsgInitRes", "MsgEventsNotify",
       "MsgRegisterReq", "MsgRegisterRes", "MsgEventsAck"]

# Vector type -> the same Rust type under the name MESSAGES / ALL use.
MESSAGE_ALIAS = {"Status": "MsgStatusNotify", "QueryParams": "MsgQueryReq",
                 "QueryResult": "MsgQueryRes"}
ALL_ALIAS = {"MsgStatusNotify": "Status", "QueryParams": "MsgQueryReq",
             "QueryResult": "MsgQueryRes"}

# Plain decode targets: the vector types each one decodes (tests/fuzz_support).
PLAIN = {
    "decode_event": {"Event", "EventId", "Timestamp", "EventType"},
    "decode_register_event": {"RegisterEvent", "MsgRegisterReq"},
    "decode_payload": {"EventPayload"},
    "decode_query_params": {"QueryParams", "MsgQueryReq", "QueryLatestParams",
                            "QueryTimeseriesParams", "QueryServerParams"},
    "decode_query_result": {"QueryResult", "MsgQueryRes"},
}


def integer(v):
    """An SBS Integer (minimal 7-bit groups, big-endian, last byte | 0x80)."""
    groups = [v & 0x7F]
    v >>= 7
    while not ((v == 0 and groups[-1] & 0x40 == 0) or (v == -1 and groups[-1] & 0x40)):
        groups.append(v & 0x7F)
        v >>= 7
    groups.reverse()
    groups[-1] |= 0x80
    return bytes(groups)


def json_payload(text):
    raw = text.encode()
    return b"\x81" + integer(len(raw)) + raw


def sbs_string(text):
    raw = text.encode()
    return integer(len(raw)) + raw


def query_type_list(types):
    """An SBS Array(EventType)."""
    return integer(len(types)) + b"".join(
        integer(len(t)) + b"".join(sbs_string(s) for s in t) for t in types)


def op(kind, value):
    """One byte of the subscriptions target's collection script: kind 0-4
    adds A, B, C, A | B, A & B; 5 the empty subscription; 6, 7 remove."""
    return bytes([kind << 3 | value])


# Inputs of the subscriptions target: lists A, B, C and a script (b"" = the
# default script). Cases of the reference's test_subscription.py and
# test_collection.py, the SPEC's intersection fixes, refused '*'.
SUBSCRIPTION_CASES = [
    ([], [], [], b""),
    ([[]], [["*"]], [["a"]], b""),
    ([["a"], ["b"], ["c"]], [["b"], ["c"]], [["c", "?"]], b""),
    ([["a"], ["b", "*"], [], ["*"]], [["a", "*"], ["a"]], [[""], ["*"]], b""),
    ([["a", "*"], ["b"], ["c", "?"], ["c", "*"]], [["a", "?"], ["a"]], [[""], ["a"]], b""),
    ([["a", "?"], ["a"]], [["a", "b"], ["a", "c"]], [["a", ""], ["", "a"]], b""),
    ([["?", "a"]], [["?", "b"]], [["a", "b", "*"]], b""),
    ([["a", "", "?"]], [["a", "", "b"]], [["a", "b"]], b""),
    ([["*"]], [["a"], ["b"], ["c"]], [["?", "b"]], b""),
    ([["?"]], [["a", "*"]], [[]], b""),
    ([["?", "*"], [], ["b", "?", "x"], ["b"]], [["?", "*"]], [["b"], ["?"]], b""),
    ([["*", "a"]], [["a", "*", "b"]], [["a", "*", "b"], ["a", "*"]], b""),
    ([["*"], ["*", "a"]], [["a", "*"], ["a", "*", "b"]], [["?", "?", "*"]], b""),
    ([["a", "*", "b"], ["a", "b"]], [["x", "*"], ["x", "*", "*"]], [["ž", "日本"]], b""),
    ([["?", "x1"], ["?", "x2"], ["?", "x3"]], [["y1", "?"], ["y2", "?"]], [["?", "?"]], b""),
    # test_collection.py: '*' to 1, nothing to 2, ('?','b','c') to 3,
    # ('a','b','c') to 4; remove 3.
    ([["*"]], [["?", "b", "c"]], [["a", "b", "c"]],
     op(0, 1) + op(5, 2) + op(1, 3) + op(2, 4) + op(6, 3)),
    # A value added twice widens; removing twice is harmless.
    ([["a"]], [["a", "*"], ["?"]], [["a"]],
     op(0, 7) + op(1, 7) + op(2, 7) + op(6, 7) + op(7, 7)),
    # Churn of wildcard types.
    ([["?", "s", "*"], ["a", "?"]], [["?", "t", "*"], ["t", "?", "x"]], [["?", "u"]],
     b"".join(op(k % 5, k % 8) + op(6, (k + 3) % 8) for k in range(16))),
]


def subscription_seeds():
    """(name, bytes) of the subscriptions target's seeds."""
    out = []
    for a, b, c, script in SUBSCRIPTION_CASES:
        data = query_type_list(a) + query_type_list(b) + query_type_list(c) + script
        out.append((hashlib.sha1(data).hexdigest(), data))
    return out


def subscription_memory_seeds():
    """(name, bytes) of subscriptions inputs with many segments: one long
    type of '?' (and of empty segments, with '*'), and the wildcard product
    ('?', x_i) & (y_j, '?')."""
    out = []
    n = (MAX_LEN - 16) // 2
    out.append(("mem-long-question", query_type_list([["?"] * n]) * 1))
    m = (MAX_LEN - 16) // 3
    out.append(("mem-long-empty-star", query_type_list([[""] * (m - 1) + ["*"]]) + query_type_list([["?"] * (m - 1) + ["*"]])))
    k = 150
    a = [["?", "x%d" % i] for i in range(k)]
    b = [["y%d" % i, "?"] for i in range(k)]
    out.append(("mem-wild-product", query_type_list(a) + query_type_list(b) + query_type_list([["?", "*"]]) + op(4, 1) + op(3, 2)))
    many = [["%d" % i] for i in range(500)]
    out.append(("mem-many-literals", query_type_list(many) + query_type_list([["?"]]) + query_type_list(many[::2])))
    for name, data in out:
        assert len(data) <= MAX_LEN, (name, len(data))
    return out


def memory_seeds():
    """(target, name, bytes) of inputs that make decodes hold the most
    memory per input byte."""
    budget = MAX_LEN - 8
    out = []
    for depth in (1, 8, 126):
        unit = "[" * depth + "0" + "]" * depth
        text = "[" + ",".join([unit] * (budget // (len(unit) + 1))) + "]"
        payload = json_payload(text)
        out.append(("decode_payload", f"mem-json-nest-{depth}", payload))
        out.append(("roundtrip", f"mem-json-nest-{depth}", bytes([ALL.index("EventPayload")]) + payload))
    # One array in another all the way (a node and an open entry a byte),
    # far deeper than Python's json reads; and the same never closed.
    half = (budget - 3) // 2
    for name, text in (("mem-json-deep", "[" * half + "]" * half), ("mem-json-unclosed", "[" * (budget - 3))):
        payload = json_payload(text)
        out.append(("decode_payload", name, payload))
        out.append(("roundtrip", name, bytes([ALL.index("EventPayload")]) + payload))
    events = integer(budget // 3) + b"\x80\x80\x80" * (budget // 3)
    out.append(("decode_register_event", "mem-register-events", events))
    out.append(("decode_messages", "mem-register-events", bytes([MESSAGES.index("MsgRegisterReq")]) + events))
    types = b"\x81" + integer(budget) + b"\x80" * budget
    out.append(("decode_query_params", "mem-latest-empty-types", types))
    out.extend(("subscriptions", name, data) for name, data in subscription_memory_seeds())
    return out


def main():
    args = sys.argv[1:]
    memory_only = "--memory-only" in args
    args = [a for a in args if a != "--memory-only"]
    out = pathlib.Path(args[0]) if args else HERE / "corpus"
    for target, name, data in memory_seeds():
        assert len(data) <= MAX_LEN, name
        (out / target).mkdir(parents=True, exist_ok=True)
        (out / target / name).write_bytes(data)
    if memory_only:
        return
    data = json.loads(VECTORS.read_text())
    entries = [e for section in ("vectors", "decode_only", "errors") for e in data[section]]
    seeds = {t: set() for t in [*PLAIN, "decode_messages", "roundtrip"]}
    for e in entries:
        raw = bytes.fromhex(e["hex"])
        ty = e["type"]
        for target, types in PLAIN.items():
            if ty in types:
                seeds[target].add(raw)
        msg = MESSAGE_ALIAS.get(ty, ty)
        if msg in MESSAGES:
            seeds["decode_messages"].add(bytes([MESSAGES.index(msg)]) + raw)
        name = ALL_ALIAS.get(ty, ty)
        if name in ALL:
            seeds["roundtrip"].add(bytes([ALL.index(name)]) + raw)
        else:
            sys.exit(f"type {ty} not in ALL")
    for target, inputs in seeds.items():
        d = out / target
        d.mkdir(parents=True, exist_ok=True)
        kept = [s for s in inputs if len(s) <= MAX_LEN]
        for s in kept:
            (d / hashlib.sha1(s).hexdigest()).write_bytes(s)
        print(f"{target}: {len(kept)} seeds ({len(inputs) - len(kept)} over {MAX_LEN} bytes left out)")
    d = out / "subscriptions"
    d.mkdir(parents=True, exist_ok=True)
    for name, data in subscription_seeds():
        (d / name).write_bytes(data)
    print(f"subscriptions: {len(SUBSCRIPTION_CASES)} seeds")


if __name__ == "__main__":
    main()
