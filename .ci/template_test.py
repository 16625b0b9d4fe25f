"""Checks over the transformed template (what CloudFormation deploys, after the SAM
transform): the alarms can fire in the outage they exist for, every place a failure can
wait has an alarm, every function's errors and logs are watched and bounded, and each
sender may put messages back on its own queue.

Usage: python3 .ci/template_test.py <transformed.json>  (from .ci/sam-transform.py)
Exits non-zero with one line per finding."""
import json
import re
import sys


def ref_name(value):
    """The logical id a Ref or GetAtt points at, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return att[0] if isinstance(att, list) else att.split(".")[0]
    return None


def of_type(resources, kind):
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def ratio_alarms_fill_their_operands(alarms):
    """A metric-math expression that divides must FILL every metric it reads: sparse EMF
    counters have no datapoint when nothing happens, and an expression with a missing
    operand yields nothing, so the alarm would see no data in the very outage it watches."""
    problems = []
    for name, alarm in alarms.items():
        metrics = alarm["Properties"].get("Metrics") or []
        ids = {m["Id"] for m in metrics if "MetricStat" in m}
        for m in metrics:
            expr = m.get("Expression")
            if not expr or "/" not in expr:
                continue
            for metric_id in ids:
                bare = re.findall(rf"(?<![A-Za-z0-9_(]){metric_id}\b(?!\s*,)", expr.replace(f"FILL({metric_id},", "FILL(_,"))
                if bare or metric_id not in expr:
                    problems.append(f"{name}: '{expr}' reads {metric_id} without FILL")
    return problems


def watched_queues(alarms):
    out = set()
    for alarm in alarms.values():
        p = alarm["Properties"]
        if p.get("Namespace") == "AWS/SQS" and p.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            for d in p.get("Dimensions", []):
                if d["Name"] == "QueueName":
                    out.add(ref_name(d["Value"]))
    return out


def failure_queues(resources):
    """Queues that hold failures: dead-letter targets and on-failure destinations."""
    out = set()
    for q in of_type(resources, "AWS::SQS::Queue").values():
        target = (q["Properties"].get("RedrivePolicy") or {}).get("deadLetterTargetArn")
        if ref_name(target):
            out.add(ref_name(target))
    for kind in ("AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"):
        for r in of_type(resources, kind).values():
            dest = (((r["Properties"].get("DestinationConfig") or {}).get("OnFailure")) or {}).get("Destination")
            if ref_name(dest):
                out.add(ref_name(dest))
    return out


def every_failure_queue_has_an_alarm(resources, alarms):
    watched = watched_queues(alarms)
    return [f"{q}: holds failures but no alarm watches it" for q in sorted(failure_queues(resources) - watched)]


def every_function_is_watched_and_its_logs_expire(resources, alarms):
    problems = []
    errors = set()
    for alarm in alarms.values():
        p = alarm["Properties"]
        if p.get("Namespace") == "AWS/Lambda" and p.get("MetricName") == "Errors":
            errors.update(ref_name(d["Value"]) for d in p.get("Dimensions", []) if d["Name"] == "FunctionName")
    logged = set()
    for lg in of_type(resources, "AWS::Logs::LogGroup").values():
        name = lg["Properties"].get("LogGroupName")
        sub = name.get("Fn::Sub") if isinstance(name, dict) else None
        found = re.match(r"/aws/lambda/\$\{(\w+)\}$", sub or "")
        if found and lg["Properties"].get("RetentionInDays"):
            logged.add(found.group(1))
    for fn in of_type(resources, "AWS::Lambda::Function"):
        if fn not in errors:
            problems.append(f"{fn}: no Errors alarm")
        if fn not in logged:
            problems.append(f"{fn}: no log group with a retention")
    return problems


def alarms_have_a_stack_namespace_and_a_topic(alarms):
    problems = []
    for name, alarm in alarms.items():
        p = alarm["Properties"]
        spaces = [p.get("Namespace")] + [
            m["MetricStat"]["Metric"].get("Namespace") for m in p.get("Metrics") or [] if "MetricStat" in m
        ]
        if "Herald" in spaces:
            problems.append(f"{name}: the shared namespace 'Herald' (every stack in the account would share it)")
        if not p.get("AlarmActions"):
            problems.append(f"{name}: notifies nobody")
    return problems


def senders_may_requeue_on_their_own_queue(resources):
    problems = []
    for fn, queue in (("SmsSenderFunction", "SmsQueue"), ("EmailSenderFunction", "EmailQueue"),
                      ("WhatsappSenderFunction", "WhatsappQueue")):
        role = resources[f"{fn}Role"]["Properties"]
        sends = set()
        for policy in role.get("Policies", []):
            for st in policy["PolicyDocument"]["Statement"]:
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                if "sqs:SendMessage" in actions:
                    res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                    sends.update(ref_name(r) for r in res)
        if queue not in sends:
            problems.append(f"{fn}: may not SendMessage to {queue} (a closed circuit's release needs it)")
    return problems


def only_the_api_reads_the_admin_key(resources):
    """The admin key opens every tenant: only the function that serves admin routes may read it."""
    problems = []
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for st in policy["PolicyDocument"]["Statement"]:
                res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                if "AdminKeySecret" in [ref_name(r) for r in res] and name != "ApiFunctionRole":
                    problems.append(f"{name}: may read the admin key")
    return problems


def jobs_are_not_retried(resources):
    cfg = resources.get("JobsFunctionEventInvokeConfig", {}).get("Properties", {})
    return [] if cfg.get("MaximumRetryAttempts") == 0 else ["JobsFunction: async retries overlap scheduled runs"]


def main(path):
    resources = json.load(open(path))["Resources"]
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    problems = (
        ratio_alarms_fill_their_operands(alarms)
        + every_failure_queue_has_an_alarm(resources, alarms)
        + every_function_is_watched_and_its_logs_expire(resources, alarms)
        + alarms_have_a_stack_namespace_and_a_topic(alarms)
        + senders_may_requeue_on_their_own_queue(resources)
        + jobs_are_not_retried(resources)
        + only_the_api_reads_the_admin_key(resources)
    )
    for p in problems:
        print(p)
    print(f"template checks: {len(alarms)} alarms, {len(failure_queues(resources))} failure queues, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
