"""The stand-in's phone page: dial, answer, press keys and text by hand, both sides at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint

if TYPE_CHECKING:
    from warmline.standin.server import Standin


def make_phone_page(standin: Standin) -> Blueprint:
    page = Blueprint("standin_phone_page", __name__)
    return page
