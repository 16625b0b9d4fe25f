"""Prints template.yaml as CloudFormation sees it after the SAM transform (CodeUri pointed at
a placeholder S3 object), so cfn-lint checks the generated roles, permissions and URLs too:
the raw-template lint does not look inside SAM's inline policies (an action IAM does not
have, like sqs:DeleteMessageBatch, passes there)."""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class NoManagedPolicies:
    def load(self):
        return {}


path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
with open(path) as f:
    template = yaml_parse(f.read().replace("CodeUri: .", "CodeUri: s3://herald-ci-artifacts/code.zip"))
json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout, indent=1)
