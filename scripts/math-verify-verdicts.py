# Records math-verify's own verdict on every case of test/fixtures/grading/peer-cases.json (the MATH
# repository's, NeMo-Skills' and the Qwen2.5-Math grader's test cases), so that the grader's test can
# compare agreement with the peers' expectations: `start grade` against math-verify, case by case.
#
# math-verify is not installed by this project (nor reachable from the machines it is tested on); run
# this with a Python where `import math_verify` works:
#   python3 scripts/math-verify-verdicts.py [--version-note "math-verify 0.8.0 ..."]
#
# Each answer is given to math-verify as `$...$`, the way its README parses a LaTeX answer; the fixture's
# note says so, and which version answered.
import argparse
import json
import os
import tempfile

from math_verify import parse, verify

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "grading", "peer-cases.json")


def math_verify_says(predicted, reference):
    try:
        return bool(verify(parse(f"${reference}$"), parse(f"${predicted}$")))
    except Exception:  # math-verify failing on a case counts as "not equal", as it does itself
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--version-note", required=True, help="which math-verify (and parser) answered")
    args = parser.parse_args()
    with open(FIXTURE, encoding="utf-8") as file:
        fixture = json.load(file)
    for case in fixture["cases"]:
        case["mathVerify"] = math_verify_says(case["predicted"], case["reference"])
    fixture["mathVerify"] = (
        f"mathVerify: math-verify's own verdict, the answers given as $...$ ({args.version_note}); "
        "written by scripts/math-verify-verdicts.py"
    )
    # written whole or not at all
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(FIXTURE))
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(json.dumps(fixture, indent=1, ensure_ascii=False))
    os.chmod(temporary, 0o644)
    os.replace(temporary, FIXTURE)


if __name__ == "__main__":
    main()
