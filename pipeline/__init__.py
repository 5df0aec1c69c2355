"""Intake's core: stage logic, storage and channel adapters.

Plain functions over plain records. Nothing here imports ``web`` or ``workers``; the stages
(``pipeline.stages``) are imported only by the drivers above them (``runner``, ``handover``,
``replay``) and the use cases (``pipeline.services``), never by the modules they use.
"""
