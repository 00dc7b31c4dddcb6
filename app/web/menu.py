"""The main menu: each feature registers its entries, with who may see them."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import request, url_for
from flask_babel import gettext


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: str  # an English msgid, translated when drawn
    order: int
    visible: Callable[[object], bool]
    place: str = "main"  # "main", or "user": the signed-in user's own box in the header


_ITEMS: list[MenuItem] = []


def register_menu_item(endpoint: str, label: str, order: int,
                       visible: Callable[[object], bool] = lambda user: True,
                       place: str = "main") -> None:
    if not any(item.endpoint == endpoint for item in _ITEMS):
        _ITEMS.append(MenuItem(endpoint, label, order, visible, place))
        _ITEMS.sort(key=lambda item: item.order)


def main_menu(user, place: str = "main") -> list[dict]:
    entries = []
    for item in _ITEMS:
        if item.place == place and item.visible(user):
            url = url_for(item.endpoint)
            entries.append({"url": url, "label": gettext(item.label),
                            "current": request.path == url})
    return entries
