"""The glossary filter: the terms that match a query, best first, with the match marked;
and, when nothing matches, the names closest to what was typed.

Order: the term's own name (exact, then starting with the query, then containing it),
then an alias (the same three), then the definition. Matching ignores case and treats a
hyphen as a space, as the glossary linker and name_key() do.

Suggestions use difflib's ratio over every name and alias (about 400 short strings):
plain standard library, a few milliseconds, and it scores a dropped, doubled or swapped
letter as a near match. Each name is also compared by its first len(query) letters, so
a misspelt start of a long name ("parathyriod") still finds it. A trigram index would
only pay off for a glossary hundreds of times larger.
"""

import difflib
import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Term, name_key

RANKS = ["name", "name", "name", "alias", "alias", "alias", "definition"]
SUGGESTION_CUTOFF = 0.8


@dataclass
class Match:
    term: Term
    rank: int  # index into RANKS: 0 exact name, 1 name prefix, 2 inside the name, 3–5 the same for aliases, 6 definition
    name_html: SafeString
    aliases_html: SafeString
    short_html: SafeString

    @property
    def where(self) -> str:
        return RANKS[self.rank]


def _place(query: str, text: str) -> int | None:
    """0 exact, 1 prefix, 2 inside, None: how query sits in text (both folded)."""
    if text == query:
        return 0
    if text.startswith(query):
        return 1
    if query in text:
        return 2
    return None


def _pattern(query: str) -> re.Pattern:
    words = name_key(query).split(" ")
    return re.compile(r"[-\s]+".join(re.escape(w) for w in words), re.IGNORECASE)


def mark(text: str, pattern: re.Pattern | None) -> SafeString:
    """text escaped, with each match wrapped in <mark> (escaping each piece, never the markup)."""
    if pattern is None:
        return escape(text)
    out, at = [], 0
    for found in pattern.finditer(text):
        out += [escape(text[at:found.start()]), "<mark>", escape(found.group()), "</mark>"]
        at = found.end()
    out.append(escape(text[at:]))
    return mark_safe("".join(out))


def rank(terms, query: str) -> list[Match]:
    """The terms matching query, best first; every term in A–Z order when the query is empty."""
    folded = name_key(query)
    pattern = _pattern(query) if folded else None
    found = []
    for term in terms:
        if not folded:
            best = 0
        else:
            places = [_place(folded, name_key(term.term))]
            places += [p + 3 for p in (_place(folded, name_key(a)) for a in term.aliases) if p is not None]
            places = [p for p in places if p is not None]
            if not places and folded in name_key(term.short):
                places = [6]
            if not places:
                continue
            best = min(places)
        found.append(Match(
            term, best, mark(term.display_name, pattern),
            mark_safe(", ".join(mark(a, pattern) for a in term.aliases)), mark(term.short, pattern),
        ))
    found.sort(key=lambda m: (m.rank, m.term.display_name.lower()))
    return found


def suggest(terms, query: str, limit: int = 3) -> list[tuple[Term, str]]:
    """Up to limit (term, the name that was close) for a query with no match, closest first."""
    folded = name_key(query)
    if len(folded) < 4:
        return []
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(folded)  # difflib caches what it learns about seq2: the query, compared with every name

    def close(candidate: str) -> float:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() < SUGGESTION_CUTOFF or matcher.quick_ratio() < SUGGESTION_CUTOFF:
            return 0.0
        return matcher.ratio()

    scored = []
    for term in terms:
        best = (0.0, "")
        for name in term.names():
            key = name_key(name)
            score = close(key)
            if len(key) > len(folded):
                score = max(score, close(key[: len(folded)]) - 0.05)
            best = max(best, (score, name))
        if best[0] >= SUGGESTION_CUTOFF:
            scored.append((best[0], term.display_name.lower(), term, best[1]))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [(term, name) for _, _, term, name in scored[:limit]]
