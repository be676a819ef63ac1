"""The same idea at any depth: matching sections across the three tiers of a lesson.

Every h2 of a tier has a section key (TierText.toc items carry "key" and "solo"); the
tiers of one lesson share keys, so a reader can switch depth and land on the section
about the same idea. Pure functions over toc lists and stored HTML, no database.
"""

import re

from django.utils.html import escape


def first_anchor_by_key(toc: list) -> dict:
    """key → the anchor of the first h2 in a tier with that key."""
    anchors = {}
    for item in toc:
        if item.get("level") == 2 and item.get("key"):
            anchors.setdefault(item["key"], item["id"])
    return anchors


def matching_sections(toc: list, other_tocs: dict) -> dict:
    """For each non-solo h2 of this tier: {anchor: {other tier: its anchor for the same key}}."""
    others = {tier: first_anchor_by_key(t) for tier, t in other_tocs.items()}
    matches = {}
    for item in toc:
        if item.get("level") != 2 or not item.get("key") or item.get("solo"):
            continue
        found = {tier: anchors[item["key"]] for tier, anchors in others.items() if item["key"] in anchors}
        if found:
            matches[item["id"]] = found
    return matches


def add_depth_links(html: str, matches: dict, links: dict) -> str:
    """After each matched h2, a line of links to the same section at the other depths.

    links: tier → (label, tier page URL), in course order."""
    if not matches:
        return html

    def insert(m):
        targets = matches.get(m.group(2))
        if not targets:
            return m.group(0)
        parts = []
        for tier, (label, url) in links.items():
            if tier in targets:
                href = escape(f"{url}#{targets[tier]}")
                parts.append(
                    f'<a href="{href}" hx-get="{href}" hx-target="#lesson" hx-swap="outerHTML" '
                    f'hx-push-url="true" data-tier="{tier}">{escape(label)}</a>'
                )
        return f'{m.group(0)}<p class="also-at"><span>This section at</span> {" ".join(parts)}</p>'

    return re.sub(r'(<h2 [^>]*\bid="([^"]+)"[^>]*>.*?</h2>)', insert, html, flags=re.DOTALL)
