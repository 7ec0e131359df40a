"""What a simulated shift holds: the roster, the arrivals, and how callers, texters and peers behave."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

ANY = "any"  # the mix's name for "talk to the next available peer"
# A plausible evening on a peer line: recovery is the most asked-for match, a fifth ask for anyone.
DEFAULT_MIX: dict[str, float] = {"recovery": 0.3, "survivor": 0.15, "lgbtq": 0.15,
                                 "veteran": 0.1, "grief": 0.1, ANY: 0.2}
DEFAULT_LINE = "+12125550100"
FIRST_NAMES = ("Sam", "Ana", "Lee", "Kim", "Ray", "Jo", "Max", "Ife", "Noa", "Tess", "Uri", "Val",
               "Wes", "Xia", "Yael", "Zed")
DEFAULT_EXPERIENCES: tuple[tuple[str, str, int], ...] = (
    ("recovery", "Substance use recovery", 1), ("survivor", "Psychiatric survivor", 2),
    ("lgbtq", "LGBTQ+", 3), ("veteran", "Veteran", 4), ("grief", "Grief and loss", 5))


@dataclass(frozen=True)
class Behaviour:
    """How the simulated people act; every time is in simulated seconds."""

    talk_minutes: float = 8.0  # mean length of a call once bridged (log-normal)
    text_minutes: float = 10.0  # mean length of a text conversation once a peer joined
    texts_per_conversation: tuple[int, int] = (2, 5)  # texter messages after the keyword
    patience_minutes: float = 4.0  # mean patience of a caller after the menu (exponential)
    text_patience_minutes: float = 20.0  # a texter stops replying after this long unanswered
    answer_rate: float = 0.9  # a peer answers a ring (or accepts a text offer) this often
    answer_seconds: tuple[float, float] = (3.0, 10.0)  # how long a peer's phone rings first
    callback_share: float = 0.5  # of callers who reach the line's deadline, who ask for a call back
    backup_talk_seconds: float = 60.0  # time on the partner or crisis line after a transfer
    any_after_minutes: float = 2.0  # a caller waiting for their match may take anyone after this
    any_share: float = 0.5  # ...and this share of them do (press 0)
    accept_seconds: float = 3.0  # the whisper and pressing 1, once the peer picks up
    # "lognormal" (most calls near the typical length, a few long) or "exponential" (the
    # queueing-theory assumption: the virtual simulator is checked against Erlang C with it).
    talk_distribution: str = "lognormal"
    min_talk_seconds: float = 30.0  # nobody's call is shorter
    min_patience_seconds: float = 15.0  # nobody hangs up sooner once queued


@dataclass(frozen=True)
class HourRate:
    """Arrivals per hour in one local hour of the week (0 = Monday 00:00-01:00), of one
    channel, asking for one experience (`any` for the next available peer)."""

    hour_of_week: int
    channel: str  # voice | sms
    experience: str
    per_hour: float


@dataclass(frozen=True)
class Scenario:
    """One simulated shift: options of `python -m warmline simulate`, with its defaults."""

    roster_text: str | None = None  # None: the built-in roster of `peers` peers
    peers: int = 10
    shift_minutes: float = 60.0
    calls_per_hour: float = 40.0
    texts_per_hour: float = 15.0
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    behaviour: Behaviour = field(default_factory=Behaviour)
    line_settings: dict[str, Any] = field(default_factory=dict)  # overrides of the line's settings
    seed: int = 1
    speed: float = 120.0
    drain_minutes: float = 20.0  # after the shift, time for contacts in hand to end
    # Virtual mode: arrivals by hour of week (overrides the flat rates and the mix), the local
    # start of the run ("YYYY-MM-DD HH:MM"; default: the first Monday of the roster's shifts), and
    # whether the roster's own shifts say who is on (otherwise everyone is, as in full-stack mode).
    hour_rates: tuple[HourRate, ...] = ()
    start: str | None = None
    roster_shifts: bool = True


@dataclass(frozen=True)
class Arrival:
    """One caller or texter reaching the line at `at` simulated seconds into the shift."""

    index: int
    at: float
    channel: str  # voice | sms
    experience: str | None  # None: anyone
    number: str
    talk_seconds: float
    patience_seconds: float
    wants_callback: bool
    takes_anyone: bool  # presses 0 after waiting `any_after_minutes` for their match
    messages: int


def default_roster(peers: int, line: str = DEFAULT_LINE) -> str:
    """A one-line roster: `peers` peers sharing two experiences each, on calls and texts."""
    names = [FIRST_NAMES[i % len(FIRST_NAMES)] + ("" if i < len(FIRST_NAMES) else str(i))
             for i in range(peers)]
    keys = [key for key, _label, _digit in DEFAULT_EXPERIENCES]
    roster: dict[str, Any] = {
        "version": 1,
        "lines": [{"number": line, "name": "Simulated Warmline", "timezone": "America/New_York",
                   "languages": ["en"], "crisis_number": "+12125550199",
                   "backup_number": "+12125550188", "max_wait_seconds": 300,
                   "daily_contact_limit": 0, "wrap_up_seconds": 120, "callbacks": True}],
        "experiences": [{"key": key, "label": label, "digit": digit, "keyword": key.upper()}
                        for key, label, digit in DEFAULT_EXPERIENCES],
        "peers": [{"email": f"{name.lower()}@sim.example.org", "name": f"{name} Peer",
                   "phone": f"+1718555{1000 + i:04d}",
                   "experiences": sorted({keys[i % len(keys)], keys[(i * 2 + 1) % len(keys)]}),
                   "channels": ["voice", "sms"], "max_texts": 2}
                  for i, name in enumerate(names)],
        "shifts": [],
    }
    return yaml.safe_dump(roster, sort_keys=False)


def whole_shift_roster(text: str, shift_start: str = "2026-01-01 00:00") -> tuple[str, str]:
    """The roster with every active peer on shift all day on the first line, and that line open
    around the clock: the simulation asks how these peers cope, not whether the roster has them
    on. Returns (roster text, the line's number)."""
    roster = yaml.safe_load(text)
    if not isinstance(roster, dict) or not roster.get("lines"):
        raise ValueError("the roster names no line")
    line = roster["lines"][0]
    line.pop("hours", None)
    line.pop("closed_dates", None)
    line["daily_contact_limit"] = 0  # every simulated caller is someone new
    number = str(line["number"])
    roster["shifts"] = [{"peer": peer["email"], "line": number, "start": shift_start,
                         "end": shift_start[-5:], "repeat": "FREQ=DAILY"}
                        for peer in roster.get("peers", []) if peer.get("active", True)]
    return yaml.safe_dump(roster, sort_keys=False, allow_unicode=True), number


def _lognormal(rng: random.Random, mean: float, sigma: float = 0.5) -> float:
    # Talk times are skewed: most are near the typical length, a few run long.
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def plan_arrivals(scenario: Scenario, experiences: list[str],
                  hour_of_week_at: Callable[[float], int] | None = None) -> list[Arrival]:
    """Poisson arrivals per channel and experience over the shift, the same for the same seed.

    With `scenario.hour_rates`, the rate changes every hour (`hour_of_week_at` tells the local
    hour of the week of an offset in seconds; Poisson arrivals may restart at each hour)."""
    rng = random.Random(scenario.seed)  # noqa: S311 - reproducible on purpose, not a secret
    shift = scenario.shift_minutes * 60
    times: list[tuple[float, str, str | None]] = []
    if scenario.hour_rates:
        times = _hourly_times(rng, scenario, experiences, hour_of_week_at or (lambda at: 0))
    else:
        mix = {k: v for k, v in scenario.mix.items() if v > 0 and (k == ANY or k in experiences)}
        total = sum(mix.values()) or 1.0
        for channel, per_hour in (("voice", scenario.calls_per_hour),
                                  ("sms", scenario.texts_per_hour)):
            for key in sorted(mix):
                rate = per_hour * mix[key] / total / 3600
                at = rng.expovariate(rate) if rate > 0 else math.inf
                while at < shift:
                    times.append((at, channel, None if key == ANY else key))
                    at += rng.expovariate(rate)
    times.sort(key=lambda item: item[0])
    b = scenario.behaviour
    arrivals = []
    for index, (at, channel, experience) in enumerate(times):
        mean = (b.talk_minutes if channel == "voice" else b.text_minutes) * 60
        talk = rng.expovariate(1 / mean) if b.talk_distribution == "exponential" \
            else _lognormal(rng, mean)
        patience = rng.expovariate(1 / (b.patience_minutes * 60)) if channel == "voice" \
            else b.text_patience_minutes * 60
        low, high = b.texts_per_conversation
        arrivals.append(Arrival(
            index=index, at=at, channel=channel, experience=experience,
            number=(f"+1212555{2000 + index:04d}" if channel == "voice"
                    else f"+1646555{3000 + index:04d}"),
            talk_seconds=max(b.min_talk_seconds, talk),
            patience_seconds=max(b.min_patience_seconds, patience),
            wants_callback=rng.random() < b.callback_share,
            takes_anyone=experience is not None and rng.random() < b.any_share,
            messages=rng.randint(low, high)))
    return arrivals


def _hourly_times(rng: random.Random, scenario: Scenario, experiences: list[str],
                  hour_of_week_at: Callable[[float], int]) -> list[tuple[float, str, str | None]]:
    rates: dict[tuple[int, str, str], float] = {}
    for rate in scenario.hour_rates:
        if rate.experience == ANY or rate.experience in experiences:
            key = (rate.hour_of_week % 168, rate.channel, rate.experience)
            rates[key] = rates.get(key, 0.0) + rate.per_hour
    groups = sorted({(channel, experience) for _, channel, experience in rates})
    shift = scenario.shift_minutes * 60
    times: list[tuple[float, str, str | None]] = []
    hour_start = 0.0
    while hour_start < shift:
        hour_end = min(shift, hour_start + 3600)
        hour = hour_of_week_at(hour_start)
        for channel, experience in groups:
            per_second = rates.get((hour, channel, experience), 0.0) / 3600
            if per_second <= 0:
                continue
            at = hour_start + rng.expovariate(per_second)
            while at < hour_end:
                times.append((at, channel, None if experience == ANY else experience))
                at += rng.expovariate(per_second)
        hour_start = hour_end
    return times
