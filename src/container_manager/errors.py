"""Errors the `cm` command turns into an exit code and a "what to do next" line.

Exit codes (docs/cli.md): 0 ok · 1 an AWS or sam call failed · 2 usage or config error · 3 not found ·
4 credentials or permissions · 5 aborted (confirmation declined) · 6 a check failed (`cm selftest`,
`make aws-contract`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

OK, FAILURE, USAGE, NOT_FOUND, CREDENTIALS, ABORTED, CHECK_FAILED = 0, 1, 2, 3, 4, 5, 6

CREDENTIALS_HINT = (
    "configure AWS credentials: `aws configure` (access key), or `aws sso login --profile NAME` and "
    "`export AWS_PROFILE=NAME`; check with `aws sts get-caller-identity`"
)
_CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "AuthFailure",
}

T = TypeVar("T")


class CmError(Exception):
    """A failure with an exit code and a hint that says what to do next."""

    def __init__(self, message: str, *, code: int = FAILURE, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint


class NotFoundError(CmError):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, code=NOT_FOUND, hint=hint)


@contextmanager
def aws_errors(doing: str, region: str) -> Iterator[None]:
    """Translate botocore failures into CmError with the next step for the user."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise CmError(
            f"{doing}: no AWS credentials ({error})", code=CREDENTIALS, hint=CREDENTIALS_HINT
        ) from error
    except NoRegionError as error:
        raise CmError(
            f"{doing}: no region", code=USAGE, hint="pass --region (e.g. --region eu-central-1)"
        ) from error
    except EndpointConnectionError as error:
        raise CmError(
            f"{doing}: cannot reach AWS in region {region!r}",
            hint="check the region name (--region) and your network connection",
        ) from error
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code in _CREDENTIAL_CODES:
            raise CmError(f"{doing}: {message}", code=CREDENTIALS, hint=CREDENTIALS_HINT) from error
        if code.startswith("AccessDenied") or code == "UnauthorizedOperation":
            raise CmError(
                f"{doing}: access denied ({message})",
                code=CREDENTIALS,
                hint="use credentials allowed to manage this container's stack, group and zone",
            ) from error
        raise CmError(f"{doing}: {code}: {message}") from error
    except BotoCoreError as error:
        raise CmError(f"{doing}: {error}") from error


def call(doing: str, region: str, function: Callable[[], T]) -> T:
    with aws_errors(doing, region):
        return function()
