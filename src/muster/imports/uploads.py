"""Uploaded files kept between an import's check and its confirmation.

The file is kept server-side (under VAR_DIR/uploads/, named by the user's id and a random
token, readable by the server only), so that what is imported is byte for byte the file that
was checked: a second upload could be a different file, and a large roster would be sent twice.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from muster.core.errors import NotFound

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # ~180,000 roster rows; larger files: the CLI
KEPT_SECONDS = 24 * 3600  # an upload neither confirmed nor abandoned is removed after a day
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
META = ".meta.json"
PROBLEMS = ".problems.csv"


def max_bytes() -> int:
    """The largest upload accepted from the browser or the API (larger: the command line)."""
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))


def uploads_dir() -> Path:
    path = Path(settings.VAR_DIR) / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def kept_dir(user_id: int, token: str) -> Path:
    """Where one upload is kept: named by its owner, so no one else can reach it."""
    if not TOKEN.match(token):
        raise NotFound.single("upload", "token", _("no such upload"), token)
    return uploads_dir() / f"{user_id}-{token}"


def safe_name(name: str) -> str:
    """The uploaded file's own name (the importers name it in their reports), made harmless;
    its extension stays, as the XLSX reader wants it."""
    cleaned = re.sub(r"[^\w.\- ]", "_", Path(name).name).lstrip(".")[:120]
    return cleaned or "upload.csv"


def keep_upload(user_id: int, upload: Any, meta: dict[str, Any]) -> str:
    """Save the upload and what it is for; returns its token. Old uploads go first."""
    _remove_stale()
    token = secrets.token_urlsafe(24)
    folder = kept_dir(user_id, token)
    folder.mkdir(mode=0o700)
    descriptor = os.open(folder / meta["name"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    (folder / META).write_text(json.dumps(meta), encoding="utf-8")
    return token


def kept_upload(user_id: int, token: str) -> tuple[Path, dict[str, Any]]:
    """The file and its description, if this user uploaded it and it is still kept."""
    folder = kept_dir(user_id, token)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound.single(
            "upload", "token", _("this upload is no longer kept; upload the file again")
        ) from None
    return folder / meta["name"], meta


def forget_upload(user_id: int, token: str) -> None:
    """Remove the file itself (a report of its problems may stay until it is stale)."""
    folder = kept_dir(user_id, token)
    (folder / META).unlink(missing_ok=True)
    for path in folder.iterdir():
        if path.name != PROBLEMS:
            path.unlink(missing_ok=True)


def _remove_stale() -> None:
    oldest = time.time() - KEPT_SECONDS
    for path in uploads_dir().iterdir():
        try:
            if path.stat().st_mtime < oldest:
                shutil.rmtree(path)
        except FileNotFoundError:  # removed by a concurrent request
            pass
