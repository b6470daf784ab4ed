"""Assembling a 100-question mock exam from a 10,000-question bank, and grading it.

Prints the median times next to an empty request to the site measured in the same run (the machines are
shared and noisy: compare the ratios). Usage: python benchmarks/exam_assembly.py [--questions N] [--repeat N]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import reference_request, report, throwaway_app, timed  # noqa: E402


def build_bank(session, size: int):
    from academy.auth import service
    from academy.models import Domain, Question, QuestionVersion, Track

    track = Track(code="BENCH", title="Benchmark", exam_length=100, exam_minutes=60, pass_mark=0.7)
    weights = [22, 22, 16, 12, 14, 14]
    track.domains = [Domain(key=f"d{n}", title=f"Domain {n}", weight=w, position=n) for n, w in enumerate(weights)]
    session.add(track)
    session.flush()
    rng = random.Random(1)
    for n in range(size):
        domain = track.domains[n % len(weights)]
        question = Question(key=f"bench-{n:05d}", track=track, domain=domain)
        session.add(question)
        version = QuestionVersion(question=question, number=1, type="single", difficulty=1 + n % 3,
                                  stem=f"Question {n}", exhibit=None,
                                  choices=[{"id": c, "text": c} for c in "abcd"], answer=rng.choice("abcd"),
                                  explanation="x", references=["x"], content_hash=str(n))
        session.add(version)
        session.flush()
        question.current = version
    org = service.get_or_create_organization(session, "Bench Hospital")
    user = service.create_user(session, email="bench@example.org", password="benchmark-pass", role="trainee",
                               organization=org)
    session.commit()
    return track, user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    app = throwaway_app()
    from academy.exams import mock_exams
    from academy.extensions import db
    from academy.models import utcnow

    with app.app_context():
        track, user = build_bank(db.session, args.questions)
        reference = reference_request(app)
        exams = []

        def assemble():
            exams.append(mock_exams.start(db.session, user.id, track, utcnow()))
            db.session.commit()

        assembly = statistics.median(timed(assemble, args.repeat))
        rng = random.Random(2)
        for exam in exams:
            for item in exam.items:
                item.response = rng.choice("abcd")
        db.session.commit()
        queue = list(exams)

        def grade():
            mock_exams.submit(db.session, queue.pop(), utcnow())
            db.session.commit()

        grading = statistics.median(timed(grade, args.repeat))
    print(f"bank: {args.questions} questions in 6 domains; exam: 100 questions; {args.repeat} runs each")
    report([("assemble a 100-question exam", assembly), ("grade and submit it", grading)], reference)


if __name__ == "__main__":
    main()
