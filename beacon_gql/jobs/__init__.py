"""The job services: submission (signature, trust, spec, replay), the new job's rows,
reading, control, progress streams, and the reuse of finished jobs' answers.

May import db/, events/, execution/ (the prompt builder), providers/ and errors; services,
the schema and the web edge import it.
"""
