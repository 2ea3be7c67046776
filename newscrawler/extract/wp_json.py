"""A WordPress post as `/wp-json/wp/v2/posts?slug=…&_embed=author,wp:term` gives it: fills what the theme's
markup left out (a date with the site's offset, authors, terms, text) without overriding what the page shows."""

from __future__ import annotations

import dataclasses
import html as entities
import json
from typing import Any

from newscrawler.extract import content_hash
from newscrawler.extract.language import detect_language
from newscrawler.extract.text import collapse
from newscrawler.extract.wp_comments import _rest_date, rest_text
from newscrawler.items import Article

EMBED = "author,wp:term"


def post_of_rest(text: str) -> dict[str, Any] | None:
    """The first post of a /wp/v2/posts answer; None when it is not that JSON or lists no post."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    post = data[0] if isinstance(data, list) and data else data
    return post if isinstance(post, dict) and "id" in post else None


def _rendered(post: dict[str, Any], name: str) -> str:
    value = post.get(name)
    return value.get("rendered", "") if isinstance(value, dict) else ""


def _terms(post: dict[str, Any], taxonomy: str) -> list[str]:
    groups = (post.get("_embedded") or {}).get("wp:term") or []
    names = [term.get("name", "") for group in groups for term in group if isinstance(term, dict) and term.get("taxonomy") == taxonomy]
    return [collapse(entities.unescape(name)) for name in names if name]


def _authors(post: dict[str, Any]) -> list[str]:
    people = (post.get("_embedded") or {}).get("author") or []
    return [collapse(person["name"]) for person in people if isinstance(person, dict) and person.get("name")]


def completed(record: Article, post: dict[str, Any], feed_date_raw: str | None) -> Article:
    """The record with the fields its page lacked taken from the post; a feed's GMT pubDate gives way to the post's
    local date, which carries the site's offset."""
    changes: dict[str, Any] = {}
    dated = _rest_date(post.get("date"), post.get("date_gmt"))
    if dated and (record.published_at is None or record.published_at_raw == feed_date_raw):
        changes["published_at"], changes["published_at_raw"] = dated
    modified = _rest_date(post.get("modified"), post.get("modified_gmt"))
    if record.modified_at is None and modified and modified[0] != (changes.get("published_at") or record.published_at):
        changes["modified_at"] = modified[0]
    fills = {
        "title": collapse(rest_text(_rendered(post, "title"))) or None,
        "body": rest_text(_rendered(post, "content")) or None,
        "lead": rest_text(_rendered(post, "excerpt")) or None,
        "category": next(iter(_terms(post, "category")), None),
    }
    changes |= {name: value for name, value in fills.items() if getattr(record, name) is None and value}
    lists = {"authors": _authors(post), "tags": _terms(post, "post_tag")}
    changes |= {name: value for name, value in lists.items() if not getattr(record, name) and value}
    if "title" in changes or "body" in changes:
        title, body = changes.get("title", record.title), changes.get("body", record.body)
        changes |= {"content_hash": content_hash(title, body), "language": detect_language(body)}
    return dataclasses.replace(record, **changes)
