"""Serves the pages and their static files under /ui.

The HTML and scripts hold no data and need no key; every number on a page comes from the
JSON API, called by the page's script with the key the user typed into the login form.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from labelgraph_api.deps import check_key, key_accepted

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
SHELL = (Path(__file__).parent / "shell.html").read_text()


@dataclass(frozen=True)
class Page:
    slug: str
    title: str


PAGES = {
    page.slug: page
    for page in (
        Page("overview", "Overview"),
        Page("confidence", "Confidence"),
        Page("images", "Images"),
        Page("review", "Review"),
        Page("accuracy", "Accuracy"),
    )
}

router = APIRouter(prefix="/ui", tags=["pages"], include_in_schema=False)

# A second line of defence behind treating data as text: scripts only from our own files,
# so an inline handler that slipped into the page (onerror=...) would not run. Images may
# come from the S3 endpoint (presigned URLs); ECharts and Swagger UI set inline styles.
# Every page the api serves sends them: these pages, /docs and /openapi.json.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: http: https:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


class KeyCheck(BaseModel):
    key: str = Field(max_length=1000)


@router.get("")
async def home() -> RedirectResponse:
    return RedirectResponse("/ui/overview")


# The login form asks these first, so a page never provokes a 401 (a console error).
@router.get("/session")
async def session(request: Request) -> dict[str, bool]:
    """Whether the api wants a key at all."""
    return {"key_required": not key_accepted(request, None)}


@router.post("/session")
async def check_typed_key(request: Request, body: KeyCheck) -> dict[str, bool]:
    """Whether a key typed into the login form would be accepted (429 after many refusals)."""
    return {"valid": check_key(request, body.key, "session")}


@router.get("/{slug}", response_class=HTMLResponse)
async def page(slug: str) -> HTMLResponse:
    """One page's HTML shell; its script (static/<slug>.js) fills it."""
    found = PAGES.get(slug)
    if found is None:
        raise HTTPException(404, detail=f"no page {slug!r}; pages: {', '.join(PAGES)}")
    nav = "".join(
        f'<a href="/ui/{p.slug}"{" aria-current=page" if p is found else ""}>{p.title}</a>'
        for p in PAGES.values()
    )
    html = SHELL.replace("{{title}}", found.title).replace("{{slug}}", found.slug)
    return HTMLResponse(html.replace("{{nav}}", nav), headers=SECURITY_HEADERS)


def static_files() -> StaticFiles:
    """The pages' scripts, styles and the charting library (make assets puts it in vendor/)."""
    if not (VENDOR_DIR / "echarts.min.js").is_file():
        raise RuntimeError(f"{VENDOR_DIR}/echarts.min.js is missing: run `make assets`")
    return StaticFiles(directory=STATIC_DIR)
