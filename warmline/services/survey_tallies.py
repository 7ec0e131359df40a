"""The after-call question's answers as counts per line, line-local day and score: no contact,
caller or call is ever stored with an answer, so the counts are all there is to read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from warmline.models import Line, SurveyTally
from warmline.runtime import Runtime

SCORES = range(1, 6)


def record_answer(runtime: Runtime, line: Line, score: int, now: datetime) -> None:
    """Count one answer; the row of the day and score is made by whichever answer comes first."""
    if score not in SCORES:
        raise ValueError(f"a score is 1 to 5, not {score}")
    day = now.astimezone(ZoneInfo(line.timezone)).date()
    where = (SurveyTally.line_id == line.id, SurveyTally.day == day, SurveyTally.score == score)
    for _attempt in range(3):
        with runtime.sessions() as session:
            counted = session.execute(update(SurveyTally).where(*where).values(
                answers=SurveyTally.answers + 1))
            if getattr(counted, "rowcount", 0):
                session.commit()
                return
            session.add(SurveyTally(line_id=line.id, day=day, score=score, answers=1))
            try:
                session.commit()
                return
            except IntegrityError:
                session.rollback()  # another answer made the row first: count in it
    raise RuntimeError("could not count a survey answer")


@dataclass(frozen=True)
class SurveySummary:
    """Answers per score (1-5) over a span, and their mean."""

    answers: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.answers.values())

    @property
    def mean(self) -> float | None:
        total = self.total
        return sum(s * n for s, n in self.answers.items()) / total if total else None


def summary(runtime: Runtime, line_ids: list[int], start: date, end: date) -> SurveySummary:
    """The answers on `line_ids` from `start` to `end` (line-local days, both included)."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(SurveyTally.score, func.sum(SurveyTally.answers))
            .where(SurveyTally.line_id.in_(line_ids), SurveyTally.day >= start,
                   SurveyTally.day <= end)
            .group_by(SurveyTally.score)).all()
    found = {int(score): int(count or 0) for score, count in rows}
    return SurveySummary({score: found.get(score, 0) for score in SCORES})
