"""Every Redis key string is a contract between processes and releases: pinned here, built nowhere else."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from warmline import keys
from warmline.routing import keys as routing_keys

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY_MODULES = {Path(keys.__file__).resolve(), Path(routing_keys.__file__).resolve()}
SCANNED_TREES = (REPO_ROOT / "warmline", REPO_ROOT / "workers")

# Each key family, called with sample arguments, and the exact string it must give.
PINNED: dict[Callable[..., str], tuple[tuple[object, ...], str]] = {
    # routing (hash-tagged, read by the Lua scripts)
    routing_keys.lines: ((), "wl:{wl}:lines"),
    routing_keys.line: ((7,), "wl:{wl}:line:7"),
    routing_keys.line_on_shift: ((7,), "wl:{wl}:line:7:on_shift"),
    routing_keys.line_classes: ((7,), "wl:{wl}:line:7:classes"),
    routing_keys.waiting: ((7, "voice", "recovery", "en"), "wl:{wl}:waiting:7:voice:recovery:en"),
    routing_keys.waiting_all: ((), "wl:{wl}:waiting_all"),
    routing_keys.pool: ((7, "sms", "*", "es"), "wl:{wl}:pool:7:sms:*:es"),
    routing_keys.staffed: ((7, "sms", "*", "es"), "wl:{wl}:staffed:7:sms:*:es"),
    routing_keys.peers: ((), "wl:{wl}:peers"),
    routing_keys.peer: ((3,), "wl:{wl}:peer:3"),
    routing_keys.peer_shift_lines: ((3,), "wl:{wl}:peer:3:shift_lines"),
    routing_keys.peer_drop_ins: ((3,), "wl:{wl}:peer:3:drop_ins"),
    routing_keys.peer_memberships: ((3,), "wl:{wl}:peer:3:memberships"),
    routing_keys.peer_contacts: ((3, "voice"), "wl:{wl}:peer:3:contacts:voice"),
    routing_keys.presence_members: (("available",), "wl:{wl}:presence:available"),
    routing_keys.wrap_ups: ((), "wl:{wl}:wrap_ups"),
    routing_keys.drop_in_ends: ((), "wl:{wl}:drop_in_ends"),
    routing_keys.contact: (("abc",), "wl:{wl}:contact:abc"),
    routing_keys.connected: ((), "wl:{wl}:connected"),
    routing_keys.state_marker: ((), "wl:{wl}:state_marker"),
    routing_keys.rebuild_lock: ((), "wl:{wl}:rebuild_lock"),
    routing_keys.offer: ((12,), "wl:{wl}:offer:12"),
    routing_keys.offer_sequence: ((), "wl:{wl}:offer_sequence"),
    routing_keys.pending_offers: (("voice",), "wl:{wl}:offers:voice"),
    routing_keys.recent_waits: ((7, "voice", "*"), "wl:{wl}:waits:7:voice:*"),
    # voice calls
    keys.voice_contact_of_call: (("CA1",), "wl:voice:call:CA1:contact"),
    keys.voice_call_sequence: (("CA1",), "wl:voice:call:CA1:seq"),
    keys.voice_choice: (("c1",), "wl:voice:contact:c1:choice"),
    keys.voice_outcome: (("c1",), "wl:voice:contact:c1:outcome"),
    keys.voice_gather_misses: (("c1", "menu"), "wl:voice:gather:c1:menu"),
    keys.voice_waited_before: (("c1",), "wl:voice:contact:c1:waited"),
    keys.voice_arrival_facts: (("c1",), "wl:voice:contact:c1:arrival"),
    keys.voice_wait_facts: (("c1",), "wl:voice:contact:c1:wait"),
    keys.voice_callback_draft: (("c1",), "wl:voice:contact:c1:callback"),
    keys.voice_offer_ring: (("12",), "wl:voice:offer:12:ring"),
    keys.voice_offer_call: (("12",), "wl:voice:offer:12:call"),
    keys.voice_offer_contact: (("12",), "wl:voice:offer:12:contact"),
    keys.voice_ringing_call: (("c1",), "wl:voice:contact:c1:ringing"),
    keys.voice_ending_lock: (("c1",), "wl:voice:contact:c1:ending"),
    keys.voice_after_call: (("c1", "survey"), "wl:voice:contact:c1:after:survey"),
    keys.voice_on_hangup: (("c1",), "wl:voice:contact:c1:on_hangup"),
    keys.voice_dropped_call: (("h1",), "wl:voice:dropped:h1"),
    keys.voice_transfer: (("c1",), "wl:voice:contact:c1:transfer"),
    keys.voice_transfer_origin: (("c2",), "wl:voice:contact:c2:transfer-of"),
    keys.voice_mentor: (("c1",), "wl:voice:contact:c1:mentor"),
    keys.voice_mentoring: ((7,), "wl:voice:peer:7:mentoring"),
    keys.callback_peer_language: (("r1",), "wl:voice:callback:peer-language:r1"),
    keys.voice_reconnecting: (("c1",), "wl:voice:contact:c1:reconnecting"),
    # callbacks
    keys.callback_ring_attempt: (("r1",), "wl:voice:callback:ring:r1:attempt"),
    keys.callback_attempt_lock: (("a1",), "wl:voice:callback:attempt:a1:lock"),
    keys.callback_attempt_calling: (("a1",), "wl:voice:callback:attempt:a1:calling"),
    keys.callback_lock: ((5,), "wl:voice:callback:5:lock"),
    keys.callback_peer_hold: ((3,), "wl:voice:callback:hold:3"),
    # texts
    keys.text_conversation: (("t1",), "wl:text:conv:t1"),
    keys.text_claims: (("t1",), "wl:text:conv:t1:claims"),
    keys.text_messages: (("t1",), "wl:text:conv:t1:msgs"),
    keys.text_outbound: (("t1",), "wl:text:conv:t1:out"),
    keys.text_send_lock: (("t1",), "wl:text:conv:t1:sending"),
    keys.text_open_conversation: ((7, "h4sh"), "wl:text:open:7:h4sh"),
    keys.text_conversations_of: (("h4sh",), "wl:text:texter:h4sh"),
    keys.text_live: ((), "wl:text:live"),
    keys.text_waiting: ((), "wl:text:waiting"),
    keys.text_offer: (("o1",), "wl:text:offer:o1"),
    keys.text_peer_offers: ((3,), "wl:text:peer:3:offers"),
    # web chat
    keys.chat_token: (("d1",), "wl:chat:token:d1"),
    keys.chat_seen: (("c1",), "wl:chat:conv:c1:seen"),
    # peer dashboard
    keys.dashboard_heartbeat: ((3,), "wl:dash:open:3"),
    keys.sign_in_account: (("e1", None), "wl:dash:signin:e1"),
    keys.ended_session: (("s1",), "wl:dash:ended-session:s1"),
    keys.rate_limits_prefix: ((), "wl:limits"),
    keys.support_alerts: ((), "wl:dash:support-alerts"),
    keys.admin_notices: ((), "wl:dash:admin-notices"),
    keys.config_version: ((), "wl:config-version"),
    keys.rest_break: ((3,), "wl:dash:rest-break:3"),
    keys.drop_in_request: ((12,), "wl:dash:drop-in:12"),
    keys.drop_in_sequence: ((), "wl:dash:drop-in-seq"),
    # flood protection
    keys.flood_caller_calls: ((7, "h4sh", 12), "wl:flood:caller:7:h4sh:12"),
    keys.flood_line_calls: ((7, 12), "wl:flood:line:7:12"),
    keys.flood_alerted: ((7, "line"), "wl:flood:alerted:7:line"),
    # routing sync
    keys.line_synced: ((7,), "wl:sync:line:7"),
    # background jobs
    keys.recurring_lock: ((), "wl:jobs:recurring:lock"),
    keys.recurring_next: (("aggregates",), "wl:jobs:recurring:next:aggregates"),
    keys.recurring_next_pattern: ((), "wl:jobs:recurring:next:*"),
    keys.shift_end_handled: ((3, 7, 1700000000), "wl:jobs:shift-end:3:7:1700000000"),
    keys.shift_reminder_sent: ((9, 1700000000), "wl:jobs:shift-reminder:9:1700000000"),
    keys.coverage_report_sent: ((date(2024, 3, 1),), "wl:jobs:coverage-report:2024-03-01"),
    keys.coverage_gap_noticed: ((7, 1700000000), "wl:jobs:coverage-gap:7:1700000000"),
    keys.jobs_pattern: ((), "wl:jobs:*"),
}

# TTLs and lock timeouts change how long live state survives: a change should be deliberate.
PINNED_SECONDS: list[tuple[object, str, int]] = [
    (routing_keys, "CONTACT_TTL_SECONDS", 12 * 3600),
    (routing_keys, "OFFER_RECORD_TTL_SECONDS", 3600),
    (routing_keys, "RECENT_WAITS_TTL_SECONDS", 3600),
    (routing_keys, "REBUILD_LOCK_SECONDS", 60),
    (keys, "CALL_STATE_TTL_SECONDS", 6 * 3600),
    (keys, "CALLBACK_DRAFT_TTL_SECONDS", 15 * 60),
    (keys, "ENDING_LOCK_SECONDS", 10),
    (keys, "CALLBACK_STATE_TTL_SECONDS", 24 * 3600),
    (keys, "ATTEMPT_LOCK_SECONDS", 15),
    (keys, "CALLBACK_LOCK_SECONDS", 10),
    (keys, "TEXT_OFFER_TTL_SECONDS", 3600),
    (keys, "TEXT_SEND_LOCK_SECONDS", 30),
    (keys, "HEARTBEAT_TTL_SECONDS", 60),
    (keys, "SIGN_IN_ACCOUNT_TTL_SECONDS", 15 * 60),
    (keys, "SUPPORT_ALERTS_TTL_SECONDS", 24 * 3600),
    (keys, "LINE_SYNC_INTERVAL_SECONDS", 30),
    (keys, "ONCE_MARKER_TTL_SECONDS", 2 * 24 * 3600),
    (keys, "ADMIN_NOTICES_TTL_SECONDS", 2 * 24 * 3600),
    (keys, "REST_BREAK_TTL_SECONDS", 2 * 3600),
    (keys, "DROP_IN_REQUEST_TTL_SECONDS", 2 * 3600),
    (keys, "FLOOD_CALLER_WINDOW_SECONDS", 10 * 60),
    (keys, "FLOOD_LINE_WINDOW_SECONDS", 60),
    (keys, "FLOOD_ALERT_QUIET_SECONDS", 10 * 60),
    (keys, "COVERAGE_GAP_MARKER_TTL_SECONDS", 15 * 24 * 3600),
    (keys, "RECURRING_LOCK_TTL_MS", 10_000),
]


def _key_functions(module: object) -> set[Callable[..., str]]:
    return {
        value for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == getattr(module, "__name__", None)
        and not name.startswith("_") and name not in ("lua_key_builders", "script_keys")
    }


def test_key_strings_are_pinned() -> None:
    for family, (args, expected) in PINNED.items():
        assert family(*args) == expected, family.__name__


def test_every_key_family_is_pinned() -> None:
    unpinned = (_key_functions(keys) | _key_functions(routing_keys)) - set(PINNED)
    assert not unpinned, sorted(f.__name__ for f in unpinned)


def test_ttls_are_pinned() -> None:
    for module, name, expected in PINNED_SECONDS:
        assert getattr(module, name) == expected, name


def test_one_prefix() -> None:
    assert keys.PREFIX == "wl"
    assert routing_keys.PREFIX is keys.PREFIX
    for args, expected in PINNED.values():
        assert expected.startswith(f"{keys.PREFIX}:"), (args, expected)


def test_every_routing_family_carries_the_hash_tag_once() -> None:
    for family in _key_functions(routing_keys):
        key = family(*["x"] * family.__code__.co_argcount)
        assert key.startswith("wl:{wl}:"), key
        assert key.count("{") == 1, key


def test_no_other_family_carries_the_hash_tag() -> None:
    # Only routing's keys share the slot the Lua scripts need; the rest may spread.
    for family in _key_functions(keys):
        assert "{" not in PINNED[family][1], family.__name__


def test_lua_builders_match_python() -> None:
    lua = routing_keys.lua_key_builders()
    assert "local function key_pool(line_id, channel, experience, language) return " \
        "'wl:{wl}:pool:' .. line_id .. ':' .. channel .. ':' .. experience .. ':' .. " \
        "language end" in lua
    assert lua.count("local function key_") == len(routing_keys.KEY_FAMILIES)


def _source_files() -> list[Path]:
    return sorted(
        path for tree in SCANNED_TREES for pattern in ("*.py", "*.lua") for path in tree.rglob(pattern)
        if path.resolve() not in KEY_MODULES
    )


def _string_constants(tree: ast.AST) -> list[str]:
    """Every string literal but docstrings (prose may name a key's shape). The literal pieces of
    f-strings are Constants too, so f"wl:{x}" is caught."""
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def _is_redis_keys_call(node: ast.AST) -> bool:
    # dict.keys() takes no argument; Redis KEYS takes a pattern, or is called on a client.
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "keys"):
        return False
    receiver = ast.unparse(node.func.value).lower()
    return bool(node.args or node.keywords) or "redis" in receiver or "pipe" in receiver


def test_the_scan_covers_the_whole_tree() -> None:
    files = _source_files()
    assert any(path.name == "state.py" and path.parent.name == "voice" for path in files)
    assert any(path.suffix == ".lua" for path in files)
    assert any(path.parent.name == "workers" for path in files)


def test_no_key_strings_outside_the_keys_modules() -> None:
    key_like = re.compile(r"^wl:|\{wl\}")
    for path in _source_files():
        text = path.read_text()
        if path.suffix == ".lua":
            assert not re.search(r"['\"]wl:|\{wl\}", text), path
            continue
        tree = ast.parse(text, filename=str(path))
        found = [value for value in _string_constants(tree) if key_like.search(value)]
        assert not found, (path, found)
        # Building keys from the prefix elsewhere would be the same thing in disguise.
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and node.module in ("warmline.keys", "warmline.routing.keys")
                    for alias in node.names}
        assert not imported & {"PREFIX", "HASH_TAG", "ROUTING"}, path
        assert not re.search(r"keys\.(PREFIX|HASH_TAG|ROUTING|_\w+)\b", text), path


def test_no_keys_command() -> None:
    for path in [*_source_files(), *KEY_MODULES]:
        text = path.read_text()
        assert not re.search(r"['\"]KEYS['\"]", text), path
        if path.suffix == ".py":
            calls = [ast.unparse(node) for node in ast.walk(ast.parse(text)) if _is_redis_keys_call(node)]
            assert not calls, (path, calls)


def test_the_scan_would_catch_a_key_string_and_a_keys_call() -> None:
    sample = ast.parse('"""Keys look like `wl:{wl}:...`."""\nk = f"wl:foo:{x}"\nredis.keys("wl:*")\n'
                       'parts.keys()\n')
    assert _string_constants(sample) == ["wl:foo:", "wl:*"]
    assert [ast.unparse(n) for n in ast.walk(sample) if _is_redis_keys_call(n)] == ["redis.keys('wl:*')"]
