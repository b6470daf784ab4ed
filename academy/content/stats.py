"""Counting what the content holds, per track: the figures `flask content stats` prints."""
from __future__ import annotations

from collections import Counter

from academy.content.loader import Bundle


def track_stats(bundle: Bundle) -> dict:
    tracks = {}
    for code, track in sorted(bundle.tracks.items(), key=lambda item: item[1].spec.order):
        by_domain = Counter(q.domain for q in track.questions)
        tracks[code] = {
            "domains": len(track.spec.domains),
            "modules": len(track.modules),
            "lessons": sum(len(m.lessons) for m in track.modules),
            "words": sum(lesson.words for m in track.modules for lesson in m.lessons),
            "labs": len(track.labs),
            "questions": len(track.questions),
            "questions_by_domain": {d.key: by_domain.get(d.key, 0) for d in track.spec.domains},
        }
    return {"tracks": tracks}
