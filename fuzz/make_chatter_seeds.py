#!/usr/bin/env python3
"""Writes seed inputs for the chatter_frames fuzz target into
corpus/chatter_frames/ (default), one file per input named by its SHA-1,
with the reference's own encoders: hat-drivers' chatter repository frames
`HatChatter.Msg` records (`_uint_to_bebytes` length fields, as
`Connection._write` does) and hat-event's repository encodes the eventer
messages they carry, as hat's eventer client and server send them.

An input is a selector byte (tests/fuzz_support/mod.rs: frame limit
FRAME_LIMITS[b % 6], chunk pattern b // 6 % 4) and then the byte stream.
Needs the oracle venv: .venv/bin/python fuzz/make_chatter_seeds.py [OUT_DIR]
"""

import datetime
import hashlib
import pathlib
import sys

from hat.drivers import chatter
from hat.event import common

HERE = pathlib.Path(__file__).resolve().parent
FRAME_LIMITS = [0, 1, 16, 64, 1024, 1 << 20]


def frame(msg_id, first, owner, last, data_type, data, token=True):
    body = chatter._sbs_repo.encode('HatChatter.Msg', {
        'id': msg_id, 'first': first, 'owner': owner, 'token': token,
        'last': last, 'data': {'type': data_type, 'data': data}})
    length = chatter._uint_to_bebytes(len(body))
    return bytes([len(length)]) + length + body


def eventer(msg_type, data):
    return common.sbs_repo.encode(msg_type, data)


def streams():
    ts = common.Timestamp(s=1_700_000_000, us=123_000)
    event = common.Event(
        id=common.EventId(server=1, session=2, instance=3),
        type=('gateway', 'device1', 'measurement', 'temperature'),
        timestamp=ts, source_timestamp=ts,
        payload=common.EventPayloadJson({'value': 21.5, 'quality': 'good'}))
    register = common.RegisterEvent(
        type=('a', 'b'), source_timestamp=None,
        payload=common.EventPayloadBinary(type='x', data=b'\x00\x01'))
    init_req = eventer('HatEventer.MsgInitReq', {
        'clientName': 'client', 'clientToken': ('value', 'secret'),
        'subscriptions': [['gateway', '*'], ['a', '?', 'c']],
        'serverId': ('none', None), 'persisted': True})
    init_res = eventer('HatEventer.MsgInitRes',
                       ('success', common.status_to_sbs(common.Status.OPERATIONAL)))
    reg_req = eventer('HatEventer.MsgRegisterReq',
                      [common.register_event_to_sbs(register)] * 2)
    reg_res = eventer('HatEventer.MsgRegisterRes',
                      ('events', [common.event_to_sbs(event)]))
    notify = eventer('HatEventer.MsgEventsNotify', [common.event_to_sbs(event)])
    query_req = eventer('HatEventer.MsgQueryReq', common.query_params_to_sbs(
        common.QueryLatestParams(event_types=[('gateway', '*')])))
    query_res = eventer('HatEventer.MsgQueryRes', common.query_result_to_sbs(
        common.QueryResult(events=[event], more_follows=False)))
    status = eventer('HatEventer.MsgStatusNotify',
                     common.status_to_sbs(common.Status.STANDBY))
    ack = eventer('HatEventer.MsgEventsAck', None)

    session = (frame(1, 1, True, False, 'HatEventer.MsgInitReq', init_req)
               + frame(2, 2, True, True, 'HatEventer.MsgRegisterReq', reg_req)
               + frame(3, 3, True, False, 'HatEventer.MsgQueryReq', query_req)
               + frame(4, 4, True, False, 'HatChatter.Ping', b''))
    replies = (frame(1, 1, False, True, 'HatEventer.MsgInitRes', init_res)
               + frame(2, 2, True, False, 'HatEventer.MsgEventsNotify', notify)
               + frame(3, 3, False, True, 'HatEventer.MsgQueryRes', query_res)
               + frame(4, 4, True, True, 'HatEventer.MsgStatusNotify', status)
               + frame(5, 5, False, True, 'HatEventer.MsgRegisterRes', reg_res)
               + frame(6, 2, False, True, 'HatEventer.MsgEventsAck', ack)
               + frame(7, 4, False, True, 'HatChatter.Pong', b''))
    one = frame(1, 1, True, False, 'HatEventer.MsgInitReq', init_req)
    # A length field with a leading zero byte (hat reads any width).
    body = one[1 + one[0]:]
    padded = bytes([2, 0, len(body)]) + body
    def sel(limit, pattern):
        return pattern * 6 + FRAME_LIMITS.index(limit)

    big = 1 << 20
    out = [
        ('session', sel(big, 3), session),             # whole reads
        ('session-bytewise', sel(big, 0), session),    # a byte a read
        ('replies', sel(big, 1), replies),
        ('replies-limit-64', sel(64, 2), replies),     # refused past 64 bytes
        ('padded-length', sel(big, 3), padded + one),
        ('truncated', sel(1024, 0), session[:-3]),
        ('zero-length-of-length', sel(1024, 1), one + b'\x00'),
        ('huge-length', sel(big, 2), one + b'\x11' + b'\xff' * 17),
        ('unknown-type', sel(1024, 1), frame(9, 9, True, True, 'HatEventer.MsgNothing', b'\x00')),
        ('bad-data', sel(1024, 2), frame(9, 9, True, False, 'HatEventer.MsgRegisterReq', b'\x83\x01')),
        ('limit-0', sel(0, 3), one),
    ]
    return out


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / 'corpus'
    d = out / 'chatter_frames'
    d.mkdir(parents=True, exist_ok=True)
    for name, selector, stream in streams():
        data = bytes([selector]) + stream
        assert len(data) <= 4096, name
        (d / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f'chatter_frames: {len(streams())} seeds')


if __name__ == '__main__':
    main()
