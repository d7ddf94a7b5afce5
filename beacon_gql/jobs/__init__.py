"""The job services: submission (signature, trust, spec, replay), the new job's rows and
their prompts, reading, control, progress streams, and the reuse of finished jobs' answers.

May import db/, events/, providers/ and errors; services,
the schema and the web edge import it.
"""
