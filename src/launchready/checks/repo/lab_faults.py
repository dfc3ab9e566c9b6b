"""Lab faults that make the repo.* checks fire (the app's repository built by lab/repo.py)."""

from __future__ import annotations

from launchready.core.labfault import LabFault, each

LAB_FAULTS: tuple[LabFault, ...] = (
    LabFault(
        "repo-secret-in-tree",
        "a live Stripe key is committed in app/payments.py",
        each("repo.secrets.exposed", "app/payments.py:4"),
    ),
    LabFault(
        "repo-secret-in-history",
        "an AWS key pair was committed, then removed (still in git history)",
        each("repo.secrets.in-history", "app/storage.py:4"),
    ),
    LabFault(
        "repo-env-committed",
        "a .env file is committed and .gitignore does not list it",
        each("repo.env-files.tracked", ".env:1") + each("repo.env-files.not-ignored", ".gitignore:1"),
    ),
    LabFault(
        "repo-deploy-secret",
        "the Dockerfile sets ENV ADMIN_PASSWORD to a literal",
        each("repo.deploy-secrets.hardcoded", "Dockerfile:5"),
    ),
)
