"""The job services: submission (signature, trust, spec, replay), the new job's rows and
their prompts, reading, control, progress streams, the reuse of finished jobs' answers, and
the question catalogue with its imports.

May import db/, events/, providers/ and errors; services,
the schema and the web edge import it.
"""
