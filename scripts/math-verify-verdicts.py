# Records math-verify's own verdict on every case of test/fixtures/grading/peer-cases.json (the MATH
# repository's, NeMo-Skills' and the Qwen2.5-Math grader's test cases), so that the grader's test can
# compare agreement with the peers' expectations: `start grade` against math-verify, case by case; and on
# every probe of test/fixtures/grading/referee-probes.json (issue 29's classes: hedges, placement, escapes,
# closeness, units, form, percent), each whole completion parsed as math-verify parses a model's output,
# so that the README can say per class where the two graders differ.
#
# math-verify is not installed by this project (nor reachable from the machines it is tested on); run
# this with a Python where `import math_verify` works (built from source: math-verify 0.8.0 and
# latex2sympy2_extended 1.10.2 on PYTHONPATH, the latter's ANTLR parser generated for the 4.13.2 runtime):
#   python3 scripts/math-verify-verdicts.py [--version-note "math-verify 0.8.0 ..."]
#
# Each answer is given to math-verify as `$...$`, the way its README parses a LaTeX answer; the fixture's
# note says so, and which version answered.
import argparse
import json
import os
import tempfile

from math_verify import parse, verify

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "grading")


def math_verify_says(predicted, reference):
    try:
        return bool(verify(parse(f"${reference}$"), parse(f"${predicted}$")))
    except Exception:  # math-verify failing on a case counts as "not equal", as it does itself
        return False


def math_verify_grades(completion, reference):
    """A whole completion, extracted as math-verify extracts a model's answer, against `$reference$`."""
    try:
        return bool(verify(parse(f"${reference}$"), parse(completion)))
    except Exception:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--version-note", required=True, help="which math-verify (and parser) answered")
    args = parser.parse_args()
    record(
        "peer-cases.json",
        lambda case: math_verify_says(case["predicted"], case["reference"]),
        f"mathVerify: math-verify's own verdict, the answers given as $...$ ({args.version_note})",
    )
    record(
        "referee-probes.json",
        lambda probe: math_verify_grades(probe["completion"], probe["answer"]),
        f"mathVerify: math-verify's verdict on the whole completion against $answer$ ({args.version_note})",
    )


def record(name, verdict, note):
    """Adds math-verify's verdict to every case of a fixture, and says which math-verify gave them."""
    fixture = read(name)
    for case in fixture["cases"]:
        case["mathVerify"] = verdict(case)
    fixture["mathVerify"] = f"{note}; written by scripts/math-verify-verdicts.py"
    write(name, fixture)


def read(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as file:
        return json.load(file)


def write(name, fixture):
    """Written whole or not at all."""
    path = os.path.join(FIXTURES, name)
    handle, temporary = tempfile.mkstemp(dir=FIXTURES)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(json.dumps(fixture, indent=1, ensure_ascii=False))
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


if __name__ == "__main__":
    main()
