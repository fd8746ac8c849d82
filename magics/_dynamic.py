"""Dynamic variables of ``.http`` files: ``{{$name ...}}``, in JetBrains' and VS Code's spellings.

Parsed when the cell or file is read (an unknown one, or bad arguments, is an error at its line
before anything is sent), generated each time a request is rendered:

========================================  ===========================================================
``$uuid``, ``$guid``, ``$random.uuid``    a random UUID (version 4)
``$timestamp [offset unit]``              Unix seconds now; VS Code's offset: ``{{$timestamp -1 d}}``
``$isoTimestamp``                         now in UTC, ISO 8601 with milliseconds (``...T09:55:33.123Z``)
``$datetime iso8601|rfc1123 [off unit]``  now in UTC in that format (VS Code); ``$localDatetime``: local
``$randomInt``                            an integer from 0 to 1000 (JetBrains)
``$randomInt min max``                    an integer from min to max - 1 (VS Code)
``$random.integer(from, to)``             an integer from ``from`` to ``to`` - 1 (JetBrains; 0, 1000)
``$random.float(from, to)``               a float in [from, to) (JetBrains; 0, 1000)
``$random.alphabetic(n)``                 ``n`` random letters; ``.alphanumeric(n)``, ``.hexadecimal(n)``
``$random.email``                         a random address at example.com
``$processEnv NAME``, ``$env.NAME``       the process's environment variable (an error when unset)
``$dotenv NAME``                          the ``.env`` file's variable (an error when absent)
========================================  ===========================================================

Offset units (VS Code's): ``y`` years, ``M`` months, ``w`` weeks, ``d`` days, ``h`` hours, ``m``
minutes, ``s`` seconds, ``ms`` milliseconds.
"""

from __future__ import annotations

import email.utils
import random
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["DynamicContext", "DynamicVariable", "generate", "parse_dynamic"]

_HEAD = re.compile(r"\$([A-Za-z]\w*)(?:\.([A-Za-z_]\w*))?(?:\(([^()]*)\))?")
_UNITS = {"y", "M", "w", "d", "h", "m", "s", "ms"}


@dataclass(frozen=True)
class DynamicVariable:
    """A parsed ``{{$...}}``: its ``kind`` (``"uuid"``, ``"random.alphabetic"``...) and arguments."""

    source: str
    kind: str
    args: tuple[str, ...] = ()


@dataclass
class DynamicContext:
    """What generation reads: the process environment, the ``.env`` file's variables, the clock."""

    environ: Mapping[str, str] = field(default_factory=dict)
    dotenv: Mapping[str, str] = field(default_factory=dict)
    dotenv_file: str = ".env"
    now: Callable[[], float] = time.time


def _no_args(kind: str, args: tuple[str, ...]) -> None:
    if args:
        raise ValueError(f"${kind} takes no arguments, found {' '.join(args)!r}")


def _offset(kind: str, args: tuple[str, ...]) -> None:
    if not args:
        return
    if len(args) != 2 or not re.fullmatch(r"[+-]?\d+", args[0]) or args[1] not in _UNITS:
        raise ValueError(
            f"${kind} takes an optional offset and unit, as in {{{{${kind} -1 d}}}} "
            f"(units: {', '.join(sorted(_UNITS))}), not {' '.join(args)!r}"
        )


def _check_datetime(kind: str, args: tuple[str, ...]) -> None:
    if not args or args[0] not in ("iso8601", "rfc1123"):
        raise ValueError(
            f"${kind} takes a format, iso8601 or rfc1123 (custom formats are not supported), "
            f"then an optional offset: {{{{${kind} iso8601 -1 d}}}}"
        )
    _offset(kind, args[1:])


def _integers(count: int) -> Callable[[str, tuple[str, ...]], None]:
    def check(kind: str, args: tuple[str, ...]) -> None:
        if len(args) not in (0, count) or not all(re.fullmatch(r"[+-]?\d+", a) for a in args):
            raise ValueError(f"${kind} takes {count} whole number(s), not {', '.join(args)!r}")
        if count == 2 and args and int(args[0]) >= int(args[1]):
            raise ValueError(f"${kind}: the lower bound {args[0]} must be below the upper bound {args[1]}")

    return check


def _floats(kind: str, args: tuple[str, ...]) -> None:
    try:
        bounds = [float(a) for a in args]
    except ValueError:
        raise ValueError(f"${kind} takes two numbers, not {', '.join(args)!r}") from None
    if len(bounds) not in (0, 2) or (bounds and bounds[0] >= bounds[1]):
        raise ValueError(f"${kind} takes a lower and a higher bound, not {', '.join(args)!r}")


def _length(kind: str, args: tuple[str, ...]) -> None:
    if len(args) != 1 or not args[0].isdigit() or not 0 < int(args[0]) <= 10_000:
        raise ValueError(f"${kind} takes a length from 1 to 10000, as in {{{{${kind}(10)}}}}")


def _name(kind: str, args: tuple[str, ...]) -> None:
    if len(args) != 1 or not re.fullmatch(r"%?[A-Za-z_]\w*", args[0]):
        raise ValueError(f"${kind} takes one variable name, as in {{{{${kind} API_TOKEN}}}}")


_CHECKS: dict[str, Callable[[str, tuple[str, ...]], None]] = {
    "uuid": _no_args,
    "guid": _no_args,
    "random.uuid": _no_args,
    "timestamp": _offset,
    "isoTimestamp": _no_args,
    "datetime": _check_datetime,
    "localDatetime": _check_datetime,
    "randomInt": _integers(2),
    "random.integer": _integers(2),
    "random.float": _floats,
    "random.alphabetic": _length,
    "random.alphanumeric": _length,
    "random.hexadecimal": _length,
    "random.email": _no_args,
    "processEnv": _name,
    "dotenv": _name,
}


def parse_dynamic(source: str) -> DynamicVariable:
    """``$name``, ``$name arg ...`` (VS Code), ``$group.name(arg, ...)`` (JetBrains) or ``$env.NAME``;
    ``ValueError`` says what is wrong and what exists."""
    text = source.strip()
    head = _HEAD.match(text)
    if head is None:
        raise ValueError(f"expected a dynamic variable such as {{{{$uuid}}}}, found {{{{{text}}}}}")
    group, member, call = head.groups()
    rest = text[head.end() :].split()
    if group == "env" and member is not None and call is None and not rest:
        return DynamicVariable(text, "processEnv", (member,))
    kind = f"{group}.{member}" if member is not None else group
    args = tuple(a.strip() for a in call.split(",") if a.strip()) if call is not None else ()
    if call is not None and rest:
        raise ValueError(f"${kind}: arguments go in the parentheses or after the name, not both")
    args = args or tuple(rest)
    check = _CHECKS.get(kind)
    if check is None:
        import difflib

        close = difflib.get_close_matches(kind, list(_CHECKS), n=1)
        guess = f"did you mean ${close[0]}? " if close else ""
        raise ValueError(
            f"unknown dynamic variable ${kind}; {guess}known: "
            + ", ".join(f"${k}" for k in sorted(_CHECKS))
            + ", $env.NAME"
        )
    check(kind, args)
    return DynamicVariable(text, kind, args)


def generate(variable: DynamicVariable, context: DynamicContext) -> str:
    """The value of ``variable`` now (``LookupError`` for an unset environment or ``.env`` variable)."""
    return _GENERATORS[variable.kind](variable, context)


def _uuid(variable: DynamicVariable, context: DynamicContext) -> str:
    return str(uuid.uuid4())


def _timestamp(variable: DynamicVariable, context: DynamicContext) -> str:
    return str(int(_shifted(datetime.fromtimestamp(context.now(), UTC), variable.args).timestamp()))


def _iso_timestamp(variable: DynamicVariable, context: DynamicContext) -> str:
    return _iso(datetime.fromtimestamp(context.now(), UTC))


def _datetime(variable: DynamicVariable, context: DynamicContext) -> str:
    now = datetime.fromtimestamp(context.now(), UTC)
    local = variable.kind == "localDatetime"
    moment = _shifted(now.astimezone() if local else now, variable.args[1:])
    return _iso(moment) if variable.args[0] == "iso8601" else email.utils.format_datetime(moment, usegmt=not local)


def _integer(variable: DynamicVariable, context: DynamicContext) -> str:
    args = variable.args
    low, high = (int(args[0]), int(args[1])) if args else (0, 1001 if variable.kind == "randomInt" else 1000)
    return str(random.randrange(low, high))


def _float(variable: DynamicVariable, context: DynamicContext) -> str:
    args = variable.args
    low, high = (float(args[0]), float(args[1])) if args else (0.0, 1000.0)
    return repr(random.uniform(low, high))


def _characters(alphabet: str) -> Callable[[DynamicVariable, DynamicContext], str]:
    def make(variable: DynamicVariable, context: DynamicContext) -> str:
        return "".join(random.choices(alphabet, k=int(variable.args[0])))

    return make


def _hexadecimal(variable: DynamicVariable, context: DynamicContext) -> str:
    length = int(variable.args[0])
    return secrets.token_hex((length + 1) // 2)[:length]


def _email(variable: DynamicVariable, context: DynamicContext) -> str:
    return f"{''.join(random.choices(string.ascii_lowercase, k=10))}@example.com"


def _process_env(variable: DynamicVariable, context: DynamicContext) -> str:
    name = variable.args[0].lstrip("%")
    if name not in context.environ:
        raise LookupError(f"the environment variable {name} is not set")
    return context.environ[name]


def _dotenv(variable: DynamicVariable, context: DynamicContext) -> str:
    name = variable.args[0].lstrip("%")
    if name not in context.dotenv:
        raise LookupError(f"{name} is not in {context.dotenv_file}")
    return context.dotenv[name]


_GENERATORS: dict[str, Callable[[DynamicVariable, DynamicContext], str]] = {
    "uuid": _uuid,
    "guid": _uuid,
    "random.uuid": _uuid,
    "timestamp": _timestamp,
    "isoTimestamp": _iso_timestamp,
    "datetime": _datetime,
    "localDatetime": _datetime,
    "randomInt": _integer,
    "random.integer": _integer,
    "random.float": _float,
    "random.alphabetic": _characters(string.ascii_letters),
    "random.alphanumeric": _characters(string.ascii_letters + string.digits),
    "random.hexadecimal": _hexadecimal,
    "random.email": _email,
    "processEnv": _process_env,
    "dotenv": _dotenv,
}


def _iso(moment: datetime) -> str:
    text = moment.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _shifted(moment: datetime, args: tuple[str, ...]) -> datetime:
    if not args:
        return moment
    amount, unit = int(args[0]), args[1]
    if unit in ("y", "M"):
        months = moment.month - 1 + amount * (12 if unit == "y" else 1)
        year, month = moment.year + months // 12, months % 12 + 1
        import calendar

        return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
    seconds = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    return moment + timedelta(seconds=amount * seconds)
