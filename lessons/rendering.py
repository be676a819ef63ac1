"""Markdown → sanitised HTML, with glossary links, numbered citations and diagrams.

Runs when content is saved or imported, never per request, and never touches the
database: the glossary, references and diagrams it needs are passed in as
`RenderSources` (models.load_render_sources() loads them). Glossary linking works on the
Python-Markdown element tree with one Aho-Corasick pass per text node, so its cost does
not grow with the number of terms.
"""

import html as html_lib
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field

import ahocorasick
import markdown
import nh3
from django.urls import reverse
from django.utils.html import escape
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

EXTENSIONS = ["tables", "footnotes", "attr_list", "def_list", "admonition"]
EXTENSION_CONFIGS = {"toc": {"toc_depth": "2-3", "permalink": False}}

CITE_PATTERN = r"\[(@[^\]\n]{1,300})\]"
EVIDENCE_PATTERN = r"\[\[evidence:([a-z]+)\]\]"
EVIDENCE_LABELS = {
    "approved": ("Approved use", "Approved by a regulator for this use"),
    "trial": ("Human trials", "Tested in human trials, not approved for this use"),
    "preclinical": ("Animal/cell data", "Animal or cell data only, not shown in people"),
}
NOLINK_PATTERN = r"\{!(.+?)!\}"
DIAGRAM_LINE = re.compile(r"^\[\[diagram:([a-z0-9-]+)\]\][ \t]*$", re.MULTILINE)
SKIP_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "a", "code", "pre", "kbd", "samp", "script", "style"}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang"},
    "h2": {"data-section"},
    "a": {"href", "aria-describedby"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
}


@dataclass
class RenderResult:
    html: str = ""
    toc: list = field(default_factory=list)
    terms: dict = field(default_factory=dict)  # slug → anchor of the section where it first appears
    citations: list = field(default_factory=list)
    word_count: int = 0
    problems: list = field(default_factory=list)  # (message, text to find in the source)


@dataclass
class RenderSources:
    """What rendering a tier needs besides its text. references: key → object with
    authors, title, journal, year, volume, pages, doi, pmid, url; diagrams: slug → SVG."""

    glossary: "Glossary | None" = None
    references: dict = field(default_factory=dict)
    diagrams: dict = field(default_factory=dict)


class Glossary:
    """A single matcher over every term name, case-sensitive or not.

    Hyphens and spaces match each other ("calcium-sensing" finds "calcium sensing")."""

    def __init__(self, entries):
        # entries: iterable of (slug, names, case_sensitive, {tier: short}[, title, evidence])
        self.shorts = {}
        self.names = {}
        self.evidence = {}
        self._ci = ahocorasick.Automaton()
        self._cs = ahocorasick.Automaton()
        for slug, names, case_sensitive, shorts, *extra in entries:
            self.shorts[slug] = shorts
            self.names[slug] = extra[0] if extra else names[0]
            self.evidence[slug] = extra[1] if len(extra) > 1 else ""
            for name in names:
                name = name.strip()
                if not name:
                    continue
                if case_sensitive and _is_acronym(name):
                    if name not in self._cs:
                        self._cs.add_word(name, (len(name), slug))
                else:
                    key = _fold(name)
                    if key not in self._ci:
                        self._ci.add_word(key, (len(key), slug))
        for automaton in (self._ci, self._cs):
            if len(automaton):
                automaton.make_automaton()

    def find(self, text):
        """Leftmost-longest whole-word matches as (start, end, slug)."""
        found = []
        for automaton, haystack in ((self._ci, _fold(text)), (self._cs, text)):
            if not len(automaton):
                continue
            for end, (length, slug) in automaton.iter(haystack):
                start = end - length + 1
                if _is_word_edge(text, start - 1) and _is_word_edge(text, end + 1):
                    found.append((start, end + 1, slug))
        found.sort(key=lambda m: (m[0], m[0] - m[1]))
        chosen, last_end = [], 0
        for start, end, slug in found:
            if start >= last_end:
                chosen.append((start, end, slug))
                last_end = end
        return chosen


def _is_acronym(name):
    # In a case-sensitive term only the acronyms ("PTH", "CaSR", "hGH") keep their case;
    # spelled-out names ("parathyroid hormone") also match at the start of a sentence.
    return sum(c.isupper() for c in name) >= 2 or name.isupper()


def _fold(text):
    # Lowercase, hyphens as spaces, without changing length, so match offsets stay valid.
    if text.isascii():
        return text.lower().replace("-", " ")
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text).replace("-", " ")


def _is_word_edge(text, i):
    return i < 0 or i >= len(text) or not (text[i].isalnum() or text[i] == "_")


class CitationProcessor(InlineProcessor):
    def __init__(self, pattern, md, state):
        super().__init__(pattern, md)
        self.state = state

    def handleMatch(self, m, data):
        keys = [k.strip().lstrip("@").strip() for k in m.group(1).split(";")]
        if not keys or any(not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", k) for k in keys):
            return None, None, None
        known = []
        for key in keys:
            if key not in self.state.references:
                self.state.problems.append((f"unknown citation key '{key}'", f"@{key}"))
            elif key not in known:
                known.append(key)
        if not known:
            return None, m.start(0), m.end(0)
        sup = etree.Element("sup", {"class": "cite"})
        sup.text = "["
        for i, key in enumerate(known):
            if key not in self.state.citations:
                self.state.citations.append(key)
            # Each place that cites a reference gets an id, so the reference can link back to it.
            self.state.cite_counts[key] = self.state.cite_counts.get(key, 0) + 1
            link = etree.SubElement(sup, "a", {"href": f"#ref-{key}", "id": f"cite-{key}-{self.state.cite_counts[key]}"})
            link.text = str(self.state.citations.index(key) + 1)
            link.tail = ", " if i < len(known) - 1 else "]"
        return sup, m.start(0), m.end(0)


class EvidenceProcessor(InlineProcessor):
    def __init__(self, pattern, md, state):
        super().__init__(pattern, md)
        self.state = state

    def handleMatch(self, m, data):
        level = m.group(1)
        if level not in EVIDENCE_LABELS:
            self.state.problems.append(
                (f"unknown evidence level '{level}' (use {', '.join(EVIDENCE_LABELS)})", m.group(0))
            )
            return None, m.start(0), m.end(0)
        label, meaning = EVIDENCE_LABELS[level]
        badge = etree.Element("a", {"class": f"evidence evidence-{level}", "href": "#evidence-legend", "title": meaning})
        badge.text = label
        self.state.evidence.add(level)
        return badge, m.start(0), m.end(0)


class NoLinkProcessor(InlineProcessor):
    def handleMatch(self, m, data):
        span = etree.Element("span", {"class": "nogloss"})
        span.text = m.group(1)
        return span, m.start(0), m.end(0)


class GlossaryLinker(Treeprocessor):
    def __init__(self, md, state):
        super().__init__(md)
        self.state = state

    def run(self, root):
        if not self.state.glossary:
            return
        seen = set()
        for block in list(root):
            if block.tag == "h2":
                seen = set()
            self._walk(block, seen)

    def _walk(self, el, seen):
        if el.tag in SKIP_TAGS or "nogloss" in (el.get("class") or "").split():
            return
        if el.text:
            head, links = self._link(el.text, seen)
            if links:
                el.text = head
                for i, link in enumerate(links):
                    el.insert(i, link)
        for child in list(el):
            self._walk(child, seen)
            if child.tail:
                tail, links = self._link(child.tail, seen)
                if links:
                    child.tail = tail
                    at = list(el).index(child) + 1
                    for i, link in enumerate(links):
                        el.insert(at + i, link)

    def _link(self, text, seen):
        links, head, cursor = [], None, 0
        for start, end, slug in self.state.glossary.find(text):
            if slug in seen:
                continue
            seen.add(slug)
            if slug not in self.state.terms:
                self.state.terms.append(slug)
            piece = text[cursor:start]
            if links:
                links[-1].tail = piece
            else:
                head = piece
            a = etree.Element(
                "a", {"class": "term", "href": reverse("term", args=[slug]), "aria-describedby": f"tip-{slug}"}
            )
            a.text = text[start:end]
            links.append(a)
            cursor = end
        if links:
            links[-1].tail = text[cursor:]
        return head, links


RESERVED_IDS = re.compile(
    r"^(main|lesson|lesson-title|content|quiz-card|quiz-heading|toc-h|objectives-h|references|evidence-legend(-h)?"
    r"|(tip|dg|ref|diagram)-.*)$"
)


class ReservedIds(Treeprocessor):
    """Drop ids written in markdown ({#main}) that the page or the renderer itself uses."""

    def run(self, root):
        for el in root.iter():
            if RESERVED_IDS.match(el.get("id", "")):
                del el.attrib["id"]


class SafeIdsExtension(Extension):
    def extendMarkdown(self, md):
        # After attr_list (8) has set ids from {#...}, before toc (5) fills in missing ones.
        md.treeprocessors.register(ReservedIds(md), "reserved_ids", 7)


class _RenderState:
    """What one render collects as it goes: citations, linked terms, evidence levels, problems."""

    def __init__(self, glossary, references):
        self.glossary = glossary
        self.references = references or {}
        self.citations = []
        self.cite_counts = {}
        self.terms = []
        self.evidence = set()
        self.problems = []


class CourseExtension(Extension):
    def __init__(self, state, **kwargs):
        self.state = state
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        md.inlinePatterns.register(CitationProcessor(CITE_PATTERN, md, self.state), "citation", 175)
        md.inlinePatterns.register(NoLinkProcessor(NOLINK_PATTERN, md), "nolink", 176)
        md.inlinePatterns.register(EvidenceProcessor(EVIDENCE_PATTERN, md, self.state), "evidence", 177)
        # After inline parsing (20) so text nodes are final; before toc (5) is irrelevant
        # because headings are never linked.
        md.treeprocessors.register(GlossaryLinker(md, self.state), "glossary", 15)


# Ids the page itself uses: markdown may not take them, or point a tooltip at them.
ANCHOR = re.compile(r"^[A-Za-z][A-Za-z0-9_:.-]{0,99}$")


def _attribute_filter(tag, name, value):
    if name == "aria-describedby":
        return value if re.fullmatch(r"tip-[a-z0-9-]+", value) else None
    if name == "id":
        return value if ANCHOR.match(value) else None
    return value


def sanitise(html):
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"}, link_rel=None,
        attribute_filter=_attribute_filter,
    )


# Limits that keep any input from stalling a worker: Python-Markdown scans to the end of
# a paragraph for every '[' (or '](') that is never closed, so the cost of a paragraph
# grows with unclosed brackets x its length; deep nesting recurses once per level.
MAX_TEXT = 100_000
MAX_BRACKET_SCAN = 200_000
MAX_NESTING = 40


def check_markdown(text: str) -> list:
    """Why this markdown must not be rendered (too long, too slow, too deep), as messages."""
    return [message for message, _ in refusals(text)]


def refusals(text: str) -> list:
    """(message, text to find in the source) for each reason not to render this markdown."""
    if len(text) > MAX_TEXT:
        return [(f"the text is {len(text):,} characters long; the limit is {MAX_TEXT:,}", "")]
    problems, line = [], 1
    for block in re.split(r"(\n[ \t]*\n)", text):
        if block.strip():
            unclosed = _unclosed_brackets(block)
            if unclosed * len(block) > MAX_BRACKET_SCAN:
                problems.append((
                    f"line {line}: {unclosed:,} '[' or '](' with no closing bracket in one paragraph make it too slow "
                    "to render; close them, or write \\[ for a literal bracket",
                    block.strip()[:40],
                ))
            depth = max((len(m.group(0).replace(" ", "")) for m in re.finditer(r"^(?:[ \t]*(?:[-*+>]|\d+[.)])[ \t]+)+", block, re.M)), default=0)
            if depth > MAX_NESTING:
                problems.append((f"line {line}: lists or quotes nested {depth} deep; the limit is {MAX_NESTING}", block.strip()[:40]))
        line += block.count("\n")
    return problems


def _unclosed_brackets(block: str) -> int:
    square = paren = 0
    escaped = False
    previous = ""
    for char in block:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            square += 1
        elif char == "]" and square:
            square -= 1
        elif char == "(" and previous == "]":
            paren += 1
        elif char == ")" and paren:
            paren -= 1
        previous = char
    return square + paren


def _refused_html(text: str) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in re.split(r"\n\s*\n", text) if p.strip())
def citation_problems(text) -> list:
    """[@key] citations in text that is rendered without references (glossary bodies), as (message, needle)."""
    found = re.findall(CITE_PATTERN, text or "")
    return [
        (f"glossary entries cannot cite references ({', '.join(found)}): cite in the lesson instead, or name the source in words", found[0])
    ] if found else []


def render_markdown(text):
    """Plain course markdown (quiz text, glossary bodies): no glossary links or citations.
    Text that check_markdown() refuses is shown escaped instead of rendered."""
    if not text:
        return ""
    if check_markdown(text):
        return _refused_html(text)
    try:
        return sanitise(markdown.markdown(text, extensions=[*EXTENSIONS, SafeIdsExtension()]))
    except RecursionError:
        return _refused_html(text)


# Text formats a quiz field can carry (Moodle's [html], [plain], [moodle], [markdown]).
TEXT_FORMATS = ("markdown", "moodle", "html", "plain")


def render_text(text, text_format="markdown"):
    """A quiz field in its own format: html sanitised, plain escaped (line breaks kept),
    markdown and Moodle's auto-format as markdown."""
    if not text:
        return ""
    if text_format == "html":
        return sanitise(text)
    if text_format == "plain":
        return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in re.split(r"\n\s*\n", text) if p.strip())
    return render_markdown(text)


# One line of words and plain punctuation, starting with a letter: markdown renders it to
# itself, so answers and feedback in plain prose (nearly all of them) skip the ~1 ms pass.
PLAIN_LINE = re.compile(r"[^\W\d_](?:[^\W_]|[ ,.;:?!'\"()%/+=-])*")


def render_inline(text, text_format="markdown"):
    """render_text() for a short field shown inside a label or list item (an answer, its
    feedback): a lone paragraph loses its <p> so the text sits in line."""
    if text_format in ("markdown", "moodle") and PLAIN_LINE.fullmatch(text or "") and text == text.rstrip():
        return text
    html = render_text(text, text_format).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html


def _flatten_toc(tokens, out=None):
    # Python-Markdown gives names HTML-escaped; templates escape them again, so store text.
    out = [] if out is None else out
    for token in tokens:
        if ANCHOR.match(token["id"]):
            out.append({"id": token["id"], "name": html_lib.unescape(token["name"]), "level": token["level"]})
        _flatten_toc(token.get("children", []), out)
    return out


def render_tier(body, tier, sources: RenderSources):
    """Render one tier's markdown against the given glossary, references and diagrams."""
    glossary, references, diagrams = sources.glossary, sources.references, sources.diagrams
    state = _RenderState(glossary, references)
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    figures = []

    def stash_diagram(m):
        slug = m.group(1)
        if slug not in diagrams:
            state.problems.append((f"unknown diagram '{slug}'", m.group(0)))
            return ""
        figures.append(slug)
        return f"xxdiagram{len(figures) - 1}xx"

    refused = refusals(body)
    if refused:
        return RenderResult(html=_refused_html(body), problems=refused)
    source = DIAGRAM_LINE.sub(stash_diagram, body)
    md = markdown.Markdown(
        extensions=[*EXTENSIONS, "toc", CourseExtension(state), SafeIdsExtension()], extension_configs=EXTENSION_CONFIGS
    )
    try:
        html = sanitise(md.convert(source))
    except RecursionError:
        message = f"lists, quotes or emphasis nested too deeply to render (more than {MAX_NESTING} levels)"
        return RenderResult(html=_refused_html(body), problems=[(message, "")])
    # An empty corner cell of a table heads nothing: a header cell there confuses screen readers.
    html = html.replace("<th></th>", "<td></td>")
    toc = _flatten_toc(md.toc_tokens)
    _add_section_keys(toc, html)
    # Where each linked term first appears: the nearest h2 before its first link.
    sections, current = {}, ""
    for m in re.finditer(r'<h2 id="([^"]+)"|<a [^>]*href="[^"]*/glossary/([^/"]+)/"', html):
        if m.group(1):
            current = m.group(1)
        elif m.group(2) not in sections:
            sections[m.group(2)] = current

    anchors = {item["id"] for item in toc}
    for target in re.findall(r'href="#([^"]+)"', html):
        if not target.startswith(("ref-", "fn:", "fnref:", "evidence-legend")) and target not in anchors and f'id="{target}"' not in html:
            state.problems.append((f"link to missing section '#{target}'", f"#{target}"))

    text_only = re.sub(r"<[^>]+>", " ", html)
    word_count = len(re.findall(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*", text_only))

    for i, slug in enumerate(figures):
        html = html.replace(f"<p>xxdiagram{i}xx</p>", diagram_figure(slug, diagrams[slug]))

    parts = [html]
    if state.evidence:
        parts.append(evidence_legend(state.evidence))
    if state.citations:
        parts.append(reference_list([references[k] for k in state.citations], state.cite_counts))
        toc.append({"id": "references", "name": "References", "level": 2})
    if state.terms:
        tips = "".join(tooltip_card(slug, tier, glossary) for slug in state.terms)
        parts.append(f'<div class="tips">{tips}</div>')
    return RenderResult(
        html="\n".join(parts),
        toc=toc,
        terms={slug: sections.get(slug, "") for slug in state.terms},
        citations=state.citations,
        word_count=word_count,
        problems=state.problems,
    )


def _add_section_keys(toc, html):
    """Give each h2 its section key: data-section if set, else its anchor; mark .solo sections."""
    attrs_by_id = {}
    for m in re.finditer(r"<h2 ([^>]*)>", html):
        anchor = re.search(r'id="([^"]+)"', m.group(1))
        if anchor:
            attrs_by_id[anchor.group(1)] = m.group(1)
    for item in toc:
        if item["level"] != 2:
            continue
        attrs = attrs_by_id.get(item["id"], "")
        key = re.search(r'data-section="([^"]+)"', attrs)
        classes = re.search(r'class="([^"]+)"', attrs)
        item["key"] = key.group(1) if key else item["id"]
        item["solo"] = bool(classes and "solo" in classes.group(1).split())


def tooltip_card(slug, tier, glossary):
    """A term's preview card: its name, the tier's definition, its evidence level and a link
    to its glossary page. The link is for pointer users (the term itself already links
    there), so it is kept out of the tab order and out of the term's description."""
    title = escape(glossary.names.get(slug) or slug)
    level = glossary.evidence.get(slug) or ""
    badge = ""
    if level in EVIDENCE_LABELS:
        label, meaning = EVIDENCE_LABELS[level]
        badge = f' <span class="evidence evidence-{level}" title="{escape(meaning)}">{label}</span>'
    return (
        f'<span class="tip" role="tooltip" id="tip-{slug}" hidden>'
        f'<span class="tip-head"><strong class="tip-title">{title}</strong>{badge}</span> '
        f'<span class="tip-text">{escape(glossary.shorts[slug].get(tier) or "")}</span> '
        f'<a class="tip-open" href="{reverse("term", args=[slug])}" tabindex="-1" aria-hidden="true">Open in glossary</a>'
        "</span>"
    )


def evidence_legend(levels):
    items = "".join(
        f'<li><span class="evidence evidence-{level}">{label}</span> {meaning}.</li>'
        for level, (label, meaning) in EVIDENCE_LABELS.items()
        if level in levels
    )
    return (
        '<aside class="evidence-legend" id="evidence-legend" aria-labelledby="evidence-legend-h">'
        f'<h2 id="evidence-legend-h">How strong is the evidence?</h2><ul>{items}</ul></aside>'
    )


def _back_links(key, count):
    """Links from a reference back to each place in the text that cites it (as Wikipedia does)."""
    if count == 1:
        return f'<a class="backlink" href="#cite-{key}-1" aria-label="Back to the citation in the text">↑</a> '
    links = " ".join(
        f'<a class="backlink" href="#cite-{key}-{n}" aria-label="Back to citation {n} of {count} in the text">{chr(96 + n) if n <= 26 else n}</a>'
        for n in range(1, count + 1)
    )
    return f'<span class="backlinks">↑ {links}</span> '


def reference_list(refs, cite_counts=None):
    cite_counts = cite_counts or {}
    items = []
    for ref in refs:
        authors = ref.authors if ref.authors.endswith(".") else f"{ref.authors}."
        bits = [f"{escape(authors)} {escape(ref.title)}."]
        if ref.journal:
            bits.append(f" <i>{escape(ref.journal)}</i>")
        bits.append(f" {ref.year}")
        if ref.volume:
            bits.append(f";{escape(ref.volume)}")
        if ref.pages:
            bits.append(f":{escape(ref.pages)}")
        bits.append(".")
        if ref.doi:
            bits.append(f' <a href="https://doi.org/{escape(ref.doi)}">doi:{escape(ref.doi)}</a>')
        if ref.pmid:
            bits.append(f' <a href="https://pubmed.ncbi.nlm.nih.gov/{escape(ref.pmid)}/">PMID {escape(ref.pmid)}</a>')
        if ref.url and not (ref.doi or ref.pmid):
            bits.append(f' <a href="{escape(ref.url)}">{escape(ref.url)}</a>')
        count = cite_counts.get(ref.key, 0)
        back = _back_links(escape(ref.key), count) if count else ""
        items.append(f'<li id="ref-{escape(ref.key)}">{back}<span class="ref-text">{"".join(bits)}</span></li>')
    return (
        '<section class="references" aria-labelledby="references">'
        f'<h2 id="references">References</h2><ol>{"".join(items)}</ol></section>'
    )


# --- Diagrams: SVG is checked against an allow-list when saved, then inlined. ---

SVG_NS = "http://www.w3.org/2000/svg"
SVG_TAGS = {"svg", "g", "path", "line", "polyline", "polygon", "rect", "circle", "ellipse", "text", "tspan", "title", "desc"}
SVG_ATTRIBUTES = {
    "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "d",
    "points", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-dasharray", "stroke-linecap", "stroke-linejoin", "opacity", "transform", "class",
    "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline", "dx", "dy",
    "preserveAspectRatio", "xmlns", "role", "aria-hidden", "letter-spacing", "lang",
}
etree.register_namespace("", SVG_NS)


def check_svg(svg):
    """Raise ValueError naming the first thing in an SVG that is not allowed."""
    try:
        root = etree.fromstring(svg)
    except etree.ParseError as exc:
        raise ValueError(f"not well-formed XML ({exc})") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise ValueError("the root element must be <svg> in the SVG namespace")
    if "viewBox" not in root.attrib:
        raise ValueError("<svg> needs a viewBox")
    kids = list(root)
    if len(kids) < 2 or kids[0].tag != f"{{{SVG_NS}}}title" or kids[1].tag != f"{{{SVG_NS}}}desc":
        raise ValueError("the first two children of <svg> must be <title> and <desc>")
    if not (kids[0].text or "").strip() or not (kids[1].text or "").strip():
        raise ValueError("<title> and <desc> must not be empty")
    for el in root.iter():
        tag = el.tag.split("}", 1)[-1]
        if not el.tag.startswith(f"{{{SVG_NS}}}") or tag not in SVG_TAGS:
            raise ValueError(f"element <{tag}> is not allowed")
        for name in el.attrib:
            if name not in SVG_ATTRIBUTES:
                raise ValueError(f"attribute '{name}' on <{tag}> is not allowed")
    return root


NARROW_DIAGRAM = 360  # viewBox width that fits a phone at 1:1 (CONTENT-SPEC section 6)
DESKTOP_ZOOM = 1.2  # narrow diagrams are drawn a little larger where there is room
MIN_LABEL_PX = 12.5  # smallest label size on screen, in CSS px


def _smallest_font(root, inherited=16.0):
    """The smallest font-size (in viewBox units) any text or tspan ends up with."""
    size = _number(root.get("font-size"), inherited)
    tag = root.tag.split("}", 1)[-1]
    smallest = size if tag in ("text", "tspan") and (root.text or "").strip() else None
    for child in root:
        found = _smallest_font(child, size)
        if found is not None and (smallest is None or found < smallest):
            smallest = found
    return smallest


def _number(value, default):
    try:
        return float(str(value).removesuffix("px")) if value else default
    except ValueError:
        return default


def diagram_figure(slug, svg):
    """Inline an SVG at a size where its labels stay legible: a narrow diagram (viewBox width
    <= 360) is given its drawn width (x1.2) and shrinks with the column; a wider one keeps a
    width at which its smallest label is >= 12.5 CSS px and scrolls sideways on a phone."""
    root = check_svg(svg)
    title, desc = list(root)[:2]
    title.set("id", f"dg-{slug}-title")
    desc.set("id", f"dg-{slug}-desc")
    root.set("role", "img")
    root.set("aria-labelledby", f"dg-{slug}-title dg-{slug}-desc")
    root.set("class", "diagram-svg")
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    try:
        _, _, vb_width, vb_height = (float(v) for v in root.get("viewBox").replace(",", " ").split())
    except ValueError:
        vb_width = vb_height = 0
    smallest = _smallest_font(root) or 16.0
    wide = vb_width > NARROW_DIAGRAM
    if vb_width > 0 and vb_height > 0:
        zoom = max(MIN_LABEL_PX / smallest, 1.0) if wide else DESKTOP_ZOOM
        root.set("width", str(round(vb_width * zoom)))
        root.set("height", str(round(vb_height * zoom)))
    markup = etree.tostring(root, encoding="unicode")
    if wide:
        return (
            f'<figure class="diagram diagram-wide" id="diagram-{slug}" tabindex="0" aria-labelledby="dg-{slug}-title">'
            f'{markup}<figcaption class="scroll-hint">Scroll sideways to see the whole diagram.</figcaption></figure>'
        )
    return f'<figure class="diagram" id="diagram-{slug}">{markup}</figure>'
