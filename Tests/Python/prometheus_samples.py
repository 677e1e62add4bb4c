"""Parses a Prometheus text exposition with prometheus_client's own parser and prints its samples
as JSON, one object per sample: {"family", "type", "name", "labels", "value"}.

A malformed exposition makes the parser raise, and this script exit non-zero.
Usage: prometheus_samples.py EXPOSITION_FILE
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as exposition:
        text = exposition.read()
    samples = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.append({
                "family": family.name, "type": family.type, "name": sample.name,
                "labels": sample.labels, "value": sample.value,
            })
    json.dump(samples, sys.stdout)


if __name__ == "__main__":
    main()
