"""Background work on arq, behind a thin layer so the queue could be swapped."""
