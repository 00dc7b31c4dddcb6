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


_ITEMS: list[MenuItem] = []


def register_menu_item(endpoint: str, label: str, order: int,
                       visible: Callable[[object], bool] = lambda user: True) -> None:
    if not any(item.endpoint == endpoint for item in _ITEMS):
        _ITEMS.append(MenuItem(endpoint, label, order, visible))
        _ITEMS.sort(key=lambda item: item.order)


def main_menu(user) -> list[dict]:
    entries = []
    for item in _ITEMS:
        if item.visible(user):
            url = url_for(item.endpoint)
            entries.append({"url": url, "label": gettext(item.label),
                            "current": request.path == url})
    return entries
