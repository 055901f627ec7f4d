"""The SBS schema text the library returns defines module HatEventer
exactly as hat-event's sbs_repo does."""

from hat import sbs
from hat.event import common


def test_sbs_schema_equals_the_oracles_module(hat):
    text = hat.ffi.string(hat.lib.hat_event_sbs_schema()).decode('utf-8')
    ours = {m['name']: m for m in sbs.Repository(text).to_json()}
    theirs = {m['name']: m for m in common.sbs_repo.to_json()}
    assert list(ours) == ['HatEventer']
    assert ours['HatEventer'] == theirs['HatEventer']
