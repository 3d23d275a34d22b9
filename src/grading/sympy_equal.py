# Symbolic answer checks, run as one sandbox cell per batch (sympy is already imported by the
# worker). The grader appends a call to check_all(); each check has its own time limit.
import json
import math
import random
import re
import signal

import sympy as sp

# Digits a numeric comparison evaluates to, and the relative difference below which two values are one.
_DIGITS = 60


class _TimeUp(BaseException):  # not swallowed by sympy's own "except Exception"
    pass


def _alarm(signum, frame):
    raise _TimeUp()


# Answers are data, never Python: this grammar is all an answer may spell, and the tree it describes is
# built from sympy constructors directly (no eval, no parse_expr, no sympify of a string).
#   expr    := term (("+" | "-") term)*
#   term    := unary (("*" | "/")? unary)*        juxtaposition multiplies: 2x, x(y+1)
#   unary   := ("+" | "-") unary | power
#   power   := postfix (("**" | "^") unary)?
#   postfix := atom "!"*
#   atom    := number | constant | letter ("_" "(" expr ("," expr)* ")")? | function power-arg
#            | ("sum" | "prod") "(" letter "," expr "," expr ")" term | "(" expr ("," expr)* ")"
_FUNCTIONS = {
    "sqrt": sp.sqrt, "log": sp.log, "exp": sp.exp, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "cot": sp.cot, "sec": sp.sec, "csc": sp.csc, "arcsin": sp.asin, "arccos": sp.acos,
    "arctan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
}
_BIG_OPERATORS = {"sum": sp.Sum, "prod": sp.Product}
_CONSTANTS = {"pi": sp.pi, "oo": sp.oo, "nan": sp.nan, "zoo": sp.zoo, "i": sp.I, "I": sp.I, "E": sp.E}
_TOKENS = re.compile(r"\s*(?:(?P<name>[A-Za-z]+)|(?P<number>\d+(?:\.\d*)?|\.\d+)|(?P<symbol>\*\*|[-+*/^(),!_]))")
_MAX_DEPTH = 60


def _tokens(text):
    tokens, position = [], 0
    while position < len(text):
        match = _TOKENS.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() == "":
                break
            raise ValueError(f"refused character at {position}")
        kind = match.lastgroup
        value = match.group(kind)
        known = value in _FUNCTIONS or value in _CONSTANTS or value in _BIG_OPERATORS
        if kind == "name" and len(value) > 1 and not known:
            raise ValueError(f"refused name {value}")
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text):
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0
        self.bound = {}  # letter -> its index symbol, inside the body of a sum or product
        self.binders = 0

    def peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else (None, None)

    def take(self, value=None):
        token = self.peek()
        if token[0] is None or (value is not None and token[1] != value):
            raise ValueError(f"expected {value or 'more'} at token {self.at}")
        self.at += 1
        return token

    def parse(self):
        items = [self.expr()]
        while self.peek()[1] == ",":
            self.take(",")
            items.append(self.expr())
        if self.peek()[0] is not None:
            raise ValueError(f"unexpected {self.peek()[1]!r}")
        return items[0] if len(items) == 1 else sp.Tuple(*items)

    def expr(self):
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ValueError("nested too deeply")
        value = self.term()
        while self.peek()[1] in ("+", "-"):
            sign = self.take()[1]
            right = self.term()
            value = value + right if sign == "+" else value - right
        self.depth -= 1
        return value

    def starts_atom(self):
        kind, value = self.peek()
        return kind in ("name", "number") or value == "("

    def term(self):
        value = self.unary()
        while True:
            operator = self.peek()[1]
            if operator in ("*", "/"):
                self.take()
                right = self.unary()
                value = value * right if operator == "*" else value / right
            elif self.starts_atom():
                value = value * self.unary()
            else:
                return value

    def unary(self):
        if self.peek()[1] in ("+", "-"):
            sign = self.take()[1]
            value = self.unary()
            return -value if sign == "-" else value
        return self.power()

    def power(self):
        base = self.postfix()
        if self.peek()[1] in ("**", "^"):
            self.take()
            return sp.Pow(base, self.unary())
        return base

    def postfix(self):
        value = self.atom()
        while self.peek()[1] == "!":
            self.take()
            value = sp.factorial(value)
        return value

    def atom(self):
        kind, value = self.take()
        if kind == "number":
            return sp.Rational(value) if "." in value else sp.Integer(value)
        if kind == "name":
            if value in _FUNCTIONS:
                # sin x, sin(x), sin**(2)(x) = sin(x)**2
                exponent = None
                if self.peek()[1] in ("**", "^"):
                    self.take()
                    exponent = self.postfix()
                result = _FUNCTIONS[value](self.power())
                return result if exponent is None else sp.Pow(result, exponent)
            if value in _BIG_OPERATORS:
                return self.big_operator(_BIG_OPERATORS[value])
            if len(value) == 1 and self.peek()[1] == "_":
                # a_(n), F_(n-k-1), a_(i, j): an indexed letter
                self.take("_")
                self.take("(")
                return sp.Indexed(sp.IndexedBase(value), *self.items())
            if value in self.bound:
                return self.bound[value]
            if value in _CONSTANTS:
                return _CONSTANTS[value]
            return sp.Symbol(value)
        if value == "(":
            items = self.items()
            return items[0] if len(items) == 1 else sp.Tuple(*items)
        raise ValueError(f"unexpected {value!r}")

    def items(self):
        """expr ("," expr)* ")", after an opening bracket."""
        items = [self.expr()]
        while self.peek()[1] == ",":
            self.take(",")
            items.append(self.expr())
        self.take(")")
        return items

    def big_operator(self, operator):
        """
        sum(k, 1, n) k**2: the product after the bounds is the body, as \\sum_{k=1}^{n} k^2 reads. The
        index is renamed by nesting level, so that sums over k and over j compare, and an i in the body is
        the index, not the imaginary unit.
        """
        self.take("(")
        letter = self.letter()
        self.take(",")
        low = self.expr()
        self.take(",")
        high = self.expr()
        self.take(")")
        index = sp.Symbol(f"_index{self.binders}")
        outer = dict(self.bound)
        self.bound[letter] = index
        self.binders += 1
        body = self.term()
        self.binders -= 1
        self.bound = outer
        return operator(body, (index, low, high))

    def letter(self):
        kind, value = self.take()
        if kind != "name" or len(value) != 1:
            raise ValueError(f"expected a letter, not {value!r}")
        return value


def _parse(text):
    return _Parser(text).parse()


def _finite(z):
    return math.isfinite(z.real) and math.isfinite(z.imag)


def _close(a, b):
    """
    Equal as numbers. Answers are exact (a decimal parses as a rational), so equal means that their
    difference has no significant digit: sympy's adaptive evaluation gives a difference that is not zero
    (pi + 10^-50 against pi, however small) its digits, and a true zero none (0.e-189). A tolerance would
    pay a value off by less than it. A rational is never a value sympy knows to be irrational (355/113 is
    no pi). A non-finite value (oo, zoo, nan) is close to nothing (inf <= inf would say yes).
    """
    x, y = sp.N(a, _DIGITS), sp.N(b, _DIGITS)
    if not (x.is_number and y.is_number and x.is_finite and y.is_finite):
        return False
    if any(_significant(part) for part in sp.N(a - b, _DIGITS).as_real_imag()):
        return False
    rational = (a.is_rational, b.is_rational)
    return None in rational or rational[0] == rational[1]


def _significant(number):
    """A number with at least one significant bit: not zero, nor an evaluation that found none."""
    return number != 0 and getattr(number, "_prec", 2) > 1


def _decimal_matches(decimal, value, places):
    """The decimal is the exact value cut or rounded (half away from zero) to its own places."""
    scaled = sp.N(value, _DIGITS + places) * 10**places
    if not (scaled.is_real and scaled.is_finite):
        return False
    cut = int(sp.floor(abs(scaled)))
    rounded = int(sp.floor(abs(scaled) + sp.Rational(1, 2)))
    sign = -1 if scaled < 0 else 1
    return sp.Rational(decimal) * 10**places in (sign * cut, sign * rounded)


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


# How the current check was settled, cheapest first; a check reports the costliest path it took.
_PATHS = ("identical", "constant", "random points", "simplify")
_path = [0]


def _took(path):
    _path[0] = max(_path[0], _PATHS.index(path))


def _same(a, b):
    """
    Equal as expressions. Agreement at random points settles most checks at once (and every unequal
    pair); simplify is asked only when a point is singular for one of them.
    """
    if a == b:
        return True
    if a.has(sp.Sum, sp.Product) or b.has(sp.Sum, sp.Product):
        # in closed form where there is one (the product of 1..n is n!); random points are not integers
        a, b = a.doit(), b.doit()
        if a == b:
            # a divergent sum is not equal to oo spelt otherwise: a non-finite value equals only itself
            return not a.has(sp.oo, sp.S.NegativeInfinity, sp.zoo, sp.nan)
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    if not symbols:
        _took("constant")
        return _close(a, b)
    _took("random points")
    numeric = _numerically_same(a, b, symbols)
    if numeric is not None:
        return numeric
    _took("simplify")
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
        _took("simplify")
        ratio = sp.simplify(a / b)
        return bool(ratio.is_number and ratio.is_finite and ratio != 0)
    if kind == "decimal":
        return _decimal_matches(check["a"], _parse(check["b"]), int(check["places"]))
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
    """Per check: true, false, or why it could not be decided (not equal); and the path that settled it."""
    signal.signal(signal.SIGALRM, _alarm)
    results, paths = [], []
    for check in checks:
        _path[0] = 0
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            results.append(bool(_check(check)))
        except _TimeUp:
            results.append(f"timed out after {seconds:g} s")
        except Exception as error:
            results.append(f"{type(error).__name__}: {error}"[:200])
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        paths.append(_PATHS[_path[0]])
    return {"results": results, "paths": paths}
