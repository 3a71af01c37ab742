"""The default policy of a plug-in engine run without ``--policy``.

The presets name the bundled engines' models, which a plug-in does not have. Rather than make
every plug-in ship a policy before its first run, ``harmone --engine NAME`` runs the ``harmone``
preset fitted to the engine: its name, all of its models, the first one to start, and no prior
EMA (``score.initial``). The fitted text is what the run records, so ``harmone runs show``
tells exactly what ran; ``harmone policy new mine --from harmone`` plus an edit makes it the
user's own.
"""

from __future__ import annotations

from mape.policy import Policy
from mape.policy_doc import PolicyDocument


def fitted_policy(text: str, source: str, engine: str, models: list[str]) -> tuple[Policy, str]:
    """``text`` (a policy) with its engine and models replaced by ``engine``'s."""
    doc = PolicyDocument(text, source).edit(
        {
            "engine": engine,
            "models": models,
            "start_model": models[0],
            "score.initial": {},
            "description": f"the harmone preset fitted to engine {engine} (all of its models)",
        }
    )
    return doc.policy, doc.text
