"""Validate a DCAT graph against the DCAT-AP 3.0.1 shapes copied beside this file."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import rdflib
from pyshacl import validate

HERE = Path(__file__).resolve().parent
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@cache
def shapes(*names: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    for name in names:
        graph.parse(HERE / name, format="turtle")
    return graph


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)
    warnings: Counter[str] = field(default_factory=Counter)


def _results(data: rdflib.Graph, shape_graph: rdflib.Graph) -> list[tuple[str, str, str]]:
    _, report, _ = validate(data, shacl_graph=shape_graph, allow_warnings=True)  # core SHACL only
    out = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        focus = report.value(result, SH.focusNode)
        out.append((severity, str(path), f"{focus} {path}: {message}"))
    return out


def check(data: rdflib.Graph) -> Report:
    """Violations of shapes.ttl + range.ttl (each with its focus node), and warnings of
    shapes_recommended.ttl counted by property."""
    report = Report()
    for severity, _, text in _results(data, shapes("shapes.ttl", "range.ttl")):
        if severity == "Violation":
            report.violations.append(text)
    for severity, path, _ in _results(data, shapes("shapes_recommended.ttl")):
        if severity != "Violation":
            report.warnings[path] += 1
    return report
