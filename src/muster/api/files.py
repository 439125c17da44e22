"""Files in and out of the API: the documented answer of an operation that answers a file,
the file itself as an attachment, and the size limit on an upload."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import File, UploadedFile

from muster.api.schemas import responses
from muster.core.errors import ImportRefused
from muster.imports.uploads import max_bytes

UPLOAD = File(..., description="CSV or XLSX (imports), YAML (policy)")


def download(content_type: str, what: str) -> dict[str, Any]:
    """The documented responses of an operation answering a file rather than JSON."""
    schema: dict[str, Any] = {"type": "string"}
    if not content_type.startswith("text/"):
        schema["format"] = "binary"
    return {
        "response": {k: v for k, v in responses(200, str).items() if k != 200},
        "openapi_extra": {
            "responses": {
                "200": {
                    "description": what,
                    "content": {content_type.split(";")[0]: {"schema": schema}},
                }
            }
        },
    }


def attachment(data: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def limited(upload: UploadedFile, record: str) -> UploadedFile:
    """Refuse a file above IMPORT_MAX_UPLOAD_BYTES (the web's limit; larger ones: the CLI)."""
    limit = max_bytes()
    size = upload.size or 0
    if size > limit:
        raise ImportRefused.single(
            record,
            "file",
            f"is {size:,} bytes; the largest accepted here is {limit:,} (larger: the command line)",
            size,
        )
    return upload
