"""Reflow (WCAG 1.4.10): at 320 CSS pixels no page scrolls sideways as a whole, for every role,
on every page a user reaches by following the app's own links from the start page — a wide data
table scrolls inside its own labelled region instead. Status badges read as labels, not buttons."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.support import log_in, switch_to_english

ROLES = ("skribent.rinkeby-kista", "polis.jarva", "samordnare", "faststallare", "revisor", "admin")
NARROW = {"width": 320, "height": 640}
# Links that change something or leave the HTML pages: not followed.
NOT_FOLLOWED = re.compile(r"^/(logout|static/)|\.(docx|pdf|jsonl|csv|json|png)$|/export|/download")
PAGES_PER_ROLE = 60
PAGES_PER_SHAPE = 2  # /contributions/1 and /contributions/2 say what /contributions/N does

WIDER_THAN_VIEWPORT = """() => {
  const limit = document.documentElement.clientWidth;
  const wide = [];
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    // Too wide itself, or its text runs out of it (a long word in a heading).
    const spills = getComputedStyle(element).overflowX === 'visible'
                   && box.left + element.scrollWidth > limit + 1;
    if (box.width === 0 || (box.right <= limit + 1 && !spills)) continue;
    // Inside a container that scrolls on its own, a wide table is allowed.
    let scroller = element.parentElement, contained = false;
    while (scroller && scroller !== document.body) {
      const overflow = getComputedStyle(scroller).overflowX;
      if ((overflow === 'auto' || overflow === 'scroll' || overflow === 'hidden')
          && scroller.getBoundingClientRect().right <= limit + 1) {
        contained = true; break;
      }
      scroller = scroller.parentElement;
    }
    if (!contained) wide.push(element.tagName.toLowerCase()
                              + (element.id ? '#' + element.id : '')
                              + (element.className && typeof element.className === 'string'
                                 ? '.' + element.className.trim().split(/\\s+/).join('.') : '')
                              + ' ' + Math.round(box.right));
  }
  return wide.slice(0, 5);
}"""


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", urlsplit(path).path)


def reachable_pages(page, start: str = "/") -> list[str]:
    """The app's own pages reachable by links from the start page, breadth first."""
    seen_shapes: dict[str, int] = {}
    queue, visited = [start], []
    while queue and len(visited) < PAGES_PER_ROLE:
        path = queue.pop(0)
        if path in visited:
            continue
        response = page.goto(path)
        if response is None or response.status != 200 or "text/html" not in (
                response.headers.get("content-type", "")):
            continue
        visited.append(path)
        hrefs = page.eval_on_selector_all("a[href]",
                                          "links => links.map(a => a.getAttribute('href'))")
        for href in hrefs:
            if not href.startswith("/") or href.startswith("//"):
                continue
            target = href.split("#")[0]
            if not target or NOT_FOLLOWED.search(urlsplit(target).path) or target in visited:
                continue
            key = shape(target)
            if seen_shapes.get(key, 0) >= PAGES_PER_SHAPE:
                continue
            seen_shapes[key] = seen_shapes.get(key, 0) + 1
            queue.append(target)
    return visited


# Pages no link on the start page leads to directly: results and filtered lists.
EXTRA_PAGES = {"revisor": ["/search?q=trygghet", "/audit/?action=contribution.submit"],
               "polis.jarva": ["/search?q=trygghet"]}


@pytest.mark.parametrize(("role", "language"),
                         [(role, "sv") for role in ROLES]
                         + [("skribent.rinkeby-kista", "en"), ("samordnare", "en")])
def test_no_page_scrolls_sideways_at_320_pixels(page, live_server, assert_accessible,
                                                role, language):
    log_in(page, live_server.user(role).email)
    if language == "en":
        switch_to_english(page)
    page.set_viewport_size(NARROW)
    failures = {}
    pages = reachable_pages(page) + EXTRA_PAGES.get(role, [])
    for path in pages:
        assert page.goto(path).status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW["width"]:
            failures[path] = (width, page.evaluate(WIDER_THAN_VIEWPORT))
        if page.locator(".table-scroll").count():
            assert_accessible(page)  # a scroll region is focusable and named
    assert len(pages) >= 5, pages
    assert failures == {}, "\n".join(f"{path}: {width}px {what}"
                                     for path, (width, what) in failures.items())


def test_status_badges_read_as_labels_not_buttons(page, live_server):
    log_in(page, live_server.user("samordnare").email)
    page.goto("/periods")
    badge = page.locator(".state").first
    style = badge.evaluate("""b => { const s = getComputedStyle(b);
        return {border: s.borderTopStyle, background: s.backgroundColor, cursor: s.cursor,
                tag: b.tagName.toLowerCase()}; }""")
    assert style == {"border": "none", "background": "rgba(0, 0, 0, 0)", "cursor": "auto",
                     "tag": "span"}, style
    # "Logga ut" stays on one line at 320 px.
    page.set_viewport_size(NARROW)
    logout = page.get_by_role("button", name="Logga ut")
    assert logout.evaluate("b => b.getClientRects().length") == 1
    box = logout.bounding_box()
    line_height = logout.evaluate("b => parseFloat(getComputedStyle(b).lineHeight)")
    assert box["height"] < 2 * line_height, box
