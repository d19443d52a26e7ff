"""Extract the API facts of Adobe's seed tutorials into JSON fixtures under ``tests/adobe/tutorials/``.

The tutorial pages (``../shared/seeds/*.txt``) carry no licence, so they are never copied: this script
keeps only what the tests replay, per tutorial:

- every ``curl`` call: HTTP method, URL, and the ``-d`` JSON body exactly as written (documentation
  slips included: the test readers fix them in one visible place);
- the JSON example answer shown right after each call (every JSON block of the seeds is one: the
  script refuses a page with a JSON block that follows no call, since the fixture would lose it);
- the page's identifiers (``exl-id``, ``source-git-commit``) to trace where the facts come from.

Seeds 001 and 002 are the same tutorial in two languages: only 001 is kept.

Run it once from the repository root (``.venv/bin/python scripts/vendor_tutorials.py``) and commit the
output; ``--seeds`` and ``--out`` override the default folders.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEEDS = ROOT.parent / "shared" / "seeds"
DEFAULT_OUT = ROOT / "tests" / "adobe" / "tutorials"
KEPT = ("000", "001", "003", "004")  # 002 is 001 translated

_FRONT_MATTER = re.compile(r"\A---\n(?P<body>.*?)\n---\n", re.DOTALL)
_BLOCK = re.compile(r"```(?P<language>\w*)\n(?P<content>.*?)```", re.DOTALL)
_CURL = re.compile(r"curl -X (?P<method>[A-Z]+) \\?\s*'(?P<url>[^']+)'")
_DATA = re.compile(r"-d '(?P<body>.*)'\s*$", re.DOTALL)
_PROVENANCE_KEYS = ("exl-id", "source-git-commit")


def _provenance(seed: Path, text: str) -> dict[str, str]:
    found: dict[str, str] = {"seed": seed.name}
    match = _FRONT_MATTER.match(text)
    for line in match["body"].splitlines() if match else []:
        key, _, value = line.partition(":")
        if key.strip() in _PROVENANCE_KEYS:
            found[key.strip()] = value.strip()
    return found


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def extract(seed: Path) -> dict[str, Any]:
    """The API facts of one seed tutorial: its calls and their example answers."""
    text = seed.read_text(encoding="utf-8")
    blocks = [(match["language"], match["content"]) for match in _BLOCK.finditer(text)]
    calls: list[dict[str, Any]] = []
    for index, (language, content) in enumerate(blocks):
        curl = _CURL.search(content) if language == "shell" else None
        if curl is None:
            continue
        data = _DATA.search(content)
        following = blocks[index + 1] if index + 1 < len(blocks) else ("", "")
        calls.append(
            {
                "method": curl["method"],
                "url": curl["url"],
                "body": data["body"] if data else None,
                "answer": _json_or_none(following[1]) if following[0] == "json" else None,
            }
        )
    json_blocks = sum(1 for language, _ in blocks if language == "json")
    answers = sum(1 for call in calls if call["answer"] is not None)
    if json_blocks != answers:
        raise ValueError(f"{seed.name}: {json_blocks} JSON blocks but {answers} follow a call")
    return {"tutorial": seed.name[:3], "source": _provenance(seed, text), "calls": calls}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for prefix in KEPT:
        seed = next(args.seeds.glob(f"{prefix}_*.txt"), None)
        if seed is None:
            print(f"no seed {prefix}_*.txt in {args.seeds}", file=sys.stderr)
            return 1
        facts = extract(seed)
        target = args.out / f"{prefix}.json"
        target.write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{target}: {len(facts['calls'])} calls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
