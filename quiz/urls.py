"""Where the site may send a browser back to."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_local_path(target: str | None) -> bool:
    """A same-site relative path, and nothing a browser could read as another host.

    Browsers treat `\\` like `/`, so `/\\evil.com` means `//evil.com`; control characters are
    stripped by browsers before parsing, so they could hide either.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    return not urlsplit(target).netloc
