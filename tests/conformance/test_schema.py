"""The SBS schema text the library returns defines module HatEventer
exactly as hat-event's sbs_repo does, and the JSON schema repository text
equals its json_schema_repo."""

import json

from hat import sbs
from hat.event import common


def test_sbs_schema_equals_the_oracles_module(hat):
    text = hat.ffi.string(hat.lib.hat_event_sbs_schema()).decode('utf-8')
    ours = {m['name']: m for m in sbs.Repository(text).to_json()}
    theirs = {m['name']: m for m in common.sbs_repo.to_json()}
    assert list(ours) == ['HatEventer']
    assert ours['HatEventer'] == theirs['HatEventer']


def test_json_schema_repo_equals_the_oracles(hat):
    text = hat.ffi.string(hat.lib.hat_event_json_schema_repo()).decode('utf-8')
    ours = json.loads(text)
    assert ours == common.json_schema_repo
    assert list(ours) == list(common.json_schema_repo)
