"""The live class's teacher dashboard (/classroom): the room's code and QR code, who joined,
who solved the task and what they tried, the class's drawings and their confusion matrix, the
snapshot pinned to every screen. Anyone else is told what the page is for.
"""

from __future__ import annotations

from ui.classroom import dashboard

dashboard.dashboard()
