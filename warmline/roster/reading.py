"""Reading a YAML mapping key by key, collecting every problem with its path instead of stopping."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from typing import TypeVar

from warmline.roster.fields import FieldError, describe
from warmline.roster.schema import RosterError
from warmline.wording import N_

T = TypeVar("T")


class Problems:
    """Every error found so far, in the order found."""

    def __init__(self) -> None:
        self.errors: list[RosterError] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(RosterError(path, message))


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Entry:
    """One mapping of the file (a line, a peer...): reports unknown keys, reads known ones."""

    def __init__(
        self, problems: Problems, path: str, value: object, keys: Collection[str]
    ) -> None:
        self.problems = problems
        self.path = path
        self.data: dict[object, object] = {}
        self.ok = isinstance(value, dict)
        if not isinstance(value, dict):
            problems.add(path, N_("expected a mapping of keys, got %(got)s", got=describe(value)))
            return
        self.data = value
        for key in value:
            if key not in keys:
                close = difflib.get_close_matches(str(key), list(keys), n=1, cutoff=0.75)
                problems.add(join(path, str(key)),
                             N_("unknown key (did you mean %(key)s?)", key=repr(close[0])) if close
                             else N_("unknown key"))

    def at(self, key: str) -> str:
        return join(self.path, key)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> object:
        return self.data.get(key)

    def required(self, key: str, check: Callable[[object], T]) -> T | None:
        if key not in self.data or self.data[key] is None:
            self.problems.add(self.at(key), "required")
            return None
        return self._checked(self.at(key), self.data[key], check)

    def optional(self, key: str, check: Callable[[object], T], default: T) -> T:
        if key not in self.data or self.data[key] is None:
            return default
        checked = self._checked(self.at(key), self.data[key], check)
        return default if checked is None else checked

    def items(
        self,
        key: str,
        check: Callable[[object], T],
        default: tuple[T, ...] = (),
        *,
        allow_empty: bool = True,
    ) -> tuple[T, ...]:
        """A list of values, each checked at ``key[i]``; a value listed twice is an error."""
        if key not in self.data or self.data[key] is None:
            return default
        return read_list(self.problems, self.at(key), self.data[key], check, allow_empty)

    def _checked(self, path: str, value: object, check: Callable[[object], T]) -> T | None:
        try:
            return check(value)
        except FieldError as exc:
            self.problems.add(path, exc.args[0])
            return None


def read_list(
    problems: Problems,
    path: str,
    value: object,
    check: Callable[[object], T],
    allow_empty: bool = True,
) -> tuple[T, ...]:
    if not isinstance(value, list):
        problems.add(path, N_("expected a list, got %(got)s", got=describe(value)))
        return ()
    if not value and not allow_empty:
        problems.add(path, N_("must not be empty"))
    found: dict[T, int] = {}
    for index, item in enumerate(value):
        try:
            checked = check(item)
        except FieldError as exc:
            problems.add(join(path, index), exc.args[0])
            continue
        if checked in found:
            problems.add(join(path, index), N_("%(item)s is already listed at %(where)s",
                                               item=repr(item), where=f"{path}[{found[checked]}]"))
            continue
        found[checked] = index
    return tuple(found)
