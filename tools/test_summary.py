#!/usr/bin/env python3
"""Counts test cases in Bazel's JUnit XML results and prints one line:

    tests: 312 passed, 0 failed

Only the test targets named on standard input (one label a line, as
`bazel query 'tests(//...)'` prints them) are read, so results left behind
by targets that no longer exist are not counted. Exits 1 when any case
failed or no case ran, so a run that tested nothing never looks green.
"""
import pathlib
import sys
import xml.etree.ElementTree as ElementTree


def result_files(testlogs: str, labels: list) -> list:
    files = []
    for label in labels:
        package, _, name = label.lstrip("/").partition(":")
        xml = pathlib.Path(testlogs, package, name, "test.xml")
        files.append(xml)
    return files


def main(testlogs: str) -> int:
    passed = failed = 0
    labels = [line.strip() for line in sys.stdin if line.strip()]
    for xml in result_files(testlogs, labels):
        if not xml.exists():
            print(f"no results for {xml.parent}", file=sys.stderr)
            failed += 1
            continue
        try:
            root = ElementTree.parse(xml).getroot()
        except ElementTree.ParseError:
            failed += 1
            continue
        cases = list(root.iter("testcase"))
        if not cases:
            # A test target without gtest cases (a shell test) counts once,
            # by the status of its suite.
            suite_failed = any(int(s.get("failures", 0)) + int(s.get("errors", 0))
                               for s in root.iter("testsuite"))
            failed += suite_failed
            passed += not suite_failed
            continue
        for case in cases:
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif case.get("result") != "suppressed":
                passed += 1
    print(f"tests: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "bazel-testlogs"))
