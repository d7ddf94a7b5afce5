"""Running executions: the worker claims them, calls providers outside any transaction and
settles the outcomes in batches; retry rules, the prompt builder, event announcements.

May import db/, providers/, events/ and analysis/ (the announcer starts a finished job's
analysis); jobs/ and services import it.
"""
