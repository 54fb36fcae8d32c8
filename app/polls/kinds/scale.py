"""Likert scales: several statements on one screen, each rated 1..points (5 or 7), or "prefer not to
answer" per statement. Summaries per statement, each under its own k (ETHICS 8)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.polls import aggregation
from app.polls.kinds.base import Accepted, AnswerRejected, Counted, is_integer
from app.polls.kinds.choice import labelled

NAME = "scale"
ENTRIES = False


def config_from_create(request: Any) -> dict[str, Any]:
    return {
        "statements": labelled(request.statements, key="text"),
        "points": int(request.points),
        "labels": list(request.labels) if request.labels is not None else None,
    }


def duplicate_config(config: dict[str, Any]) -> dict[str, Any]:
    return {**config, "statements": labelled([s["text"] for s in config["statements"]], key="text")}


def public_fields(config: dict[str, Any], *, facilitator: bool) -> dict[str, Any]:
    return {"statements": config["statements"], "points": config["points"], "labels": config["labels"]}


def accept(config: dict[str, Any], value: Any, *, language: str) -> Accepted:
    """Ratings of some statements (a statement left out is "not answered"; null is "prefer not to
    answer" for it), stored in the question's statement order."""
    if not isinstance(value, dict) or set(value) != {"ratings"} or not isinstance(value["ratings"], dict):
        raise AnswerRejected(
            'A scale answer is {"ratings": {statement id: rating or null}}, or null to prefer not to answer.'
        )
    ratings: dict[str, Any] = value["ratings"]
    if not ratings:
        raise AnswerRejected("Rate at least one statement, or prefer not to answer.")
    order = [statement["id"] for statement in config["statements"]]
    if not set(ratings) <= set(order):
        raise AnswerRejected("That statement does not exist in this question.", code="unknown_statement")
    points = config["points"]
    for rating in ratings.values():
        if rating is not None and not (is_integer(rating) and 1 <= rating <= points):
            raise AnswerRejected(
                f"A rating is a whole number from 1 to {points}, or null to prefer not to answer.",
                code="invalid_rating",
            )
    stored = {sid: ratings[sid] for sid in order if sid in ratings}
    return Accepted(value={"ratings": stored}, items=list(stored.items()))


async def count(db: AsyncSession, *, question_id: str, config: dict[str, Any]) -> Counted:
    """Per statement, how many gave each rating ((statement, rating) GROUP BY), and the figures."""
    answered = await aggregation.answered(db, question_id=question_id)
    histogram = await aggregation.item_histogram(db, question_id=question_id)
    points = config["points"]
    statements = {
        s["id"]: statement_summary(histogram.get(s["id"], {}), points) for s in config["statements"]
    }
    return Counted(n=answered.n, summary={"statements": statements, "declined": answered.declined})


def statement_summary(ratings: dict[int | None, int], points: int) -> dict[str, Any]:
    """n, mean, median, agree_pct (the share in the top two points, never a mean), declined, counts."""
    counts = {str(point): ratings.get(point, 0) for point in range(1, points + 1)}
    n = sum(counts.values())
    figures: dict[str, Any] = {"n": n, "mean": None, "median": None, "agree_pct": None}
    if n:
        figures["mean"] = sum(point * ratings.get(point, 0) for point in range(1, points + 1)) / n
        figures["median"] = median_of(ratings, points, n)
        figures["agree_pct"] = 100 * (ratings.get(points, 0) + ratings.get(points - 1, 0)) / n
    return {**figures, "declined": ratings.get(None, 0), "counts": counts}


def median_of(ratings: dict[int | None, int], points: int, n: int) -> float:
    """The median of n ratings given as a histogram; of an even count, the mean of the middle two."""
    middle = sorted({(n - 1) // 2, n // 2})
    found: list[int] = []
    seen = 0
    for point in range(1, points + 1):
        seen += ratings.get(point, 0)
        while len(found) < len(middle) and middle[len(found)] < seen:
            found.append(point)
    return sum(found) / len(found)


def summarise(config: dict[str, Any], summary: dict[str, Any], *, k: int) -> dict[str, Any]:
    """Each statement under its own k: rated by fewer than k (or withheld), it is null."""
    statements = {
        sid: (figures if figures is not None and figures["n"] >= k else None)
        for sid, figures in summary["statements"].items()
    }
    return {"statements": statements, "declined": summary["declined"]}


def own_k(summary: dict[str, Any]) -> dict[str, int]:
    """Each statement, with how many rated it."""
    return {sid: figures["n"] for sid, figures in summary["statements"].items() if figures is not None}


def withhold(summary: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    """A withheld statement's figures are null, as if rated by fewer than k."""
    statements = {sid: (None if sid in keys else f) for sid, f in summary["statements"].items()}
    return {**summary, "statements": statements}
