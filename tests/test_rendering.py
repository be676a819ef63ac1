"""The rendering pipeline: glossary linking rules, citations, diagrams and sanitising."""

import re
import sys
from html import unescape
from html.parser import HTMLParser

import pytest

from lessons.rendering import Glossary, RenderSources, check_svg, render_markdown, render_tier


class Ref:
    def __init__(self, key):
        self.key, self.authors, self.title, self.journal, self.year = key, "Smith A", "Title", "J", 2020
        self.volume = self.pages = self.pmid = self.url = ""
        self.doi = "10.1/x"


def glossary(*entries):
    """entries: (slug, [names], case_sensitive)"""
    return Glossary((slug, names, cs, {t: f"def of {slug}" for t in ("fundamentals", "intermediate", "academic")}) for slug, names, cs in entries)


BASIC = glossary(
    ("osteoclast", ["osteoclast", "osteoclasts"], False),
    ("bone", ["bone"], False),
    ("bone-mineral-density", ["bone mineral density"], False),
    ("gh", ["GH"], True),
    ("opg", ["OPG", "osteoprotegerin"], True),
    ("rankl", ["RANKL", "RANK ligand", "TNFSF11"], True),
)


def render(md, g=BASIC, refs=None, tier="intermediate", diagrams=None):
    return render_tier(md, tier, RenderSources(g, refs or {}, diagrams or {}))


def linked(html):
    return re.findall(r'<a [^>]*class="term" href="/glossary/([^/]+)/"[^>]*>([^<]+)</a>', html)


def test_whole_words_only():
    html = render("Osteoclasts differ from preosteoclastic cells and boneless fish.").html
    assert linked(html) == [("osteoclast", "Osteoclasts")]


def test_longest_match_wins():
    html = render("Low bone mineral density is common.").html
    assert linked(html) == [("bone-mineral-density", "bone mineral density")]


def test_acronyms_are_case_sensitive_and_never_inside_words():
    html = render("GH rises. The gh gene. GHRH is different. opg is lowercase but OPG is not.").html
    assert linked(html) == [("gh", "GH"), ("opg", "OPG")]


def test_aliases_cover_plurals_and_synonyms():
    html = render("Osteoclasts need RANK ligand.\n\n## Two\n\nTNFSF11 is its gene name.").html
    assert ("osteoclast", "Osteoclasts") in linked(html)
    assert ("rankl", "RANK ligand") in linked(html)
    assert ("rankl", "TNFSF11") in linked(html)


def test_first_occurrence_per_section_only():
    md = "## One\n\nAn osteoclast and another osteoclast.\n\n## Two\n\nThe osteoclast again."
    assert [s for s, _ in linked(render(md).html)] == ["osteoclast", "osteoclast"]


def test_headings_links_and_code_are_left_alone():
    md = (
        "## Osteoclast biology\n\n"
        "See [the osteoclast page](https://example.org) and `osteoclast` in code.\n\n"
        "    osteoclast in a code block\n\n"
        "Finally an osteoclast in text."
    )
    html = render(md).html
    assert '<h2 id="osteoclast-biology">Osteoclast biology</h2>' in html
    assert linked(html) == [("osteoclast", "osteoclast")]
    assert "Finally an <a " in html


def test_author_can_keep_one_occurrence_plain():
    html = render("The {!osteoclast!} here is plain. Later an osteoclast is linked.").html
    assert '<span class="nogloss">osteoclast</span>' in html
    assert len(linked(html)) == 1


def test_link_carries_tooltip_text_once_per_term_for_the_tier():
    g = Glossary([("osteoclast", ["osteoclast"], False, {"fundamentals": "simple words", "academic": "precise words"})])
    md = "## A\n\nosteoclast\n\n## B\n\nosteoclast"
    fundamentals = render(md, g, tier="fundamentals").html
    academic = render(md, g, tier="academic").html
    assert fundamentals.count('aria-describedby="tip-osteoclast"') == 2
    assert fundamentals.count('id="tip-osteoclast"') == 1
    assert "simple words" in fundamentals and "precise words" in academic


def test_terms_record_the_section_of_first_use():
    result = render("## Intro\n\nNothing.\n\n## Cells {#cells}\n\nAn osteoclast.")
    assert result.terms == {"osteoclast": "cells"}


def calls_during(action):
    """How many Python and C functions run during action(): work, counted without a clock."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return count


def test_linker_work_does_not_grow_with_the_number_of_terms():
    text = " ".join(f"zz{i}term" for i in range(0, 2000, 100))
    used = Glossary((f"t{i}", [f"zz{i}term"], False, {}) for i in range(0, 2000, 100))
    big = Glossary((f"t{i}", [f"zz{i}term"], False, {}) for i in range(2000))
    assert len(big.find(text)) == 20
    # One pass over the text: 100 times the terms costs no extra calls (one regex or
    # str.find per term would cost at least 1,980 more).
    assert calls_during(lambda: big.find(text)) <= calls_during(lambda: used.find(text)) + 20


def test_citations_are_numbered_in_order_of_first_use_with_a_reference_list():
    refs = {"a2020": Ref("a2020"), "b2021": Ref("b2021")}
    result = render("First [@b2021]. Then [@a2020; @b2021]. Again [@b2021].", refs=refs)
    assert result.citations == ["b2021", "a2020"]
    assert '<sup class="cite">[<a href="#ref-b2021" id="cite-b2021-1">1</a>]</sup>' in result.html
    assert '[<a href="#ref-a2020" id="cite-a2020-1">2</a>, <a href="#ref-b2021" id="cite-b2021-2">1</a>]' in result.html
    assert '<li id="ref-b2021">' in result.html and "doi:10.1/x" in result.html


def test_each_reference_links_back_to_every_place_that_cites_it():
    refs = {"a2020": Ref("a2020"), "b2021": Ref("b2021")}
    html = render("First [@b2021]. Then [@a2020; @b2021]. Again [@b2021].", refs=refs).html
    b = html.split('<li id="ref-b2021">')[1].split("</li>")[0]
    assert [f'href="#cite-b2021-{n}"' in b for n in (1, 2, 3)] == [True] * 3
    assert 'aria-label="Back to citation 3 of 3 in the text">c</a>' in b
    a = html.split('<li id="ref-a2020">')[1].split("</li>")[0]
    assert '<a class="backlink" href="#cite-a2020-1" aria-label="Back to the citation in the text">' in a
    for n in (1, 2, 3):
        assert html.count(f'id="cite-b2021-{n}"') == 1


def test_tooltip_is_a_titled_card_with_the_tier_definition_evidence_and_glossary_link():
    g = Glossary([
        ("denosumab", ["denosumab"], False, {"fundamentals": "A bone medicine.", "academic": "An anti-RANKL antibody."},
         "Denosumab", "approved"),
    ])
    html = render("Denosumab works.", g=g, tier="fundamentals").html
    tip = html.split('id="tip-denosumab"')[1].split("</span></div>")[0]
    assert '<strong class="tip-title">Denosumab</strong>' in tip
    assert '<span class="evidence evidence-approved"' in tip and "Approved use" in tip
    assert "A bone medicine." in tip and "anti-RANKL" not in tip
    assert '<a class="tip-open" href="/glossary/denosumab/" tabindex="-1" aria-hidden="true">Open in glossary</a>' in tip
    assert "anti-RANKL" in render("Denosumab works.", g=g, tier="academic").html


def test_unknown_citation_is_a_problem():
    assert render("Oops [@missing2000].").problems == [("unknown citation key 'missing2000'", "@missing2000")]


def test_link_to_missing_section_is_a_problem():
    result = render("## Here {#here}\n\nSee [here](#here) and [there](#there).")
    assert result.problems == [("link to missing section '#there'", "#there")]


SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>T</title><desc>D</desc>'
    '<rect x="0" y="0" width="5" height="5" class="dg-1"/></svg>'
)


def _svg(width, font):
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 100" font-size="{font}"><title>T</title><desc>D</desc>'
        '<g font-size="20"><text x="1" y="20">Big</text></g><text x="1" y="50">Small</text></svg>'
    )


def test_diagrams_get_a_width_that_keeps_their_smallest_label_legible():
    narrow = render("[[diagram:n]]", diagrams={"n": _svg(360, 13)}).html
    assert 'width="432"' in narrow and 'class="diagram" id="diagram-n"' in narrow
    wide = render("[[diagram:w]]", diagrams={"w": _svg(720, 12)}).html
    # 12.5 px / 12 units -> 750 px wide, scrolled sideways on a phone, keyboard-reachable
    assert 'width="750"' in wide and 'class="diagram diagram-wide" id="diagram-w" tabindex="0"' in wide
    assert 'width="720"' in render("[[diagram:w]]", diagrams={"w": _svg(720, 14)}).html


def test_diagram_is_inlined_with_accessible_name():
    html = render("Before.\n\n[[diagram:cycle]]\n\nAfter.", diagrams={"cycle": SVG}).html
    assert '<figure class="diagram" id="diagram-cycle"><svg' in html
    assert 'role="img"' in html and 'aria-labelledby="dg-cycle-title dg-cycle-desc"' in html


@pytest.mark.parametrize(
    "svg, message",
    [
        (SVG.replace("<title>T</title><desc>D</desc>", ""), "first two children"),
        (SVG.replace("<rect", '<rect onload="alert(1)"'), "attribute 'onload'"),
        (SVG.replace("<rect", "<script>alert(1)</script><rect"), "element <script>"),
        (SVG.replace('class="dg-1"', 'style="fill:red"'), "attribute 'style'"),
        (SVG.replace(' viewBox="0 0 10 10"', ""), "viewBox"),
        ("<svg", "not well-formed"),
    ],
)
def test_unsafe_or_inaccessible_svg_is_rejected(svg, message):
    with pytest.raises(ValueError, match=message):
        check_svg(svg)


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<object data=\"x.swf\"></object>",
    "<embed src=\"x.swf\">",
    "<body onload=alert(1)>",
    "<div onmouseover=\"alert(1)\">hover</div>",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=\"alert(1)\"></video>",
    "<audio src=x onerror=alert(1)>",
    "<math><mtext><img src=x onerror=alert(1)></mtext></math>",
    "<base href=\"javascript:alert(1)//\">",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>alert(1);//<</script>",
    "<img src=\"x\" onerror=\"&#97;lert(1)\">",
    "<marquee onstart=alert(1)>x</marquee>",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "<a href=\"x\" onclick=\"alert(1)\">click</a>",
    "*x*{onclick=alert(1)}",
    "## Heading {onclick=\"alert(1)\"}",
    "<template><script>alert(1)</script></template>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
]


class Tags(HTMLParser):
    """Every start tag of a fragment as (tag, {attribute: value}), entities decoded."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "poster", "xlink:href", "data"}
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "style", "link", "meta", "form", "input", "base", "svg", "math", "template", "button"}


def scheme(url):
    """The URL's scheme as a browser reads it: control characters and spaces ignored."""
    url = "".join(c for c in unescape(url) if c > " ").lower()
    return url.split(":", 1)[0] if ":" in url.split("/", 1)[0] else ""


@pytest.mark.parametrize("payload", XSS)
@pytest.mark.parametrize("renderer", ["tier", "markdown"])
def test_hostile_markdown_cannot_inject_script(payload, renderer):
    html = render(payload).html if renderer == "tier" else render_markdown(payload)
    for tag, attrs in Tags(html).tags:
        assert tag not in FORBIDDEN_TAGS, html
        assert not [a for a in attrs if a.startswith("on")], html
        assert "style" not in attrs, html
        assert not [a for a, v in attrs.items() if a in URL_ATTRIBUTES and scheme(v) in {"javascript", "data", "vbscript"}], html


def test_an_empty_table_corner_is_a_data_cell_not_an_empty_header():
    html = render("| | Men | Women |\n|---|---|---|\n| Age | 1 | 2 |").html
    assert "<th></th>" not in html and "<td></td>" in html and "<th>Men</th>" in html
