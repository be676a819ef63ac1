"""Search (lessons/search.py) on whichever database the suite runs on: CI runs these same
cases on SQLite (FTS5) and on PostgreSQL (tsvector, pg_trgm)."""

import re

import pytest
from django.db import connection

from lessons.models import TIERS, Lesson, Status, TierText
from lessons.search import search, sections_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(bundled_course, db):
    return bundled_course


def page(client, q, **headers):
    response = client.get("/search/", {"q": q}, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def add_section(slug, tier, heading, anchor, text):
    tier_text = TierText.objects.get(lesson__slug=slug, tier=tier)
    tier_text.body += f"\n\n## {heading} {{#{anchor}}}\n\n{text}\n"
    tier_text.save()
    return tier_text


def test_decoy_receptor_finds_the_opg_sections(course, client):
    results = search("decoy receptor")
    assert results.sections[0].lesson_slug == "osteoclast-switch"
    assert any(t.slug == "opg" for t in results.terms)  # its definition calls OPG a decoy receptor
    html = page(client, "decoy receptor")
    assert 'href="/lessons/osteoclast-switch/intermediate/#' in html
    assert "<mark>decoy</mark> <mark>receptor</mark>" in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ts_rank only: FTS5's bm25() scores a name as a phrase")
def test_a_terms_other_names_widen_the_match_but_the_typed_words_rank(course):
    # "RANKL" also finds "receptor activator of nuclear factor κB ligand"; ts_rank reads that
    # name as a bag of words, and ranked a section full of "receptor" and "nuclear" above one
    # that says what was typed.
    filler = " ".join(["Scales grew back over the summer in the tanks."] * 6)
    add_section("osteoclast-switch", "fundamentals", "A fish trial", "zebrafish-trial",
                f"In zebrafish, denosumab stopped RANKL. RANKL came back later. {filler}")
    add_section("osteoclast-switch", "intermediate", "Nuclear receptor factors", "zebrafish-receptors",
                "Zebrafish nuclear receptor factor activity: a nuclear receptor, a factor, an activator of receptor "
                f"signalling, a ligand of the receptor; receptor activator of nuclear factor κB ligand; denosumab. {filler}")
    hits = search("zebrafish RANKL denosumab").sections
    assert [h.anchor for h in hits] == ["zebrafish-trial", "zebrafish-receptors"]


def test_t_score_finds_measuring_bone_risk_first_and_the_term_exactly(course):
    results = search("T-score")
    assert results.sections[0].lesson_slug == "measuring-bone-risk"
    assert (results.terms[0].slug, results.terms[0].match) == ("t-score", "exact")


def test_a_misspelt_term_suggests_the_glossary_name(course, client):
    results = search("osteoclst")
    assert not results and results.suggestion == "osteoclast"
    assert 'Did you mean <a href="/search/?q=osteoclast">osteoclast</a>?' in page(client, "osteoclst")


def test_resorbing_finds_resorption(course):
    # The stemmers make "resorbing" "resorb" but "resorption" "resorpt"; the glossary's
    # aliases for resorption bridge the two.
    add_section("osteoclast-switch", "fundamentals", "Fish scales", "fish-scales", "Zebrafish scale resorption is slow.")
    hits = search("zebrafish resorbing").sections
    assert [h.anchor for h in hits] == ["fish-scales"] and "<mark>resorption</mark>" in hits[0].snippet


def test_stemming_finds_other_forms_of_a_word(course):
    add_section("osteoclast-switch", "fundamentals", "Fish scales", "fish-scales", "Zebrafish scales were calcifying.")
    hits = search("zebrafish calcified").sections
    assert [h.anchor for h in hits] == ["fish-scales"] and "<mark>calcifying</mark>" in hits[0].snippet


def test_a_long_sections_snippet_is_cut_around_the_words_marked_as_the_engine_matched(course):
    """The acronym in its own case only, the word being typed as a prefix; text escaped."""
    filler = " ".join(["Plain words here."] * 30)
    add_section("osteoclast-switch", "fundamentals", "League tables", "league-tables",
                f"{filler} Hospitals ranked by RANK, 5 < 7 & zebrafish scales. {filler}")
    hit = next(h for h in search("RANK zebraf").sections if h.anchor == "league-tables")
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…") and len(hit.snippet) < 300
    assert "Hospitals ranked by <mark>RANK</mark>, 5 &lt; 7 &amp; <mark>zebrafish</mark> scales." in hit.snippet


def test_snippets_mark_whole_words_in_place_after_letters_that_grow_in_lower_case(course):
    # "İ" is two characters in lower case; the marks must still land on the words.
    add_section("osteoclast-switch", "fundamentals", "İzmir notes", "izmir", "İİ xosteoclast osteoclasts and xRANKL beside RANKL.")
    hit = next(h for h in search("osteoclast RANKL").sections if h.anchor == "izmir")
    assert "İİ xosteoclast <mark>osteoclasts</mark> and xRANKL beside <mark>RANKL</mark>." in hit.snippet


def test_glossary_names_come_first_exact_then_prefix(course):
    terms = search("osteocl").terms
    assert [(t.slug, t.match) for t in terms[:2]] == [("osteoclast", "prefix"), ("osteoclast-precursor", "prefix")]
    assert search("PTH").terms[0].slug == "pth"


def test_case_sensitive_acronyms_match_only_in_their_own_case(course):
    add_section("osteoclast-switch", "fundamentals", "League tables", "league-tables", "Hospitals are ranked by outcome.")  # not RANK
    hits = search("RANK").sections
    assert "league-tables" not in {hit.anchor for hit in hits}
    assert any(hit.lesson_slug == "osteoclast-switch" for hit in hits)
    assert "league-tables" in {hit.anchor for hit in search("hospitals ranked").sections}


def test_an_edit_to_a_tier_is_findable_on_the_next_request(course, client):
    assert not search("zebrafish")
    add_section("osteoclast-switch", "fundamentals", "Fish scales", "fish-scales", "Zebrafish scales remodel: 5 < 7 & so on.")
    html = page(client, "zebrafish")
    assert 'href="/lessons/osteoclast-switch/fundamentals/#fish-scales"' in html
    assert "<mark>Zebrafish</mark> scales remodel: 5 &lt; 7 &amp; so on." in html  # escaped, then marked


def test_a_deleted_lesson_is_not_found(course, client):
    Lesson.objects.filter(slug="osteoclast-switch").delete()  # a queryset delete, as the admin's bulk action does
    assert all(hit.lesson_slug != "osteoclast-switch" for hit in search("decoy receptor").sections)
    assert "/lessons/osteoclast-switch/" not in page(client, "RANKL denosumab")


def test_drafts_are_found_only_by_those_who_may_see_them(course):
    Lesson.objects.filter(slug="osteoclast-switch").update(status=Status.DRAFT)
    assert all(hit.lesson_slug != "osteoclast-switch" for hit in search("decoy receptor").sections)
    assert search("decoy receptor", drafts=True).sections[0].lesson_slug == "osteoclast-switch"


def test_many_matching_drafts_do_not_hide_a_published_section(course):
    """Unpublished lessons are left out before the best fifty matches are taken: on SQLite
    they were dropped after, so sixty better-ranked draft sections left nothing to show."""
    add_section("bone-is-alive", "fundamentals", "Fish scales", "fish-scales", "Zebrafish scales remodel.")
    text = TierText.objects.get(lesson__slug="osteoclast-switch", tier="fundamentals")
    text.body += "".join(f"\n\n## Zebrafish {n} {{#zebrafish-{n}}}\n\nZebrafish and zebrafish.\n" for n in range(60))
    text.save()
    Lesson.objects.filter(slug="osteoclast-switch").update(status=Status.DRAFT)
    assert [h.anchor for h in search("zebrafish").sections] == ["fish-scales"]
    assert len(search("zebrafish", drafts=True).sections) == 10


def test_a_section_found_at_one_depth_offers_the_others(course, client):
    hit = next(h for h in search("calcitonin minutes").sections if h.key == "calcitonin")
    texts = TierText.objects.filter(lesson__slug="calcium-hormones")
    having = {t.tier for t in texts if any(item.get("key") == "calcitonin" for item in t.toc)}
    assert len(having) > 1 and set(hit.depths) == having
    other = sorted(having - {hit.tier})[0]
    html = page(client, "calcitonin minutes")
    assert f'<a href="/lessons/calcium-hormones/{other}/#{hit.depths[other]}">{other.capitalize()}</a>' in html


def test_a_reader_gets_results_at_the_depth_they_read(course, client):
    """A section that matched at several depths is shown at the reader's, with that depth's
    heading; the other depths are offered beside it."""
    hits = {d: next(h for h in search("calcitonin", tier=d).sections if h.key == "calcitonin") for d in TIERS}
    matched = [d for d, hit in hits.items() if hit.tier == d]
    assert len(matched) >= 2, "calcitonin should match at two depths at least"
    depth = matched[-1]
    client.get(f"/lessons/calcium-hormones/{depth}/")  # the reader opens that depth
    hit = hits[depth]
    html = page(client, "calcitonin")
    assert f'<h3><a href="/lessons/calcium-hormones/{depth}/#{hit.anchor}">{hit.heading}</a></h3>' in html
    other = matched[0]
    assert f'<a href="/lessons/calcium-hormones/{other}/#{hit.depths[other]}">{other.capitalize()}</a>' in html


def test_a_section_is_never_shown_with_another_depths_heading(course, client):
    """The reader's depth is used only where that depth matched: a heading and snippet always
    belong to the page the link opens (the forced switch showed Academic text under a
    Fundamentals link)."""
    client.get("/lessons/bone-is-alive/fundamentals/")
    for hit in search("osteocyte", tier="fundamentals").sections:
        text = TierText.objects.get(lesson__slug=hit.lesson_slug, tier=hit.tier)
        heading = next(item["name"] for item in text.toc if item["id"] == hit.anchor) if hit.anchor else None
        assert heading is None or heading == hit.heading, (hit.lesson_slug, hit.tier, hit.heading, heading)


HOSTILE = ["", " ", "a", "é", "x" * 10240, '"', '""', "*", "NEAR(", "-", "(", ")", '"osteoclst', "\x00", "AND OR NOT", '"*-()"', "'; --"]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_answer_200_with_no_results(course, client, q):
    html = page(client, q)
    assert "In the lessons" not in html and 'id="hits-glossary"' not in html
    assert not search(q)


@pytest.mark.parametrize("q", ['"decoy', "decoy*", "decoy NEAR receptor", "-decoy (receptor", "osteo\x00clast", "bone' OR 1=1 --"])
def test_fts_syntax_in_a_query_is_read_as_words(course, client, q):
    page(client, q)
    assert search(q).sections or search(q).suggestion or not search(q)  # no exception on either engine


def test_index_holds_what_the_section_says_not_tooltips_references_or_legend():
    rendered = (
        '<p>Intro.</p>\n<h2 id="a">First <em>one</em></h2>\n<p>Alpha <sup class="cite">[<a href="#ref-x">1</a>]</sup>beta.</p>'
        '\n<aside class="evidence-legend" id="evidence-legend"><h2 id="evidence-legend-h">Legend</h2></aside>'
        '\n<section class="references"><h2 id="references">References</h2><ol><li>Paper</li></ol></section>'
        '\n<div class="tips"><span class="tip">Tooltip</span></div>'
    )
    toc = [{"id": "a", "name": "First one", "level": 2, "key": "first"}]
    assert sections_of(rendered, toc, "Title") == [
        {"anchor": "", "key": "", "heading": "Title", "body": "Intro."},
        {"anchor": "a", "key": "first", "heading": "First one", "body": "Alpha beta."},
    ]


def test_htmx_gets_the_results_partial_and_the_page_varies_on_it(course, client):
    response = client.get("/search/", {"q": "osteoclast"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="search-results">') and "<html" not in html
    assert "HX-Request" in response["Vary"]
    full = page(client, "osteoclast")
    assert 'hx-push-url="true"' in full and 'action="/search/"' in full


def test_header_and_404_page_offer_a_search_box(course, client):
    assert 'action="/search/"' in client.get("/").content.decode()
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and 'action="/search/"' in response.content.decode()


def test_search_page_query_count(course, client, django_assert_num_queries):
    client.get("/lessons/bone-is-alive/fundamentals/")  # a reader with a depth: results are personal
    page(client, "decoy receptor")  # the process loads the glossary and the sections' depths once (two more queries)
    # The content version, then glossary matches and section matches (with their text, for
    # the snippets made in Python): PostgreSQL gets both in one round trip (two statements
    # in one execute).
    postgres = connection.vendor == "postgresql"
    with django_assert_num_queries(2 if postgres else 3):
        page(client, "decoy receptor")
    # A miss asks for a suggestion: pg_trgm on PostgreSQL (one more query); in memory on SQLite.
    with django_assert_num_queries(3):
        page(client, "osteoclst")


def test_a_new_readers_results_come_from_the_page_cache_until_an_edit(course, client, second_learner_client, django_assert_num_queries):
    search("osteoclast")  # the process loads the glossary and the sections' depths once
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 4):  # the page cache's content version, then a search's
        first = page(client, "decoy receptor")
    with django_assert_num_queries(1):  # another new reader: the content version only
        again = page(second_learner_client, "decoy receptor")
    assert again.count("<h3>") == first.count("<h3>") > 0
    add_section("bone-is-alive", "fundamentals", "Decoy receptor again", "decoy-again", "A decoy receptor sentence.")
    assert "Decoy receptor again" in page(second_learner_client, "decoy receptor")


def test_the_copied_search_index_is_the_one_an_import_builds(bundled_course):
    """On SQLite the test fixtures copy the FTS5 tables instead of letting the triggers build
    them; FTS5's own check compares the copy with the rows it indexes. On PostgreSQL the
    index is the vector stored in each row."""
    from lessons.search import SECTION_FTS, TERM_FTS, SearchEntry

    if connection.vendor == "postgresql":
        assert not SearchEntry.objects.filter(vector__isnull=True).exists()
        return
    with connection.cursor() as cursor:
        for table, kind in ((SECTION_FTS, "section"), (TERM_FTS, "term")):
            cursor.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
            cursor.execute(f"SELECT count(*) FROM {table}_docsize")
            assert cursor.fetchone()[0] == SearchEntry.objects.filter(kind=kind).count() > 100
            cursor.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH 'osteoclast' ORDER BY rowid")
            found = [row[0] for row in cursor.fetchall()]
            has_word = [e.pk for e in SearchEntry.objects.filter(kind=kind).order_by("pk") if re.search(r"\bosteoclasts?\b", f"{e.heading} {e.body}", re.I)]
            assert found == has_word


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's GIN only (CI runs the suite on both)")
def test_postgres_search_indexes_take_new_entries_at_once(course):
    """A GIN index's pending list is read row by row by every search until a VACUUM merges
    it: after an import it added ~4 ms to every search. gin_clean_pending_list() merges it
    and answers how many pages it held."""
    add_section("bone-is-alive", "fundamentals", "Decoy receptor again", "decoy-again", "A decoy receptor sentence.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('lessons_searchentry_vector_gin'), "
                       "gin_clean_pending_list('lessons_searchentry_term_vector_gin')")
        assert cursor.fetchone() == (0, 0)


def _count_line(html):
    return re.search(r'<p class="count" role="status">(.*?)</p>', html, re.S).group(1)


def test_the_count_says_how_many_were_found_when_only_the_best_are_shown(course, client):
    html = page(client, "bone")
    line = _count_line(html)
    shown = re.fullmatch(r"(\d+) of (\d+)\+? glossary terms and (\d+) of (\d+)\+? lesson sections for “bone”", line)
    assert shown, line
    assert int(shown[1]) == html.count("<dt><a ") < int(shown[2])
    assert int(shown[3]) == html.count('<li>\n        <h3><a ') < int(shown[4])
    assert 'href="/glossary/?q=bone"' in html  # the rest of the terms


def test_the_count_is_plain_when_everything_found_is_shown(course, client):
    line = _count_line(page(client, "decoy receptor"))
    assert re.fullmatch(r"\d+ glossary terms? and \d+ lesson sections? for “decoy receptor”", line), line


def test_one_letter_asks_for_two_and_a_short_word_is_said_to_match_whole(course, client):
    assert _count_line(page(client, "x")) == "Type at least two letters."
    html = page(client, "os")
    assert "Nothing found for “os”." in _count_line(html)
    assert "(“os”) is matched whole: type more of it" in html
