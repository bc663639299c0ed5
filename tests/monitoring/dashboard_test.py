#!/usr/bin/env python3
"""The Grafana dashboard and the alerting rules against what the system exports.

- Every PromQL expression of deploy/grafana/mileagebank-dashboard.json, with
  Grafana's variables put in as Grafana would, is valid for promtool (written
  as recording rules into a file promtool checks).
- Every mileagebank series the dashboard or the rules read exists: a metric
  name compiled into one of the service binaries, or a series recorded by
  deploy/prometheus/alerts.yml.
- Every alert has a severity and summary and description annotations; every
  panel a query and an id of its own.
"""
import json
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.join(os.environ["TEST_SRCDIR"], "mileagebank")
SERVICES = ["gateway", "membership", "accrual", "redemption", "settlement",
            "reporting"]
# What Grafana puts in for its variables when it runs a query.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "$service": ".*",
}
# Series a histogram or summary adds to its name.
SUFFIXES = ("_bucket", "_sum", "_count")

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message, file=sys.stderr)


def dashboard_expressions(dashboard):
    """(where, PromQL) for every query of the dashboard."""
    found = []

    def panels(items):
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    for panel in panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            found.append((f'panel "{panel["title"]}" {target["refId"]}',
                          target.get("expr", "")))
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if "expr" in annotation:
            found.append((f'annotation "{annotation["name"]}"',
                          annotation["expr"]))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = variable["query"]
        query = query["query"] if isinstance(query, dict) else query
        # label_values(<series>, <label>) is Grafana's, not PromQL.
        match = re.fullmatch(r"label_values\((.+),\s*\w+\)", query)
        found.append((f'variable "{variable["name"]}"',
                      match.group(1) if match else query))
    return found


def with_variables(expression):
    for name, value in sorted(GRAFANA_VARIABLES.items(),
                              key=lambda item: -len(item[0])):
        expression = expression.replace(name, value)
    return expression


def series_names(expression):
    """The mileagebank series names an expression reads."""
    without_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)
    without_matchers = re.sub(r"\{[^}]*\}", "", without_strings)
    return {token for token in
            re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_matchers)
            if "mileagebank_" in token}


def exported_names():
    """Metric names compiled into the service binaries."""
    names = set()
    for service in SERVICES:
        path = os.path.join(ROOT, "services", service, service)
        with open(path, "rb") as binary:
            names.update(name.decode() for name in
                         re.findall(rb"mileagebank_[a-z0-9_]+", binary.read()))
    return names


def main():
    with open(os.path.join(ROOT, "deploy/grafana/mileagebank-dashboard.json")) as f:
        dashboard = json.load(f)
    with open(os.path.join(ROOT, "deploy/prometheus/alerts.yml")) as f:
        rules = [rule for group in yaml.safe_load(f)["groups"]
                 for rule in group["rules"]]

    ids = [panel["id"] for panel in dashboard["panels"]]
    if len(ids) != len(set(ids)):
        fail(f"panel ids repeat: {sorted(ids)}")
    for panel in dashboard["panels"]:
        if panel["type"] != "row" and not panel.get("targets"):
            fail(f'panel "{panel["title"]}" has no query')

    expressions = dashboard_expressions(dashboard)
    if len(expressions) < 20:
        fail(f"only {len(expressions)} queries found in the dashboard")
    recording = []
    for index, (where, expression) in enumerate(expressions):
        expression = with_variables(expression)
        if not expression.strip():
            fail(f"{where}: no expression")
        elif "$" in expression:
            fail(f"{where}: a variable Grafana does not define: {expression}")
        recording.append({"record": f"dashboard:query_{index}", "expr": expression})
    rules_file = os.path.join(os.environ["TEST_TMPDIR"], "dashboard_rules.yml")
    with open(rules_file, "w") as f:
        json.dump({"groups": [{"name": "dashboard", "rules": recording}]}, f,
                  indent=1)
    checked = subprocess.run(["promtool", "check", "rules", rules_file],
                             capture_output=True, text=True)
    if checked.returncode != 0:
        # promtool names the failing rule by its index.
        fail("promtool refuses a dashboard query:\n" + checked.stdout +
             checked.stderr + "\n".join(
                 f"  query_{i}: {where}" for i, (where, _) in enumerate(expressions)))

    known = exported_names() | {rule["record"] for rule in rules if "record" in rule}
    if len(known) < 20:
        fail(f"only {len(known)} metric names found in the binaries and rules")

    def check_names(where, expression):
        for name in sorted(series_names(expression)):
            base = next((name[:-len(s)] for s in SUFFIXES if name.endswith(s)), name)
            if name not in known and base not in known:
                fail(f"{where}: {name} is neither exported by a service nor recorded")

    for where, expression in expressions:
        check_names(where, expression)
    for rule in rules:
        where = f'rule {rule.get("alert") or rule.get("record")}'
        check_names(where, rule["expr"])
        if "alert" in rule:
            if rule.get("labels", {}).get("severity") not in ("critical", "warning"):
                fail(f"{where}: severity must be critical or warning")
            for annotation in ("summary", "description"):
                if not rule.get("annotations", {}).get(annotation, "").strip():
                    fail(f"{where}: no {annotation} annotation")

    if failures:
        sys.exit(1)
    print(f"PASS: {len(expressions)} dashboard queries, {len(rules)} rules, "
          f"{len(known)} known series names")


if __name__ == "__main__":
    main()
