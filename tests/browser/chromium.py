"""Launching the system Chromium for Playwright (no browser download: offline machine)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = [
    ("overview", "/"),
    ("prospects", "/prospects/"),
    ("campaigns", "/campaigns/"),
    ("review", "/review/"),
    ("replies", "/replies/"),
    ("inboxes", "/inboxes/"),
    ("system", "/system/"),
]


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)


def log_in(page, base_url: str, username: str, password: str, then: str = "/") -> None:
    page.goto(f"{base_url}/login/?next={then}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{then}")


def screenshot_pages(page, base_url: str, out_dir: Path, extra: list[tuple[str, str]] = ()) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, path in [*PAGES, *extra]:
        page.goto(f"{base_url}{path}")
        page.screenshot(path=str(out_dir / f"{name}.png"), full_page=True)


if __name__ == "__main__":
    import sys

    from playwright.sync_api import sync_playwright

    base, user, password, out = sys.argv[1:5]
    extra = [tuple(arg.split("=", 1)) for arg in sys.argv[5:]]
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        log_in(page, base, user, password)
        screenshot_pages(page, base, Path(out), extra)
        browser.close()
