"""The one driver of every keypad answer: load the call, judge the keys, answer, ask again or move on.

Each question of `warmline.voice.questions` is served by a `GatherStep`: how to load its call,
which keys answer it, how to ask it again, what an answer does, and how it moves on when its
bound is reached. The web layer registers only `GatherStep`s for question URLs, and this module
alone counts misses and applies `warmline.voice.gathering.judge`, so a new question cannot
forget its bound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from warmline.runtime import Runtime
from warmline.voice.forms import CallForm
from warmline.voice.gathering import Miss, Prompt, Turn, apology, classify, judge
from warmline.voice.state import CallState

C = TypeVar("C")


@dataclass(frozen=True)
class GatherStep(Generic[C]):
    """What one question needs besides the rule they all share.

    `load` finds the call from the URL's query at `now` (None: the call is gone, answered by `gone`).
    `accepts` says whether keys answer the question; `refusal`, when given, says why keys were
    not taken (instead of the prompt's general apology). `ask_again` repeats the question after
    the apology. `move_on` runs once the bound is reached, gets the apology, and must say what
    it is doing.
    """

    prompt: Prompt
    load: Callable[[Runtime, Mapping[str, str], datetime], C | None]
    language: Callable[[C], str]
    accepts: Callable[[C, str], bool]
    ask_again: Callable[[Runtime, C, str], str]
    answer: Callable[[Runtime, C, CallForm, datetime], str]
    move_on: Callable[[Runtime, C, str, datetime], str]
    gone: Callable[[], str]
    refusal: Callable[[C, str], str | None] | None = None


def run_gather(step: GatherStep[C], runtime: Runtime, query: Mapping[str, str], form: CallForm,
               now: datetime) -> str:
    prompt = step.prompt
    call = step.load(runtime, query, now)
    if call is None:
        return step.gone()
    state = CallState(runtime.redis)
    call_key = query.get(prompt.scope, "")
    miss = classify(prompt, form.digits, bool(form.digits) and step.accepts(call, form.digits))
    verdict = judge(prompt, miss, state.count_miss(call_key, prompt.name) if miss else 0)
    if verdict.turn == Turn.ANSWER:
        state.clear_misses(call_key, prompt.name)
        return step.answer(runtime, call, form, now)
    assert verdict.miss is not None
    sorry = apology(prompt, step.language(call), verdict.miss)
    if verdict.miss == Miss.INVALID and step.refusal is not None:
        sorry = step.refusal(call, form.digits) or sorry
    if verdict.turn == Turn.ASK_AGAIN:
        return step.ask_again(runtime, call, sorry)
    state.clear_misses(call_key, prompt.name)
    return step.move_on(runtime, call, sorry, now)
