"""Search over lesson sections and the glossary, on the database's own full-text engine.

The index is `SearchEntry`: one row per h2 section of a tier text and one per glossary
term. TierText.save() and Term.save() rewrite their rows by calling `index_text()` /
`index_term()` inside the save's transaction (import and re-rendering save through
them too). Rows go with their tier text or term through the foreign key's CASCADE, so
a lesson deleted in any way, an admin bulk action included, leaves nothing behind.

- SQLite: two FTS5 tables (sections, terms; porter stemmer) mirror SearchEntry through
  triggers made by migration 0006, the way an index follows its table; bm25() ranks;
  a typo is matched to a glossary name by difflib in memory.
- PostgreSQL: a stored tsvector column, kept in the row (migration 0010), with GIN
  indexes; ts_rank ranks, with the fields weighted as bm25() weights them on SQLite, and
  pg_trgm similarity suggests a glossary name.

Snippets are cut here (Marker) from the stored text of the sections shown, with the
engine's own stemming algorithm: the engines' snippet() and ts_headline() cost more than
the whole search besides. A glossary name in the query also searches the term's other names
("resorbing" finds "resorption", which no stemmer joins; "OPG" finds "osteoprotegerin").

User text never reaches either engine as query syntax: it is cut into words and each
word into \\w tokens, and the engine's query is built here from those tokens.
"""

import difflib
import html
import re
import threading
from dataclasses import dataclass, field

import Stemmer
from django.apps import apps
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import connection, models
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .content_version import content_version
from .rendering import _is_acronym

MAX_QUERY_CHARS = 200
MAX_WORDS = 8
MAX_WORD_CHARS = 50
OPERATORS = {"AND", "OR", "NOT", "NEAR"}  # pasted boolean syntax: we search words only
SECTION_LIMIT = 10  # shown
TERM_LIMIT = 12  # shown
MATCH_LIMIT = 50  # the best rows each engine query returns
SNIPPET_CHARS = 180  # about the 24 words FTS5's snippet() gave
SNIPPET_LEAD = 40  # characters of context kept before the first marked word
MARK_START, MARK_END = "\x02", "\x03"  # snippet markers: escaped text cannot contain them
SECTION_FTS, TERM_FTS = "lessons_section_fts", "lessons_term_fts"  # SQLite: one FTS5 table per kind


class Kind(models.TextChoices):
    SECTION = "section", "Lesson section"
    TERM = "term", "Glossary term"


class SearchEntry(models.Model):
    """One searchable piece: an h2 section of a tier text, or a glossary term.

    On SQLite, migration 0006 puts triggers on this table that keep the FTS5 table in
    step; a later migration that makes Django rebuild this table must recreate them.
    """

    kind = models.CharField(max_length=8, choices=Kind.choices)
    text = models.ForeignKey("lessons.TierText", on_delete=models.CASCADE, null=True, related_name="search_entries")
    term = models.ForeignKey("lessons.Term", on_delete=models.CASCADE, null=True, related_name="search_entries")
    position = models.PositiveIntegerField(default=0)
    anchor = models.CharField(max_length=200, blank=True)
    key = models.CharField(max_length=200, blank=True, help_text="The section key shared by the three tiers.")
    heading = models.CharField(max_length=300)
    body = models.TextField()
    # Case-sensitive glossary acronyms written here in their own case, as acronym_key()s,
    # so that "RANK" finds RANK but not "ranked".
    acronyms = models.TextField(blank=True)
    vector = SearchVectorField(null=True)  # PostgreSQL only; NULL on SQLite

    class Meta:
        ordering = ["kind", "text", "position"]
        verbose_name_plural = "search entries"

    def __str__(self):
        return self.heading


VECTOR = (
    SearchVector("heading", weight="A", config="english")
    + SearchVector("body", weight="B", config="english")
    + SearchVector("acronyms", weight="C", config="simple")
)


# --- Building the index ----------------------------------------------------------------

_DROP = re.compile(
    r'<div class="tips">.*?</div>|<section class="references".*?</section>|<aside class="evidence-legend".*?</aside>'
    r'|<svg\b.*?</svg>|<sup class="cite">.*?</sup>|<sup id="fnref[^"]*">.*?</sup>',
    re.S,
)
_H2 = re.compile(r'<h2\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</h2>', re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


_BLOCK_TAG = re.compile(r"</?(?:p|li|ul|ol|dl|dt|dd|h[1-6]|div|table|tr|td|th|thead|tbody|blockquote|figure|figcaption|pre|br|hr)\b[^>]*>")


def plain_text(fragment: str) -> str:
    """Readable text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", "", _BLOCK_TAG.sub(" ", fragment)))
    return " ".join(_CONTROL.sub(" ", text).split())


def sections_of(rendered: str, toc: list, title: str) -> list[dict]:
    """Split a tier's rendered HTML at its h2s: anchor, key, heading and plain body of each.

    Text before the first h2 is a section too, with no anchor, headed by the tier title.
    Tooltips, the reference list, the evidence legend, diagrams and citation numbers are
    left out: they are not what the section says.
    """
    keys = {item["id"]: item.get("key", item["id"]) for item in toc if item.get("level") == 2}
    content = _DROP.sub(" ", rendered)
    heads = list(_H2.finditer(content))
    sections = []
    intro = plain_text(content[: heads[0].start()] if heads else content)
    if intro:
        sections.append({"anchor": "", "key": "", "heading": title, "body": intro})
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(content)
        anchor = head.group(1)
        sections.append(
            {
                "anchor": anchor,
                "key": keys.get(anchor, anchor),
                "heading": plain_text(head.group(2)),
                "body": plain_text(content[head.end() : end]),
            }
        )
    return sections


def acronym_key(name: str) -> str:
    """One token per acronym on both engines: "IL-6" -> "il6", "TNF-α" -> "tnfα"."""
    return re.sub(r"\W|_", "", name).lower()


def acronym_names(terms) -> list[str]:
    """The names that must match case-exactly: acronyms of case-sensitive terms."""
    return [name for t in terms if t.case_sensitive for name in [t.term, *t.aliases] if _is_acronym(name)]


def acronyms_in(text: str, names: list[str]) -> str:
    if not names:
        return ""
    pattern = r"(?<![\w])(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?![\w])"
    return " ".join(sorted({acronym_key(m) for m in re.findall(pattern, text)}))


def section_entries(text, acronyms: list[str]) -> list[dict]:
    """The index fields of a tier text's sections (pure; the 0006 migration uses it too)."""
    return [
        {"kind": Kind.SECTION, "position": i, "acronyms": acronyms_in(s["heading"] + " " + s["body"], acronyms), **s}
        for i, s in enumerate(sections_of(text.html, text.toc, text.title))
    ]


def term_entry(term) -> dict:
    """The index fields of a glossary term: its names, tooltips and body (pure)."""
    shorts = dict.fromkeys(s for s in (term.short, term.short_fundamentals, term.short_intermediate, term.short_academic) if s)
    body = " ".join([", ".join(term.aliases), *shorts, plain_text(term.body_html)])
    return {
        "kind": Kind.TERM, "heading": term.term, "body": _CONTROL.sub(" ", body).strip(),
        "acronyms": " ".join(acronym_key(n) for n in acronym_names([term])),
    }


def _term_model():
    return apps.get_model("lessons", "Term")


def index_text(text) -> None:
    """Rewrite a tier text's sections in the index. Call it inside the save's transaction."""
    acronyms = acronym_names(_term_model().objects.filter(case_sensitive=True).only("term", "aliases", "case_sensitive"))
    SearchEntry.objects.filter(text=text).delete()
    SearchEntry.objects.bulk_create(SearchEntry(text=text, **fields) for fields in section_entries(text, acronyms))
    _store_vectors(SearchEntry.objects.filter(text=text))


def index_term(term) -> None:
    """Rewrite a glossary term's entry in the index. Call it inside the save's transaction."""
    SearchEntry.objects.filter(term=term).delete()
    SearchEntry.objects.create(term=term, **term_entry(term))
    _store_vectors(SearchEntry.objects.filter(term=term))


def _store_vectors(entries) -> None:
    if connection.vendor == "postgresql":
        entries.update(vector=VECTOR)


# --- Reading a query -------------------------------------------------------------------

@dataclass
class Word:
    text: str  # as typed, cleaned to letters, digits and inner hyphens
    names: list = field(default_factory=list)  # other names of the glossary term it names
    acronyms: list = field(default_factory=list)  # ...those of them that match case-exactly
    acronym: bool = False  # itself a case-sensitive glossary acronym, typed in its own case
    prefix: bool = False  # the last word, perhaps still being typed
    known: bool = False  # a glossary name


@dataclass
class Glossary:
    """Every term's names, kept per process and checked against the content version."""

    version: tuple
    terms: dict  # id -> Term
    by_name: dict  # folded name -> term id
    by_acronym: dict  # acronym as written -> term id
    folded: dict  # folded name -> name, for suggestions

    @classmethod
    def current(cls, version: tuple):
        Term = _term_model()
        if _glossary and _glossary[0].version == version:
            return _glossary[0]
        terms = {t.pk: t for t in Term.objects.only("slug", "term", "aliases", "case_sensitive", "short")}
        by_name, by_acronym, folded = {}, {}, {}
        for term in terms.values():
            for name in term.names():
                folded.setdefault(fold(name), name)
                if term.case_sensitive and _is_acronym(name):
                    by_acronym.setdefault(name, term.pk)
                else:
                    by_name.setdefault(fold(name), term.pk)
        _glossary[:] = [cls(version, terms, by_name, by_acronym, folded)]
        return _glossary[0]

    def find(self, text: str):
        """The term that has this name, honouring case for acronyms, or None."""
        pk = self.by_acronym.get(text) or self.by_name.get(fold(text))
        return self.terms.get(pk)


_glossary: list = []


def fold(name: str) -> str:
    return " ".join(name.lower().replace("-", " ").split())


def clean_words(query: str) -> list[str]:
    query = _CONTROL.sub(" ", query[:MAX_QUERY_CHARS])
    words = []
    for raw in query.split():
        word = "-".join(re.findall(r"\w+", raw))[:MAX_WORD_CHARS]  # "T-score" stays whole; '"(x*' -> "x"
        if word and word not in OPERATORS:
            words.append(word)
    return words[:MAX_WORDS]


def read_query(query: str, glossary: Glossary) -> list[Word]:
    """The query as words, each expanded to the other names of the glossary term it names."""
    typed = clean_words(query)
    if sum(len(w) for w in typed) < 2:
        return []
    whole = glossary.find(" ".join(typed)) if len(typed) > 1 else None
    groups = [" ".join(typed)] if whole else typed
    words = []
    for text in groups:
        term = whole or glossary.find(text)
        word = Word(text)
        if term:
            word.known, word.acronym = True, text in glossary.by_acronym
            for name in _broadest(term.names(), text):
                (word.acronyms if term.case_sensitive and _is_acronym(name) else word.names).append(name)
        words.append(word)
    last = words[-1]
    last.prefix = not last.known and len(last.text) >= 3 and not query[-1:].isspace()
    return words


def _broadest(names: list[str], typed: str) -> list[str]:
    """The names other than the typed one, less those that contain another name as a
    phrase ("bone resorption" when "resorption" is searched anyway)."""
    folded = {fold(n): n for n in [typed, *names]}
    keep = []
    for key, name in folded.items():
        inner = any(other != key and re.search(rf"(?<!\w){re.escape(other)}(?!\w)", key) for other in folded)
        if key != fold(typed) and not inner:
            keep.append(name)
    return keep


def distinct_names(word, stem) -> list[str]:
    """The word's other names, less those the engine reads as the same words as the typed
    word or an earlier name ("resorbs", "resorbed" when "resorb" is searched; "broken bones"
    after "broken bone"): each repeat made ranking slower, never different. Only names of
    plain ASCII words are compared by stems, where the engine's stemmer and `stem` are the
    same algorithm; any other name is compared as written."""
    def key(text):
        parts = text.lower().split()
        if all(p.isascii() and p.isalpha() for p in parts):
            return ("words", *map(stem, parts))
        return ("text", fold(text))

    seen = set() if word.acronym or word.prefix else {key(word.text)}
    names = []
    for name in word.names:
        if key(name) not in seen:
            seen.add(key(name))
            names.append(name)
    return names


# --- Results ---------------------------------------------------------------------------

@dataclass
class TermHit:
    slug: str
    term: str
    short: str
    match: str  # "exact", "prefix" (a name starts with the query) or "text"


@dataclass
class SectionHit:
    id: int
    lesson_slug: str
    lesson_title: str
    tier: str
    anchor: str
    key: str
    heading: str
    rank: float
    body: str = field(default="", repr=False)
    snippet: SafeString = ""
    depths: dict = field(default_factory=dict)  # tier -> anchor, every tier that has this section


@dataclass
class Results:
    query: str
    terms: list = field(default_factory=list)
    sections: list = field(default_factory=list)
    suggestion: str = ""
    terms_found: int = 0  # before the cut to TERM_LIMIT
    sections_found: int = 0  # before the cut to SECTION_LIMIT
    more_terms: bool = False  # the engine had more than MATCH_LIMIT to give
    more_sections: bool = False
    short_word: str = ""  # a typed word too short to be read as the start of longer ones

    def __bool__(self):
        return bool(self.terms or self.sections)

    @property
    def too_short(self) -> bool:
        return len("".join(clean_words(self.query))) < 2

    @property
    def summary(self) -> str:
        """"3 glossary terms and 10 of 23 lesson sections": what is shown out of what was found."""
        parts = []
        for shown, found, more, noun in (
            (len(self.terms), self.terms_found, self.more_terms, "glossary term"),
            (len(self.sections), self.sections_found, self.more_sections, "lesson section"),
        ):
            if found > shown or more:
                parts.append(f"{shown} of {found}{'+' if more else ''} {noun}s")
            else:
                parts.append(f"{shown} {noun}{'' if shown == 1 else 's'}")
        return " and ".join(parts)


def highlight(snippet: str) -> SafeString:
    """Escape a marked snippet, then turn its markers into <mark> elements."""
    safe = escape(snippet.replace(MARK_END + MARK_START, ""))
    return mark_safe(safe.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


_NEXT_TOKEN = re.compile(r"\W*(\w+)")
_WORD_CHAR = re.compile(r"\w")


def word_starts(pattern: re.Pattern, text: str):
    """pattern's matches in text that begin a word. The patterns have no leading \\b or
    lookbehind, and are matched against lower-cased text rather than with re.I: either
    stops the regex engine from skipping ahead to a possible first letter (3-4x slower)."""
    at = 0
    while match := pattern.search(text, at):
        if match.start() and _WORD_CHAR.match(text, match.start() - 1):
            at = match.start() + 1  # inside a word: look again from its next letter
        else:
            yield match
            at = max(match.end(), match.start() + 1)


def lowered(text: str) -> str:
    """text in lower case, each character where it was (a few, such as "İ", would grow)."""
    low = text.lower()
    return low if len(low) == len(text) else "".join(c if len(c.lower()) > 1 else c.lower() for c in text)


_stemmers = threading.local()


def stemmer(algorithm: str):
    """This thread's Snowball stemmer (a Stemmer must not be shared between threads)."""
    found = getattr(_stemmers, algorithm, None)
    if found is None:
        found = Stemmer.Stemmer(algorithm)
        setattr(_stemmers, algorithm, found)
    return found


class Marker:
    """Marks the query's words in a section's text and cuts a snippet around the best of them.

    Snippets are made here from the stored text of the ten sections shown: FTS5's snippet()
    and PostgreSQL's ts_headline() re-read and re-parse each section (1-2 ms a section at
    10x). A word is marked where the engine matched it: by the engine's own stemmer
    (`stem`), word by word for a phrase, as a prefix for the word being typed, in its own
    case for an acronym. The engine's tokenizer and ours can differ at the edges (FTS5
    folds diacritics; PostgreSQL drops stop words inside a phrase), so a rare match may go
    unmarked; the snippet is still cut from the section and escaped.
    """

    def __init__(self, words, stem):
        self.stem = stem
        self.stems = {}  # token (lower case) -> stem, for this search
        self.by_first = {}  # stem of an option's first token -> [(word index, [(stem, prefix or None) per token])]
        self.prefixed = []  # options whose first token is the prefix being typed
        acronyms = {}
        for i, word in enumerate(words):
            texts = [] if word.acronym else [word.text]
            for text in [*texts, *word.names]:
                tokens = re.findall(r"\w+", text.lower())
                if not tokens:
                    continue
                tests = [(stem(t), None) for t in tokens]
                if word.prefix and text is word.text:
                    tests[-1] = (stem(tokens[-1]), tokens[-1])
                if tests[0][1] is None:
                    self.by_first.setdefault(tests[0][0], []).append((i, tests))
                else:
                    self.prefixed.append((i, tests))
            for name in ([word.text] if word.acronym else []) + word.acronyms:
                acronyms.setdefault(name, i)
        # A token stemmed to s starts with s less its last letter (Porter turns a final "y" into "i").
        # A one-letter token (the "T" of "T-score") is its own stem: it is looked for as a whole
        # word, not as the start of every "the" and "to" (most of that snippet's time).
        singles = {first for first in self.by_first if len(first) == 1}
        starts = {first[:-1] or first for first in self.by_first if len(first) > 1}
        starts |= {s for _, ((first, prefix), *_) in self.prefixed for s in (first[:-1] or first, prefix)}
        alternatives = [r"(?:" + "|".join(map(re.escape, sorted(starts, key=len, reverse=True))) + r")\w*"] if starts else []
        alternatives += [r"(?:" + "|".join(map(re.escape, sorted(singles - starts))) + r")(?!\w)"] if singles - starts else []
        self.candidates = re.compile("|".join(alternatives)) if alternatives else None
        self.acronyms = acronyms
        self.acronym_re = (
            re.compile(r"(?:" + "|".join(map(re.escape, sorted(acronyms, key=len, reverse=True))) + r")(?!\w)")
            if acronyms else None
        )

    def _stem(self, token: str) -> str:
        stem = self.stems.get(token)
        if stem is None:
            stem = self.stems[token] = self.stem(token)
        return stem

    def _passes(self, token: str, test) -> bool:
        stem, prefix = test
        token = token.lower()
        if prefix is None:
            return self._stem(token) == stem
        return token.startswith(prefix) or self._stem(token).startswith(stem)

    def matches(self, body: str) -> list:
        """(start, end, word index) of each marked stretch of body, in order, not overlapping."""
        found = []
        text = lowered(body)
        for m in word_starts(self.candidates, text) if self.candidates else ():
            options = self.by_first.get(self._stem(m.group()), [])
            options = options + [o for o in self.prefixed if self._passes(m.group(), o[1][0])] if self.prefixed else options
            best = None
            for i, tests in options:
                end = m.end()
                for test in tests[1:]:
                    following = _NEXT_TOKEN.match(text, end)
                    if not following or not self._passes(following.group(1), test):
                        break
                    end = following.end()
                else:
                    if best is None or end > best[1]:
                        best = (m.start(), end, i)
            if best:
                found.append(best)
        if self.acronym_re:
            found += [(m.start(), m.end(), self.acronyms[m.group()]) for m in word_starts(self.acronym_re, body)]
        found.sort()
        kept = []
        for match in found:
            if not kept or match[0] >= kept[-1][1]:
                kept.append(match)
        return kept

    def snippet(self, body: str) -> str:
        """About SNIPPET_CHARS of body around the stretch with the most different query words,
        with MARK_START/MARK_END around each match and "…" where it was cut."""
        matches = self.matches(body)
        best, start, first = (0, 0), 0, 0
        for i, match in enumerate(matches):
            window_start = max(0, match[0] - SNIPPET_LEAD)
            inside = [m for m in matches[i:] if m[1] <= window_start + SNIPPET_CHARS]
            score = (len({m[2] for m in inside}), len(inside))
            if score > best:
                best, start, first = score, window_start, match[0]
        if start > 0 and not body[start - 1].isspace():
            space = body.find(" ", start, first)
            start = space + 1 if space >= 0 else start
        end = start + SNIPPET_CHARS
        shown = [m for m in matches if m[0] >= start and m[1] <= end]
        if end < len(body):
            space = body.rfind(" ", shown[-1][1] if shown else start, end)
            end = space if space > 0 else end
        else:
            end = len(body)
        parts, at = ["…" if start > 0 else ""], start
        for first, last, _ in shown:
            parts += [body[at:first], MARK_START, body[first:last], MARK_END]
            at = last
        parts += [body[at:end], "…" if end < len(body) else ""]
        return "".join(parts)


def search(query: str, *, drafts: bool = False, tier: str | None = None) -> Results:
    """Glossary terms and lesson sections matching query, best first, on this database's engine.

    `drafts` includes unpublished lessons (for staff); `tier` is the reader's preferred
    depth: a section that matched at that depth (among others) is shown there. Three queries
    at most: the content version, then the matches (one query on PostgreSQL, two on SQLite).
    """
    results = Results(query=" ".join(clean_words(query)))
    version = content_version()
    glossary = Glossary.current(version)
    words = read_query(query, glossary)
    if not words:
        return results
    engine = _postgres if connection.vendor == "postgresql" else _sqlite
    term_ranks, rows = engine.find(words, drafts)
    terms, sections = _order_terms(term_ranks, glossary, results.query), _group_sections(rows, tier)
    results.terms, results.terms_found, results.more_terms = terms[:TERM_LIMIT], len(terms), len(term_ranks) >= MATCH_LIMIT
    results.sections, results.sections_found = sections[:SECTION_LIMIT], len(sections)
    results.more_sections = len(rows) >= MATCH_LIMIT
    if results.sections:
        marker = Marker(words, engine.stemmer())
        for hit in results.sections:
            hit.snippet = highlight(marker.snippet(hit.body))
        _add_depths(results.sections, version)
    if not results:
        results.suggestion = _suggest(words, glossary, engine)
        results.short_word = next((w.text for w in words if len(w.text) < 3 and not w.known), "")
    return results


def _order_terms(ranks: dict, glossary: Glossary, query: str) -> list:
    folded = fold(query)
    hits = []
    for pk, rank in ranks.items():
        term = glossary.terms.get(pk)
        if term is None:
            continue
        names = [fold(n) for n in term.names()]
        prefixed = [len(n) for n in names if n.startswith(folded)]
        match = "exact" if folded in names else "prefix" if prefixed else "text"
        order = (("exact", "prefix", "text").index(match), min(prefixed, default=0), -rank, term.term.lower())
        hits.append((order, TermHit(term.slug, term.term, term.short, match)))
    return [hit for _, hit in sorted(hits, key=lambda h: h[0])]


def _group_sections(rows: list, tier: str | None) -> list:
    """One hit per section key of a lesson, at the preferred tier when that tier matched."""
    groups = {}
    for hit in rows:
        group = (hit.lesson_slug, hit.key or "#intro")
        best = groups.get(group)
        if best is None or (tier and hit.tier == tier and best.tier != tier):
            groups[group] = hit if best is None else _keep_rank(hit, best)
    return sorted(groups.values(), key=lambda h: -h.rank)


def _keep_rank(preferred, best):
    preferred.rank = max(preferred.rank, best.rank)
    return preferred


DEPTHS_SQL = """
    SELECT l.slug, e.key, t.tier, e.anchor FROM lessons_searchentry e
    JOIN lessons_tiertext t ON t.id = e.text_id JOIN lessons_lesson l ON l.id = t.lesson_id
    WHERE e.kind = 'section' AND e.key <> '' ORDER BY e.position"""
_depths: list = []  # [(content version, {(lesson slug, section key): {tier: anchor}})]


def _add_depths(hits, version: tuple) -> None:
    """Every tier that has each hit's section (by its shared key), for "also at" links.

    The map of every section's depths is kept per process, like the glossary, and read
    again (one query) when the content version changes: a query per search cost more."""
    if not _depths or _depths[0][0] != version:
        depths = {}
        with connection.cursor() as cursor:
            cursor.execute(DEPTHS_SQL)
            for slug, key, tier, anchor in cursor.fetchall():
                depths.setdefault((slug, key), {}).setdefault(tier, anchor)
        _depths[:] = [(version, depths)]
    depths = _depths[0][1]
    for hit in hits:
        hit.depths = dict(depths.get((hit.lesson_slug, hit.key), {hit.tier: hit.anchor})) if hit.key else {hit.tier: ""}


def _suggest(words, glossary: Glossary, engine) -> str:
    """A query with each unknown word replaced by the glossary name it is closest to."""
    unknown = [w.text for w in words if not w.known and len(w.text) >= 4]
    if not unknown:
        return ""
    close = engine.closest_names(unknown, glossary)
    suggestion = " ".join(close.get(w.text, w.text) for w in words)
    return suggestion if fold(suggestion) != fold(" ".join(w.text for w in words)) else ""


# --- SQLite: FTS5 ----------------------------------------------------------------------

class _sqlite:
    # Rank in FTS5 alone, then join the best rows. Unpublished lessons are left out before
    # the 50 are taken (there are few drafts, so the NOT IN list is short).
    TERMS_SQL = f"""
        SELECT e.term_id, bm25({TERM_FTS}, 5.0, 1.0, 5.0) AS score
        FROM {TERM_FTS} f JOIN lessons_searchentry e ON e.id = f.rowid
        WHERE {TERM_FTS} MATCH %s ORDER BY score LIMIT {MATCH_LIMIT}"""
    SECTIONS_SQL = f"""
        WITH top AS MATERIALIZED (
            SELECT rowid AS id, bm25({SECTION_FTS}, 5.0, 1.0, 1.0) AS score FROM {SECTION_FTS}
            WHERE {SECTION_FTS} MATCH %s {{status}} ORDER BY score LIMIT {MATCH_LIMIT})
        SELECT e.id, l.slug, l.title, t.tier, e.anchor, e.key, e.heading, top.score, e.body
        FROM top
        JOIN lessons_searchentry e ON e.id = top.id
        JOIN lessons_tiertext t ON t.id = e.text_id
        JOIN lessons_lesson l ON l.id = t.lesson_id
        ORDER BY top.score"""
    UNPUBLISHED = """AND rowid NOT IN (SELECT id FROM lessons_searchentry WHERE text_id IN (
            SELECT t.id FROM lessons_tiertext t JOIN lessons_lesson l ON l.id = t.lesson_id WHERE l.status <> 'published'))"""

    @staticmethod
    def stemmer():
        # FTS5's porter tokenizer leaves tokens under three characters as they are.
        porter = stemmer("porter").stemWord
        return lambda token: token if len(token) < 3 else porter(token)

    @staticmethod
    def phrase(text: str, prefix: bool = False) -> str:
        tokens = re.findall(r"\w+", text.lower())  # never a quote: safe inside "..."
        return '"' + " ".join(tokens) + '"' + ("*" if prefix else "") if tokens else ""

    @classmethod
    def match(cls, words) -> str:
        groups, stem = [], cls.stemmer()
        for word in words:
            options = [f"acronyms : {cls.phrase(acronym_key(word.text))}" if word.acronym else cls.phrase(word.text, word.prefix)]
            options += [cls.phrase(name) for name in distinct_names(word, stem)]
            options += [f"acronyms : {cls.phrase(acronym_key(name))}" for name in word.acronyms]
            groups.append("(" + " OR ".join(dict.fromkeys(o for o in options if o)) + ")")
        return " AND ".join(groups)

    @classmethod
    def find(cls, words, drafts):
        match = cls.match(words)
        with connection.cursor() as cursor:
            cursor.execute(cls.TERMS_SQL, [match])
            terms = {pk: -score for pk, score in cursor.fetchall()}
            cursor.execute(cls.SECTIONS_SQL.format(status="" if drafts else cls.UNPUBLISHED), [match])
            rows = [SectionHit(*row[:7], rank=-row[7], body=row[8]) for row in cursor.fetchall()]
        return terms, rows

    @staticmethod
    def closest_names(words, glossary) -> dict:
        # The ~600 names are in memory already; difflib's ratio over them costs about a millisecond.
        close = {}
        for word in words:
            found = difflib.get_close_matches(fold(word), glossary.folded, n=1, cutoff=0.8)
            if found:
                close[word] = glossary.folded[found[0]]
        return close


# --- PostgreSQL: tsvector, GIN, pg_trgm ------------------------------------------------

class _postgres:
    # Raw SQL: the tsquery is written once as text with its words as parameters (building
    # and compiling it as ORM expressions cost several milliseconds a search).
    # The tsquery is built once in q: written inline, its phraseto_tsquery() calls (STABLE,
    # so not folded into a constant) ran again for every matching row that was ranked.
    # ts_rank, not ts_rank_cd: cover density cost 3-5 ms more a search at 10x (half the
    # statement), and ts_rank also weighs how close the words are. Its weights, as {D, C, B, A}
    # (A heading, B body, C acronyms), are bm25()'s on SQLite: heading 5x body. Sections
    # with the typed words as a phrase rank double: ts_rank's length normalisation put a
    # short section with "the decoy OPG" above the one that says "decoy receptor".
    SECTION_WEIGHTS, TERM_WEIGHTS = "{0.1, 0.2, 0.2, 1.0}", "{0.1, 1.0, 0.2, 1.0}"
    TERMS_SQL = """
        WITH q AS MATERIALIZED (SELECT {query} AS query)
        SELECT term_id, ts_rank('{TERM_WEIGHTS}', vector, q.query, 1) AS rank FROM lessons_searchentry, q
        WHERE kind = 'term' AND vector @@ q.query ORDER BY rank DESC LIMIT {MATCH_LIMIT}"""
    SECTIONS_SQL = """
        WITH q AS MATERIALIZED (SELECT {query} AS query, {ranking} AS ranking, phraseto_tsquery('english', %s) AS phrase),
        top AS MATERIALIZED (
            SELECT id, ts_rank('{SECTION_WEIGHTS}', vector, q.ranking, 1) * CASE WHEN vector @@ q.phrase THEN 2 ELSE 1 END AS rank
            FROM lessons_searchentry, q
            WHERE kind = 'section' AND vector @@ q.query {status} ORDER BY rank DESC LIMIT {MATCH_LIMIT})
        SELECT e.id, l.slug, l.title, t.tier, e.anchor, e.key, e.heading, top.rank, e.body
        FROM top
        JOIN lessons_searchentry e ON e.id = top.id
        JOIN lessons_tiertext t ON t.id = e.text_id
        JOIN lessons_lesson l ON l.id = t.lesson_id
        ORDER BY top.rank DESC"""
    UNPUBLISHED = """AND text_id NOT IN (
            SELECT t.id FROM lessons_tiertext t JOIN lessons_lesson l ON l.id = t.lesson_id WHERE l.status <> 'published')"""

    @staticmethod
    def stemmer():
        return stemmer("english").stemWord  # PostgreSQL's english configuration is Snowball's English stemmer

    @staticmethod
    def lexeme(token: str) -> str:
        return "'" + token + "'"  # \w tokens hold no quote or backslash

    @classmethod
    def query(cls, words, *, ranking: bool = False) -> tuple[str, list]:
        """The tsquery as SQL, and its parameters: every word must match, each in any of its forms.

        The `ranking` one leaves out other names of more than one word: ts_rank reads a phrase
        as a bag of words, so RANKL's "receptor activator of nuclear factor κB ligand" put a
        section full of "receptor" and "nuclear" first for "RANKL denosumab"."""
        groups, params, stem = [], [], cls.stemmer()
        for word in words:
            options = {}  # SQL -> parameter, in order, without repeats
            if word.acronym:
                options[("to_tsquery('simple', %s)", cls.lexeme(acronym_key(word.text)) + ":C")] = None
            elif word.prefix and re.fullmatch(r"\w+", word.text):
                options[("to_tsquery('english', %s)", cls.lexeme(word.text.lower()) + ":*")] = None
            else:
                options[("phraseto_tsquery('english', %s)", word.text)] = None
            for name in distinct_names(word, stem):
                if not (ranking and " " in name):
                    options[("phraseto_tsquery('english', %s)", name)] = None
            for name in word.acronyms:
                options[("to_tsquery('simple', %s)", cls.lexeme(acronym_key(name)) + ":C")] = None
            groups.append("(" + " || ".join(sql for sql, _ in options) + ")")
            params += [param for _, param in options]
        return "(" + " && ".join(groups) + ")", params

    @classmethod
    def find(cls, words, drafts):
        query, params = cls.query(words)
        ranking, ranking_params = cls.query(words, ranking=True)
        terms_sql = cls.TERMS_SQL.format(query=query, MATCH_LIMIT=MATCH_LIMIT, TERM_WEIGHTS=cls.TERM_WEIGHTS)
        sections_sql = cls.SECTIONS_SQL.format(query=query, ranking=ranking, status="" if drafts else cls.UNPUBLISHED,
                                               MATCH_LIMIT=MATCH_LIMIT, SECTION_WEIGHTS=cls.SECTION_WEIGHTS)
        with connection.cursor() as cursor:
            # Both statements in one round trip (psycopg's client-side binding sends them
            # as one): on a busy server each round trip cost about half a millisecond.
            phrase = " ".join(word.text for word in words)
            cursor.execute(terms_sql + ";" + sections_sql, [*params, *params, *ranking_params, phrase if " " in phrase else None])
            terms = dict(cursor.fetchall())
            cursor.nextset()
            rows = [SectionHit(*row[:8], body=row[8]) for row in cursor.fetchall()]
        return terms, rows

    SIMILAR_SQL = """
        SELECT DISTINCT ON (w) w, n.name
        FROM unnest(%s::text[]) AS w,
             lessons_term t,
             LATERAL (SELECT t.term AS name UNION ALL SELECT jsonb_array_elements_text(t.aliases)) AS n
        WHERE similarity(lower(n.name), w) >= 0.45
        ORDER BY w, similarity(lower(n.name), w) DESC, length(n.name)"""

    @classmethod
    def closest_names(cls, words, glossary) -> dict:
        with connection.cursor() as cursor:
            cursor.execute(cls.SIMILAR_SQL, [[fold(w) for w in words]])
            found = dict(cursor.fetchall())
        return {w: found[fold(w)] for w in words if fold(w) in found}
