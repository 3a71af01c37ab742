"""Write docs/policy.md from the policy schema (mape/policy_schema.py).

Run after adding or changing a policy field: ``python scripts/policy_docs.py``.
tests/mape/test_policy_fields.py fails while the file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    sys.path.insert(0, str(REPO))  # run from a checkout, installed or not
    from mape.policy_fields import markdown

    target = REPO / "docs" / "policy.md"
    target.write_text(markdown(), encoding="utf-8")
    print(target)


if __name__ == "__main__":
    main()
