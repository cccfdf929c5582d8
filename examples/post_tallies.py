#!/usr/bin/env python3
"""Post a department's participant counts (tallies) to learnweek, safely retried.

A departmental script as the README describes it: it sends a spreadsheet saved as CSV to
``POST /api/v1/tallies/import`` (raw bytes, ``Content-Type: text/csv``; UTF-8 with or without
BOM, or GBK as Excel writes it: the server detects it) or a JSON batch ``{"items": [...]}`` to
``POST /api/v1/tallies/batch``, and prints each row's outcome.

Usage::

    pip install -r examples/requirements.txt
    export LEARNWEEK_URL=http://127.0.0.1:8080 LEARNWEEK_TOKEN=<reporter or editor token>
    python examples/post_tallies.py                       # examples/tallies.csv
    python examples/post_tallies.py my-unit-2014-10-21.csv
    python examples/post_tallies.py --batch tallies.json

Safe to retry. Every request carries an ``Idempotency-Key`` derived from the file's bytes, the
endpoint and the token's unit, so resending the same file (after a timeout, a dropped
connection, a crash of this script) within 24 hours gets the first answer back
(``Idempotent-Replayed: true``) instead of running again. Tallies are upserts anyway: sending
the same counts under a new key (``--idempotency-key``, or after 24 hours) reports every row
``unchanged``. 429 and 503 answers and connection errors are retried, at most ``--max-tries``
times, after ``Retry-After`` when the server sends it, else after an exponential backoff.

Exit status: 0 when every row landed; 1 when the server refused the file (a 422 lists every
bad row and field, e.g. ``line[4].count`` or ``items[3].count``) or gave up; 2 on bad usage.
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import httpx

DEFAULT_CSV = Path(__file__).resolve().parent / "tallies.csv"
RETRY_STATUSES = {429, 503}
MAX_WAIT_SECONDS = 120.0  # never sleep longer than this, whatever Retry-After says


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def token_unit(token: str) -> str:
    """The ``unit_id`` claim of a JWT, read without verifying it (only to label the key)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims.get("unit_id") or "")
    except (IndexError, ValueError, AttributeError):
        return ""


def idempotency_key(path: str, unit: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (path.encode(), unit.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return f"tallies-{digest.hexdigest()}"


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Full-jitter exponential backoff: up to base * 2**attempt seconds, at most cap."""
    return random.uniform(0, min(cap, base * 2**attempt))


def post(client: httpx.Client, path: str, body: bytes, content_type: str, key: str,
         max_tries: int) -> httpx.Response:
    """POST with retries; returns the first answer that is not worth retrying."""
    headers = {"Content-Type": content_type, "Idempotency-Key": key, "Accept": "application/json"}
    sent_before = False  # an earlier attempt may still be running on the server
    for attempt in range(max_tries):
        last = attempt == max_tries - 1
        try:
            response = client.post(path, content=body, headers=headers)
        except httpx.TransportError as exc:
            if last:
                fail(f"{path}: {exc!r}, giving up after {max_tries} tries")
            wait = backoff(attempt)
            print(f"  {type(exc).__name__}: {exc}; retrying in {wait:.1f} s", file=sys.stderr)
            sent_before = True
            time.sleep(wait)
            continue
        # 409 with our key: the attempt whose connection broke is still being processed.
        retryable = response.status_code in RETRY_STATUSES or (response.status_code == 409 and sent_before)
        if not retryable or last:
            return response
        server_wait = retry_after(response.headers)
        wait = min(MAX_WAIT_SECONDS, server_wait if server_wait is not None else backoff(attempt))
        print(f"  HTTP {response.status_code}; retrying in {wait:.1f} s", file=sys.stderr)
        time.sleep(wait)
    raise AssertionError("unreachable")


def problem_of(response: httpx.Response) -> dict[str, Any]:
    try:
        problem = response.json()
    except ValueError:
        return {"detail": response.text[:500]}
    return problem if isinstance(problem, dict) else {"detail": str(problem)}


def report(response: httpx.Response) -> int:
    """Print the answer; return the exit status."""
    if response.is_success:
        result = response.json()
        replayed = response.headers.get("idempotent-replayed") == "true"
        if replayed:
            print("(the server replayed its answer to an earlier request with this file and key)")
        for item in result["items"]:
            print(f"  row {item['index']:>4}: {item['outcome']:<9} {item['id']}")
        print(f"summary: created={result['created']} updated={result['updated']} "
              f"unchanged={result['unchanged']} rows={len(result['items'])} "
              f"replayed={'yes' if replayed else 'no'}")
        return 0
    problem = problem_of(response)
    print(f"refused: HTTP {response.status_code} {problem.get('title', '')}: {problem.get('detail', '')}",
          file=sys.stderr)
    for error in problem.get("errors") or []:
        print(f"  {error.get('field')}: {error.get('message')}", file=sys.stderr)
    if problem.get("errors_truncated"):
        print("  (more errors not shown)", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV,
                        help="CSV file to import (default: examples/tallies.csv)")
    parser.add_argument("--batch", type=Path, metavar="FILE.json",
                        help='send this JSON file {"items": [...]} to /tallies/batch instead')
    parser.add_argument("--url", default=os.environ.get("LEARNWEEK_URL", "http://127.0.0.1:8080"),
                        help="base URL (env LEARNWEEK_URL; default %(default)s)")
    parser.add_argument("--token", default=os.environ.get("LEARNWEEK_TOKEN"),
                        help="reporter or editor token (env LEARNWEEK_TOKEN)")
    parser.add_argument("--idempotency-key", help="use this key instead of the one derived from the file")
    parser.add_argument("--max-tries", type=int, default=8, help="attempts in all (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per attempt (default %(default)s)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("a token is required (--token or LEARNWEEK_TOKEN)")
    if args.max_tries < 1:
        parser.error("--max-tries must be at least 1")

    if args.batch is not None:
        path, file, content_type = "/api/v1/tallies/batch", args.batch, "application/json"
    else:
        path, file, content_type = "/api/v1/tallies/import", args.csv, "text/csv"
    try:
        body = file.read_bytes()
    except OSError as exc:
        parser.error(f"cannot read {file}: {exc.strerror}")
    if args.batch is not None:
        try:
            json.loads(body)
        except ValueError as exc:
            parser.error(f"{file} is not JSON: {exc}")

    key = args.idempotency_key or idempotency_key(path, token_unit(args.token), body)
    print(f"POST {path} ({file}, {len(body)} bytes, Idempotency-Key {key})")
    with httpx.Client(base_url=args.url.rstrip("/"), timeout=args.timeout,
                      headers={"Authorization": f"Bearer {args.token}"}) as client:
        response = post(client, path, body, content_type, key, args.max_tries)
    return report(response)


if __name__ == "__main__":
    sys.exit(main())
