"""Message personalisation throughput (one core), with Python's str.format on the same data as baseline.

Renders compiled templates (spintax + sandboxed Jinja, Jinja only, spintax only, constant text) for synthetic
contacts, each for a fixed time, in this one process; also times `contact_context` and `compile_template`.
Prints one JSON object. No database or server is involved.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import _harness as h

from greenline.campaigns.personalize import compile_template, contact_context
from greenline.models.contact import Contact

TEMPLATES = {
    "spintax_and_jinja": (
        '{Hi|Hello|Hey} {{ first_name | default("there") }}, your {{ custom.plan | default("plan") }} renews on '
        '{{ custom.renewal | date("%d/%m") }}. {Reply STOP to opt out|Text STOP to unsubscribe}'
    ),
    "jinja_only": (
        'Hello {{ first_name | default("there") }}, your {{ custom.plan | default("plan") }} renews on '
        '{{ custom.renewal | date("%d/%m") }}. Reply STOP to opt out'
    ),
    "spintax_only": "{Hi|Hello|Hey} there, your plan renews soon. {Reply STOP to opt out|Text STOP to unsubscribe}",
    "constant": "Hello there, your plan renews soon. Reply STOP to opt out",
}
BASELINE = "{greeting} {first_name}, your {plan} renews on {renewal}. {footer}"
REFERENCE_RENDERS_PER_S = 137_000  # docs/ARCHITECTURE.md: sandboxed Jinja2 render per core
log = logging.getLogger("bench.personalize")


def contacts(n: int, seed: int) -> list[Contact]:
    rng = random.Random(seed)
    firsts, lasts = ["Ana", "João", "Maria", "Luca", "Emma", "Noah", ""], ["Silva", "Rossi", "Müller", "Smith"]
    return [
        Contact(
            id=i,
            phone=f"+5511{rng.randrange(10**8, 10**9)}",
            name=f"{rng.choice(firsts)} {rng.choice(lasts)}".strip() or None,
            email=None,
            tags=rng.sample(["vip", "new", "lead", "churn-risk"], k=rng.randrange(3)),
            custom_data={"plan": rng.choice(["Basic", "Pro", ""]), "renewal": f"2026-12-{rng.randrange(1, 29):02d}"},
            country="BR",
            language="pt",
        )
        for i in range(n)
    ]


def rate(work: Callable[[int], object], count: int, seconds: float) -> float:
    """Calls of `work(i)` per second, i cycling over `count`, for about `seconds` (checked every 1,000 calls)."""
    done, started = 0, time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for i in range(done, done + 1000):
            work(i % count)
        done += 1000
    return round(done / (time.perf_counter() - started), 1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    people = contacts(args.contacts, args.seed)
    contexts = [contact_context(contact) for contact in people]
    keys = [f"7:1:{contact.id}" for contact in people]
    formats = [
        {
            "greeting": ("Hi", "Hello", "Hey")[i % 3],
            "first_name": ctx["first_name"] or "there",
            "plan": ctx["custom"]["plan"] or "plan",
            "renewal": ctx["custom"]["renewal"][8:10] + "/" + ctx["custom"]["renewal"][5:7],
            "footer": "Reply STOP to opt out",
        }
        for i, ctx in enumerate(contexts)
    ]
    count = len(people)
    log.info("baseline str.format")
    baseline = rate(lambda i: BASELINE.format(**formats[i]), count, args.duration)
    variants: dict[str, Any] = {}
    for name, source in TEMPLATES.items():
        compiled = compile_template(source)
        log.info("rendering %s", name)
        renders = rate(lambda i, t=compiled: t.render(contexts[i], variation_key=keys[i]), count, args.duration)
        compile_per_s = rate(lambda _, s=source: compile_template(s), 1, min(args.duration, 1.0))
        variants[name] = {
            "renders_per_s": renders,
            "ratio_vs_str_format": round(renders / baseline, 3),
            "compiles_per_s": compile_per_s,
            "sample": compiled.render(contexts[0], variation_key=keys[0]),
        }
    context_per_s = rate(lambda i: contact_context(people[i]), count, args.duration)
    machine = h.machine_info("sqlite://")
    for key in ("database", "database_version", "note"):
        machine.pop(key)
    main = variants["spintax_and_jinja"]
    return {
        "benchmark": "personalize",
        "renders_per_s": main["renders_per_s"],
        "baseline_str_format_renders_per_s": baseline,
        "ratio": main["ratio_vs_str_format"],
        "reference_renders_per_s": REFERENCE_RENDERS_PER_S,
        "variants": variants,
        "contact_context_per_s": context_per_s,
        "machine": machine,
        "params": {
            "contacts": args.contacts,
            "duration_s_per_measurement": args.duration,
            "seed": args.seed,
            "templates": TEMPLATES,
            "baseline": BASELINE,
            "process": "one Python process, one thread",
        },
    }


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1000, help="synthetic contacts, rendered round-robin")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--seed", type=int, default=1)
    print(json.dumps(run(parser.parse_args()), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
