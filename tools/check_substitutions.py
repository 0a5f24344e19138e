"""Every ${Name} in the state machine has a DefinitionSubstitutions entry, and vice versa.

With ``--write FOLDER`` it also writes each definition as Step Functions receives it (each
placeholder replaced by a value of its kind), under its own file name, for asl-validator: the
ARN patterns it checks cannot match a ``${Partition}`` placeholder.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]
# What CloudFormation puts in place of each kind of substitution, in the aws partition.
EXAMPLE_VALUES = {
    "Partition": "aws",
    "EventBusName": "default",
    "BucketName": "docproc-documents",
}


def _example(name: str) -> str:
    if name in EXAMPLE_VALUES:
        return EXAMPLE_VALUES[name]
    if name.endswith("StateMachineArn"):
        machine = name.removesuffix("StateMachineArn").lower()
        return f"arn:aws:states:us-east-1:123456789012:stateMachine:docproc-{machine}"
    if name.endswith("FunctionArn"):
        function = name.removesuffix("Arn")
        return f"arn:aws:lambda:us-east-1:123456789012:function:docproc-{function}"
    raise SystemExit(f"no example value for ${{{name}}}: add one to {__file__}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path, help="write the substituted definitions here")
    args = parser.parse_args()
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
        if args.write and not failures:
            for placeholder in used:
                definition = definition.replace("${" + placeholder + "}", _example(placeholder))
            args.write.mkdir(parents=True, exist_ok=True)
            (args.write / Path(properties["DefinitionUri"]).name).write_text(definition)
    for failure in failures:
        print(failure, file=sys.stderr)
    if not failures:
        print("state machine substitutions: ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
