"""Intake's core: stage logic, storage and channel adapters.

Plain functions over plain records. Nothing here imports ``web`` or ``workers``.
"""
