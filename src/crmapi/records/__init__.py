"""What every record kind shares: history rows, outbox events, soft delete and restore, bulk
outcomes."""
