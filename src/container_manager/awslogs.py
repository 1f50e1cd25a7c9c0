"""Build and read CloudWatch Logs subscription events: ``{"awslogs": {"data": base64(gzip(json))}}``."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any


def encode(decoded: dict[str, Any]) -> dict[str, Any]:
    """Wrap a decoded payload as Lambda receives it; mtime=0 keeps the output byte-for-byte reproducible."""
    raw = json.dumps(decoded, separators=(",", ":")).encode()
    return {"awslogs": {"data": base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")}}


def decode(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    return result
