"""Spaced review with FSRS (the py-fsrs library): what a trainee got wrong comes back on a schedule.

The scheduler's learning steps are switched off: a missed exam question should come back tomorrow,
not in one minute. Ratings: wrong -> Again; right but guessing -> Hard; right, unsure -> Good;
right and sure -> Easy. A right, sure answer to a question with no card creates none.
"""
from __future__ import annotations

from datetime import datetime

from fsrs import Card, Rating, Scheduler
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from academy.models import ReviewCard

_scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
GUESSING, UNSURE, SURE = 1, 2, 3


def rating_for(correct: bool, confidence: int | None) -> Rating:
    if not correct:
        return Rating.Again
    return {GUESSING: Rating.Hard, UNSURE: Rating.Good}.get(confidence, Rating.Easy)


def record(session: Session, user_id: int, question_id: int, correct: bool, confidence: int | None,
           now: datetime) -> ReviewCard | None:
    """Schedule (or reschedule) the question for this trainee after an answer."""
    card_row = session.scalar(select(ReviewCard).where(ReviewCard.user_id == user_id,
                                                       ReviewCard.question_id == question_id))
    return _review(session, card_row, user_id, question_id, correct, confidence, now)


def record_many(session: Session, user_id: int, answers: list[tuple[int, bool]], now: datetime) -> None:
    """`record` for a whole submitted exam, reading the trainee's existing cards in one query."""
    cards = {card.question_id: card for card in session.scalars(select(ReviewCard).where(
        ReviewCard.user_id == user_id, ReviewCard.question_id.in_([q for q, _ in answers])))}
    for question_id, correct in answers:
        _review(session, cards.get(question_id), user_id, question_id, correct, None, now)


def _review(session: Session, card_row: ReviewCard | None, user_id: int, question_id: int, correct: bool,
            confidence: int | None, now: datetime) -> ReviewCard | None:
    rating = rating_for(correct, confidence)
    if card_row is None:
        if rating == Rating.Easy:
            return None
        card = Card(card_id=question_id, due=now)  # an explicit id: py-fsrs otherwise sleeps 1 ms to make one
    else:
        card = Card.from_dict(card_row.state)
    card, _log = _scheduler.review_card(card, rating, review_datetime=now)
    if card_row is None:
        card_row = ReviewCard(user_id=user_id, question_id=question_id, due=card.due, state={}, reviews=0)
        session.add(card_row)
    card_row.state, card_row.due = card.to_dict(), card.due
    card_row.reviews += 1
    return card_row


def flag(session: Session, user_id: int, question_id: int, now: datetime) -> ReviewCard:
    """Put a question in the trainee's review, due now (the "flag for review" button)."""
    card_row = session.scalar(select(ReviewCard).where(ReviewCard.user_id == user_id,
                                                       ReviewCard.question_id == question_id))
    if card_row is None:
        card = Card(card_id=question_id, due=now)  # an explicit id: py-fsrs otherwise sleeps 1 ms to make one
        card_row = ReviewCard(user_id=user_id, question_id=question_id, due=now, state=card.to_dict(), reviews=0)
        session.add(card_row)
    else:
        card_row.due = min(card_row.due, now)
    return card_row


def due_count(session: Session, user_id: int, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(ReviewCard)
                          .where(ReviewCard.user_id == user_id, ReviewCard.due <= now)) or 0


def next_due(session: Session, user_id: int, now: datetime) -> ReviewCard | None:
    return session.scalar(select(ReviewCard).where(ReviewCard.user_id == user_id, ReviewCard.due <= now)
                          .order_by(ReviewCard.due).limit(1))
