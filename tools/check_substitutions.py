"""Every ${Name} in the state machine has a DefinitionSubstitutions entry, and vice versa."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    failures = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::StateMachine":
            continue
        properties = resource["Properties"]
        definition = (ROOT / properties["DefinitionUri"]).read_text()
        used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", definition))
        given = set(properties.get("DefinitionSubstitutions", {}))
        for missing in sorted(used - given):
            failures.append(f"{name}: ${{{missing}}} has no DefinitionSubstitutions entry")
        for unused in sorted(given - used):
            failures.append(f"{name}: substitution {unused} is not used in the definition")
    for failure in failures:
        print(failure, file=sys.stderr)
    if not failures:
        print("state machine substitutions: ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
