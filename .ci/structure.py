#!/usr/bin/env python3
"""Structure limits (STYLE.md): no source file under shared/ or functions/ over 400 lines,
no function over 70 lines, no trait over 10 methods, no provider wire detail in the core."""
import pathlib, re, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
problems = []
files = [p for d in ("shared", "functions") for p in (ROOT / d).rglob("*.rs") if "target" not in p.parts]

def blocks(lines, start_re):
    """(name, first line, line count) of each brace block whose header matches start_re."""
    for i, line in enumerate(lines):
        m = start_re.match(line)
        if not m:
            continue
        depth, seen, j = 0, False, i
        while j < len(lines):
            depth += lines[j].count("{") - lines[j].count("}")
            seen = seen or "{" in lines[j]
            if seen and depth <= 0:
                break
            if not seen and lines[j].rstrip().endswith(";"):
                break
            j += 1
        if seen:
            yield m.group(1), i + 1, j - i + 1, lines[i : j + 1]

FN = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?(?:async\s+)?fn\s+(\w+)")
TRAIT = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?trait\s+(\w+)")
for path in files:
    rel = path.relative_to(ROOT)
    lines = path.read_text().splitlines()
    if len(lines) > 400:
        problems.append(f"{rel}: {len(lines)} lines (limit 400)")
    for name, at, n, _ in blocks(lines, FN):
        if n > 70:
            problems.append(f"{rel}:{at}: fn {name} is {n} lines (limit 70)")
    for name, at, _, body in blocks(lines, TRAIT):
        methods = sum(1 for l in body[1:] if FN.match(l))
        if methods > 10:
            problems.append(f"{rel}:{at}: trait {name} has {methods} methods (limit 10)")

core = ROOT / "shared" / "core"
wire = re.compile(r"X-Twilio-Signature|telnyx-signature|X-Hub-Signature|Hmac<|ed25519_dalek|MessageStatus|sending_failed|delivery_failed", re.I)
for path in core.rglob("*.rs"):
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if wire.search(line):
            problems.append(f"{path.relative_to(ROOT)}:{i}: provider wire detail in the core: {line.strip()}")
if (core / "Cargo.toml").read_text().find("ed25519") >= 0:
    problems.append("shared/core/Cargo.toml depends on ed25519-dalek")

print("\n".join(problems) if problems else f"structure: {len(files)} files within the limits")
sys.exit(1 if problems else 0)
