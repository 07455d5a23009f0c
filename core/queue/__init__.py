"""Redis Streams between ingress processes and dialog workers (see core/queue/worker.py)."""
