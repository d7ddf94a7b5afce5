"""Running executions: the worker claims them, calls providers outside any transaction and
settles the outcomes in batches; retry rules, event announcements.

May import db/, providers/, events/, jobs/ (prompts), receipts/ (signing results) and
analysis/ (the announcer starts a finished job's analysis); services import it.
"""
