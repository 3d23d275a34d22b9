# Symbolic answer checks, run as one sandbox cell per batch (sympy is already imported by the
# worker). The grader appends a call to check_all(); each check has its own time limit.
import json
import math
import random
import re
import signal

import sympy as sp
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

_TRANSFORMS = standard_transformations + (implicit_multiplication_application, convert_xor)
_LOCALS = {"i": sp.I, "I": sp.I, "pi": sp.pi, "oo": sp.oo, "E": sp.E}
_TOLERANCE = 1e-6


class _TimeUp(BaseException):  # not swallowed by sympy's own "except Exception"
    pass


def _alarm(signum, frame):
    raise _TimeUp()


# What an answer may spell: numbers, operators, brackets, one-letter symbols and these names. Anything
# else (a builtin such as exec or getattr, an attribute, a string) is refused before parse_expr sees it.
_NAMES = {
    "sqrt", "pi", "oo", "log", "exp", "sin", "cos", "tan", "cot", "sec", "csc",
    "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "nan", "zoo",
}
_TOKENS = re.compile(r"\s*(?:(?P<name>[A-Za-z]+)|(?P<number>\d+(?:\.\d*)?|\.\d+)|(?P<symbol>\*\*|[-+*/^(),!]))")


def _checked(text):
    position = 0
    while position < len(text):
        token = _TOKENS.match(text, position)
        if token is None or token.end() == position:
            if text[position:].strip() == "":
                break
            raise ValueError(f"refused character at {position}")
        name = token.group("name")
        if name is not None and len(name) > 1 and name not in _NAMES:
            raise ValueError(f"refused name {name}")
        position = token.end()
    return text


def _parse(text):
    return parse_expr(_checked(text), local_dict=dict(_LOCALS), transformations=_TRANSFORMS, evaluate=True)


def _finite(z):
    return math.isfinite(z.real) and math.isfinite(z.imag)


def _close(a, b):
    """Numerically equal; a non-finite value (oo, zoo, nan) is close to nothing (inf <= inf would say yes)."""
    a, b = complex(sp.N(a, 30)), complex(sp.N(b, 30))
    if not (_finite(a) and _finite(b)):
        return False
    return abs(a - b) <= _TOLERANCE * max(abs(a), abs(b), 1e-12)


def _numerically_same(a, b, symbols):
    """Agreement at random rational points (Schwartz-Zippel), or None when a point is singular."""
    rng = random.Random(0)
    for _ in range(4):
        point = {s: sp.Rational(rng.randint(-97, 97), rng.randint(1, 13)) for s in symbols}
        try:
            if not _close(a.subs(point), b.subs(point)):
                return False
        except (TypeError, ZeroDivisionError):
            return None
    return True


def _same(a, b):
    """
    Equal as expressions. Agreement at random points settles most checks at once (and every unequal
    pair); simplify is asked only when a point is singular for one of them.
    """
    if a == b:
        return True
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    if not symbols:
        return _close(a, b)
    numeric = _numerically_same(a, b, symbols)
    if numeric is not None:
        return numeric
    try:
        return sp.simplify(a - b) == 0
    except Exception:
        return False


def _equation(text):
    left, right = text.split("=")
    return _parse(left) - _parse(right)


def _check(check):
    kind = check["kind"]
    if kind == "expr":
        return _same(_parse(check["a"]), _parse(check["b"]))
    if kind == "equation":
        # The same equation, possibly rearranged or scaled: y = 2x + 3 and 2x - y + 3 = 0.
        a, b = _equation(check["a"]), _equation(check["b"])
        if _same(a, b):
            return True
        if b == 0:
            return False
        ratio = sp.simplify(a / b)
        return bool(ratio.is_number and ratio.is_finite and ratio != 0)
    if kind == "set":
        left = [_parse(x) for x in check["b"]]
        for item in (_parse(x) for x in check["a"]):
            match = next((j for j, other in enumerate(left) if _same(item, other)), None)
            if match is None:
                return False
            left.pop(match)
        return not left
    raise ValueError(kind)


def check_all(checks, seconds):
    signal.signal(signal.SIGALRM, _alarm)
    results = []
    for check in checks:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            results.append(bool(_check(check)))
        except _TimeUp:
            results.append(None)
        except Exception:
            results.append(False)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return results
