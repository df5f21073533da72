"""Names a user or a file chose (run names, checkpoint names, file names), made safe to show.

A name is plain text: ``plain_name`` drops control and format characters (newlines, bidi
overrides), folds runs of white space, and cuts a long name at ``limit`` characters with "…", so
a 2 MB name from a shared file cannot freeze a page. ``escape_markdown`` backslash-escapes the characters
that markdown reads as markup, so a name placed inside a Streamlit markdown string (``st.success``,
``st.caption``, ``st.markdown``…) shows as typed: ``![t](http://…)`` stays text and fetches
nothing, and a bare URL is no link. ``file_stem`` turns a name into a short, portable file name;
``plural`` counts a thing in words ("1 run", "2 runs"), ``format_duration`` says a time ("7 min 05 s"). Nothing here
imports streamlit.
"""

from __future__ import annotations

import re
import unicodedata

NAME_LIMIT = 80
_MARKUP = set("\\`*_[]()<>!$|#~{}")
# where markdown's autolinks begin (http://, www., an e-mail's @): a word joiner there keeps them text
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)")
WORD_JOINER = "\u2060"


def plain_name(text: object, limit: int = NAME_LIMIT) -> str:
    """``text`` as one line of plain text of at most ``limit`` characters ("…" marks a cut)."""
    text = str(text)[: limit * 4 + 64]  # never scan a huge name: what is cut here is cut below anyway
    kept = "".join(" " if c.isspace() else c for c in text if c.isspace() or unicodedata.category(c)[0] != "C")
    kept = re.sub(r"\s+", " ", kept).strip()
    if len(kept) > limit:
        kept = kept[: max(limit - 1, 0)].rstrip() + "…"
    return kept


def escape_markdown(text: str) -> str:
    """``text`` with every character that Streamlit's markdown reads as markup backslash-escaped.

    Links and images (``[ ] ( ) !``), emphasis and code (``* _ ~ ` ``), HTML (``< >``), math
    (``$``), colour directives (their ``[``), headings and tables (``# |``), and a list marker at
    the start; ".", "-" and ":" inside a sentence stay as they are, so "run-3.pt: loaded" reads the
    same in the source as on screen (a ``:smile:`` shortcode may still become an emoji: harmless). A bare
    URL or e-mail address (``http://…``, ``www.…``, ``a@b.c``) would still become a link, so it gets an
    invisible word joiner (U+2060) inside "://", before the "." of "www." and after "@": it shows as typed,
    and is not a link.
    """
    escaped = "".join("\\" + c if c in _MARKUP else c for c in text)
    # a backslash cannot stop a bare URL or e-mail address from becoming a link (GFM finds them in the text
    # after escapes are read): an invisible word joiner inside "://", "www." and after "@" does
    escaped = _AUTOLINK.sub(WORD_JOINER, escaped)
    return re.sub(r"^(\s*)([-+=]|\d+[.)])", lambda m: m[1] + "\\" + m[2] if m[2][0] in "-+=" else
                  m[1] + m[2][:-1] + "\\" + m[2][-1], escaped)


def file_stem(name: str, prefix: str = "nnplay-", limit: int = 60) -> str:
    """A file name stem from a run name: letters and digits kept, the rest one "-", e.g. "nnplay-run-3"."""
    stem = re.sub(r"[^0-9A-Za-z]+", "-", name.split("·")[0][: limit * 4]).strip("-")[:limit].strip("-")
    return prefix + (stem or "model")


def plural(n: int, word: str) -> str:
    """ "1 run", "2 runs", "1,000 steps": ``n`` and ``word``, with an "s" unless ``n`` is 1."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def format_duration(seconds: float | None) -> str:
    """ "…" (not known yet), "0.4 s" (under 10 s: a run on a subset can finish in less than one), "35 s" or
    "7 min 05 s"."""
    if seconds is None:
        return "…"
    if seconds < 9.95:
        return f"{max(0.0, seconds):.1f} s"
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
