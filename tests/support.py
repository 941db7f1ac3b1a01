"""Helpers shared by every test folder (import them ``from tests.support``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
